#pragma once
// The single-range subset of HTTP Range requests (RFC 9110 section 14) that
// resumable downloads need: "bytes=a-b", "bytes=a-" and "bytes=-n".

#include <cstdint>
#include <string_view>

namespace ferry::agent::http {

/// Inclusive byte positions, as in Content-Range.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const { return last - first + 1; }
};

struct RangeDecision {
  enum Kind {
    whole,          ///< no (usable) Range header: 200 with the whole file
    partial,        ///< 206 with `range`
    unsatisfiable,  ///< 416 with "Content-Range: bytes */SIZE"
  };
  Kind kind = whole;
  ByteRange range;
};

/// Decides how to answer `range_header` (possibly empty) for a file of
/// `size` bytes. Syntax the server does not support (other units, several
/// ranges, garbage) is ignored as the RFC allows, so the whole file is sent;
/// a well-formed range starting past the end is unsatisfiable.
RangeDecision decide_range(std::string_view range_header, std::uint64_t size);

}  // namespace ferry::agent::http
