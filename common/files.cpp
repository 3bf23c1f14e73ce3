#include "common/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace ferry {
namespace {

Error io_failure(const std::string& what, const std::filesystem::path& path) {
  return Error{ErrorCode::io_error, what + " '" + path.string() + "': " + std::strerror(errno), {}};
}

Status fsync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return fail(io_failure("cannot open", path));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(io_failure("cannot fsync", path));
  return {};
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream out;
  out << std::hex << rng();
  return out.str();
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view contents) {
  auto tmp = path;
  tmp += ".tmp-" + random_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(io_failure("cannot create", tmp));
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto error = io_failure("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(error);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto error = io_failure("cannot flush", tmp);
    ::unlink(tmp.c_str());
    return fail(error);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto error = io_failure("cannot rename into place", path);
    ::unlink(tmp.c_str());
    return fail(error);
  }
  return fsync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::not_found, "cannot open '" + path.string() + "'", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::io_error, "cannot read '" + path.string() + "'");
  return buffer.str();
}

Status publish_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (auto synced = fsync_path(from, O_RDONLY); !synced) return synced;
  if (::rename(from.c_str(), to.c_str()) != 0) return fail(io_failure("cannot rename into place", to));
  return fsync_path(to.parent_path().empty() ? "." : to.parent_path(), O_RDONLY | O_DIRECTORY);
}

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace ferry
