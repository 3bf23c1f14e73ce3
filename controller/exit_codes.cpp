#include "controller/exit_codes.hpp"

#include <array>
#include <string>

namespace ferry::controller {
namespace {

struct ExitRow {
  ExitCode code;
  std::string_view meaning;
};

constexpr std::array<ExitRow, 9> kExitCodes{{
    {ExitCode::ok, "ok"},
    {ExitCode::job_failed, "a job failed (results of the other jobs were still downloaded)"},
    {ExitCode::usage, "usage error on the command line"},
    {ExitCode::manifest_invalid, "the manifest or one of its inputs is invalid"},
    {ExitCode::provider_auth, "the provider rejected the credentials"},
    {ExitCode::no_capacity, "no capacity: no machine could be started"},
    {ExitCode::limit_exceeded, "budget or deadline exceeded (machines were stopped)"},
    {ExitCode::teardown_failed, "teardown failed: instances may still be billing"},
    {ExitCode::interrupted, "interrupted (machines were stopped)"},
}};

}  // namespace

std::string_view describe(ExitCode code) {
  for (const auto& row : kExitCodes)
    if (row.code == code) return row.meaning;
  return "unknown";
}

std::string exit_code_table() {
  std::string table = "Exit codes:\n";
  for (const auto& row : kExitCodes) {
    std::string number = std::to_string(to_int(row.code));
    table += "  " + std::string(4 - number.size(), ' ') + number + "  " + std::string(row.meaning) + "\n";
  }
  return table;
}

ExitCode exit_code_for(ErrorCode error) {
  switch (error) {
    case ErrorCode::invalid_argument:
    case ErrorCode::not_found:
      return ExitCode::manifest_invalid;
    case ErrorCode::unauthenticated:
    case ErrorCode::permission_denied:
      return ExitCode::provider_auth;
    case ErrorCode::unavailable:
      return ExitCode::no_capacity;
    case ErrorCode::resource_exhausted:  // budget and quotas
    case ErrorCode::deadline_exceeded:
      return ExitCode::limit_exceeded;
    case ErrorCode::cancelled:
      return ExitCode::interrupted;
    case ErrorCode::already_exists:
    case ErrorCode::failed_precondition:
    case ErrorCode::data_loss:
    case ErrorCode::unsupported:
    case ErrorCode::io_error:
    case ErrorCode::internal:
      return ExitCode::job_failed;
  }
  return ExitCode::job_failed;
}

}  // namespace ferry::controller
