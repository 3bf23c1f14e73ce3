// Checkpoint files as the engine reads them: memory-mapped, with the size
// limit as a parameter, giving the same tensors as reading the whole file into
// memory, and failing cleanly on truncated files.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/acestep_weights.hpp"
#include "agent/models/checkpoint.hpp"
#include "agent/models/checkpoint_contents.hpp"
#include "fixtures.hpp"
#include "tests/support/files.hpp"

namespace ferry::models {
namespace {

using acestep::testing::acestep_fixture;

const std::filesystem::path kTinyDit = acestep_fixture("checkpoint_tiny/acestep-v15-turbo/model.safetensors");
const std::filesystem::path kTinyVae = acestep_fixture("checkpoint_tiny/vae/diffusion_pytorch_model.safetensors");

// Every weights file of the tiny checkpoint folder (BF16 and F32 safetensors,
// a torch.save zip) and a Demucs package (a zip whose tensors share storages).
std::vector<std::filesystem::path> fixture_checkpoints() {
  return {kTinyDit, kTinyVae, acestep_fixture("checkpoint_tiny/Qwen3-Embedding-0.6B/model.safetensors"),
          acestep_fixture("checkpoint_tiny/acestep-v15-turbo/silence_latent.pt"),
          std::filesystem::path(FERRY_FIXTURES_DIR) / "demucs" / "bag_small" / "model1.th"};
}

// The way checkpoints were read before files were mapped: all bytes in memory.
std::shared_ptr<const std::string> whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::make_shared<const std::string>(bytes.str());
}

c10::ScalarType stored_type(ElementType type) {
  switch (type) {
    case ElementType::bf16: return at::kBFloat16;
    case ElementType::f16: return at::kHalf;
    case ElementType::f32: return at::kFloat;
    default: return at::kByte;
  }
}

TEST(CheckpointFile, MappedContentsEqualTheBytesReadIntoMemory) {
  for (const auto& path : fixture_checkpoints()) {
    SCOPED_TRACE(path.string());
    auto mapped = read_checkpoint(path);
    ASSERT_TRUE(mapped) << mapped.error().describe();
    EXPECT_TRUE(mapped->bytes->is_mapped());
    auto in_memory = parse_checkpoint(whole_file(path));
    ASSERT_TRUE(in_memory) << in_memory.error().describe();
    ASSERT_EQ(mapped->tensors.size(), in_memory->tensors.size());
    ASSERT_FALSE(mapped->tensors.empty());
    for (std::size_t i = 0; i < mapped->tensors.size(); ++i) {
      const NamedTensor& a = mapped->tensors[i];
      const NamedTensor& b = in_memory->tensors[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.data.layout.type, b.data.layout.type);
      EXPECT_EQ(a.data.layout.sizes, b.data.layout.sizes);
      EXPECT_EQ(a.data.layout.strides, b.data.layout.strides);
      EXPECT_EQ(a.data.layout.storage_offset, b.data.layout.storage_offset);
      EXPECT_EQ(a.data.storage, b.data.storage) << a.name;
    }
  }
}

TEST(CheckpointFile, MappedStateDictsEqualTheInMemoryPathInFloat32AndBfloat16) {
  for (const auto& path : fixture_checkpoints()) {
    for (const c10::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      SCOPED_TRACE(fmt::format("{} as {}", path.string(), c10::toString(dtype)));
      const LoadOptions options{c10::Device(c10::kCPU), dtype};
      auto mapped = load_state_dict(path, options);
      ASSERT_TRUE(mapped) << mapped.error().describe();
      auto contents = parse_checkpoint(whole_file(path));
      ASSERT_TRUE(contents) << contents.error().describe();
      auto in_memory = to_state_dict(*contents, options);
      ASSERT_TRUE(in_memory) << in_memory.error().describe();
      ASSERT_EQ(mapped->size(), in_memory->size());
      for (const auto& [name, tensor] : *mapped) {
        ASSERT_TRUE(in_memory->count(name)) << name;
        EXPECT_EQ(tensor.scalar_type(), dtype) << name;
        EXPECT_TRUE(tensor.is_contiguous()) << name;
        EXPECT_TRUE(at::equal(tensor, in_memory->at(name))) << name;
      }
    }
  }
}

TEST(CheckpointFile, SafetensorsTensorsEqualADirectConversionOfTheirBytes) {
  for (const auto& path : {kTinyDit, kTinyVae}) {
    SCOPED_TRACE(path.string());
    auto contents = parse_checkpoint(whole_file(path));
    ASSERT_TRUE(contents) << contents.error().describe();
    auto state = load_state_dict(path);
    ASSERT_TRUE(state) << state.error().describe();
    for (const auto& tensor : contents->tensors) {
      const std::string bytes(tensor.data.storage);
      const at::Tensor expected =
          at::from_blob(const_cast<char*>(bytes.data()), tensor.data.layout.sizes, stored_type(tensor.data.layout.type))
              .to(at::kFloat);
      EXPECT_TRUE(at::equal(state->at(tensor.name), expected)) << tensor.name;
    }
  }
}

TEST(CheckpointFile, RefusesAFileOverTheConfiguredLimitNamingBothSizes) {
  const auto size = std::filesystem::file_size(kTinyDit);
  auto refused = read_checkpoint(kTinyDit, size - 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::resource_exhausted);
  EXPECT_EQ(refused.error().field, kTinyDit.string());
  EXPECT_NE(refused.error().message.find(fmt::format("checkpoint is {} bytes, over the limit of {} bytes", size, size - 1)),
            std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(read_checkpoint(kTinyDit, size));

  // The limit travels with the load options, through a model folder too.
  LoadOptions small;
  small.max_file_bytes = 1024;
  auto state = load_state_dict(kTinyDit, small);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code, ErrorCode::resource_exhausted);
  auto folder = acestep::load_model_folder(kTinyDit.parent_path(), "model.safetensors", small);
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("over the limit of 1024 bytes"), std::string::npos) << folder.error().message;
  EXPECT_NE(folder.error().message.find(kTinyDit.string()), std::string::npos) << folder.error().message;
}

TEST(CheckpointFile, FailsCleanlyOnATruncatedFile) {
  const std::string file = *whole_file(kTinyVae);
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  // Cuts inside the length, the header, at its end, in the data and at the last byte...
  std::vector<std::size_t> cuts{0, 4, 8, 9, 8 + header - 1, 8 + header, 8 + header + 1, file.size() - 1};
  // ...and spread over the whole file.
  for (std::size_t i = 1; i < 48; ++i) cuts.push_back(file.size() * i / 48);
  test::TempDir dir("ferry-checkpoint");
  const auto path = dir / "model.safetensors";
  for (const std::size_t cut : cuts) {
    SCOPED_TRACE(fmt::format("cut at {} of {}", cut, file.size()));
    test::write_text(path, std::string_view(file).substr(0, cut));
    auto contents = read_checkpoint(path);
    ASSERT_FALSE(contents) << "accepted a truncated file";
    EXPECT_FALSE(contents.error().message.empty());
    EXPECT_EQ(contents.error().field, path.string());
    EXPECT_FALSE(load_state_dict(path));
  }
}

TEST(CheckpointFile, SaysWhenTheFileIsMissingOrNotAFile) {
  test::TempDir dir("ferry-checkpoint");
  auto missing = read_checkpoint(dir / "absent.safetensors");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(missing.error().field, (dir / "absent.safetensors").string());
  auto folder = read_checkpoint(dir.path());
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("not a regular file"), std::string::npos) << folder.error().message;
}

}  // namespace
}  // namespace ferry::models
