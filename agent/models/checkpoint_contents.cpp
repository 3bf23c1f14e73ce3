#include "agent/models/checkpoint_contents.hpp"

#include <fmt/format.h>

#include "agent/models/zip_archive.hpp"

namespace ferry::models {
namespace {

bool starts_with(std::string_view bytes, std::string_view prefix) { return bytes.substr(0, prefix.size()) == prefix; }

// The one `<archive>/data.pkl` of a torch.save zip; other entries are
// `<archive>/data/<key>` (one per storage), `version`, `byteorder`.
Result<std::string> find_archive_prefix(const ZipArchive& archive) {
  std::optional<std::string> prefix;
  for (const auto& entry : archive.entries()) {
    const auto slash = entry.name.find('/');
    if (slash == std::string::npos || entry.name.substr(slash + 1) != "data.pkl") continue;
    if (prefix) return fail(ErrorCode::data_loss, "checkpoint archive holds more than one data.pkl");
    prefix = entry.name.substr(0, slash);
  }
  if (!prefix) {
    return fail(ErrorCode::data_loss, "checkpoint archive has no <name>/data.pkl: not a file written by torch.save");
  }
  return *prefix;
}

Result<TensorData> resolve_tensor(const ZipArchive& archive, const std::string& prefix, const TensorRef& ref,
                                  std::map<std::string, std::string_view>& verified) {
  auto cached = verified.find(ref.storage.key);
  std::string_view storage;
  if (cached != verified.end()) {
    storage = cached->second;
  } else {
    const ZipEntry* entry = archive.find(prefix + "/data/" + ref.storage.key);
    if (!entry) {
      return fail(ErrorCode::data_loss, "checkpoint archive lacks the storage '" + ref.storage.key + "'");
    }
    auto bytes = archive.read(*entry);
    if (!bytes) return fail(bytes.error());
    storage = *bytes;
    verified.emplace(ref.storage.key, storage);
  }
  std::uint64_t needed = 0;
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(ref.storage.numel), element_size(ref.storage.type), &needed) ||
      storage.size() < needed) {
    return fail(ErrorCode::data_loss,
                fmt::format("storage '{}' holds {} bytes but declares {} elements of {}", ref.storage.key,
                            storage.size(), ref.storage.numel, to_string(ref.storage.type)));
  }
  return TensorData{ref.layout, storage.substr(0, needed)};
}

Result<std::vector<NamedTensor>> collect_state(const Value& state, const ZipArchive& archive,
                                               const std::string& prefix) {
  const Dictionary* dict = state.as_dict();
  if (!dict) return fail(ErrorCode::data_loss, fmt::format("state is a {}, not a dict", state.kind_name()));
  if (state.get("__quantized")) {
    return fail(ErrorCode::unsupported, "quantized (DiffQ) Demucs checkpoints are not supported");
  }
  std::map<std::string, std::string_view> verified;
  std::vector<NamedTensor> tensors;
  tensors.reserve(dict->items.size());
  for (const auto& [key, value] : dict->items) {
    const std::string* name = key->as_string();
    if (!name) return fail(ErrorCode::data_loss, fmt::format("state dict key of type {}", key->kind_name()));
    const TensorRef* ref = value->as_tensor();
    if (!ref) {
      return fail(ErrorCode::data_loss,
                  fmt::format("state dict entry '{}' is a {}, not a tensor", *name, value->kind_name()));
    }
    auto data = resolve_tensor(archive, prefix, *ref, verified);
    if (!data) return fail(data.error());
    tensors.push_back(NamedTensor{*name, *data});
  }
  return tensors;
}

