// The model registry, downloads into the models folder (against a loopback
// server: resume after a cut, corrupt files, servers that ignore ranges,
// offline) and bag files.

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "agent/models/bag_file.hpp"
#include "agent/models/model_commands.hpp"
#include "agent/models/model_fetch.hpp"
#include "agent/models/registry.hpp"
#include "common/http_client.hpp"
#include "common/sha256.hpp"
#include "tests/support/files.hpp"
#include "tests/support/raw_http.hpp"

namespace ferry::models {
namespace {

using ferry::test::TempDir;

TEST(ModelRegistry, EveryFileHasAnOfficialHttpsUrlAndAConsistentChecksum) {
  std::set<std::string> names;
  for (const auto& model : model_registry()) {
    EXPECT_TRUE(names.insert(model.name).second) << model.name;
    EXPECT_FALSE(model.files.empty()) << model.name;
    EXPECT_FALSE(model.licence.empty()) << model.name;
    // Separation models name their stems; the generation model has none.
    EXPECT_EQ(model.sources.empty(), model.layout == ModelLayout::acestep_folder) << model.name;
    for (const auto& file : model.files) {
      EXPECT_EQ(file.url.rfind("https://", 0), 0u) << file.url;
      if (model.layout == ModelLayout::acestep_folder) {
        // The published folder layout is kept under one folder of its own.
        const std::string prefix = std::string(kAceStepFolder) + "/";
        ASSERT_EQ(file.name.rfind(prefix, 0), 0u) << file.name;
        const std::string path = file.name.substr(prefix.size());
        EXPECT_EQ(file.url.substr(file.url.size() - path.size() - 1), "/" + path);
      } else {
        EXPECT_EQ(file.url.substr(file.url.rfind('/') + 1), file.name);
      }
      EXPECT_TRUE(file.size.has_value()) << file.name;
      EXPECT_TRUE(is_sha256_hex(file.sha256)) << file.name;
      // Demucs names its files <signature>-<first 8 hex digits of the sha256>.th.
      if (model.layout == ModelLayout::demucs_bag) {
        std::smatch match;
        ASSERT_TRUE(std::regex_match(file.name, match, std::regex("([0-9a-f]{8})-([0-9a-f]{8})\\.th"))) << file.name;
        EXPECT_EQ(file.sha256_prefix, match[2].str());
        EXPECT_EQ(file.sha256.substr(0, 8), file.sha256_prefix) << file.name;
        EXPECT_TRUE(digest_matches(file, file.sha256));
      }
    }
  }
  for (const char* expected :
       {"htdemucs", "htdemucs_ft", "htdemucs_6s", "hdemucs_mmi", "hdemucs_high_musdb_plus", "acestep-v15-turbo"}) {
    EXPECT_TRUE(find_model(expected)) << expected;
  }
}

TEST(ModelRegistry, BagDescriptionsNameTheModelsFiles) {
  for (const auto& model : model_registry()) {
    if (model.layout != ModelLayout::demucs_bag) continue;
    auto bag = parse_bag_yaml(model.bag_yaml, model.name);
    ASSERT_TRUE(bag) << bag.error().describe();
    ASSERT_EQ(bag->models.size(), model.files.size()) << model.name;
    for (std::size_t i = 0; i < bag->models.size(); ++i) {
      EXPECT_EQ(model.files[i].name.rfind(bag->models[i] + "-", 0), 0u) << model.name;
    }
    if (!bag->weights.empty()) {
      EXPECT_EQ(bag->weights.front().size(), model.sources.size());
    }
  }
  EXPECT_EQ(parse_bag_yaml((*find_model("hdemucs_mmi"))->bag_yaml, "mmi")->segment_seconds, 44.0);
}

TEST(ModelRegistry, UnknownNamesListTheKnownOnes) {
  auto missing = find_model("htdemucs_xl");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("htdemucs_ft"), std::string::npos);
}

TEST(ModelRegistry, ModelsFolderComesFromTheFlagThenTheEnvironment) {
  EXPECT_EQ(resolve_models_dir(std::filesystem::path("/x/models")), "/x/models");
  ::setenv("FERRY_MODELS_DIR", "/env/models", 1);
  EXPECT_EQ(resolve_models_dir(std::nullopt), "/env/models");
  ::unsetenv("FERRY_MODELS_DIR");
  ::setenv("XDG_CACHE_HOME", "/cache", 1);
  EXPECT_EQ(resolve_models_dir(std::nullopt), "/cache/ferry/models");
  ::unsetenv("XDG_CACHE_HOME");
}

TEST(BagFile, ParsesTheFixtureBag) {
  const auto path = std::filesystem::path(FERRY_FIXTURES_DIR) / "demucs" / "bag_small" / "bag.yaml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  auto bag = read_bag_file(path);
  ASSERT_TRUE(bag) << bag.error().describe();
  EXPECT_EQ(bag->models, (std::vector<std::string>{"model1", "model2"}));
  EXPECT_EQ(bag->weights, (std::vector<std::vector<double>>{{1, 0, 0, 0.5}, {0, 1, 1, 0.5}}));
  EXPECT_FALSE(bag->segment_seconds);
  auto member = resolve_bag_member(path.parent_path(), "model2");
  ASSERT_TRUE(member) << member.error().describe();
  EXPECT_EQ(member->filename(), "model2.th");
}

TEST(BagFile, RejectsMalformedBagsWithTheReason) {
  auto expect_rejected = [](const std::string& text, const std::string& reason) {
    auto bag = parse_bag_yaml(text, "x.yaml");
    ASSERT_FALSE(bag) << text;
    EXPECT_EQ(bag.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(bag.error().message.find(reason), std::string::npos) << bag.error().message;
  };
  expect_rejected("weights: [[1]]", "'models'");
  expect_rejected("models: [a, b]\nweights: [[1, 0]]", "one row per model");
  expect_rejected("models: [a, b]\nweights: [[1, 0], [1]]", "differ in length");
  expect_rejected("models: [a]\nsegment: -3", "positive");
  expect_rejected("models: [a]\nsegmnet: 3", "unknown key 'segmnet'");
  expect_rejected("models: [a", "x.yaml");
}

TEST(BagFile, FindsDemucsNamedMembersAndRefusesPaths) {
  TempDir dir;
  ferry::test::write_text(dir / "955717e8-8726e21a.th", "x");
  auto found = resolve_bag_member(dir.path(), "955717e8");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->filename(), "955717e8-8726e21a.th");
  EXPECT_EQ(resolve_bag_member(dir.path(), "../etc").error().code, ErrorCode::invalid_argument);
  auto missing = resolve_bag_member(dir.path(), "04573f0d");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("models fetch"), std::string::npos);
}

