#include "agent/http/upload_sink.hpp"

#include <gtest/gtest.h>

#include "common/sha256.hpp"
#include "tests/support/files.hpp"

namespace ferry::agent::http {
namespace {

int count_files(const std::filesystem::path& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++count;
  return count;
}

TEST(UploadSink, StoresPiecesUnderTheirDigest) {
  test::TempDir dir;
  auto sink = UploadSink::create(dir.path(), 100);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write("hello ", 6));
  ASSERT_TRUE((*sink)->write("world", 5));
  auto receipt = (*sink)->finish("");
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(receipt->sha256, sha256_hex("hello world"));
  EXPECT_EQ(receipt->bytes, 11u);
  EXPECT_EQ(test::read_text(dir / receipt->sha256), "hello world");
  EXPECT_EQ(count_files(dir.path()), 1);
}

TEST(UploadSink, OverTheLimitFailsAndDeletesThePartialFile) {
  test::TempDir dir;
  auto sink = UploadSink::create(dir.path(), 8);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write("12345", 5));
  auto over = (*sink)->write("67890", 5);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::resource_exhausted);
  EXPECT_EQ(count_files(dir.path()), 0);
}

TEST(UploadSink, DigestMismatchIsDataLossAndKeepsNothing) {
  test::TempDir dir;
  auto sink = UploadSink::create(dir.path(), 100);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write("abc", 3));
  auto receipt = (*sink)->finish(sha256_hex("abd"));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::data_loss);
  EXPECT_EQ(count_files(dir.path()), 0);
}

TEST(UploadSink, MatchingDigestIsAccepted) {
  test::TempDir dir;
  auto sink = UploadSink::create(dir.path(), 100);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write("abc", 3));
  EXPECT_TRUE((*sink)->finish(sha256_hex("abc")));
}

TEST(UploadSink, DroppingAnUnfinishedSinkDeletesItsFile) {
  test::TempDir dir;
  {
    auto sink = UploadSink::create(dir.path(), 100);
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->write("abc", 3));
    EXPECT_EQ(count_files(dir.path()), 1);
  }
  EXPECT_EQ(count_files(dir.path()), 0);
}

}  // namespace
}  // namespace ferry::agent::http
