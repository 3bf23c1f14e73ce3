#include "common/error.hpp"

#include <array>
#include <utility>

namespace ferry {
namespace {

struct CodeRow {
  ErrorCode code;
  std::string_view name;
  int http;
};

// The one table: name and HTTP status for every code.
constexpr std::array<CodeRow, 14> kCodes{{
    {ErrorCode::invalid_argument, "invalid_argument", 400},
    {ErrorCode::not_found, "not_found", 404},
    {ErrorCode::already_exists, "already_exists", 409},
    {ErrorCode::failed_precondition, "failed_precondition", 409},
    {ErrorCode::unauthenticated, "unauthenticated", 401},
    {ErrorCode::permission_denied, "permission_denied", 403},
    {ErrorCode::resource_exhausted, "resource_exhausted", 413},
    {ErrorCode::unavailable, "unavailable", 503},
    {ErrorCode::deadline_exceeded, "deadline_exceeded", 504},
    {ErrorCode::cancelled, "cancelled", 499},
    {ErrorCode::data_loss, "data_loss", 422},
    {ErrorCode::unsupported, "unsupported", 415},
    {ErrorCode::io_error, "io_error", 500},
    {ErrorCode::internal, "internal", 500},
}};

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& row : kCodes)
    if (row.code == code) return row.name;
  return "internal";
}

ErrorCode error_code_from_string(std::string_view name) {
  for (const auto& row : kCodes)
    if (row.name == name) return row.code;
  return ErrorCode::internal;
}

int http_status(ErrorCode code) {
  for (const auto& row : kCodes)
    if (row.code == code) return row.http;
  return 500;
}

ErrorCode error_code_from_http_status(int status) {
  switch (status) {
    case 400: return ErrorCode::invalid_argument;
    case 401: return ErrorCode::unauthenticated;
    case 403: return ErrorCode::permission_denied;
    case 404: return ErrorCode::not_found;
    case 408: return ErrorCode::deadline_exceeded;
    case 409: return ErrorCode::failed_precondition;
    case 413: return ErrorCode::resource_exhausted;
    case 415: return ErrorCode::unsupported;
    case 416: return ErrorCode::invalid_argument;
    case 422: return ErrorCode::data_loss;
    case 429: return ErrorCode::unavailable;
    case 499: return ErrorCode::cancelled;
    case 504: return ErrorCode::deadline_exceeded;
    default: break;
  }
  if (status >= 500) return ErrorCode::unavailable;
  if (status >= 400) return ErrorCode::invalid_argument;
  return ErrorCode::internal;
}

bool Error::retryable() const {
  return code == ErrorCode::unavailable || code == ErrorCode::deadline_exceeded;
}

std::string Error::describe() const {
  if (field.empty()) return message;
  return message + " (field: " + field + ")";
}

}  // namespace ferry
