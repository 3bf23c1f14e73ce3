#include "agent/models/acestep/acestep_weights.hpp"

#include <cmath>
#include <system_error>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/accumulate.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/files.hpp"

namespace ferry::acestep {
namespace {

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The last dotted component of a tensor name before ".weight" ("q_norm" of
/// "layers.0.self_attn.q_norm.weight").
std::string module_name(const std::string& name) {
  std::string stem = ends_with(name, ".weight") ? name.substr(0, name.size() - 7) : name;
  const auto dot = stem.rfind('.');
  return dot == std::string::npos ? stem : stem.substr(dot + 1);
}

}  // namespace

struct ModelConfig::Json {
  nlohmann::json value;
};

ModelConfig::ModelConfig(std::shared_ptr<const Json> json, std::string source)
    : json_(std::move(json)), source_(std::move(source)) {}

Result<ModelConfig> ModelConfig::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return fail(ErrorCode::not_found, fmt::format("model config '{}' does not exist", file.string()), file.string());
  }
  auto text = read_file(file);
  if (!text) return fail(text.error());
  return parse(*text, file.string());
}

Result<ModelConfig> ModelConfig::parse(std::string_view json_text, std::string source) {
  auto json = std::make_shared<Json>();
  try {
    json->value = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, fmt::format("model config {} is not valid JSON: {}", source, e.what()),
                source);
  }
  if (!json->value.is_object()) {
    return fail(ErrorCode::invalid_argument, fmt::format("model config {} is not a JSON object", source), source);
  }
  return ModelConfig(std::move(json), std::move(source));
}

bool ModelConfig::has(std::string_view key) const { return json_->value.contains(std::string(key)); }

bool ModelConfig::has_value(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  return it != json_->value.end() && !it->is_null();
}

Error ModelConfig::bad_value(std::string_view key, std::string_view expected) const {
  if (!has(key)) {
    return Error{ErrorCode::invalid_argument, fmt::format("model config {} lacks '{}' ({})", source_, key, expected),
                 std::string(key)};
  }
  return Error{ErrorCode::invalid_argument,
               fmt::format("model config {}: '{}' is {}, expected {}", source_, key,
                           json_->value.at(std::string(key)).dump(), expected),
               std::string(key)};
}

Result<std::int64_t> ModelConfig::integer(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end() || !it->is_number_integer()) return fail(bad_value(key, "an integer"));
  return it->get<std::int64_t>();
}

Result<std::int64_t> ModelConfig::integer_or(std::string_view key, std::int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

Status ModelConfig::read_positive(std::initializer_list<IntegerField> fields) const {
  for (const auto& [key, value] : fields) {
    auto read = integer(key);
    if (!read) return fail(read.error());
    if (auto ok = check_positive(key, *read); !ok) return ok;
    *value = *read;
  }
  return {};
}

Status ModelConfig::check_positive(std::string_view key, std::int64_t value) const {
  if (value > 0) return {};
  return fail(ErrorCode::invalid_argument,
              fmt::format("model config {}: '{}' must be positive, not {}", source_, key, value), std::string(key));
}

Result<double> ModelConfig::number(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end() || !it->is_number()) return fail(bad_value(key, "a number"));
  return it->get<double>();
}

Result<double> ModelConfig::number_or(std::string_view key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

Result<std::vector<std::int64_t>> ModelConfig::integers(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end() || !it->is_array() || it->empty()) {
    return fail(bad_value(key, "a non-empty list of integers"));
  }
  std::vector<std::int64_t> values;
  for (const auto& item : *it) {
    if (!item.is_number_integer()) return fail(bad_value(key, "a non-empty list of integers"));
    values.push_back(item.get<std::int64_t>());
  }
  return values;
}

Result<bool> ModelConfig::flag_or(std::string_view key, bool fallback) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end()) return fallback;
  if (!it->is_boolean()) return fail(bad_value(key, "true or false"));
  return it->get<bool>();
}

Result<std::string> ModelConfig::text(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end() || !it->is_string()) return fail(bad_value(key, "a string"));
  return it->get<std::string>();
}

Result<std::string> ModelConfig::text_or(std::string_view key, std::string fallback) const {
  return has(key) ? text(key) : Result<std::string>(std::move(fallback));
}

Result<std::vector<std::string>> ModelConfig::texts(std::string_view key) const {
  const auto it = json_->value.find(std::string(key));
  if (it == json_->value.end() || !it->is_array()) return fail(bad_value(key, "a list of strings"));
  std::vector<std::string> values;
  for (const auto& item : *it) {
    if (!item.is_string()) return fail(bad_value(key, "a list of strings"));
    values.push_back(item.get<std::string>());
  }
  return values;
}

Result<ModelFolder> load_model_folder(const std::filesystem::path& folder, std::string_view weights_file_name,
                                      const models::LoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return fail(ErrorCode::not_found,
                fmt::format("model folder '{}' does not exist; point it at the checkpoint folder", folder.string()),
                folder.string());
  }
  auto config = ModelConfig::load(folder / "config.json");
  if (!config) return fail(config.error());
  const std::filesystem::path weights_file = folder / std::string(weights_file_name);
  if (!std::filesystem::is_regular_file(weights_file, ec)) {
    return fail(ErrorCode::not_found, fmt::format("model weights '{}' do not exist", weights_file.string()),
                weights_file.string());
  }
  auto weights = models::load_state_dict(weights_file, options);
  if (!weights) {
    Error error = weights.error();
    error.message = fmt::format("{}: {}", weights_file.string(), error.message);
    if (error.field.empty()) error.field = weights_file.string();
    return fail(std::move(error));
  }
  return ModelFolder{std::move(*config), std::move(*weights), weights_file};
}

