#include "agent/models/model_fetch.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <system_error>

#include "common/files.hpp"
#include "common/http_client.hpp"
#include "common/sha256.hpp"

namespace ferry::models {

namespace {

namespace fs = std::filesystem;

std::uint64_t size_or_zero(const fs::path& path) {
  std::error_code error;
  auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

// "bytes FIRST-LAST/TOTAL" (TOTAL may be "*").
struct ContentRange {
  std::uint64_t first = 0;
  std::optional<std::uint64_t> total;
};
std::optional<ContentRange> parse_content_range(std::string_view value) {
  constexpr std::string_view unit = "bytes ";
  if (value.substr(0, unit.size()) != unit) return std::nullopt;
  value.remove_prefix(unit.size());
  ContentRange range;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), range.first);
  if (error != std::errc{}) return std::nullopt;
  auto slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto total_text = value.substr(slash + 1);
  std::uint64_t total = 0;
  if (std::from_chars(total_text.data(), total_text.data() + total_text.size(), total).ec == std::errc{}) {
    range.total = total;
  }
  return range;
}

Status append_file(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::app);
  if (!in || !out) return fail(ErrorCode::io_error, "cannot append to '" + to.string() + "'", to.string());
  out << in.rdbuf();
  out.flush();
  if (!out) return fail(ErrorCode::io_error, "cannot write '" + to.string() + "' (disk full?)", to.string());
  return {};
}

std::string expected_digest_text(const ModelFile& file) {
  return file.sha256.empty() ? "starting with " + file.sha256_prefix : file.sha256;
}

Error offline_error(const ModelFile& file, const fs::path& target, const Error& cause) {
  return Error{cause.code,
               "cannot download " + file.name + " (" + cause.message + "). If this machine is offline, download " +
                   file.url + " elsewhere and put it at " + target.string() + " (sha256 " +
                   expected_digest_text(file) + ")",
               target.string()};
}

// Whether the whole file at `path` is the one expected.
Result<bool> file_is_correct(const ModelFile& file, const fs::path& path) {
  if (file.size && size_or_zero(path) != *file.size) return false;
  auto digest = sha256_file(path);
  if (!digest) return fail(digest.error());
  return digest_matches(file, *digest);
}

// Brings `partial` to the end of the remote file with ranged requests.
Status download_rest(const ModelFile& file, const fs::path& partial, const FetchOptions& options,
                     const fs::path& target) {
  HttpClient client;
  const fs::path piece = partial.string() + ".piece";
  std::optional<std::uint64_t> total = file.size;
  std::uint64_t offset = size_or_zero(partial);
  while (!total || offset < *total) {
    const std::uint64_t last = offset + options.request_bytes - 1;
    HttpRequest request;
    request.url = file.url;
    request.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last));
    // Generous: a slow link still moves a piece in this time.
    request.timeout = std::chrono::minutes(30);
    auto response = client.download(request, piece, total.value_or(0));
    if (!response) {
      std::error_code ignored;
      fs::remove(piece, ignored);
      if (response.error().code == ErrorCode::unavailable || response.error().code == ErrorCode::deadline_exceeded) {
        return fail(offline_error(file, target, response.error()));
      }
      return fail(response.error());
    }
    const std::uint64_t got = size_or_zero(piece);
    if (response->status == 206) {
      auto range = parse_content_range(response->header("content-range"));
      if (!range || range->first != offset) {
        fs::remove(piece);
        return fail(ErrorCode::data_loss, file.url + " answered a ranged request with another range ('" +
                                              response->header("content-range") + "')");
      }
      if (!total && range->total) total = range->total;
      if (auto appended = append_file(piece, partial); !appended) return appended;
      fs::remove(piece);
      offset += got;
      if (got == 0 || (!total && got < options.request_bytes)) break;
    } else if (response->status == 200) {
      // The server ignored the range and sent the whole file.
      std::error_code error;
      fs::rename(piece, partial, error);
      if (error) return fail(ErrorCode::io_error, "cannot move '" + piece.string() + "': " + error.message());
      offset = got;
      break;
    } else if (response->status == 416) {
      break;  // nothing after `offset`: the partial file is complete (or too long, which verification catches)
    } else {
      std::error_code ignored;
      fs::remove(piece, ignored);
      return fail(response->status >= 500 ? ErrorCode::unavailable : ErrorCode::not_found,
                  file.url + " answered HTTP " + std::to_string(response->status));
    }
    if (options.progress) options.progress(file.name, offset, total.value_or(0));
  }
  return {};
}

}  // namespace

