#include "agent/models/registry.hpp"

#include <cstdlib>

namespace ferry::models {

namespace {

// Where the values come from:
// - File names, URLs and bag descriptions: facebookresearch/demucs,
//   demucs/remote/files.txt and demucs/remote/<model>.yaml (commit e976d93);
//   demucs/pretrained.py joins "https://dl.fbaipublicfiles.com/demucs/", the
//   `root:` of files.txt and the file name. The part of a file name after the
//   dash is the start of the file's SHA-256 (demucs/repo.py, check_checksum):
//   the one checksum Demucs publishes itself, kept as `sha256_prefix`.
// - Full SHA-256 digests and sizes of the Demucs files: recorded by
//   downstream projects that downloaded the official files and pinned them
//   (public lock files; several agree for htdemucs and htdemucs_6s). Each
//   full digest starts with the prefix Demucs publishes.
// - torchaudio's HDemucs: the bundle HDEMUCS_HIGH_MUSDB_PLUS
//   (torchaudio/pipelines/_source_separation_pipeline.py, path
//   models/hdemucs_high_trained.pt under download.pytorch.org/torchaudio);
//   size and digest as pinned by several downstream projects.
// - ACE-Step 1.5 turbo: the Hugging Face repository ACE-Step/Ace-Step1.5
//   (files under resolve/main/); sizes and SHA-256 digests as recorded from
//   the repository's LFS metadata at commit 19671f40 by several downstream
//   projects that pin them, which agree. Small JSON files are plain git
//   files there (no LFS digest); their digests were recorded the same way.
//   The text encoder's weights and tokenizer are byte-identical to
//   Qwen/Qwen3-Embedding-0.6B's; its config files are ACE-Step's own.
constexpr const char* kDemucsRoot = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/";

// The Demucs author has said the pretrained weights are for research use
// (MUSDB's terms), separately from the MIT licence of the code.
constexpr const char* kDemucsLicence =
    "code MIT (facebookresearch/demucs); weights: research use per the author (demucs issues #267, #327)";

constexpr const char* kAceStepRoot = "https://huggingface.co/ACE-Step/Ace-Step1.5/resolve/main/";

ModelFile acestep_file(std::string path, std::uint64_t size, std::string sha256) {
  ModelFile file;
  file.name = std::string(kAceStepFolder) + "/" + path;
  file.url = kAceStepRoot + path;
  file.size = size;
  file.sha256 = std::move(sha256);
  return file;
}

ModelFile demucs_file(std::string signature_and_checksum, std::uint64_t size, std::string sha256) {
  ModelFile file;
  file.name = signature_and_checksum + ".th";
  file.url = kDemucsRoot + file.name;
  file.size = size;
  file.sha256 = std::move(sha256);
  file.sha256_prefix = signature_and_checksum.substr(signature_and_checksum.find('-') + 1);
  return file;
}

std::vector<RegistryModel> build_registry() {
  const std::vector<std::string> four{"drums", "bass", "other", "vocals"};
  std::vector<RegistryModel> models;

  models.push_back(RegistryModel{
      "htdemucs", "Hybrid Transformer Demucs (v4), the default Demucs model", kDemucsLicence,
      ModelLayout::demucs_bag, four,
      {demucs_file("955717e8-8726e21a", 84141911, "8726e21a993978c7ba086d3872e7608d7d5bfca646ca4aca459ffda844faa8b4")},
      "models: ['955717e8']\n"});

  models.push_back(RegistryModel{
      "htdemucs_ft", "htdemucs fine-tuned per source: a bag of 4, best quality, 4x the time", kDemucsLicence,
      ModelLayout::demucs_bag, four,
      {demucs_file("f7e0c4bc-ba3fe64a", 84141271, "ba3fe64ae8ef66ac9a4857222ce48efbdc5eb3ad375cb79dd13debee5aaa4066"),
       demucs_file("d12395a8-e57c48e6", 84141271, "e57c48e6b0e38af4f7118d7bd08c49f0a0c0edf7d09143bdd902ea0d237303e6"),
       demucs_file("92cfc3b6-ef3bcb9c", 84141271, "ef3bcb9c8b40d14ae5d51b6db2587339cc12c6b77c0be151ce6d69002e087bf2"),
       demucs_file("04573f0d-f3cf25b2", 84141271, "f3cf25b222c4eed7cd49dd8b2c9597d50c18bd154090f7b919cfa5f93cf22c49")},
      "models: ['f7e0c4bc', 'd12395a8', '92cfc3b6', '04573f0d']\n"
      "weights: [\n"
      "  [1., 0., 0., 0.],\n"
      "  [0., 1., 0., 0.],\n"
      "  [0., 0., 1., 0.],\n"
      "  [0., 0., 0., 1.],\n"
      "]\n"});

  models.push_back(RegistryModel{
      "htdemucs_6s", "htdemucs with guitar and piano stems (piano is weak)", kDemucsLicence, ModelLayout::demucs_bag,
      {"drums", "bass", "other", "vocals", "guitar", "piano"},
      {demucs_file("5c90dfd2-34c22ccb", 54996327, "34c22ccb381c6f9fdbf324f04e1e2fe21aaaf293f5ded163a162697ff9a02ddd")},
      "models: ['5c90dfd2']\n"});

  models.push_back(RegistryModel{
      "hdemucs_mmi", "Hybrid Demucs (v3) retrained on the htdemucs data", kDemucsLicence, ModelLayout::demucs_bag,
      four,
      {demucs_file("75fc33f5-1941ce65", 167407275, "1941ce654b11df4132b9f4eae408556b4c83fad6fe26b4bc0dbcb36b975befb3")},
      "models: ['75fc33f5']\nsegment: 44\n"});

  ModelFile torchaudio_file;
  torchaudio_file.name = "hdemucs_high_trained.pt";
  torchaudio_file.url = "https://download.pytorch.org/torchaudio/models/hdemucs_high_trained.pt";
  torchaudio_file.size = 334697255;
  torchaudio_file.sha256 = "a004b2790d73ffeaa535db458a1a79b539dfdbafbccc31f275d07e632ebd7816";
  models.push_back(RegistryModel{
      "hdemucs_high_musdb_plus",
      "torchaudio's HDEMUCS_HIGH_MUSDB_PLUS (Hybrid Demucs v3; trained on MUSDB-HQ train and test sets)",
      "code BSD-2-Clause (pytorch/audio); the weights carry no separate licence statement",
      ModelLayout::torchaudio_hdemucs, four, {torchaudio_file}, ""});

  models.push_back(RegistryModel{
      kAceStepTurboModel,
      "ACE-Step 1.5 turbo: text to music, 8 steps, 10 s to 10 min at 48 kHz stereo (about 6.3 GB)",
      "MIT (ACE-Step 1.5 code and weights); text encoder Qwen3-Embedding-0.6B: Apache-2.0",
      ModelLayout::acestep_folder,
      {},
      {acestep_file("acestep-v15-turbo/config.json", 1968,
                    "74745ff704ea49164c3d2d1c99fc0670f3fc635a869f0aec2d1311e6a52d400a"),
       acestep_file("acestep-v15-turbo/model.safetensors", 4787825604,
                    "3f6e0797fad420a39bd33979eb6e840e30989e34a3794e843d23b60ec6e422d7"),
       acestep_file("acestep-v15-turbo/silence_latent.pt", 3841215,
                    "a778e9dd942f5e8b2c09c55370782d318834432b03dabbcdf70e6ed49ad6358b"),
       acestep_file("Qwen3-Embedding-0.6B/config.json", 1359,
                    "bb23c1607cfe059a58d8f0196cf1cebb52082b1056b8e358a579da80a5759420"),
       acestep_file("Qwen3-Embedding-0.6B/model.safetensors", 1191586416,
                    "0437e45c94563b09e13cb7a64478fc406947a93cb34a7e05870fc8dcd48e23fd"),
       acestep_file("Qwen3-Embedding-0.6B/tokenizer.json", 11423705,
                    "def76fb086971c7867b829c23a26261e38d9d74e02139253b38aeb9df8b4b50a"),
       acestep_file("Qwen3-Embedding-0.6B/tokenizer_config.json", 5404,
                    "443bfa629eb16387a12edbf92a76f6a6f10b2af3b53d87ba1550adfcf45f7fa0"),
       acestep_file("vae/config.json", 425, "14e019904df567f26df750317a70e2bd08f9f8f3c40ff4a24c97d1cd3f20ccd2"),
       acestep_file("vae/diffusion_pytorch_model.safetensors", 337431388,
                    "da17edb604c40deaf09e9b24974e590d1ca83a374070e5d0884cfa4bed9a99b0")},
      ""});
  return models;
}

}  // namespace

const std::vector<RegistryModel>& model_registry() {
  static const std::vector<RegistryModel> registry = build_registry();
  return registry;
}

Result<const RegistryModel*> find_model(std::string_view name) {
  std::string known;
  for (const auto& model : model_registry()) {
    if (model.name == name) return &model;
    known += (known.empty() ? "" : ", ") + model.name;
  }
  return fail(ErrorCode::not_found, "no model named '" + std::string(name) + "'; known models: " + known, "model");
}

std::filesystem::path resolve_models_dir(const std::optional<std::filesystem::path>& flag) {
  if (flag && !flag->empty()) return *flag;
  if (const char* dir = std::getenv("FERRY_MODELS_DIR"); dir && *dir) return dir;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) {
    return std::filesystem::path(cache) / "ferry" / "models";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache" / "ferry" / "models";
  }
  return std::filesystem::path(".ferry-models");
}

bool digest_matches(const ModelFile& file, std::string_view digest) {
  if (!file.sha256.empty()) return digest == file.sha256;
  return !file.sha256_prefix.empty() && digest.substr(0, file.sha256_prefix.size()) == file.sha256_prefix;
}

}  // namespace ferry::models
