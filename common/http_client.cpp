#include "common/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>

namespace ferry {
namespace {

// Bodies of non-2xx answers to a download are kept in memory for the error
// message, never written to the destination file.
constexpr std::size_t kErrorBodyLimit = 64 * 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// The URL without query string or credentials, so messages never leak a
// token passed as a parameter or as user:password.
std::string url_for_messages(const std::string& url) {
  std::string shown = url.substr(0, url.find_first_of("?#"));
  auto scheme_end = shown.find("://");
  auto at = shown.find('@', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto path_start = shown.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (scheme_end != std::string::npos && at != std::string::npos && at < path_start)
    shown.erase(scheme_end + 3, at - scheme_end - 2);
  return shown;
}

// Where the body of one exchange goes: memory, or (downloads) a file with a
// size cap. A download's body is routed on its first byte, when the final
// status is known: 2xx goes to the file, anything else to memory (capped) so
// an error page never lands in the destination.
struct Transfer {
  HttpResponse response;
  CURL* handle = nullptr;
  std::FILE* download_target = nullptr;  ///< set for downloads
  bool routed = false;
  bool to_file = false;
  std::uint64_t max_bytes = 0;
  std::uint64_t written = 0;
  bool too_large = false;
  bool write_failed = false;
  bool aborted_by_caller = false;
  const TransferProgress* progress = nullptr;
  bool is_upload = false;
  std::ifstream* upload = nullptr;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // A new status line starts a new response (redirects, 100-continue):
  // forget the headers of the previous one.
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    transfer->response.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  if (!transfer->routed) {
    transfer->routed = true;
    long status = 0;
    curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
    transfer->to_file = transfer->download_target && status >= 200 && status < 300;
  }
  if (transfer->to_file) {
    if (transfer->max_bytes && transfer->written + bytes > transfer->max_bytes) {
      transfer->too_large = true;
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    if (std::fwrite(data, 1, bytes, transfer->download_target) != bytes) {
      transfer->write_failed = true;
      return 0;
    }
    transfer->written += bytes;
    return bytes;
  }
  auto& body = transfer->response.body;
  if (transfer->download_target) {
    // An error answer to a download: keep its start for the message only.
    std::size_t room = kErrorBodyLimit - std::min(kErrorBodyLimit, body.size());
    body.append(data, std::min(room, bytes));
    return bytes;
  }
  if (transfer->max_bytes && body.size() + bytes > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;
  }
  body.append(data, bytes);
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  transfer->upload->read(buffer, static_cast<std::streamsize>(size * count));
  if (transfer->upload->bad()) return CURL_READFUNC_ABORT;
  return static_cast<std::size_t>(transfer->upload->gcount());
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->progress || !*transfer->progress) return 0;
  bool keep_going = transfer->is_upload
                        ? (*transfer->progress)(static_cast<std::uint64_t>(ulnow), static_cast<std::uint64_t>(ultotal))
                        : (*transfer->progress)(static_cast<std::uint64_t>(dlnow), static_cast<std::uint64_t>(dltotal));
  if (!keep_going) {
    transfer->aborted_by_caller = true;
    return 1;
  }
  return 0;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto found = headers.find(lower(name));
  return found == headers.end() ? std::string() : found->second;
}

struct HttpClient::Impl {
  CURL* handle = nullptr;

  Result<HttpResponse> perform(const HttpRequest& request, Transfer& transfer);
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) { impl_->handle = curl_easy_init(); }

HttpClient::~HttpClient() {
  if (impl_->handle) curl_easy_cleanup(impl_->handle);
}

Result<HttpResponse> HttpClient::Impl::perform(const HttpRequest& request, Transfer& transfer) {
  const std::string shown_url = url_for_messages(request.url);
  const std::string what = request.method + " " + shown_url;
  if (!handle) return fail(ErrorCode::internal, "cannot initialise libcurl for " + what);

  // The handle is reused so its connection cache keeps the connection alive;
  // reset clears options of the previous request but keeps the connections.
  curl_easy_reset(handle);
  transfer.handle = handle;
  char curl_message[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, curl_message);
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);

  HeaderList headers;
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);

  std::ifstream upload;
  if (request.body_file) {
    std::error_code size_error;
    auto size = std::filesystem::file_size(*request.body_file, size_error);
    upload.open(*request.body_file, std::ios::binary);
    if (size_error || !upload)
      return fail(ErrorCode::io_error, "cannot read '" + request.body_file->string() + "' to send to " + what,
                  request.body_file->string());
    transfer.upload = &upload;
    transfer.is_upload = true;
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(handle, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    // Without this curl waits a second for "100 Continue" on large bodies.
    headers.add("Expect:");
  } else if (!request.body.empty()) {
    transfer.is_upload = true;
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  // Set after the body options: CURLOPT_UPLOAD and POSTFIELDS imply PUT/POST.
  if (request.method == "GET" && !request.body_file && request.body.empty()) {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method == "POST" && request.body.empty() && !request.body_file) {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    }
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.list);

  CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  // Never keep the pointer to the stack buffer in the reused handle.
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);

  if (code == CURLE_OK) return std::move(transfer.response);
  if (transfer.aborted_by_caller) return fail(ErrorCode::cancelled, what + ": transfer cancelled");
  if (transfer.too_large)
    return fail(ErrorCode::resource_exhausted,
                what + ": response is larger than the limit of " + std::to_string(transfer.max_bytes) + " bytes");
  if (transfer.write_failed) return fail(ErrorCode::io_error, what + ": cannot write the response to disk");
  std::string detail = curl_message[0] ? curl_message : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return fail(ErrorCode::deadline_exceeded, what + ": timed out (" + detail + ")");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return fail(ErrorCode::invalid_argument, what + ": " + detail);
    case CURLE_READ_ERROR:
      return fail(ErrorCode::io_error, what + ": cannot read the request body (" + detail + ")");
    default:
      return fail(ErrorCode::unavailable, what + ": " + detail);
  }
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request, const TransferProgress& progress) {
  Transfer transfer;
  transfer.progress = &progress;
  return impl_->perform(request, transfer);
}

Result<HttpResponse> HttpClient::download(const HttpRequest& request, const std::filesystem::path& destination,
                                          std::uint64_t max_bytes, const TransferProgress& progress) {
  std::FILE* file = std::fopen(destination.c_str(), "wb");
  if (!file)
    return fail(ErrorCode::io_error,
                "cannot create '" + destination.string() + "' for " + url_for_messages(request.url),
                destination.string());
  Transfer transfer;
  transfer.progress = &progress;
  transfer.max_bytes = max_bytes;
  transfer.download_target = file;
  auto result = impl_->perform(request, transfer);
  bool closed = std::fclose(file) == 0;
  if (result && transfer.to_file && !closed)
    return fail(ErrorCode::io_error, "cannot finish writing '" + destination.string() + "'", destination.string());
  return result;
}

void http_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace ferry
