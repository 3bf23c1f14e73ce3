#include "common/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ferry {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_files_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  auto path = dir_ / "job.json";
  ASSERT_TRUE(write_file_atomic(path, "first"));
  ASSERT_TRUE(write_file_atomic(path, "second"));
  auto read = read_file(path);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, "second");
  int entries = 0;
  for ([[maybe_unused]] auto& entry : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FilesTest, AtomicWriteIntoMissingFolderFailsCleanly) {
  auto result = write_file_atomic(dir_ / "no" / "such" / "file", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::io_error);
  EXPECT_NE(result.error().message.find("cannot create"), std::string::npos);
}

TEST_F(FilesTest, ReadOfMissingFileIsNotFound) {
  auto result = read_file(dir_ / "absent");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::not_found);
}

TEST_F(FilesTest, PublishMovesIntoPlace) {
  auto partial = dir_ / "out.partial";
  ASSERT_TRUE(write_file_atomic(partial, "data"));
  ASSERT_TRUE(publish_file(partial, dir_ / "out.wav"));
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_EQ(*read_file(dir_ / "out.wav"), "data");
}

TEST(SafeName, AcceptsPlainNamesAndRejectsTraversal) {
  EXPECT_TRUE(is_safe_name("song.mp3"));
  EXPECT_TRUE(is_safe_name("talk_001-part.flac"));
  EXPECT_FALSE(is_safe_name(""));
  EXPECT_FALSE(is_safe_name(".."));
  EXPECT_FALSE(is_safe_name(".hidden"));
  EXPECT_FALSE(is_safe_name("../etc/passwd"));
  EXPECT_FALSE(is_safe_name("a/b"));
  EXPECT_FALSE(is_safe_name("a\\b"));
  EXPECT_FALSE(is_safe_name("caf\xc3\xa9"));
  EXPECT_FALSE(is_safe_name("sp ace"));
  EXPECT_FALSE(is_safe_name(std::string(129, 'a')));
}

}  // namespace
}  // namespace ferry
