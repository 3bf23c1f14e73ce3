#include "agent/models/model_commands.hpp"

#include <cstdio>
#include <map>

namespace ferry::models {

namespace {

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// The state of a model from the states of its files.
std::string_view model_state(const std::vector<FileStatus>& files) {
  std::size_t verified = 0, missing = 0;
  for (const auto& file : files) {
    if (file.state == FileState::corrupt) return "corrupt";
    if (file.state == FileState::verified) ++verified;
    if (file.state == FileState::missing) ++missing;
  }
  if (verified == files.size()) return "verified";
  if (missing == files.size()) return "missing";
  return "partial";
}

}  // namespace

Status list_models(const std::filesystem::path& models_dir, std::ostream& out) {
  out << "models folder: " << models_dir.string() << "\n";
  for (const auto& model : model_registry()) {
    auto files = inspect_model(model, models_dir);
    if (!files) return fail(files.error());
    std::uint64_t expected = 0;
    for (const auto& file : model.files) expected += file.size.value_or(0);
    out << model.name << "  " << model_state(*files) << "  " << model.files.size()
        << (model.files.size() == 1 ? " file, " : " files, ") << mebibytes(expected) << "\n";
    out << "  " << model.description << "\n";
    out << "  stems: ";
    for (std::size_t i = 0; i < model.sources.size(); ++i) out << (i ? ", " : "") << model.sources[i];
    out << "\n  licence: " << model.licence << "\n";
    for (const auto& file : *files) {
      out << "  " << file.file.name << "  " << to_string(file.state);
      if (file.state != FileState::missing) out << "  " << file.bytes << " bytes";
      out << "\n";
    }
  }
  return {};
}

Status fetch_model_by_name(const std::string& name, const std::filesystem::path& models_dir, std::ostream& log,
                           FetchOptions options) {
  auto model = find_model(name);
  if (!model) return fail(model.error());
  std::map<std::string, int> last_step;
  options.progress = [&](const std::string& file, std::uint64_t done, std::uint64_t total) {
    if (total == 0) return;
    const int step = static_cast<int>(done * 20 / total);  // every 5%
    auto [seen, inserted] = last_step.try_emplace(file, -1);
    if (step == seen->second) return;
    seen->second = step;
    log << file << ": " << mebibytes(done) << " of " << mebibytes(total) << "\n" << std::flush;
  };
  log << "fetching " << name << " into " << models_dir.string() << "\n";
  if (auto fetched = fetch_model(**model, models_dir, options); !fetched) return fetched;
  log << name << ": verified\n";
  return {};
}

}  // namespace ferry::models
