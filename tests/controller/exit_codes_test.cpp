#include "controller/exit_codes.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ferry::controller {
namespace {

TEST(ExitCodes, NumbersAreTheDocumentedOnes) {
  EXPECT_EQ(to_int(ExitCode::ok), 0);
  EXPECT_EQ(to_int(ExitCode::job_failed), 1);
  EXPECT_EQ(to_int(ExitCode::usage), 2);
  EXPECT_EQ(to_int(ExitCode::manifest_invalid), 3);
  EXPECT_EQ(to_int(ExitCode::provider_auth), 4);
  EXPECT_EQ(to_int(ExitCode::no_capacity), 5);
  EXPECT_EQ(to_int(ExitCode::limit_exceeded), 6);
  EXPECT_EQ(to_int(ExitCode::teardown_failed), 7);
  EXPECT_EQ(to_int(ExitCode::interrupted), 130);
}

TEST(ExitCodes, TableListsEveryCodeWithItsMeaning) {
  std::string table = exit_code_table();
  for (ExitCode code : {ExitCode::ok, ExitCode::job_failed, ExitCode::usage, ExitCode::manifest_invalid,
                        ExitCode::provider_auth, ExitCode::no_capacity, ExitCode::limit_exceeded,
                        ExitCode::teardown_failed, ExitCode::interrupted}) {
    EXPECT_NE(table.find(std::string(describe(code))), std::string::npos) << to_int(code);
  }
  EXPECT_NE(table.find("may still be billing"), std::string::npos);
}

TEST(ExitCodes, ErrorCodesMapToTheirFailureClass) {
  EXPECT_EQ(exit_code_for(ErrorCode::invalid_argument), ExitCode::manifest_invalid);
  EXPECT_EQ(exit_code_for(ErrorCode::not_found), ExitCode::manifest_invalid);
  EXPECT_EQ(exit_code_for(ErrorCode::unauthenticated), ExitCode::provider_auth);
  EXPECT_EQ(exit_code_for(ErrorCode::permission_denied), ExitCode::provider_auth);
  EXPECT_EQ(exit_code_for(ErrorCode::unavailable), ExitCode::no_capacity);
  EXPECT_EQ(exit_code_for(ErrorCode::deadline_exceeded), ExitCode::limit_exceeded);
  EXPECT_EQ(exit_code_for(ErrorCode::resource_exhausted), ExitCode::limit_exceeded);
  EXPECT_EQ(exit_code_for(ErrorCode::cancelled), ExitCode::interrupted);
  EXPECT_EQ(exit_code_for(ErrorCode::data_loss), ExitCode::job_failed);
  EXPECT_EQ(exit_code_for(ErrorCode::internal), ExitCode::job_failed);
}

TEST(ExitCodes, NoErrorMapsToSuccess) {
  for (int code = 0; code <= static_cast<int>(ErrorCode::internal); ++code)
    EXPECT_NE(exit_code_for(static_cast<ErrorCode>(code)), ExitCode::ok) << code;
}

}  // namespace
}  // namespace ferry::controller