Status check_network_dtype(c10::ScalarType dtype, std::string_view network) {
  if (dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16) return {};
  if (dtype == at::kHalf) {
    return fail(ErrorCode::unsupported,
                fmt::format("the {} does not run in float16 (its activations overflow); use bfloat16 or float32",
                            network));
  }
  return fail(ErrorCode::invalid_argument,
              fmt::format("the {} needs a floating-point type (float32, bfloat16), not {}", network,
                          c10::toString(dtype)));
}

TensorMaker random_weights(const models::LoadOptions& options, std::uint64_t seed) {
  auto generator = std::make_shared<at::Generator>(at::detail::createCPUGenerator(seed));
  return [generator, options](const std::string& name, at::IntArrayRef shape) {
    const at::Tensor noise = at::normal(0.0, 1.0, shape, *generator, at::TensorOptions().dtype(at::kFloat));
    at::Tensor value;
    if (ends_with(name, ".weight_g") || (ends_with(name, ".weight") && module_name(name).find("norm") != std::string::npos)) {
      value = 1.0 + 0.1 * noise;
    } else if (ends_with(name, ".bias") || ends_with(name, ".alpha") || ends_with(name, ".beta")) {
      value = 0.1 * noise;
    } else {
      std::int64_t fan_in = 1;
      for (std::size_t d = 1; d < shape.size(); ++d) fan_in *= shape[d];
      value = noise / std::sqrt(static_cast<double>(fan_in));
    }
    return value.to(options.device, options.dtype);
  };
}

TensorMaker pooled_random_weights(const models::LoadOptions& options, std::uint64_t seed, double scale) {
  struct Pool {
    at::Generator generator;
    at::Tensor values;
  };
  auto pool = std::make_shared<Pool>(Pool{at::detail::createCPUGenerator(seed), at::Tensor()});
  return [pool, options, scale](const std::string&, at::IntArrayRef shape) {
    const std::int64_t count = c10::multiply_integers(shape);
    if (!pool->values.defined() || pool->values.numel() < count) {
      // Tensors already handed out keep the smaller buffer they view alive.
      pool->values = (at::normal(0.0, 1.0, {count}, pool->generator, at::TensorOptions().dtype(at::kFloat)) * scale)
                         .to(options.device, options.dtype);
    }
    return pool->values.narrow(0, 0, count).view(shape);
  };
}

WeightTable::WeightTable(const models::StateDict& state, std::string source)
    : state_(&state), source_(std::move(source)) {}

WeightTable::WeightTable(TensorMaker make) : make_(std::move(make)), source_("synthesised weights") {}

at::Tensor WeightTable::take(const std::string& name, const std::vector<std::int64_t>& shape) {
  if (make_) {
    used_.insert(name);
    return make_(name, shape);
  }
  const auto it = state_->find(name);
  if (it == state_->end()) {
    if (!error_) {
      error_ = Error{ErrorCode::invalid_argument,
                     fmt::format("{} lacks the tensor '{}' {} that its config.json calls for", source_, name,
                                 shape_text(shape)),
                     name};
    }
    return {};
  }
  if (it->second.sizes() != at::IntArrayRef(shape)) {
    if (!error_) {
      error_ = Error{ErrorCode::invalid_argument,
                     fmt::format("{}: tensor '{}' has shape {}, its config.json calls for {}", source_, name,
                                 shape_text(it->second.sizes()), shape_text(shape)),
                     name};
    }
    return {};
  }
  used_.insert(name);
  return it->second;
}

void WeightTable::ignore_prefix(std::string_view prefix) { ignored_prefixes_.emplace_back(prefix); }

bool WeightTable::contains(const std::string& name) const { return state_ != nullptr && state_->count(name) > 0; }

Status WeightTable::finish() const {
  if (error_) return fail(*error_);
  if (state_ == nullptr) return {};
  for (const auto& [name, tensor] : *state_) {
    if (used_.count(name)) continue;
    bool ignored = false;
    for (const auto& prefix : ignored_prefixes_) ignored = ignored || starts_with(name, prefix);
    if (!ignored) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("{} has a tensor '{}' that its config.json does not explain (wrong model folder or "
                              "config?)",
                              source_, name),
                  name);
    }
  }
  return {};
}

Result<at::Tensor> run_inference(std::string_view what, const std::function<at::Tensor()>& body) {
  try {
    c10::InferenceMode guard;
    return body();
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    const bool oom = message.find("out of memory") != std::string::npos ||
                     message.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
    return fail(oom ? ErrorCode::resource_exhausted : ErrorCode::internal,
                fmt::format("{} failed: {}", what, message));
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, fmt::format("{} failed: {}", what, e.what()));
  }
}

}  // namespace ferry::acestep
