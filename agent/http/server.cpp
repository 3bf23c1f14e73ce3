#include "agent/http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "agent/http/session.hpp"

namespace ferry::agent::http {
namespace net = boost::asio;
using tcp = net::ip::tcp;

Server::Server(ServerOptions options, jobs::JobManager& jobs, AgentInfo info)
    : io_(std::max(1, options.threads)), context_(std::move(options), jobs, std::move(info)), acceptor_(io_) {}

Server::~Server() { stop(); }

Result<std::uint16_t> Server::start() {
  const auto& options = context_.options;
  boost::system::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec)
    return fail(ErrorCode::invalid_argument, "cannot listen on '" + options.host + "': not an IP address", "host");
  tcp::endpoint endpoint{address, options.port};
  const std::string where = options.host + ":" + std::to_string(options.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot listen on " + where + ": " + ec.message(), "port");
  const auto port = acceptor_.local_endpoint().port();
  accept_next();
  for (int i = 0; i < std::max(1, options.threads); ++i) threads_.emplace_back([this] { io_.run(); });
  return port;
}

void Server::accept_next() {
  // Each connection gets its own strand so its handlers never run
  // concurrently, while different connections use all I/O threads.
  acceptor_.async_accept(net::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      start_session(std::move(socket), context_);
    }
    accept_next();
  });
}

void Server::stop_accepting() {
  net::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

void Server::stop() {
  io_.stop();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  threads_.clear();
}

}  // namespace ferry::agent::http