// Serves one file over HTTP with Range support; can cut one response in the
// middle, ignore ranges, or serve other bytes.
class FileOrigin {
 public:
  explicit FileOrigin(std::string body)
      : body_(std::move(body)),
        server_([this](const std::string& head, ferry::test::RawConnection& client, const std::atomic<bool>&) {
          serve(head, client);
        }) {}

  std::string url() const { return server_.url("/weights.th"); }
  void cut_request(int index) { cut_request_ = index; }
  void ignore_ranges() { ignore_ranges_ = true; }
  void set_body(std::string body) {
    std::lock_guard lock(mutex_);
    body_ = std::move(body);
  }
  std::vector<std::string> ranges() {
    std::lock_guard lock(mutex_);
    return ranges_;
  }

 private:
  void serve(const std::string& head, ferry::test::RawConnection& client) {
    std::string body;
    std::string range;
    int index = 0;
    {
      std::lock_guard lock(mutex_);
      body = body_;
      index = requests_++;
      std::smatch match;
      if (std::regex_search(head, match, std::regex("[Rr]ange: bytes=(\\d+)-(\\d+)"))) range = match[1].str() + "-" + match[2].str();
      ranges_.push_back(range);
    }
    std::string status = "200 OK", extra;
    if (!range.empty() && !ignore_ranges_) {
      std::uint64_t first = std::stoull(range.substr(0, range.find('-')));
      std::uint64_t last = std::stoull(range.substr(range.find('-') + 1));
      if (first >= body.size()) {
        client.send("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + std::to_string(body.size()) +
                    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      last = std::min<std::uint64_t>(last, body.size() - 1);
      extra = "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
              std::to_string(body.size()) + "\r\n";
      body = body.substr(first, last - first + 1);
      status = "206 Partial Content";
    }
    std::string head_out = "HTTP/1.1 " + status + "\r\n" + extra + "Content-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n";
    if (index == cut_request_) {
      client.send(head_out + body.substr(0, body.size() / 2));
      return;  // the connection closes mid-body
    }
    client.send(head_out + body);
  }

  std::mutex mutex_;
  std::string body_;
  std::vector<std::string> ranges_;
  int requests_ = 0;
  int cut_request_ = -1;
  bool ignore_ranges_ = false;
  ferry::test::ScriptedHttpServer server_;
};

std::string pseudo_random_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t state = 12345;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

class ModelFetch : public ::testing::Test {
 protected:
  void SetUp() override { http_global_init(); }
  ModelFile file_for(const FileOrigin& origin, const std::string& body) const {
    ModelFile file;
    file.name = "abcd1234-" + sha256_hex(body).substr(0, 8) + ".th";
    file.url = origin.url();
    file.size = body.size();
    file.sha256 = sha256_hex(body);
    return file;
  }
  FetchOptions small_requests() const {
    FetchOptions options;
    options.request_bytes = 1000;
    return options;
  }
  const std::string body_ = pseudo_random_bytes(4500);
  TempDir dir_;
};

TEST_F(ModelFetch, DownloadsInRangesVerifiesAndPublishes) {
  FileOrigin origin(body_);
  const auto file = file_for(origin, body_);
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);
  EXPECT_FALSE(std::filesystem::exists(partial_download_path(dir_.path(), file)));
  EXPECT_EQ(origin.ranges(), (std::vector<std::string>{"0-999", "1000-1999", "2000-2999", "3000-3999", "4000-4999"}));
  EXPECT_EQ(inspect_file(file, dir_.path())->state, FileState::verified);

  // Present and correct: no request at all.
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(origin.ranges().size(), 5u);
}

TEST_F(ModelFetch, ResumesWhereACutConnectionLeftOff) {
  FileOrigin origin(body_);
  origin.cut_request(2);
  const auto file = file_for(origin, body_);
  auto cut = fetch_file(file, dir_.path(), small_requests());
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::unavailable);
  EXPECT_FALSE(std::filesystem::exists(dir_ / file.name));
  auto status = inspect_file(file, dir_.path());
  EXPECT_EQ(status->state, FileState::partial);
  EXPECT_EQ(status->bytes, 2000u);

  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);
  const auto ranges = origin.ranges();
  ASSERT_EQ(ranges.size(), 6u);
  EXPECT_EQ(ranges[3], "2000-2999");  // the retry starts at the first missing byte
}

