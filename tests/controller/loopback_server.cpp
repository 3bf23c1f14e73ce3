#include "tests/controller/loopback_server.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/flat_buffer.hpp>

namespace ferry::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

LoopbackServer::LoopbackServer(Handler handler)
    : handler_(std::move(handler)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  acceptor_thread_ = std::thread([this] {
    while (!stopping_) {
      boost::system::error_code error;
      tcp::socket socket(io_);
      acceptor_.accept(socket, error);
      if (error || stopping_) break;
      ++connections_;
      std::lock_guard lock(mutex_);
      sessions_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  });
}

LoopbackServer::~LoopbackServer() {
  stopping_ = true;
  boost::system::error_code ignored;
  {
    // A blocking accept only wakes up for a connection: make one.
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ignored);
    acceptor_thread_.join();
  }
  acceptor_.close(ignored);
  std::vector<std::thread> sessions;
  {
    std::lock_guard lock(mutex_);
    // Wake sessions blocked in a read on an idle keep-alive connection.
    for (auto* socket : open_sockets_) socket->shutdown(tcp::socket::shutdown_both, ignored);
    sessions.swap(sessions_);
  }
  for (auto& session : sessions) session.join();
}

std::string LoopbackServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
}

void LoopbackServer::serve(tcp::socket socket) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    open_sockets_.push_back(&socket);
  }
  boost::beast::flat_buffer buffer;
  boost::system::error_code error;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    http::read(socket, buffer, parser, error);
    if (error) break;
    ++requests_;
    const auto& request = parser.get();
    LoopbackResponse response{http::status::ok, request.version()};
    response.keep_alive(request.keep_alive());
    handler_(request, response, stopping_);
    response.prepare_payload();
    http::write(socket, response, error);
    if (error || !response.keep_alive()) break;
  }
  std::lock_guard lock(mutex_);
  open_sockets_.erase(std::remove(open_sockets_.begin(), open_sockets_.end(), &socket), open_sockets_.end());
}

}  // namespace ferry::test