std::string_view to_string(FileState state) {
  switch (state) {
    case FileState::missing: return "missing";
    case FileState::partial: return "partial";
    case FileState::verified: return "verified";
    case FileState::corrupt: return "corrupt";
  }
  return "missing";
}

fs::path partial_download_path(const fs::path& dir, const ModelFile& file) { return dir / (file.name + ".partial"); }

Result<FileStatus> inspect_file(const ModelFile& file, const fs::path& dir) {
  FileStatus status{file, FileState::missing, 0};
  const fs::path target = dir / file.name;
  if (fs::exists(target)) {
    status.bytes = size_or_zero(target);
    auto correct = file_is_correct(file, target);
    if (!correct) return fail(correct.error());
    status.state = *correct ? FileState::verified : FileState::corrupt;
  } else if (fs::exists(partial_download_path(dir, file))) {
    status.state = FileState::partial;
    status.bytes = size_or_zero(partial_download_path(dir, file));
  }
  return status;
}

Status fetch_file(const ModelFile& file, const fs::path& dir, const FetchOptions& options) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return fail(ErrorCode::io_error, "cannot create the models folder '" + dir.string() + "': " + error.message());
  const fs::path target = dir / file.name;
  // Models published as a folder keep their layout.
  fs::create_directories(target.parent_path(), error);
  if (error)
    return fail(ErrorCode::io_error,
                "cannot create the folder '" + target.parent_path().string() + "': " + error.message());
  if (fs::exists(target)) {
    auto correct = file_is_correct(file, target);
    if (!correct) return fail(correct.error());
    if (*correct) return {};
    fs::remove(target);  // corrupt: fetch it again
  }
  const fs::path partial = partial_download_path(dir, file);
  // A resumed download that turns out wrong may have started from bad bytes:
  // one fresh start before giving up.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (file.size && size_or_zero(partial) > *file.size) fs::remove(partial);
    const bool resumed = size_or_zero(partial) > 0;
    if (auto downloaded = download_rest(file, partial, options, target); !downloaded) return downloaded;
    auto correct = file_is_correct(file, partial);
    if (!correct) return fail(correct.error());
    if (*correct) return publish_file(partial, target);
    fs::remove(partial);
    if (!resumed) break;
  }
  return fail(ErrorCode::data_loss, "the file downloaded from " + file.url + " does not match its checksum (expected " +
                                        (file.size ? std::to_string(*file.size) + " bytes, " : std::string()) +
                                        "sha256 " + expected_digest_text(file) + ")",
              target.string());
}

Status fetch_model(const RegistryModel& model, const fs::path& dir, const FetchOptions& options) {
  for (const auto& file : model.files) {
    if (auto fetched = fetch_file(file, dir, options); !fetched) return fetched;
  }
  if (!model.bag_yaml.empty()) return write_file_atomic(dir / (model.name + ".yaml"), model.bag_yaml);
  return {};
}

Result<std::vector<FileStatus>> inspect_model(const RegistryModel& model, const fs::path& dir) {
  std::vector<FileStatus> statuses;
  for (const auto& file : model.files) {
    auto status = inspect_file(file, dir);
    if (!status) return fail(status.error());
    statuses.push_back(std::move(*status));
  }
  return statuses;
}

}  // namespace ferry::models
