#pragma once
// The emulator's request handlers, one per API. Each returns nullopt for a
// path that is not its own. Callers hold World::mutex.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakecloud/world.hpp"

namespace ferry::fakecloud {

std::optional<Response> handle_vast(World& world, const Request& request);    ///< /api/v0, /api/v1
std::optional<Response> handle_runpod(World& world, const Request& request);  ///< /v2, /graphql
std::optional<Response> handle_fly(World& world, const Request& request);     ///< /v1/apps
std::optional<Response> handle_control(World& world, const Request& request); ///< /_fake

/// "/a/b/c/" -> {"a", "b", "c"}.
std::vector<std::string> split_path(std::string_view path);

/// Parses a GraphQL input value literal ({key: "v", n: 1, e: ENUM, l: [..]})
/// into JSON; enums become strings. nullopt when malformed.
std::optional<nlohmann::json> parse_graphql_value(std::string_view text, std::size_t& at);
/// The literal after "<field>(input:" in a document, or nullopt.
std::optional<nlohmann::json> graphql_input(std::string_view document, std::string_view field);

}  // namespace ferry::fakecloud
