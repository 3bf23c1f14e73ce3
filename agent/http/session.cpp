#include "agent/http/session.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>
#include <vector>

#include "agent/http/api.hpp"
#include "agent/http/auth.hpp"
#include "agent/http/byte_range.hpp"
#include "agent/http/responses.hpp"
#include "agent/http/routes.hpp"
#include "agent/http/upload_sink.hpp"
#include "common/sha256.hpp"

namespace ferry::agent::http {
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// Upload pieces are written to disk as they arrive; large enough that the
// per-write overhead vanishes, small enough to be no memory concern.
constexpr std::size_t kUploadChunkBytes = 256 * 1024;
// One sendfile call moves at most this much before the loop re-checks.
constexpr std::size_t kSendfileChunkBytes = 8 * 1024 * 1024;
// After an error sent before the request body was read, unread input is
// drained for this long so the client sees the answer instead of a reset.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::uint64_t kLingerMaxBytes = 64ull << 20;

std::string_view content_type_for(std::string_view name) {
  auto dot = name.rfind('.');
  std::string ext = dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "wav") return "audio/wav";
  if (ext == "mp3") return "audio/mpeg";
  if (ext == "flac") return "audio/flac";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerContext& context)
      : stream_(std::move(socket)), context_(context), timer_(stream_.get_executor()) {}

  ~Session() { close_file(); }

  void run() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

 private:
  // ---- reading requests -------------------------------------------------

  void read_header() {
    header_parser_.emplace();
    // Body size is decided per route once the header is known.
    header_parser_->body_limit(boost::none);
    header_parser_->header_limit(16 * 1024);
    stream_.expires_after(context_.options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) return close();
    if (ec == beast::error::timeout) return;  // the stream already closed the socket
    if (ec) {
      version_ = 11;
      keep_alive_ = false;
      return reply_error(Error{ErrorCode::invalid_argument, "malformed HTTP request: " + ec.message(), {}});
    }
    context_.touch();
    const auto& request = header_parser_->get();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    // A body nobody reads would be taken for the next request, so any early
    // answer to a request with an unread body closes the connection.
    body_pending_ = !header_parser_->is_done();

    auto route = route_request(request.method_string(), request.target());
    if (!route) return reply_error(route.error());
    route_ = std::move(*route);
    if (route_.endpoint == Endpoint::method_not_allowed) {
      auto response = error_response(
          Error{ErrorCode::invalid_argument,
                std::string(request.method_string()) + " is not allowed here; allowed: " + route_.allow, "method"},
          version_, keep_alive_, 405);
      response.set(bhttp::field::allow, route_.allow);
      return send(std::move(response));
    }
    if (route_.requires_auth) {
      if (auto allowed = check_bearer(request[bhttp::field::authorization], context_.options.token); !allowed)
        return reply_error(allowed.error());
    }
    switch (route_.endpoint) {
      case Endpoint::upload: return start_upload();
      case Endpoint::create_job:
      case Endpoint::put_job: return read_json_body();
      default: break;
    }
    if (body_pending_)
      return reply_error(Error{ErrorCode::invalid_argument, "this endpoint takes no request body", "body"});
    switch (route_.endpoint) {
      case Endpoint::get_job:
        if (route_.wait.count() > 0) return start_long_poll();
        break;
      case Endpoint::get_output:
      case Endpoint::get_result: return send_output();
      default: break;
    }
    send(answer_simple(context_, route_, version_, keep_alive_));
  }

  // ---- JSON bodies --------------------------------------------------------

  void read_json_body() {
    const auto limit = context_.options.max_json_bytes;
    if (auto length = header_parser_->content_length(); length && *length > limit)
      return reply_error(too_large_json(limit));
    json_parser_.emplace(std::move(*header_parser_));
    json_parser_->body_limit(limit);
    stream_.expires_after(context_.options.io_timeout);
    bhttp::async_read(stream_, buffer_, *json_parser_,
                      beast::bind_front_handler(&Session::on_json_body, shared_from_this()));
  }

  void on_json_body(error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
      body_pending_ = true;
      return reply_error(too_large_json(context_.options.max_json_bytes));
    }
    if (ec == beast::error::timeout) return;
    if (ec) return close();
    body_pending_ = false;
    auto body = std::move(json_parser_->get().body());
    json_parser_.reset();
    send(answer_submit(context_, route_, body, version_, keep_alive_));
  }

  static Error too_large_json(std::uint64_t limit) {
    return Error{ErrorCode::resource_exhausted,
                 "request bodies are limited to " + std::to_string(limit) +
                     " bytes; upload media with POST /v1/uploads and reference it by sha256",
                 "body"};
  }

  // ---- uploads ------------------------------------------------------------

  void start_upload() {
    const auto& request = header_parser_->get();
    const auto limit = context_.options.max_upload_bytes;
    if (auto length = header_parser_->content_length(); length && *length > limit)
      return reply_error(Error{ErrorCode::resource_exhausted,
                               "the upload (" + std::to_string(*length) + " bytes) is larger than this agent accepts (" +
                                   std::to_string(limit) + " bytes); start the agent with a larger --max-upload",
                               "Content-Length"});
    expected_sha256_ = std::string(request["X-Content-Sha256"]);
    std::transform(expected_sha256_.begin(), expected_sha256_.end(), expected_sha256_.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!expected_sha256_.empty() && !is_sha256_hex(expected_sha256_))
      return reply_error(Error{ErrorCode::invalid_argument, "X-Content-Sha256 must be 64 hex digits",
                               "X-Content-Sha256"});
    auto sink = UploadSink::create(context_.jobs.store().uploads_dir(), limit);
    if (!sink) return reply_error(sink.error());
    upload_ = std::move(*sink);
    const bool wants_continue = beast::iequals(request[bhttp::field::expect], "100-continue");
    upload_parser_.emplace(std::move(*header_parser_));
    upload_parser_->body_limit(boost::none);
    chunk_.resize(kUploadChunkBytes);
    if (!wants_continue) return read_upload_chunk();
    // Clients that asked may wait for this before sending any of the body.
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(context_.options.io_timeout);
    net::async_write(stream_, net::buffer(kContinue), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->abort_upload("cannot send 100 Continue: " + ec.message());
      self->read_upload_chunk();
    });
  }

  void read_upload_chunk() {
    auto& body = upload_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    stream_.expires_after(context_.options.io_timeout);
    bhttp::async_read_some(stream_, buffer_, *upload_parser_,
                           beast::bind_front_handler(&Session::on_upload_chunk, shared_from_this()));
  }

  void on_upload_chunk(error_code ec, std::size_t) {
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      return abort_upload(ec == beast::error::timeout ? "the client stopped sending for longer than the timeout"
                                                      : "the upload was interrupted: " + ec.message());
    }
    const std::size_t received = chunk_.size() - upload_parser_->get().body().size;
    if (received > 0) {
      if (auto written = upload_->write(chunk_.data(), received); !written) {
        upload_.reset();
        return reply_error(written.error());
      }
    }
    if (!upload_parser_->is_done()) return read_upload_chunk();
    body_pending_ = false;
    auto receipt = upload_->finish(expected_sha256_);
    upload_.reset();
    upload_parser_.reset();
    chunk_ = {};
    if (!receipt) return reply_error(receipt.error());
    spdlog::info("upload {} stored ({} bytes)", receipt->sha256, receipt->bytes);
    send(json_response(201, {{"sha256", receipt->sha256}, {"bytes", receipt->bytes}}, version_, keep_alive_));
  }

  void abort_upload(const std::string& why) {
    spdlog::warn("upload aborted after {} bytes: {}", upload_ ? upload_->bytes() : 0, why);
    upload_.reset();  // deletes the partial file
    close();
  }

  // ---- long-polls ---------------------------------------------------------

  void start_long_poll() {
    auto view = context_.jobs.get(route_.job_id);
    if (!view) return reply_error(view.error());
    if (jobs::is_finished(view->job.state)) return send(json_response(200, job_json(*view), version_, keep_alive_));
    // The watcher runs on the worker thread: it only posts onto this strand.
    auto wake = [weak = weak_from_this(), executor = stream_.get_executor()] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->timer_.cancel();
      });
    };
    auto watch = context_.jobs.watch(route_.job_id, view->version, std::move(wake));
    if (!watch) return send(answer_simple(context_, route_, version_, keep_alive_));
    watch_id_ = *watch;
    timer_.expires_after(route_.wait);
    timer_.async_wait([self = shared_from_this()](error_code) {
      self->context_.jobs.unwatch(self->route_.job_id, self->watch_id_);
      self->send(answer_simple(self->context_, self->route_, self->version_, self->keep_alive_));
    });
  }

  // ---- outputs ------------------------------------------------------------

  void send_output() {
    std::string name = route_.output_name;
    if (route_.endpoint == Endpoint::get_result) {
      auto view = context_.jobs.get(route_.job_id);
      if (!view) return reply_error(view.error());
      if (view->job.state == jobs::JobState::succeeded && view->job.outputs.empty())
        return reply_error(Error{ErrorCode::not_found, "job '" + route_.job_id + "' produced no outputs", "id"});
      if (!view->job.outputs.empty()) name = view->job.outputs.front().name;
    }
    auto location = context_.jobs.output(route_.job_id, name);
    if (!location) return reply_error(location.error());
    file_fd_ = ::open(location->path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    if (file_fd_ < 0 || ::fstat(file_fd_, &info) != 0) {
      close_file();
      return reply_error(Error{ErrorCode::io_error, "output '" + name + "' cannot be read on the agent", "name"});
    }
    const auto size = static_cast<std::uint64_t>(info.st_size);
    const auto& request = header_parser_->get();
    const auto decision = decide_range(request[bhttp::field::range], size);
    if (decision.kind == RangeDecision::unsatisfiable) {
      close_file();
      auto response = error_response(
          Error{ErrorCode::invalid_argument,
                "the requested range is outside output '" + name + "' (" + std::to_string(size) + " bytes)", "Range"},
          version_, keep_alive_, 416);
      response.set(bhttp::field::content_range, "bytes */" + std::to_string(size));
      return send(std::move(response));
    }
    ByteRange range = decision.kind == RangeDecision::partial ? decision.range : ByteRange{0, size ? size - 1 : 0};
    const std::uint64_t length = decision.kind == RangeDecision::partial ? range.length() : size;

    file_header_.emplace(decision.kind == RangeDecision::partial ? bhttp::status::partial_content : bhttp::status::ok,
                         version_);
    auto& header = *file_header_;
    header.set(bhttp::field::content_type, content_type_for(name));
    header.set(bhttp::field::accept_ranges, "bytes");
    header.set(bhttp::field::content_disposition, "attachment; filename=\"" + name + "\"");
    if (decision.kind == RangeDecision::partial)
      header.set(bhttp::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                                  std::to_string(range.last) + "/" + std::to_string(size));
    header.content_length(length);
    header.keep_alive(keep_alive_);
    file_offset_ = static_cast<off_t>(range.first);
    file_remaining_ = length;
    file_serializer_.emplace(header);
    stream_.expires_after(context_.options.io_timeout);
    bhttp::async_write_header(stream_, *file_serializer_,
                              beast::bind_front_handler(&Session::on_file_header, shared_from_this()));
  }

  void on_file_header(error_code ec, std::size_t) {
    if (ec) return close();
    stream_.expires_never();
    error_code ignored;
    stream_.socket().native_non_blocking(true, ignored);
    send_file_body();
  }

  // Zero-copy body: the kernel moves file pages to the socket. When the
  // socket buffer is full, wait for writability under a watchdog timer.
  void send_file_body() {
    const int socket_fd = stream_.socket().native_handle();
    while (file_remaining_ > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(file_remaining_, kSendfileChunkBytes));
      const ssize_t sent = ::sendfile(socket_fd, file_fd_, &file_offset_, want);
      if (sent > 0) {
        file_remaining_ -= static_cast<std::uint64_t>(sent);
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
      // 0: the file shrank under us; anything else: the peer went away.
      return close();
    }
    close_file();
    file_serializer_.reset();
    file_header_.reset();
    context_.touch();
    if (!keep_alive_) return close();
    read_header();
  }

  void wait_writable() {
    const auto generation = ++watchdog_generation_;
    timer_.expires_after(context_.options.io_timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->watchdog_generation_) return;
      spdlog::warn("closing a download that made no progress for the write timeout");
      error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    stream_.socket().async_wait(tcp::socket::wait_write, [self = shared_from_this()](error_code ec) {
      ++self->watchdog_generation_;
      self->timer_.cancel();
      if (ec) return self->close();
      self->send_file_body();
    });
  }

  void close_file() {
    if (file_fd_ >= 0) ::close(file_fd_);
    file_fd_ = -1;
  }

  // ---- answers and closing ------------------------------------------------

  void reply_error(const Error& error) { send(error_response(error, version_, keep_alive_)); }

  void send(StringResponse response) {
    if (body_pending_) response.keep_alive(false);
    auto held = std::make_shared<StringResponse>(std::move(response));
    response_ = held;
    stream_.expires_after(context_.options.io_timeout);
    bhttp::async_write(stream_, *held, [self = shared_from_this(), held](error_code ec, std::size_t) {
      self->response_.reset();
      self->context_.touch();
      if (ec) return self->close();
      if (held->need_eof()) return self->body_pending_ ? self->linger_close() : self->close();
      self->read_header();
    });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // Closing a socket with unread input makes the kernel send a reset, which
  // can destroy the answer before the client reads it; read and discard for
  // a short while first.
  void linger_close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
    linger_read();
  }

  void linger_read() {
    if (chunk_.size() < 64 * 1024) chunk_.resize(64 * 1024);
    stream_.expires_at(linger_deadline_);
    stream_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerMaxBytes) return self->stream_.close();
      self->linger_read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  net::steady_timer timer_;  // long-poll wait, or download watchdog

  Route route_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool body_pending_ = false;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> json_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> upload_parser_;
  std::shared_ptr<void> response_;

  std::unique_ptr<UploadSink> upload_;
  std::string expected_sha256_;
  std::vector<char> chunk_;

  jobs::JobManager::WatchId watch_id_ = 0;

  int file_fd_ = -1;
  off_t file_offset_ = 0;
  std::uint64_t file_remaining_ = 0;
  std::optional<bhttp::response<bhttp::empty_body>> file_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> file_serializer_;
  std::uint64_t watchdog_generation_ = 0;

  std::chrono::steady_clock::time_point linger_deadline_{};
  std::uint64_t lingered_ = 0;
};

}  // namespace

void start_session(tcp::socket socket, ServerContext& context) {
  std::make_shared<Session>(std::move(socket), context)->run();
}

}  // namespace ferry::agent::http