TEST_F(ModelFetch, ReplacesACorruptFileAndRestartsABadPartialDownload) {
  FileOrigin origin(body_);
  const auto file = file_for(origin, body_);
  std::string corrupt = body_;
  corrupt[100] ^= 1;
  ferry::test::write_text(dir_ / file.name, corrupt);
  EXPECT_EQ(inspect_file(file, dir_.path())->state, FileState::corrupt);
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);

  // A partial download whose bytes are wrong: resumed, found bad, fetched afresh.
  std::filesystem::remove(dir_ / file.name);
  ferry::test::write_text(partial_download_path(dir_.path(), file), corrupt.substr(0, 1500));
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);
}

TEST_F(ModelFetch, AcceptsServersThatIgnoreRanges) {
  FileOrigin origin(body_);
  origin.ignore_ranges();
  const auto file = file_for(origin, body_);
  ferry::test::write_text(partial_download_path(dir_.path(), file), body_.substr(0, 700));
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);
}

TEST_F(ModelFetch, PrefixOnlyChecksumsAreVerifiedToo) {
  FileOrigin origin(body_);
  auto file = file_for(origin, body_);
  file.sha256.clear();
  file.sha256_prefix = sha256_hex(body_).substr(0, 8);
  file.size.reset();  // unknown size: learnt from Content-Range
  ASSERT_TRUE(fetch_file(file, dir_.path(), small_requests()));
  EXPECT_EQ(ferry::test::read_text(dir_ / file.name), body_);
}

