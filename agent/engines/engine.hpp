#pragma once
// What the job worker hands an engine, and what it gets back. Engines are
// plain functions: they read local input files, write output files into a
// folder and report progress; they know nothing of HTTP or the job store.

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "config/job_spec.hpp"

namespace ferry::agent {

/// A progress report: `stage` names the step ("decode", "encode",
/// "separate"), `done`/`total` count in the stage's unit (seconds of audio,
/// chunks, steps). total == 0 means unknown.
struct Progress {
  std::string stage;
  double done = 0;
  double total = 0;
};

/// An input already on local disk, with the name the user gave it.
struct LocalInput {
  std::filesystem::path path;
  std::string name;  ///< original file name, used to name outputs
};

struct EngineContext {
  std::filesystem::path output_dir;   ///< write finished outputs here
  std::filesystem::path scratch_dir;  ///< temporary files; removed after the job
  /// Cheap to call often; the worker throttles what it stores.
  std::function<void(const Progress&)> report = [](const Progress&) {};
  /// Set when the job is cancelled or the agent shuts down: engines check it
  /// between blocks of work and return ErrorCode::cancelled within a second.
  const std::atomic<bool>* cancel = nullptr;
  /// Where registry models, checkpoints and bags named by jobs live.
  std::filesystem::path models_dir;
  /// What the engine found beyond its files (a loop's points, why it fell
  /// back), set by engines that have something to say; it becomes the job's
  /// `result`. Null when there is nothing.
  nlohmann::json result;

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
};

/// One finished output file: `name` is a safe file name inside output_dir.
struct OutputFile {
  std::string name;
  std::filesystem::path path;
};

/// Runs a `convert` job: one output per input and segment. Outputs are
/// written under temporary names and renamed into place when complete, so a
/// file with its final name is always whole.
Result<std::vector<OutputFile>> run_convert(const config::ConvertParams& params,
                                            const std::vector<LocalInput>& inputs,
                                            EngineContext& context);

/// Runs a `loop` job: one input, one output named "<stem>_loop.<ext>", and
/// the loop points (or why it fell back to a plain crossfade) in
/// context.result. Memory stays bounded whatever the duration.
Result<std::vector<OutputFile>> run_loop(const config::LoopParams& params, const std::vector<LocalInput>& inputs,
                                         EngineContext& context);

/// Runs a `separate` job: one file per input and requested stem, named
/// "<stem>_<source>.<ext>" (agent/engines/separate_job.hpp). Builds without
/// LibTorch answer unsupported.
Result<std::vector<OutputFile>> run_separate_job(const config::SeparateParams& params,
                                                 const std::vector<LocalInput>& inputs, EngineContext& context);

/// Runs a `generate` job: ACE-Step 1.5 turbo from the models folder, one
/// output per song of the batch, named "<stem>.<ext>" or "<stem>-<n>.<ext>"
/// (agent/engines/generate_job.hpp). Builds without LibTorch answer unsupported.
Result<std::vector<OutputFile>> run_generate_job(const config::GenerateParams& params, EngineContext& context);

/// Dispatches on the job kind.
Result<std::vector<OutputFile>> run_job(const config::JobParams& params,
                                        const std::vector<LocalInput>& inputs,
                                        EngineContext& context);

}  // namespace ferry::agent