Result<CheckpointContents> parse_torch_zip(std::shared_ptr<const CheckpointBytes> bytes, const PickleLimits& limits) {
  auto archive = ZipArchive::open(bytes->view());
  if (!archive) return fail(archive.error());
  auto prefix = find_archive_prefix(*archive);
  if (!prefix) return fail(prefix.error());
  if (const ZipEntry* order = archive->find(*prefix + "/byteorder")) {
    auto text = archive->read(*order);
    if (!text) return fail(text.error());
    if (*text != "little") {
      return fail(ErrorCode::unsupported, "checkpoint was saved on a big-endian machine; re-save it on a little-endian one");
    }
  }
  auto pickle = archive->read(*archive->find(*prefix + "/data.pkl"));
  if (!pickle) return fail(pickle.error());
  auto root = read_pickle(*pickle, limits);
  if (!root) return fail(root.error());

  CheckpointContents contents;
  contents.bytes = bytes;
  contents.format = CheckpointFormat::torch_zip;
  contents.root = *root;
  const Value& top = **root;
  if (const TensorRef* bare = top.as_tensor()) {
    // torch.save(tensor), e.g. ACE-Step's silence_latent.pt: one unnamed tensor.
    std::map<std::string, std::string_view> verified;
    auto data = resolve_tensor(*archive, *prefix, *bare, verified);
    if (!data) return fail(data.error());
    contents.tensors.push_back(NamedTensor{"", *data});
    return contents;
  }
  if (!top.as_dict()) {
    return fail(ErrorCode::data_loss,
                fmt::format("checkpoint holds a {}, expected a Demucs package, a state dict or a tensor",
                            top.kind_name()));
  }
  const Value* state = &top;
  if (const Value* klass = top.get("klass")) {
    // A Demucs package: {klass, args, kwargs, state, training_args}.
    const ClassRef* ref = klass->as_class();
    const Value* args = top.get("args");
    const Value* kwargs = top.get("kwargs");
    state = top.get("state");
    if (!ref || !args || !args->as_sequence() || !kwargs || !kwargs->as_dict() || !state) {
      return fail(ErrorCode::data_loss, "Demucs checkpoint lacks klass, args, kwargs or state");
    }
    contents.klass = ref->qualified();
    contents.args = *args->as_sequence();
    for (const auto& [key, value] : kwargs->as_dict()->items) {
      const std::string* name = key->as_string();
      if (!name) return fail(ErrorCode::data_loss, "Demucs checkpoint kwargs with a key that is not a string");
      contents.kwargs[*name] = value;
    }
  }
  auto tensors = collect_state(*state, *archive, *prefix);
  if (!tensors) return fail(tensors.error());
  contents.tensors = std::move(*tensors);
  return contents;
}

}  // namespace

Result<CheckpointContents> parse_checkpoint(std::shared_ptr<const CheckpointBytes> bytes, const PickleLimits& limits) {
  if (!bytes) return fail(ErrorCode::invalid_argument, "no checkpoint bytes");
  const std::string_view view = bytes->view();
  if (starts_with(view, "PK\x03\x04") || starts_with(view, "PK\x05\x06")) {
    auto contents = parse_torch_zip(bytes, limits);
    // The archive's CRC checks have read every storage; those pages are not
    // needed again until each tensor is copied out.
    bytes->release(view);
    return contents;
  }
  if (starts_with(view, "\x80\x02\x8a\x0a")) {
    return fail(ErrorCode::unsupported,
                "checkpoint uses the legacy (before PyTorch 1.6) torch.save format; re-save it with a newer torch.save");
  }
  if (view.size() >= 9 && view[8] == '{') {
    auto tensors = parse_safetensors(view);
    if (!tensors) return fail(tensors.error());
    CheckpointContents contents;
    contents.bytes = bytes;
    contents.format = CheckpointFormat::safetensors;
    contents.tensors = std::move(*tensors);
    return contents;
  }
  return fail(ErrorCode::invalid_argument,
              "not a checkpoint: expected a torch.save zip file or a safetensors file");
}

Result<CheckpointContents> parse_checkpoint(std::shared_ptr<const std::string> bytes, const PickleLimits& limits) {
  if (!bytes) return fail(ErrorCode::invalid_argument, "no checkpoint bytes");
  return parse_checkpoint(CheckpointBytes::hold(std::move(bytes)), limits);
}

Result<CheckpointContents> read_checkpoint(const std::filesystem::path& path, std::uint64_t max_bytes) {
  auto bytes = CheckpointBytes::map_file(path, max_bytes);
  if (!bytes) return fail(bytes.error());
  auto contents = parse_checkpoint(*bytes);
  if (!contents) {
    Error error = contents.error();
    if (error.field.empty()) error.field = path.string();
    return fail(std::move(error));
  }
  return contents;
}

}  // namespace ferry::models