TEST_F(ModelFetch, WrongBytesFromTheServerAreNeverPublished) {
  FileOrigin origin(pseudo_random_bytes(4400));
  const auto file = file_for(origin, body_);
  auto result = fetch_file(file, dir_.path(), small_requests());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::data_loss);
  EXPECT_FALSE(std::filesystem::exists(dir_ / file.name));
  EXPECT_FALSE(std::filesystem::exists(partial_download_path(dir_.path(), file)));
}

TEST_F(ModelFetch, OfflineSaysWhatToDownloadFromWhereAndWhereToPutIt) {
  std::string url;
  {
    FileOrigin gone(body_);
    url = gone.url();
  }  // nothing listens on that port any more
  ModelFile file;
  file.name = "955717e8-8726e21a.th";
  file.url = url;
  file.size = 10;
  file.sha256_prefix = "8726e21a";
  auto result = fetch_file(file, dir_.path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unavailable);
  const auto& message = result.error().message;
  EXPECT_NE(message.find(url), std::string::npos) << message;
  EXPECT_NE(message.find((dir_ / file.name).string()), std::string::npos) << message;
  EXPECT_NE(message.find("8726e21a"), std::string::npos) << message;
}

TEST_F(ModelFetch, FetchingAModelWritesItsBagDescription) {
  FileOrigin origin(body_);
  RegistryModel model;
  model.name = "tiny";
  model.files = {file_for(origin, body_)};
  model.bag_yaml = "models: ['abcd1234']\n";
  auto before = inspect_model(model, dir_.path());
  ASSERT_TRUE(before);
  EXPECT_EQ(before->front().state, FileState::missing);
  ASSERT_TRUE(fetch_model(model, dir_.path()));
  EXPECT_EQ(ferry::test::read_text(dir_ / "tiny.yaml"), model.bag_yaml);
  auto member = resolve_bag_member(dir_.path(), "abcd1234");
  ASSERT_TRUE(member);
  EXPECT_EQ(member->filename(), model.files.front().name);
}

TEST_F(ModelFetch, AModelPublishedAsAFolderKeepsItsLayout) {
  FileOrigin origin(body_);
  RegistryModel model;
  model.name = "folder-model";
  model.layout = ModelLayout::acestep_folder;
  ModelFile nested = file_for(origin, body_);
  nested.name = "tiny-model/vae/weights.safetensors";
  model.files = {nested};
  ASSERT_TRUE(fetch_model(model, dir_.path()));
  EXPECT_EQ(ferry::test::read_text(dir_ / "tiny-model" / "vae" / "weights.safetensors"), body_);
  EXPECT_EQ(inspect_model(model, dir_.path())->front().state, FileState::verified);
}

TEST(ModelsList, ShowsEachModelsStateFilesAndLicence) {
  TempDir dir;
  ferry::test::write_text(dir / "955717e8-8726e21a.th", "not the weights");
  ferry::test::write_text(dir / "5c90dfd2-34c22ccb.th.partial", "1234");
  std::ostringstream out;
  ASSERT_TRUE(list_models(dir.path(), out));
  const auto text = out.str();
  EXPECT_NE(text.find("htdemucs  corrupt  1 file, 80.2 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("htdemucs_6s  partial"), std::string::npos) << text;
  EXPECT_NE(text.find("5c90dfd2-34c22ccb.th  partial  4 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("htdemucs_ft  missing  4 files"), std::string::npos) << text;
  EXPECT_NE(text.find("hdemucs_high_musdb_plus  missing"), std::string::npos) << text;
  EXPECT_NE(text.find("licence: code MIT"), std::string::npos) << text;
  EXPECT_NE(text.find("acestep-v15-turbo  missing  9 files"), std::string::npos) << text;
  EXPECT_NE(text.find("licence: MIT (ACE-Step 1.5 code and weights)"), std::string::npos) << text;
}

TEST(ModelsFetch, UnknownNamesAreRejectedBeforeAnyDownload) {
  TempDir dir;
  std::ostringstream log;
  auto fetched = fetch_model_by_name("demucs_huge", dir / "models", log);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code, ErrorCode::not_found);
  EXPECT_FALSE(std::filesystem::exists(dir / "models"));
}

}  // namespace
}  // namespace ferry::models
