// The agent's side of the LibTorch plugin: finding and loading it, and the
// engine functions that forward to it. Linked only where the plugin is
// built; builds without LibTorch answer unsupported in run_job.cpp instead.

#include "agent/engines/torch_engines.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>

namespace ferry::agent {
namespace {

namespace fs = std::filesystem;

Result<const TorchEngines*> open_plugin() {
  auto path = find_torch_engines();
  if (!path) {
    return fail(ErrorCode::unsupported,
                std::string("this agent's LibTorch engines (") + kTorchEnginesFile +
                    ") are not installed next to ferry-agent or in ../lib/ferry; reinstall the agent or use the "
                    "CPU or CUDA image",
                "kind");
  }
  // RTLD_LOCAL: the plugin's copies of ferry's libraries stay its own.
  void* handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return fail(ErrorCode::unsupported,
                "could not load the LibTorch engines from " + path->string() + ": " + (why ? why : "unknown reason") +
                    "; the image's LibTorch libraries are missing or do not match, reinstall the agent image",
                "kind");
  }
  // Never dlclose: LibTorch's thread pools and registries live as long as the process.
  auto entry = reinterpret_cast<TorchEnginesEntry>(dlsym(handle, kTorchEnginesSymbol));
  const TorchEngines* engines = entry ? entry() : nullptr;
  if (engines == nullptr || engines->version != kTorchEnginesVersion || engines->size != sizeof(TorchEngines)) {
    return fail(ErrorCode::unsupported,
                path->string() + " is not the LibTorch plugin of this ferry-agent build; install both from one build",
                "kind");
  }
  const auto compute = engines->configure_compute(0);
  spdlog::info("LibTorch engines loaded from {} (LibTorch {}, device {}, {} CPU threads)", path->string(),
               compute.torch_version, compute.device, compute.cpu_threads);
  return engines;
}

// Each forwarder's failure to load becomes that call's error.
template <typename Call>
auto with_engines(Call&& call) -> decltype(call(std::declval<const TorchEngines&>())) {
  auto engines = load_torch_engines();
  if (!engines) return fail(engines.error());
  return call(**engines);
}

}  // namespace

std::optional<std::filesystem::path> find_torch_engines() {
  std::error_code error;
  const auto executable = fs::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  for (const auto& candidate : {executable.parent_path() / kTorchEnginesFile,
                                executable.parent_path().parent_path() / "lib" / "ferry" / kTorchEnginesFile}) {
    if (fs::is_regular_file(candidate, error)) return candidate;
  }
  return std::nullopt;
}

Result<const TorchEngines*> load_torch_engines() {
  static std::once_flag once;
  static Result<const TorchEngines*> loaded = fail(ErrorCode::internal, "the LibTorch engines were not loaded");
  std::call_once(once, [] { loaded = open_plugin(); });
  return loaded;
}

Result<std::vector<OutputFile>> run_separate_job(const config::SeparateParams& params,
                                                 const std::vector<LocalInput>& inputs, EngineContext& context) {
  return with_engines([&](const TorchEngines& engines) { return engines.run_separate_job(params, inputs, context); });
}

Result<std::vector<OutputFile>> run_generate_job(const config::GenerateParams& params, EngineContext& context) {
  return with_engines([&](const TorchEngines& engines) { return engines.run_generate_job(params, context); });
}

Result<std::vector<OutputFile>> run_separate(const SeparateOptions& options, const std::vector<LocalInput>& inputs,
                                             EngineContext& context) {
  return with_engines([&](const TorchEngines& engines) { return engines.run_separate(options, inputs, context); });
}

Result<std::vector<OutputFile>> run_generate(const GenerateOptions& options, EngineContext& context) {
  return with_engines([&](const TorchEngines& engines) { return engines.run_generate(options, context); });
}

Status validate_separate_options(const SeparateOptions& options) {
  return with_engines([&](const TorchEngines& engines) { return engines.validate_separate_options(options); });
}

ComputeInfo configure_compute(int threads) {
  auto engines = load_torch_engines();
  if (!engines) {
    spdlog::warn("{}", engines.error().message);
    return probe_compute();
  }
  return (*engines)->configure_compute(threads);
}

}  // namespace ferry::agent
