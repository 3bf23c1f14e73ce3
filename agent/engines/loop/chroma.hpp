#pragma once
// Chroma: the energy of each of the 12 pitch classes (C, C#, ..., B), octave
// folded. Two moments that play the same harmony have similar chroma, which
// is what makes a jump between them inaudible.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace ferry::agent::loop {

using Chroma = std::array<float, 12>;

/// Chroma frames of a mono signal: long windows (good pitch resolution at
/// low notes) every `hop` samples; frame i is centred on sample i * hop.
struct ChromaFrames {
  std::vector<Chroma> frames;
  std::size_t hop = 0;
};

ChromaFrames chroma_frames(std::span<const float> signal, double rate, std::size_t window = 4096,
                           std::size_t hop = 1024);

/// Sum of the chroma frames centred in [from, to) (analysis samples), scaled
/// to unit length; all zeros when that stretch has no pitched energy.
Chroma chroma_between(const ChromaFrames& chroma, std::int64_t from, std::int64_t to);

/// Cosine similarity of two unit-length chroma vectors, 0..1. Two silent
/// (all-zero) vectors count as identical, silence against sound as unlike.
double chroma_similarity(const Chroma& a, const Chroma& b);

}  // namespace ferry::agent::loop
