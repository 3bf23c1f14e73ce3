#pragma once
// File-system helpers for tests: a temporary folder removed at the end of the
// test, waiting for a file another process writes, and small reads/writes.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::test {

/// A fresh folder under the system temp dir, deleted with everything in it
/// by the destructor.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "ferry-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

/// Waits for `path` to exist with non-empty contents and returns them.
std::optional<std::string> wait_for_file(const std::filesystem::path& path, std::chrono::milliseconds timeout);

/// Waits for a port file (a decimal port and a newline, as written by
/// `--port-file`) and returns the port.
std::optional<std::uint16_t> wait_for_port_file(const std::filesystem::path& path, std::chrono::milliseconds timeout);

/// Whole-file read ("" when missing) and write (throws on failure).
std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, std::string_view contents);

}  // namespace ferry::test
