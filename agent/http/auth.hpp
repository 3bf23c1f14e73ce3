#pragma once
// Bearer-token checks for the agent's API. The token is a shared secret
// between the controller and this agent; it must never reach a log.

#include <optional>
#include <string_view>

#include "common/error.hpp"

namespace ferry::agent::http {

/// Compares two secrets in time that depends on neither their contents nor
/// their lengths (both are hashed first, then compared with CRYPTO_memcmp).
bool constant_time_equals(std::string_view a, std::string_view b);

/// The token of an "Authorization: Bearer <token>" value (scheme matched
/// case-insensitively, surrounding spaces ignored); nullopt otherwise.
std::optional<std::string_view> bearer_token(std::string_view authorization);

/// unauthenticated with a message saying what is missing, or success.
Status check_bearer(std::string_view authorization, std::string_view expected_token);

}  // namespace ferry::agent::http
