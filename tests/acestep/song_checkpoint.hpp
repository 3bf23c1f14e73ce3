#pragma once
// A checkpoint folder in the published layout, at the fixtures' tiny size,
// that can make songs of real length: checkpoint_tiny's networks with a
// silence latent of 15 000 frames (10 minutes, as the published one has),
// made by repeating the fixture's 120 frames and written as torch.save does.

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/ATen.h>

#include "tests/acestep/fixtures.hpp"
#include "tests/models/crafted_files.hpp"
#include "tests/support/files.hpp"

namespace ferry::acestep::testing {

inline constexpr std::int64_t kPublishedSilenceFrames = 15000;

/// Writes [1, channels, frames] float32 as a torch.save archive.
inline void write_torch_tensor(const std::filesystem::path& path, const at::Tensor& tensor) {
  using models::testing::PickleWriter;
  const at::Tensor values = tensor.to(at::kFloat).contiguous();
  std::vector<std::int32_t> sizes, strides;
  for (auto size : values.sizes()) sizes.push_back(static_cast<std::int32_t>(size));
  for (auto stride : values.strides()) strides.push_back(static_cast<std::int32_t>(stride));
  PickleWriter pickle;
  pickle.tensor("0", "FloatStorage", static_cast<std::int32_t>(values.numel()), sizes, strides);
  const std::string bytes(static_cast<const char*>(values.data_ptr()), static_cast<std::size_t>(values.numel()) * 4);
  ferry::test::write_text(path, models::testing::make_torch_zip(pickle.finish(), {{"0", bytes}}));
}

/// Copies checkpoint_tiny into `dir` (acestep-v15-turbo/, Qwen3-Embedding-0.6B/,
/// vae/) with a 10-minute silence latent; returns `dir`.
inline std::filesystem::path make_song_checkpoint(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  // File by file: the fixtures are read-only, and a copied folder would be too.
  const fs::path source = acestep_fixture("checkpoint_tiny");
  for (const auto& entry : fs::recursive_directory_iterator(source)) {
    const fs::path target = dir / fs::relative(entry.path(), source);
    if (entry.is_directory()) {
      fs::create_directories(target);
    } else {
      fs::create_directories(target.parent_path());
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
      fs::permissions(target, fs::perms::owner_write, fs::perm_options::add);
    }
  }
  // The fixture's [1, 120, 64] frames, repeated, as [1, 64, frames].
  const at::Tensor frames = read_f32(acestep_fixture("dit") / "silence_latent.f32", {1, 120, 64});
  const at::Tensor long_latent =
      frames.repeat({1, kPublishedSilenceFrames / 120, 1}).transpose(1, 2).contiguous();
  write_torch_tensor(dir / "acestep-v15-turbo" / "silence_latent.pt", long_latent);
  return dir;
}

}  // namespace ferry::acestep::testing
