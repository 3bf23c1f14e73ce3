#include "controller/progress.hpp"

#include <algorithm>
#include <cmath>

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ferry::controller {
namespace {

bool is_final(const std::string& state) { return state == "succeeded" || state == "failed" || state == "canceled"; }

std::string percent(double fraction) {
  return fmt::format("{:3d}%", static_cast<int>(std::floor(std::clamp(fraction, 0.0, 1.0) * 100.0)));
}

std::string bar(std::optional<double> fraction, std::size_t width) {
  if (width == 0) return {};
  std::string cells;
  std::size_t filled = fraction ? static_cast<std::size_t>(std::clamp(*fraction, 0.0, 1.0) * width) : 0;
  for (std::size_t i = 0; i < width; ++i) cells += i < filled ? "#" : "-";
  return "[" + cells + "]";
}

// What follows the label: progress of a live job or the outcome of a done one.
std::string activity(const JobLine& line) {
  std::string text = line.state;
  if (!line.stage.empty() && !is_final(line.state)) text += " " + line.stage;
  if (line.fraction && !is_final(line.state)) text += " " + percent(*line.fraction);
  if (line.eta_s && !is_final(line.state) && *line.eta_s >= 0) text += " (eta " + format_eta(*line.eta_s) + ")";
  if (!line.note.empty()) text += ": " + line.note;
  return text;
}

}  // namespace

std::string format_eta(double seconds) {
  auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  long long hours = total / 3600, minutes = (total % 3600) / 60, secs = total % 60;
  if (hours > 0) return fmt::format("{}h{:02d}m", hours, minutes);
  if (minutes > 0) return fmt::format("{}m{:02d}s", minutes, secs);
  return fmt::format("{}s", secs);
}

std::string format_decorated_line(const JobLine& line, std::size_t label_width, std::size_t bar_width) {
  std::string label = line.label;
  if (label.size() > label_width) label = label.substr(0, label_width > 1 ? label_width - 1 : 0) + "~";
  label.resize(label_width, ' ');
  std::optional<double> shown = line.state == "succeeded" ? std::optional<double>(1.0) : line.fraction;
  return label + " " + bar(shown, bar_width) + " " + activity(line);
}

std::string format_plain_line(const JobLine& line) { return line.label + ": " + activity(line); }

ProgressDisplay::ProgressDisplay(std::FILE* stream, bool decorated, std::chrono::milliseconds plain_interval)
    : stream_(stream), decorated_(decorated), plain_interval_(plain_interval) {}

ProgressDisplay::~ProgressDisplay() { finish(); }

std::size_t ProgressDisplay::add(JobLine line) {
  lines_.push_back(std::move(line));
  logged_.emplace_back();
  logged_at_.emplace_back();
  return lines_.size() - 1;
}

void ProgressDisplay::update(std::size_t index, JobLine line) {
  if (index >= lines_.size()) return;
  bool state_changed = lines_[index].state != line.state;
  lines_[index] = std::move(line);
  if (!decorated_ && state_changed) {
    std::fprintf(stream_, "%s\n", format_plain_line(lines_[index]).c_str());
    std::fflush(stream_);
    logged_[index] = lines_[index];
    logged_at_[index] = std::chrono::steady_clock::now();
  }
}

void ProgressDisplay::erase_drawn() {
  // Up to the first drawn line; each redraw clears its line first.
  if (drawn_ > 0) std::fprintf(stream_, "\x1b[%zuA", drawn_);
  drawn_ = 0;
}

namespace {

// Columns of the terminal behind `stream`; lines longer than that would wrap
// and break redrawing in place.
std::size_t terminal_columns(std::FILE* stream) {
  winsize size{};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace

void ProgressDisplay::redraw() {
  const std::size_t columns = terminal_columns(stream_);
  std::size_t label_width = 0;
  for (const auto& line : lines_) label_width = std::max(label_width, line.label.size());
  label_width = std::min<std::size_t>(label_width, 40);
  erase_drawn();
  for (const auto& line : lines_) {
    std::string text = format_decorated_line(line, label_width);
    if (text.size() >= columns) text.resize(columns - 1);
    std::fprintf(stream_, "\r\x1b[2K%s\n", text.c_str());
  }
  drawn_ = lines_.size();
  std::fflush(stream_);
}

void ProgressDisplay::render() {
  if (finished_) return;
  if (decorated_) {
    redraw();
    return;
  }
  auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (is_final(lines_[i].state) || lines_[i] == logged_[i]) continue;
    if (logged_at_[i] && now - *logged_at_[i] < plain_interval_) continue;
    std::fprintf(stream_, "%s\n", format_plain_line(lines_[i]).c_str());
    logged_[i] = lines_[i];
    logged_at_[i] = now;
  }
  std::fflush(stream_);
}

void ProgressDisplay::message(const std::string& text) {
  if (decorated_ && !finished_ && drawn_ > 0) {
    erase_drawn();
    std::fprintf(stream_, "\r\x1b[J%s\n", text.c_str());
    redraw();
    return;
  }
  std::fprintf(stream_, "%s\n", text.c_str());
  std::fflush(stream_);
}

void ProgressDisplay::finish() {
  if (finished_) return;
  if (decorated_ && !lines_.empty()) redraw();
  finished_ = true;
}

}  // namespace ferry::controller
