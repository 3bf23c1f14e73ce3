#pragma once
// File helpers shared by both sides: atomic replacement, whole-file reads,
// safe names.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry {

/// Writes `contents` to a temporary file beside `path`, fsyncs it and renames
/// it over `path`, so readers see the old or the new file, never a torn one.
Status write_file_atomic(const std::filesystem::path& path, std::string_view contents);

/// Reads a whole (small) file.
Result<std::string> read_file(const std::filesystem::path& path);

/// Renames `from` to `to` after fsyncing `from`, then fsyncs the directory:
/// how a finished download or output is published.
Status publish_file(const std::filesystem::path& from, const std::filesystem::path& to);

/// True for names safe as one path component: 1–128 characters of
/// [A-Za-z0-9._-], not starting with '.', so no "..", no separators.
bool is_safe_name(std::string_view name);

}  // namespace ferry
