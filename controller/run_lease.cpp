#include "controller/run_lease.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.hpp"

namespace ferry::controller {
namespace {

std::filesystem::path lease_path(const std::filesystem::path& state_dir, const std::string& run_id) {
  return state_dir / "leases" / (run_id + ".lock");
}

}  // namespace

Result<RunLease> RunLease::acquire(const std::filesystem::path& state_dir, const std::string& run_id) {
  if (!is_safe_name(run_id)) return fail(ErrorCode::invalid_argument, "run id '" + run_id + "' is not a safe name");
  std::filesystem::path path = lease_path(state_dir, run_id);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fail(ErrorCode::io_error, "cannot create " + path.parent_path().string() + ": " + ec.message());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::io_error, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::failed_precondition, "run " + run_id + " is already being driven by another ferry");
  }
  return RunLease(fd, std::move(path));
}

RunLease::RunLease(RunLease&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

RunLease& RunLease::operator=(RunLease&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

RunLease::~RunLease() { release(); }

void RunLease::release() {
  if (fd_ < 0) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);  // while still locked, so no one sees a stale free file
  ::close(fd_);
  fd_ = -1;
}

bool run_is_alive(const std::filesystem::path& state_dir, const std::string& run_id) {
  if (!is_safe_name(run_id)) return false;
  int fd = ::open(lease_path(state_dir, run_id).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace ferry::controller
