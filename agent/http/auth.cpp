#include "agent/http/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cctype>

namespace ferry::agent::http {
namespace {

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Hashing first makes the comparison length-independent: comparing raw
  // strings would reveal the token's length through an early exit.
  const auto left = digest(a);
  const auto right = digest(b);
  return CRYPTO_memcmp(left.data(), right.data(), left.size()) == 0;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  if (authorization[kScheme.size()] != ' ') return std::nullopt;
  auto token = trim(authorization.substr(kScheme.size() + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

Status check_bearer(std::string_view authorization, std::string_view expected_token) {
  if (trim(authorization).empty())
    return fail(ErrorCode::unauthenticated,
                "missing 'Authorization: Bearer <token>' header; the token is the agent's FERRY_AGENT_TOKEN",
                "Authorization");
  auto token = bearer_token(authorization);
  if (!token)
    return fail(ErrorCode::unauthenticated, "the Authorization header must have the form 'Bearer <token>'",
                "Authorization");
  if (!constant_time_equals(*token, expected_token))
    return fail(ErrorCode::unauthenticated, "wrong bearer token", "Authorization");
  return {};
}

}  // namespace ferry::agent::http
