#pragma once
// The one error shape of ferry. Functions that can fail return Result<T>;
// exceptions are caught at the edges (parsers, third-party calls) and
// converted at once.

#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace ferry {

/// A small, canonical set of failure classes. Each maps to one HTTP status
/// (http_status) and, in the controller, to one exit code.
enum class ErrorCode {
  invalid_argument,     ///< the caller sent something malformed or out of range
  not_found,            ///< the named thing does not exist
  already_exists,       ///< create of something that exists with other content
  failed_precondition,  ///< valid request, wrong state (e.g. output of an unfinished job)
  unauthenticated,      ///< missing or wrong credentials
  permission_denied,    ///< credentials fine, action not allowed
  resource_exhausted,   ///< size limit, quota, budget, out of memory
  unavailable,          ///< transient: try again later (network, 5xx, no capacity)
  deadline_exceeded,    ///< a time limit ran out
  cancelled,            ///< stopped on request
  data_loss,            ///< corrupt or truncated data, checksum mismatch
  unsupported,          ///< a feature or format this build does not handle
  io_error,             ///< local file system failure
  internal,             ///< a bug: an invariant did not hold
};

/// Stable snake_case name, used in JSON error bodies and logs.
std::string_view to_string(ErrorCode code);
/// Inverse of to_string; unknown names map to internal.
ErrorCode error_code_from_string(std::string_view name);
/// The one table mapping error codes to HTTP statuses.
int http_status(ErrorCode code);
/// The inverse direction, for clients reading a status without a body.
ErrorCode error_code_from_http_status(int status);

/// What went wrong, in words a user can act on. `field` names the offending
/// input (a JSON field, a manifest path, a file) when there is one.
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::string field;

  /// True when the same call may succeed later unchanged.
  bool retryable() const;
  /// "message (field: x)" for logs and CLI output.
  std::string describe() const;
};

template <class T>
using Result = tl::expected<T, Error>;
/// For functions that return nothing on success.
using Status = tl::expected<void, Error>;

/// Builds an unexpected Error: `return fail(ErrorCode::not_found, "no job 'x'");`
inline tl::unexpected<Error> fail(ErrorCode code, std::string message, std::string field = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(field)});
}
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace ferry
