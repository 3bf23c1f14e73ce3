#pragma once
// SHA-256 over memory and files (OpenSSL EVP), as lowercase hex.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace ferry {

/// Incremental hasher, for data that arrives in pieces (uploads, downloads).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Lowercase hex digest; the hasher is reset afterwards.
  std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Digest of a whole string.
std::string sha256_hex(std::string_view data);
/// Digest of a file's contents, read in blocks.
Result<std::string> sha256_file(const std::filesystem::path& path);
/// True for exactly 64 lowercase hex characters.
bool is_sha256_hex(std::string_view text);

}  // namespace ferry
