#pragma once
// The agent's HTTP server: a listener and a pool of I/O threads over one
// io_context. Request handling lives in session.cpp and api.cpp.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "agent/http/context.hpp"

namespace ferry::agent::http {

class Server {
 public:
  Server(ServerOptions options, jobs::JobManager& jobs, AgentInfo info);
  ~Server();  ///< stops and joins the I/O threads
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds options.host:options.port and starts accepting on the I/O
  /// threads; returns the bound port (useful with port 0).
  Result<std::uint16_t> start();
  /// Closes the listening socket; open connections keep being served.
  void stop_accepting();
  /// Stops the I/O threads and drops every connection.
  void stop();

  ServerContext& context() { return context_; }
  boost::asio::io_context& io_context() { return io_; }

 private:
  void accept_next();

  boost::asio::io_context io_;
  ServerContext context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

}  // namespace ferry::agent::http
