#include "controller/generate_command.hpp"

#include <yaml-cpp/yaml.h>

#include <system_error>

#include "common/files.hpp"
#include "config/generate_rules.hpp"
#include "controller/command_manifest.hpp"

namespace ferry::controller {

std::string generate_manifest_yaml(const GenerateCommandOptions& options, const std::string& lyrics,
                                   const std::filesystem::path& cwd) {
  YAML::Emitter yaml;
  yaml << YAML::BeginMap;
  begin_command_manifest(yaml, "generate", options.provider, options.output, cwd);
  yaml << YAML::Key << "jobs" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  yaml << YAML::Key << "generate" << YAML::Value << YAML::BeginMap;
  // Quoted, so that a caption like "yes" or "1984" stays a string.
  yaml << YAML::Key << "caption" << YAML::Value << YAML::DoubleQuoted << options.caption;
  if (!lyrics.empty()) yaml << YAML::Key << "lyrics" << YAML::Value << YAML::Literal << lyrics;
  if (options.instrumental) yaml << YAML::Key << "instrumental" << YAML::Value << true;
  yaml << YAML::Key << "duration" << YAML::Value << YAML::DoubleQuoted << options.duration;
  if (options.seed) yaml << YAML::Key << "seed" << YAML::Value << *options.seed;
  if (options.bpm) yaml << YAML::Key << "bpm" << YAML::Value << *options.bpm;
  if (!options.key.empty()) yaml << YAML::Key << "key" << YAML::Value << YAML::DoubleQuoted << options.key;
  if (options.time_signature) yaml << YAML::Key << "time_signature" << YAML::Value << *options.time_signature;
  if (!options.language.empty()) yaml << YAML::Key << "language" << YAML::Value << options.language;
  if (options.batch) yaml << YAML::Key << "batch" << YAML::Value << *options.batch;
  if (!options.format.empty()) yaml << YAML::Key << "format" << YAML::Value << options.format;
  if (!options.name.empty()) yaml << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << options.name;
  yaml << YAML::EndMap << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  return std::string(yaml.c_str()) + "\n";
}

Result<std::string> generate_manifest(const GenerateCommandOptions& options, const std::filesystem::path& cwd) {
  std::string lyrics;
  if (!options.lyrics_file.empty()) {
    const auto file = options.lyrics_file.is_absolute() ? options.lyrics_file : cwd / options.lyrics_file;
    auto text = read_file(file);
    if (!text)
      return fail(text.error().code,
                  "cannot read the lyrics file " + file.string() + ": " + text.error().message + "; check the path",
                  "--lyrics");
    lyrics = std::move(*text);
  }
  auto yaml = generate_manifest_yaml(options, lyrics, cwd);
  const auto stand_in = cwd / "ferry-generate.yaml";
  auto manifest = config::parse_manifest(yaml, stand_in);
  if (!manifest) {
    Error error = manifest.error();
    error.message = without_manifest_location(error, stand_in);
    return fail(std::move(error));
  }
  return yaml;
}

ExitCode run_generate_command(const GenerateCommandOptions& options, std::FILE* out, std::FILE* err) {
  std::error_code error;
  const auto cwd = std::filesystem::current_path(error);
  auto yaml = generate_manifest(options, cwd);
  if (!yaml) {
    std::fprintf(err, "ferry generate: %s\n", yaml.error().message.c_str());
    return yaml.error().code == ErrorCode::invalid_argument ? ExitCode::usage : exit_code_for(yaml.error().code);
  }
  RunOptions run;
  run.keep = options.keep;
  run.yes = options.yes;
  run.json = options.json;
  return run_command_manifest("ferry generate", *yaml, run, out, err);
}

}  // namespace ferry::controller
