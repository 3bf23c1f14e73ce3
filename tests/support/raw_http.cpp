#include "tests/support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace ferry::test {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Milliseconds left until `until`, at least 0.
int remaining_ms(std::chrono::steady_clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string build_request(std::string_view method, std::string_view target, const Headers& headers,
                          std::string_view body) {
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  request += "Host: 127.0.0.1\r\nConnection: close\r\n";
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    has_length = has_length || lower(name) == "content-length" || lower(name) == "transfer-encoding";
    request += name + ": " + value + "\r\n";
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT"))
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n";
  request += body;
  return request;
}

std::optional<HttpReply> parse_reply(std::string_view raw) {
  // Skip interim 1xx answers (e.g. 100 Continue).
  for (;;) {
    auto end = raw.find("\r\n\r\n");
    if (end == std::string_view::npos) return std::nullopt;
    if (raw.substr(0, 10) == "HTTP/1.1 1" && raw.size() > 12) {
      raw.remove_prefix(end + 4);
      continue;
    }
    break;
  }
  auto head_end = raw.find("\r\n\r\n");
  std::string_view head = raw.substr(0, head_end);
  HttpReply reply;
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) return std::nullopt;
  auto [ptr, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, reply.status);
  if (ec != std::errc()) return std::nullopt;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    reply.headers[lower(line.substr(0, colon))] = std::string(value);
  }
  reply.body = std::string(raw.substr(head_end + 4));
  if (auto length = reply.header("content-length"); !length.empty()) {
    std::size_t size = 0;
    std::from_chars(length.data(), length.data() + length.size(), size);
    if (reply.body.size() > size) reply.body.resize(size);
  }
  return reply;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  auto address = loopback(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
}

RawConnection RawConnection::adopt(int fd) { return RawConnection(fd, true); }

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

RawConnection::RawConnection(RawConnection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

bool RawConnection::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawConnection::ReadResult RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
  ReadResult result;
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    pollfd poller{fd_, POLLIN, 0};
    int ready = ::poll(&poller, 1, remaining_ms(until));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return result;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result.closed_by_peer = true;  // orderly close or reset
      return result;
    }
    result.data.append(buffer, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> RawConnection::read_head(std::chrono::milliseconds timeout) {
  std::string head;
  const auto until = std::chrono::steady_clock::now() + timeout;
  char c;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    pollfd poller{fd_, POLLIN, 0};
    int ready = ::poll(&poller, 1, remaining_ms(until));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    if (::recv(fd_, &c, 1, 0) != 1) return std::nullopt;
    head.push_back(c);
  }
  return head;
}

void RawConnection::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

std::optional<HttpReply> http_exchange(std::uint16_t port, std::string_view raw_request,
                                       std::chrono::milliseconds timeout) {
  RawConnection connection(port);
  if (!connection.send(raw_request)) return std::nullopt;
  auto read = connection.read_until_closed(timeout);
  return parse_reply(read.data);
}

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto address = loopback(0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("ScriptedHttpServer: cannot listen on 127.0.0.1");
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mutex_);
  for (auto& thread : handlers_) thread.join();
}

std::string ScriptedHttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void ScriptedHttpServer::accept_loop() {
  while (!stopping_) {
    pollfd poller{listen_fd_, POLLIN, 0};
    if (::poll(&poller, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    std::lock_guard lock(mutex_);
    handlers_.emplace_back([this, client] {
      auto connection = RawConnection::adopt(client);
      auto head = connection.read_head(std::chrono::seconds(10));
      if (head) handler_(*head, connection, stopping_);
    });
  }
}

}  // namespace ferry::test
