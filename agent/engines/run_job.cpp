#include "agent/engines/engine.hpp"

#include <type_traits>

namespace ferry::agent {

#if !FERRY_HAVE_TORCH
Result<std::vector<OutputFile>> run_separate_job(const config::SeparateParams&, const std::vector<LocalInput>&,
                                                 EngineContext&) {
  return fail(ErrorCode::unsupported, "this agent was built without LibTorch and cannot separate; use the CPU or CUDA image",
              "kind");
}
Result<std::vector<OutputFile>> run_generate_job(const config::GenerateParams&, EngineContext&) {
  return fail(ErrorCode::unsupported, "this agent was built without LibTorch and cannot generate; use the CPU or CUDA image",
              "kind");
}
#endif

Result<std::vector<OutputFile>> run_job(const config::JobParams& params,
                                        const std::vector<LocalInput>& inputs,
                                        EngineContext& context) {
  return std::visit(
      [&](const auto& typed) -> Result<std::vector<OutputFile>> {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, config::ConvertParams>) {
          return run_convert(typed, inputs, context);
        } else if constexpr (std::is_same_v<T, config::LoopParams>) {
          return run_loop(typed, inputs, context);
        } else if constexpr (std::is_same_v<T, config::SeparateParams>) {
          return run_separate_job(typed, inputs, context);
        } else if constexpr (std::is_same_v<T, config::GenerateParams>) {
          return run_generate_job(typed, context);
        } else {
          static_assert(sizeof(T) == 0, "every job kind needs an engine");
        }
      },
      params);
}

}  // namespace ferry::agent
