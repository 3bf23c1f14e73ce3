#pragma once
// A small keep-alive HTTP/1.1 server on 127.0.0.1 for client tests (Boost.Beast,
// synchronous, one thread per connection). Each request is answered by a
// handler the test supplies; connections and requests are counted so tests
// can check keep-alive and retries.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

namespace ferry::test {

using LoopbackRequest = boost::beast::http::request<boost::beast::http::string_body>;
using LoopbackResponse = boost::beast::http::response<boost::beast::http::string_body>;

class LoopbackServer {
 public:
  /// `handler` fills the response (status 200 and an empty body by default).
  /// It may sleep to provoke client timeouts; it should not outlive `stopping`.
  using Handler = std::function<void(const LoopbackRequest&, LoopbackResponse&, const std::atomic<bool>& stopping)>;

  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  /// "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const;
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void serve(boost::asio::ip::tcp::socket socket);

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::vector<std::thread> sessions_;
  std::vector<boost::asio::ip::tcp::socket*> open_sockets_;
  std::thread acceptor_thread_;
};

}  // namespace ferry::test
