#include "agent/http/auth.hpp"

#include <gtest/gtest.h>

namespace ferry::agent::http {
namespace {

TEST(ConstantTimeEquals, ComparesContentsAndLengths) {
  EXPECT_TRUE(constant_time_equals("secret", "secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secreT"));
  EXPECT_FALSE(constant_time_equals("secret", "secret2"));
  EXPECT_FALSE(constant_time_equals("", "secret"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(BearerToken, ExtractsTheTokenCaseInsensitively) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
}

TEST(BearerToken, RejectsOtherSchemesAndEmptyTokens) {
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer    "));
  EXPECT_FALSE(bearer_token("Bearerabc"));
  EXPECT_FALSE(bearer_token(""));
}

TEST(CheckBearer, AcceptsOnlyTheRightToken) {
  EXPECT_TRUE(check_bearer("Bearer s3cret", "s3cret"));
  auto missing = check_bearer("", "s3cret");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
  auto wrong = check_bearer("Bearer nope", "s3cret");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::unauthenticated);
  EXPECT_EQ(wrong.error().message.find("s3cret"), std::string::npos) << "the token must never be echoed";
  EXPECT_FALSE(check_bearer("Basic czNjcmV0", "s3cret"));
}

}  // namespace
}  // namespace ferry::agent::http
