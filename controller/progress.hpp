#pragma once
// The progress display: one line per job, redrawn in place on a terminal
// (bar, percentage, stage, ETA); plain log lines, throttled, when stderr is
// not a terminal or decoration is off (NO_COLOR, TERM=dumb).

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace ferry::controller {

/// What one line shows.
struct JobLine {
  std::string label;               ///< "mp3 · talk.wav"
  std::string state;               ///< queued | running | downloading | succeeded | failed | canceled
  std::string stage;               ///< the agent's current stage ("decode", "encode")
  std::optional<double> fraction;  ///< 0..1 when known
  std::optional<double> eta_s;
  std::string note;                ///< error message or a short remark

  bool operator==(const JobLine&) const = default;
};

/// "1h02m", "3m05s", "42s".
std::string format_eta(double seconds);

/// A terminal line: label padded to `label_width`, then a bar of `bar_width`
/// cells, the percentage, the stage and the ETA, or the final state.
std::string format_decorated_line(const JobLine& line, std::size_t label_width, std::size_t bar_width = 24);

/// A log line: "talk.wav: running encode 42% (eta 12s)".
std::string format_plain_line(const JobLine& line);

class ProgressDisplay {
 public:
  /// Draws on `stream` (stderr). `decorated` picks in-place redrawing.
  ProgressDisplay(std::FILE* stream, bool decorated,
                  std::chrono::milliseconds plain_interval = std::chrono::seconds(5));
  ~ProgressDisplay();

  /// Adds a line; returns its index.
  std::size_t add(JobLine line);
  /// Replaces a line's contents. In plain mode a change of state is logged at
  /// once; progress within a state at most once per interval.
  void update(std::size_t index, JobLine line);
  /// Redraws (decorated) or logs throttled progress (plain).
  void render();
  /// Prints a message above the job lines without breaking them.
  void message(const std::string& text);
  /// Final draw; later messages go below the lines.
  void finish();

 private:
  void redraw();
  void erase_drawn();

  std::FILE* stream_;
  bool decorated_;
  std::chrono::milliseconds plain_interval_;
  std::vector<JobLine> lines_;
  std::vector<JobLine> logged_;  ///< what plain mode last printed per line
  std::vector<std::optional<std::chrono::steady_clock::time_point>> logged_at_;  ///< nullopt: never
  std::size_t drawn_ = 0;        ///< lines currently on screen (decorated)
  bool finished_ = false;
};

}  // namespace ferry::controller
