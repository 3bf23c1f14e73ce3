#include "agent/models/checkpoint_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ferry::models {
namespace {

Error file_error(const std::filesystem::path& path, std::string_view what, int error_number) {
  const ErrorCode code = error_number == ENOENT || error_number == ENOTDIR ? ErrorCode::not_found : ErrorCode::io_error;
  return Error{code, fmt::format("cannot {} checkpoint: {}", what, std::strerror(error_number)), path.string()};
}

// Closes the descriptor on every path out; the mapping outlives it.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::shared_ptr<const CheckpointBytes>> CheckpointBytes::map_file(const std::filesystem::path& path,
                                                                          std::uint64_t max_bytes) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return fail(file_error(path, "open", errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) return fail(file_error(path, "inspect", errno));
  if (!S_ISREG(info.st_mode)) {
    return fail(ErrorCode::invalid_argument, "checkpoint is not a regular file", path.string());
  }
  // The size of the open file, not of the path: a file replaced meanwhile
  // cannot make the mapping and the checks disagree.
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > max_bytes) {
    return fail(ErrorCode::resource_exhausted,
                fmt::format("checkpoint is {} bytes, over the limit of {} bytes for one checkpoint file", size,
                            max_bytes),
                path.string());
  }
  if (size == 0) return hold(std::make_shared<const std::string>());  // mmap refuses empty mappings
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, file.fd, 0);
  if (mapping == MAP_FAILED) return fail(file_error(path, "map", errno));
  std::shared_ptr<CheckpointBytes> bytes(new CheckpointBytes());
  bytes->mapping_ = mapping;
  bytes->mapped_size_ = static_cast<std::size_t>(size);
  bytes->view_ = std::string_view(static_cast<const char*>(mapping), bytes->mapped_size_);
  return std::shared_ptr<const CheckpointBytes>(std::move(bytes));
}

std::shared_ptr<const CheckpointBytes> CheckpointBytes::hold(std::shared_ptr<const std::string> bytes) {
  std::shared_ptr<CheckpointBytes> held(new CheckpointBytes());
  held->held_ = bytes ? std::move(bytes) : std::make_shared<const std::string>();
  held->view_ = *held->held_;
  return held;
}

CheckpointBytes::~CheckpointBytes() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_size_);
}

void CheckpointBytes::release(std::string_view range) const {
  if (mapping_ == nullptr || range.empty()) return;
  const auto base = reinterpret_cast<std::uintptr_t>(mapping_);
  const auto first = reinterpret_cast<std::uintptr_t>(range.data());
  if (first < base || first - base > mapped_size_ || range.size() > mapped_size_ - (first - base)) return;
  // Whole pages around the range: a neighbour sharing an edge page merely
  // reads it back from the file if it needs it.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t start = first & ~(page - 1);
  const std::uintptr_t end = std::min(base + mapped_size_, (first + range.size() + page - 1) & ~(page - 1));
  // Advice only: if the kernel declines, the pages merely stay resident.
  (void)::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
}

}  // namespace ferry::models
