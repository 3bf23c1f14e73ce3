#include "controller/separate_command.hpp"

#include <yaml-cpp/yaml.h>

#include <system_error>

#include "controller/command_manifest.hpp"

namespace ferry::controller {

std::string separate_manifest_yaml(const SeparateCommandOptions& options, const std::filesystem::path& cwd) {
  YAML::Emitter yaml;
  yaml << YAML::BeginMap;
  begin_command_manifest(yaml, "separate", options.provider, options.output, cwd);
  yaml << YAML::Key << "jobs" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  yaml << YAML::Key << "separate" << YAML::Value << YAML::BeginMap;
  yaml << YAML::Key << "inputs" << YAML::Value << YAML::BeginSeq;
  for (const auto& file : options.files) yaml << absolute_input(file, cwd);
  yaml << YAML::EndSeq;
  if (!options.model.empty()) yaml << YAML::Key << "model" << YAML::Value << options.model;
  if (!options.stems.empty()) {
    yaml << YAML::Key << "stems" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& stem : options.stems) yaml << stem;
    yaml << YAML::EndSeq;
  }
  if (!options.format.empty()) yaml << YAML::Key << "format" << YAML::Value << options.format;
  yaml << YAML::EndMap << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  return std::string(yaml.c_str()) + "\n";
}

Result<config::Manifest> separate_manifest(const SeparateCommandOptions& options, const std::filesystem::path& cwd) {
  if (options.files.empty()) return fail(ErrorCode::invalid_argument, "give at least one file to separate", "FILE");
  return config::parse_manifest(separate_manifest_yaml(options, cwd), cwd / "ferry-separate.yaml");
}

ExitCode run_separate_files(const SeparateCommandOptions& options, std::FILE* out, std::FILE* err) {
  std::error_code error;
  const auto cwd = std::filesystem::current_path(error);
  auto manifest = separate_manifest(options, cwd);
  if (!manifest) {
    std::fprintf(err, "ferry separate: %s\n", manifest.error().message.c_str());
    return manifest.error().code == ErrorCode::invalid_argument ? ExitCode::usage : exit_code_for(manifest.error().code);
  }
  RunOptions run;
  run.keep = options.keep;
  run.yes = options.yes;
  run.json = options.json;
  return run_command_manifest("ferry separate", separate_manifest_yaml(options, cwd), run, out, err);
}

}  // namespace ferry::controller
