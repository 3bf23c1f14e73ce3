#pragma once
// `ferry-agent loop`: one loop job on this machine, without the server. The
// same engine as a `loop` job; progress on stderr, the loop points as JSON on
// stdout.
//
// Exit statuses: 0 written, 1 the loop failed (unreadable input, disk full),
// 2 bad arguments, 130 interrupted (nothing is left under the output's name).

#include <string>

#include <CLI/CLI.hpp>

namespace ferry::agent {

/// The flags as given; durations still as text ("2h", "5s").
struct LoopFlags {
  std::string input;
  std::string output;  ///< a file, or a folder for "<input stem>_loop.<ext>"
  std::string duration;
  std::string crossfade;
  std::string fade;
  std::string fade_in;
  std::string fade_out;
  std::string format;  ///< empty: from the output's extension
  int sample_rate = 0;
  int bitrate_kbps = 0;
};

/// Adds the `loop` subcommand to `app`, filling `flags`; returns it.
CLI::App* add_loop_command(CLI::App& app, LoopFlags& flags);

/// Runs it; returns the exit status.
int run_loop_command(const LoopFlags& flags);

}  // namespace ferry::agent
