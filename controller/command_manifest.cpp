#include "controller/command_manifest.hpp"

#include <filesystem>
#include <system_error>

#include "common/files.hpp"
#include "config/job_rules.hpp"

namespace ferry::controller {
namespace {

// A temporary folder removed when it goes out of scope.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::error_code error;
    dir_ = std::filesystem::temp_directory_path(error) / ("ferry-command-" + new_run_id());
    std::filesystem::create_directories(dir_, error);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace

std::string absolute_input(const std::string& file, const std::filesystem::path& cwd) {
  if (config::rules::is_http_url(file)) return file;
  const std::filesystem::path path(file);
  return (path.is_absolute() ? path : cwd / path).lexically_normal().string();
}

void begin_command_manifest(YAML::Emitter& yaml, std::string_view name, const std::string& provider,
                            const std::filesystem::path& output, const std::filesystem::path& cwd) {
  yaml << YAML::Key << "name" << YAML::Value << std::string(name);
  yaml << YAML::Key << "provider" << YAML::Value << provider;
  if (provider != "local") {
    yaml << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "gpu" << YAML::Value
         << YAML::BeginMap << YAML::Key << "count" << YAML::Value << 1 << YAML::EndMap << YAML::EndMap;
  }
  const auto absolute = output.is_absolute() ? output : cwd / output;
  yaml << YAML::Key << "output" << YAML::Value << absolute.lexically_normal().string();
}

std::string without_manifest_location(const Error& error, const std::filesystem::path& manifest) {
  const std::string prefix = manifest.string() + ":";
  if (!error.message.starts_with(prefix)) return error.message;
  // "<file>:<line>:<column>: <rest>"
  auto rest = error.message.find(": ", prefix.size());
  return rest == std::string::npos ? error.message : error.message.substr(rest + 2);
}

ExitCode run_command_manifest(std::string_view command, const std::string& yaml, RunOptions options, std::FILE* out,
                              std::FILE* err) {
  TemporaryFolder folder;
  const auto file = folder.path() / "manifest.yaml";
  if (auto written = write_file_atomic(file, yaml); !written) {
    std::fprintf(err, "%.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 written.error().describe().c_str());
    return exit_code_for(written.error().code);
  }
  options.manifest = file;
  return run_manifest(options, out, err);
}

}  // namespace ferry::controller
