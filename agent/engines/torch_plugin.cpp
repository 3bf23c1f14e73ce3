// libferry-agent-torch.so: the LibTorch engines behind the table that
// ferry-agent loads on first use (agent/engines/torch_engines.hpp). Every
// entry catches what LibTorch or the standard library throws, so only
// Results cross into the agent.

#include <exception>
#include <string>

#include "agent/engines/torch_device.hpp"
#include "agent/engines/torch_engines.hpp"

namespace ferry::agent {
namespace {

template <typename Call>
auto guarded(const char* what, Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& error) {
    return fail(ErrorCode::internal, std::string(what) + " failed: " + error.what());
  } catch (...) {
    return fail(ErrorCode::internal, std::string(what) + " failed with an unknown exception");
  }
}

Result<std::vector<OutputFile>> separate_job(const config::SeparateParams& params,
                                             const std::vector<LocalInput>& inputs, EngineContext& context) {
  return guarded("separation", [&] { return run_separate_job(params, inputs, context); });
}

Result<std::vector<OutputFile>> generate_job(const config::GenerateParams& params, EngineContext& context) {
  return guarded("generation", [&] { return run_generate_job(params, context); });
}

Result<std::vector<OutputFile>> separate(const SeparateOptions& options, const std::vector<LocalInput>& inputs,
                                         EngineContext& context) {
  return guarded("separation", [&] { return run_separate(options, inputs, context); });
}

Result<std::vector<OutputFile>> generate(const GenerateOptions& options, EngineContext& context) {
  return guarded("generation", [&] { return run_generate(options, context); });
}

Status validate_separate(const SeparateOptions& options) {
  return guarded("checking the separation options", [&] { return validate_separate_options(options); });
}

ComputeInfo configure(int threads) {
  try {
    return configure_torch_compute(threads);
  } catch (const std::exception&) {
    ComputeInfo unknown;
    unknown.device = "cpu";
    return unknown;
  }
}

const TorchEngines kEngines = [] {
  TorchEngines engines;
  engines.run_separate_job = separate_job;
  engines.run_generate_job = generate_job;
  engines.run_separate = separate;
  engines.run_generate = generate;
  engines.validate_separate_options = validate_separate;
  engines.configure_compute = configure;
  return engines;
}();

}  // namespace
}  // namespace ferry::agent

extern "C" __attribute__((visibility("default"))) const ferry::agent::TorchEngines* ferry_torch_engines() {
  return &ferry::agent::kEngines;
}
