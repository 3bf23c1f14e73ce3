// Provider names and credentials from the environment.

#include <gtest/gtest.h>

#include <cstdlib>

#include "controller/provider_factory.hpp"

namespace ferry::controller {
namespace {

// Sets or clears an environment variable for one test, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ProviderFactory, MakesEachCloudWhenItsCredentialIsSet) {
  ScopedEnv vast("VAST_API_KEY", "k"), runpod("RUNPOD_API_KEY", "k"), fly("FLY_API_TOKEN", "k");
  for (const auto& name : cloud_provider_names()) {
    auto provider = make_provider(name);
    ASSERT_TRUE(provider) << provider.error().message;
    EXPECT_EQ((*provider)->name(), name);
  }
}

TEST(ProviderFactory, MissingCredentialNamesTheVariableToSet) {
  ScopedEnv runpod("RUNPOD_API_KEY", nullptr);
  auto provider = make_provider("runpod");
  ASSERT_FALSE(provider);
  EXPECT_EQ(provider.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(provider.error().message.find("RUNPOD_API_KEY"), std::string::npos) << provider.error().message;
  EXPECT_NE(provider.error().message.find("runpod"), std::string::npos);
  EXPECT_FALSE(has_credentials("runpod"));
}

TEST(ProviderFactory, ReadOnlyUseWorksWithoutACredential) {
  ScopedEnv vast("VAST_API_KEY", nullptr);
  ProviderFactoryOptions options;
  options.require_credentials = false;
  auto provider = make_provider("vast", options);
  ASSERT_TRUE(provider);
  EXPECT_EQ((*provider)->name(), "vast");
}

TEST(ProviderFactory, UnknownNameListsTheKnownOnes) {
  auto provider = make_provider("aws");
  ASSERT_FALSE(provider);
  EXPECT_EQ(provider.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(provider.error().message.find("vast, runpod, fly, local"), std::string::npos);
  EXPECT_FALSE(is_known_provider("aws"));
  EXPECT_TRUE(is_known_provider("local"));
}

TEST(ProviderFactory, LocalNeedsNoCredential) {
  EXPECT_EQ(credential_variable("local"), nullptr);
  EXPECT_TRUE(has_credentials("local"));
  EXPECT_STREQ(credential_variable("fly"), "FLY_API_TOKEN");
}

}  // namespace
}  // namespace ferry::controller
