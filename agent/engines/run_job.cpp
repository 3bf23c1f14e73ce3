#include "agent/engines/engine.hpp"

#include <type_traits>

namespace ferry::agent {

Result<std::vector<OutputFile>> run_job(const config::JobParams& params,
                                        const std::vector<LocalInput>& inputs,
                                        EngineContext& context) {
  return std::visit(
      [&](const auto& typed) -> Result<std::vector<OutputFile>> {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, config::ConvertParams>) {
          return run_convert(typed, inputs, context);
        }
      },
      params);
}

}  // namespace ferry::agent
