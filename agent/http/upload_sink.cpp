#include "agent/http/upload_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "common/files.hpp"

namespace ferry::agent::http {
namespace fs = std::filesystem;

namespace {

std::string random_hex() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(rng()));
  return text;
}

std::string describe_limit(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Result<std::unique_ptr<UploadSink>> UploadSink::create(const fs::path& uploads_dir, std::uint64_t max_bytes) {
  // The leading dot keeps incomplete files out of the digest namespace.
  auto temp = uploads_dir / (".incoming-" + random_hex());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(ErrorCode::io_error, "cannot create '" + temp.string() + "': " + std::strerror(errno));
  return std::unique_ptr<UploadSink>(new UploadSink(uploads_dir, std::move(temp), fd, max_bytes));
}

UploadSink::UploadSink(fs::path uploads_dir, fs::path temp_path, int fd, std::uint64_t max_bytes)
    : uploads_dir_(std::move(uploads_dir)), temp_path_(std::move(temp_path)), fd_(fd), max_bytes_(max_bytes) {}

UploadSink::~UploadSink() { abort(); }

void UploadSink::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!done_) {
    std::error_code ec;
    fs::remove(temp_path_, ec);
    done_ = true;
  }
}

Status UploadSink::write(const void* data, std::size_t size) {
  if (done_) return fail(ErrorCode::internal, "write after the upload was finished");
  if (bytes_ + size > max_bytes_) {
    abort();
    return fail(ErrorCode::resource_exhausted,
                "the upload is larger than this agent accepts (" + describe_limit(max_bytes_) +
                    "); start the agent with a larger --max-upload or send a smaller file",
                "body");
  }
  hasher_.update(data, size);
  const char* cursor = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(fd_, cursor, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto message = "cannot write the upload to '" + temp_path_.string() + "': " + std::strerror(errno);
      abort();
      return fail(ErrorCode::io_error, message);
    }
    cursor += n;
    left -= static_cast<std::size_t>(n);
  }
  bytes_ += size;
  return {};
}

Result<UploadReceipt> UploadSink::finish(std::string_view expected_sha256) {
  if (done_) return fail(ErrorCode::internal, "the upload was already finished or aborted");
  UploadReceipt receipt{hasher_.hex_digest(), bytes_};
  if (!expected_sha256.empty() && expected_sha256 != receipt.sha256) {
    abort();
    return fail(ErrorCode::data_loss,
                "the upload's sha256 is " + receipt.sha256 + " but X-Content-Sha256 said " +
                    std::string(expected_sha256) + "; the data was corrupted on the way, send it again",
                "X-Content-Sha256");
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    auto message = "cannot flush the upload '" + temp_path_.string() + "': " + std::strerror(errno);
    abort();
    return fail(ErrorCode::io_error, message);
  }
  fd_ = -1;
  if (auto published = publish_file(temp_path_, uploads_dir_ / receipt.sha256); !published) {
    abort();
    return fail(published.error());
  }
  done_ = true;
  return receipt;
}

}  // namespace ferry::agent::http
