#include "controller/separate_command.hpp"

#include <yaml-cpp/yaml.h>

#include <system_error>

#include "common/files.hpp"
#include "config/job_rules.hpp"
#include "controller/run.hpp"

namespace ferry::controller {

namespace {

std::string absolute_input(const std::string& file, const std::filesystem::path& cwd) {
  if (config::rules::is_http_url(file)) return file;
  const std::filesystem::path path(file);
  return (path.is_absolute() ? path : cwd / path).lexically_normal().string();
}

// A temporary file removed when it goes out of scope.
class TemporaryManifest {
 public:
  TemporaryManifest() {
    std::error_code error;
    dir_ = std::filesystem::temp_directory_path(error) / ("ferry-separate-" + new_run_id());
    std::filesystem::create_directories(dir_, error);
  }
  ~TemporaryManifest() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path file() const { return dir_ / "separate.yaml"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace

std::string separate_manifest_yaml(const SeparateCommandOptions& options, const std::filesystem::path& cwd) {
  YAML::Emitter yaml;
  yaml << YAML::BeginMap;
  yaml << YAML::Key << "name" << YAML::Value << "separate";
  yaml << YAML::Key << "provider" << YAML::Value << options.provider;
  if (options.provider != "local") {
    yaml << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "gpu" << YAML::Value
         << YAML::BeginMap << YAML::Key << "count" << YAML::Value << 1 << YAML::EndMap << YAML::EndMap;
  }
  const auto output = options.output.is_absolute() ? options.output : cwd / options.output;
  yaml << YAML::Key << "output" << YAML::Value << output.lexically_normal().string();
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
  TemporaryManifest file;
  if (auto written = write_file_atomic(file.file(), separate_manifest_yaml(options, cwd)); !written) {
    std::fprintf(err, "ferry separate: %s\n", written.error().describe().c_str());
    return exit_code_for(written.error().code);
  }
  RunOptions run;
  run.manifest = file.file();
  run.keep = options.keep;
  run.yes = options.yes;
  run.json = options.json;
  return run_manifest(run, out, err);
}

}  // namespace ferry::controller
