#pragma once
// One HTTP connection of the agent. Every handler runs on the connection's
// strand; every read and write has a timeout, so a stalled or slow client
// only ever holds its own socket. Requests are answered one at a time.

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "agent/http/context.hpp"

namespace ferry::agent::http {

/// Starts serving an accepted socket (whose executor is a strand); the
/// session keeps itself alive while it has work in flight.
void start_session(boost::asio::ip::tcp::socket socket, ServerContext& context);

}  // namespace ferry::agent::http
