#pragma once
// The one table of ferry's exit codes. Scripts rely on these numbers; change
// them only together with the documentation printed by `ferry --help`.

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry::controller {

enum class ExitCode : int {
  ok = 0,                  ///< everything asked for was done
  job_failed = 1,          ///< at least one job failed (the others' results were still fetched)
  usage = 2,               ///< bad command line
  manifest_invalid = 3,    ///< the manifest or an input it names is invalid
  provider_auth = 4,       ///< the provider refused the credentials
  no_capacity = 5,         ///< no machine could be started, after retries
  limit_exceeded = 6,      ///< budget or deadline exceeded (teardown performed)
  teardown_failed = 7,     ///< instances may still be running and billing
  interrupted = 130,       ///< Ctrl-C or SIGTERM (teardown attempted)
};

/// The process exit status for an exit code.
constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

/// One line saying what the code means, for help text and logs.
std::string_view describe(ExitCode code);

/// The whole table as text ("  0  ok: ..."), for `ferry --help`.
std::string exit_code_table();

/// Which exit code an error that ended the run maps to.
ExitCode exit_code_for(ErrorCode error);

}  // namespace ferry::controller
