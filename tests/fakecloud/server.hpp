#pragma once
// The emulator's HTTP server: one thread per connection (an emulator serves
// a handful of clients), requests dispatched to the API handlers under the
// world's lock, and /_fake/proxy/NAME/... forwarded to an instance's agent
// the way RunPod's proxy and Fly's app hostname reach a machine.

#include <cstdint>
#include <string>

#include "tests/fakecloud/world.hpp"

namespace ferry::fakecloud {

/// Binds host:port (0 picks one), writes the port to `port_file` when set,
/// then serves forever on the calling thread. Throws on bind failure.
void serve(World& world, const std::string& host, std::uint16_t port, const std::string& port_file);

/// Handles one request (no proxying): faults, then the matching API.
Response dispatch(World& world, const Request& request);

}  // namespace ferry::fakecloud
