#pragma once
// A deliberately small HTTP/1.1 toolkit over plain sockets for black-box
// tests: the test controls every byte it sends (malformed requests, stalled
// bodies, odd paths), which a real client library would tidy up. Also a
// scriptable server for tests that need a remote endpoint.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  /// The header's value or "" (name matched case-insensitively).
  std::string header(std::string_view name) const;
};

/// "METHOD target HTTP/1.1" with Host, "Connection: close", a Content-Length
/// when there is a body (or the method is POST/PUT), then `headers`.
std::string build_request(std::string_view method, std::string_view target, const Headers& headers = {},
                          std::string_view body = {});

/// Parses a whole response as read from a connection the server closed; the
/// body is cut to Content-Length when there is one. nullopt when malformed.
std::optional<HttpReply> parse_reply(std::string_view raw);

/// One client or accepted TCP connection.
class RawConnection {
 public:
  /// Connects to 127.0.0.1:port; throws std::runtime_error on failure.
  explicit RawConnection(std::uint16_t port);
  /// Takes ownership of a connected socket.
  static RawConnection adopt(int fd);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&&) = delete;
  RawConnection(const RawConnection&) = delete;

  /// Writes everything; false when the peer has gone.
  bool send(std::string_view data);
  struct ReadResult {
    std::string data;
    bool closed_by_peer = false;  ///< false: the timeout ended the read
  };
  /// Reads until the peer closes the connection or `timeout` passes.
  ReadResult read_until_closed(std::chrono::milliseconds timeout);
  /// Reads up to the end of the request/response head ("\r\n\r\n").
  std::optional<std::string> read_head(std::chrono::milliseconds timeout);
  /// Half-closes the sending side.
  void shutdown_send();

 private:
  explicit RawConnection(int fd, bool) : fd_(fd) {}
  int fd_ = -1;
};

/// Sends one request on a fresh connection and reads the reply until the
/// server closes it (build_request asks for that).
std::optional<HttpReply> http_exchange(std::uint16_t port, std::string_view raw_request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(15));

/// A server on 127.0.0.1 whose every connection is handed to `handler` on a
/// thread of its own, after the request head was read. Handlers that wait
/// should watch `stopping`, which the destructor sets before joining them.
class ScriptedHttpServer {
 public:
  using Handler =
      std::function<void(const std::string& request_head, RawConnection& client, const std::atomic<bool>& stopping)>;
  explicit ScriptedHttpServer(Handler handler);
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path) const;
  /// Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void accept_loop();

  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

}  // namespace ferry::test
