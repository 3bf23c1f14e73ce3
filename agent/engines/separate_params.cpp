// A `separate` job as the worker runs it: the wire parameters mapped onto
// the engine's options, with names resolved in the agent's models folder.

#include "agent/engines/engine.hpp"
#include "agent/engines/separate_job.hpp"
#include "agent/models/registry.hpp"

namespace ferry::agent {

Result<std::vector<OutputFile>> run_separate_job(const config::SeparateParams& params,
                                                 const std::vector<LocalInput>& inputs, EngineContext& context) {
  SeparateOptions options;
  options.models_dir = models::resolve_models_dir(
      context.models_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(context.models_dir));
  // Jobs name files inside the models folder only (the rules admit plain names).
  if (params.checkpoint) options.checkpoint = options.models_dir / *params.checkpoint;
  if (params.bag) options.bag = options.models_dir / *params.bag;
  if (!params.checkpoint && !params.bag) {
    options.model = params.model.empty() ? config::kDefaultSeparationModel : params.model;
  }
  options.stems = params.stems;
  options.format = params.format;
  options.mono = params.mono;
  options.bitrate_kbps = params.bitrate_kbps;
  options.shifts = params.shifts;
  options.overlap = params.overlap;
  options.seed = params.seed;
  options.batch = params.batch;
  return run_separate(options, inputs, context);
}

}  // namespace ferry::agent
