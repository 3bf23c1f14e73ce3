#pragma once
// torchaudio's HDemucs (torchaudio.models.HDemucs, the weights of
// HDEMUCS_HIGH_MUSDB_PLUS) is Demucs v3 under other module names. Renaming
// its state dict lets the same native network run it, so that Debian's
// python3-torchaudio can serve as a reference in tests and benchmarks.

#include <string>
#include <vector>

#include "agent/models/checkpoint.hpp"
#include "common/error.hpp"

namespace ferry::models {

/// True when `state` uses torchaudio's HDemucs names (freq_encoder.*, time_encoder.*).
bool is_torchaudio_hdemucs(const StateDict& state);

/// The Demucs checkpoint equivalent to a torchaudio HDemucs state dict: the
/// tensors renamed, and constructor arguments inferred from their shapes
/// (channels, depth, nfft, audio channels) with torchaudio's defaults for the
/// rest. `sources` names the outputs in order (torchaudio's bundle: drums,
/// bass, other, vocals). torchaudio has no segment; Demucs' HDemucs default
/// (40 s) is used unless `segment_seconds` is given.
Result<DemucsCheckpoint> from_torchaudio_hdemucs(StateDict state,
                                                 std::vector<std::string> sources = {"drums", "bass", "other",
                                                                                     "vocals"},
                                                 std::int64_t segment_seconds = 40);

}  // namespace ferry::models
