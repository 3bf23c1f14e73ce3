#include "common/sha256.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ferry {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsWhole) {
  Sha256 hasher;
  hasher.update("a");
  hasher.update("bc");
  EXPECT_EQ(hasher.hex_digest(), sha256_hex("abc"));
  EXPECT_EQ(hasher.hex_digest(), sha256_hex(""));  // reset after a digest
}

TEST(Sha256, HashesFilesAndReportsMissingOnes) {
  auto path = std::filesystem::temp_directory_path() / "ferry_sha256_test.bin";
  std::string data(200000, 'x');
  std::ofstream(path, std::ios::binary) << data;
  auto digest = sha256_file(path);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, sha256_hex(data));
  std::filesystem::remove(path);
  auto missing = sha256_file(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io_error);
}

TEST(Sha256, RecognisesHexDigests) {
  EXPECT_TRUE(is_sha256_hex(sha256_hex("abc")));
  EXPECT_FALSE(is_sha256_hex("abc"));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'G')));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'A')));  // upper case is not the canonical form
}

}  // namespace
}  // namespace ferry
