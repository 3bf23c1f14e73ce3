// Peak resident memory of loading a checkpoint as the engine does (the file
// memory-mapped, tensors made one at a time, each page given back once
// copied) against reading the whole file into memory first, as ferry did
// before. Each load runs in a child process so its peak (wait4's ru_maxrss)
// is its own; an idle child gives the baseline that is subtracted.
//
// The checkpoint is a synthetic BF16 safetensors file of the size asked for,
// written to a temporary folder and deleted afterwards, and loaded as
// float32 (the CPU dtype), so the converted weights are twice the file. The
// tiny fixture checkpoint folder is measured too when it is present.
//
//   checkpoint_memory_bench [--megabytes 512] [--fixtures DIR]

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/models/checkpoint.hpp"
#include "bench/child_run.hpp"
#include "bench/machine.hpp"

namespace {

namespace fs = std::filesystem;
using ferry::models::LoadOptions;

// Peak RSS in MiB of `work` run in a child, or -1 when it failed.
double peak_rss_mib_in_child(const std::function<bool()>& work) {
  const auto run = ferry::bench::measure_in_child([&] { return work() ? 0 : 1; });
  return run.ok ? run.peak_rss_mb : -1;
}

constexpr std::int64_t kRowsPerTensor = 2048;
constexpr std::int64_t kColumnsPerTensor = 2048;  // 8 MiB of BF16 per tensor


// A BF16 safetensors file of `tensors` [2048, 2048] tensors, written one
// tensor at a time so that this process stays small. Values are smooth
// non-zero numbers (no NaN patterns).
bool write_synthetic_safetensors(const fs::path& path, std::int64_t tensors) {
  const std::int64_t tensor_bytes = kRowsPerTensor * kColumnsPerTensor * 2;
  nlohmann::json header = nlohmann::json::object();
  for (std::int64_t i = 0; i < tensors; ++i) {
    header["layers." + std::to_string(i) + ".weight"] = {
        {"dtype", "BF16"},
        {"shape", {kRowsPerTensor, kColumnsPerTensor}},
        {"data_offsets", {i * tensor_bytes, (i + 1) * tensor_bytes}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data aligned to 8 bytes, as writers do
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t length = text.size();
  char length_bytes[8];
  std::memcpy(length_bytes, &length, 8);  // little-endian host
  out.write(length_bytes, 8);
  out << text;
  std::vector<std::uint16_t> values(static_cast<std::size_t>(kRowsPerTensor * kColumnsPerTensor));
  for (std::int64_t t = 0; t < tensors; ++t) {
    for (std::size_t j = 0; j < values.size(); ++j) {
      const float value = 0.01f * static_cast<float>((j * 7 + static_cast<std::size_t>(t)) % 199) - 0.99f;
      std::uint32_t bits = 0;
      std::memcpy(&bits, &value, 4);
      values[j] = static_cast<std::uint16_t>(bits >> 16);
    }
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 2));
  }
  return static_cast<bool>(out);
}

// The earlier way: every byte of the file in a string, then the tensors.
bool load_in_memory(const fs::path& path) {
  auto bytes = std::make_shared<std::string>(fs::file_size(path), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes->data(), static_cast<std::streamsize>(bytes->size()))) return false;
  auto contents = ferry::models::parse_checkpoint(std::shared_ptr<const std::string>(std::move(bytes)));
  return contents && ferry::models::to_state_dict(*contents, LoadOptions{});
}

bool load_mapped(const fs::path& path) { return static_cast<bool>(ferry::models::load_state_dict(path, LoadOptions{})); }

bool load_all(const std::vector<fs::path>& files, bool (*load)(const fs::path&)) {
  for (const auto& file : files) {
    if (!load(file)) return false;
  }
  return true;
}

double mib(std::uintmax_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

void report(const char* what, const std::vector<fs::path>& files, double baseline, double converted_mib) {
  std::uintmax_t file_bytes = 0;
  for (const auto& file : files) file_bytes += fs::file_size(file);
  const double mapped = peak_rss_mib_in_child([&] { return load_all(files, load_mapped); });
  const double in_memory = peak_rss_mib_in_child([&] { return load_all(files, load_in_memory); });
  if (mapped < 0 || in_memory < 0) {
    std::printf("%s: a load failed\n", what);
    return;
  }
  std::printf("%s: files %.1f MiB, converted float32 weights %.1f MiB\n", what, mib(file_bytes), converted_mib);
  std::printf("  memory-mapped, tensor by tensor: peak RSS +%.1f MiB over the baseline\n", mapped - baseline);
  std::printf("  whole file read into memory:     peak RSS +%.1f MiB over the baseline\n", in_memory - baseline);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t megabytes = 512;
  fs::path fixtures = FERRY_FIXTURES_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--megabytes") == 0) megabytes = std::max<std::int64_t>(8, std::atoll(argv[i + 1]));
    if (std::strcmp(argv[i], "--fixtures") == 0) fixtures = argv[i + 1];
  }
  std::printf("machine: %s\n", ferry::bench::machine_description().c_str());
  const double baseline = peak_rss_mib_in_child([] { return true; });
  std::printf("baseline (an idle child of this process): peak RSS %.1f MiB\n\n", baseline);

  const fs::path tiny = fixtures / "acestep" / "checkpoint_tiny";
  if (fs::exists(tiny)) {
    const std::vector<fs::path> files{tiny / "acestep-v15-turbo" / "model.safetensors",
                                      tiny / "Qwen3-Embedding-0.6B" / "model.safetensors",
                                      tiny / "vae" / "diffusion_pytorch_model.safetensors"};
    std::uintmax_t elements = 0;
    for (const auto& file : files) {
      auto contents = ferry::models::read_checkpoint(file);
      if (!contents) {
        std::fprintf(stderr, "%s\n", contents.error().describe().c_str());
        return 1;
      }
      for (const auto& tensor : contents->tensors) elements += static_cast<std::uintmax_t>(tensor.data.layout.numel());
    }
    report("tiny checkpoint folder (3 safetensors files)", files, baseline, mib(elements * 4));
  }

  auto pattern = (fs::temp_directory_path() / "ferry-checkpoint-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = pattern;
  const fs::path file = dir / "model.safetensors";
  const std::int64_t tensors = std::max<std::int64_t>(1, megabytes * 1024 * 1024 / (kRowsPerTensor * kColumnsPerTensor * 2));
  const bool written = write_synthetic_safetensors(file, tensors);
  if (written) {
    const double converted = mib(static_cast<std::uintmax_t>(tensors * kRowsPerTensor * kColumnsPerTensor * 4));
    report(("synthetic BF16 safetensors (" + std::to_string(tensors) + " tensors of 8 MiB)").c_str(), {file}, baseline,
           converted);
  } else {
    std::fprintf(stderr, "could not write %s\n", file.c_str());
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return written ? 0 : 1;
}
