#include "common/error.hpp"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(Error, EveryCodeHasAStableNameThatRoundTrips) {
  for (auto code : {ErrorCode::invalid_argument, ErrorCode::not_found, ErrorCode::already_exists,
                    ErrorCode::failed_precondition, ErrorCode::unauthenticated,
                    ErrorCode::permission_denied, ErrorCode::resource_exhausted,
                    ErrorCode::unavailable, ErrorCode::deadline_exceeded, ErrorCode::cancelled,
                    ErrorCode::data_loss, ErrorCode::unsupported, ErrorCode::io_error,
                    ErrorCode::internal}) {
    EXPECT_EQ(error_code_from_string(to_string(code)), code) << to_string(code);
  }
  EXPECT_EQ(error_code_from_string("no_such_code"), ErrorCode::internal);
}

TEST(Error, HttpStatusesFollowTheTable) {
  EXPECT_EQ(http_status(ErrorCode::invalid_argument), 400);
  EXPECT_EQ(http_status(ErrorCode::unauthenticated), 401);
  EXPECT_EQ(http_status(ErrorCode::not_found), 404);
  EXPECT_EQ(http_status(ErrorCode::resource_exhausted), 413);
  EXPECT_EQ(http_status(ErrorCode::unavailable), 503);
  EXPECT_EQ(error_code_from_http_status(429), ErrorCode::unavailable);
  EXPECT_EQ(error_code_from_http_status(502), ErrorCode::unavailable);
  EXPECT_EQ(error_code_from_http_status(404), ErrorCode::not_found);
}

TEST(Error, OnlyTransientCodesAreRetryable) {
  EXPECT_TRUE((Error{ErrorCode::unavailable, "x", {}}).retryable());
  EXPECT_TRUE((Error{ErrorCode::deadline_exceeded, "x", {}}).retryable());
  EXPECT_FALSE((Error{ErrorCode::invalid_argument, "x", {}}).retryable());
  EXPECT_FALSE((Error{ErrorCode::data_loss, "x", {}}).retryable());
}

TEST(Error, DescribeNamesTheField) {
  Error error{ErrorCode::invalid_argument, "format must be mp3", "params.format"};
  EXPECT_EQ(error.describe(), "format must be mp3 (field: params.format)");
  Result<int> result = fail(ErrorCode::not_found, "gone");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace ferry
