#include "controller/plan.hpp"

#include <glob.h>

#include <map>
#include <set>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/units.hpp"

namespace ferry::controller {
namespace {

namespace fs = std::filesystem;

bool has_glob_characters(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  std::string rest = scheme == std::string::npos ? path : path.substr(scheme + 3);
  auto slash = rest.find('/');
  if (slash == std::string::npos) return "input";
  std::string last = rest.substr(rest.find_last_of('/') + 1);
  return last.empty() ? "input" : last;
}

std::string where_prefix(const config::InputSource& source) {
  std::string where = source.where.to_string();
  return where.empty() || source.where.line == 0 ? std::string() : where + ": ";
}

std::string describe_params(const config::JobParams& params) {
  return std::visit(
      [](const config::ConvertParams& convert) {
        std::string text(config::to_string(convert.format));
        if (convert.mono) text += ", mono";
        if (convert.sample_rate) text += fmt::format(", {} Hz", *convert.sample_rate);
        if (convert.bitrate_kbps) text += fmt::format(", {} kb/s", *convert.bitrate_kbps);
        if (convert.segment_s)
          text += ", " + config::format_duration(std::chrono::milliseconds(
                             static_cast<long long>(*convert.segment_s * 1000))) + " segments";
        if (!convert.cut_points_s.empty()) text += fmt::format(", cut at {} points", convert.cut_points_s.size());
        return text;
      },
      params);
}

}  // namespace

std::string PlannedInput::shown() const { return is_url ? url : file.string(); }

std::string PlannedJob::label() const { return input.name + " -> " + summary; }

Result<std::vector<PlannedInput>> expand_input(const config::InputSource& source, const fs::path& base_dir) {
  if (source.kind == config::InputSource::Kind::url)
    return std::vector<PlannedInput>{PlannedInput{true, {}, source.text, url_file_name(source.text)}};

  fs::path pattern(source.text);
  if (pattern.is_relative()) pattern = base_dir / pattern;
  pattern = pattern.lexically_normal();

  std::vector<fs::path> matches;
  if (has_glob_characters(source.text)) {
    glob_t found{};
    int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &found);
    if (rc == 0)
      for (std::size_t i = 0; i < found.gl_pathc; ++i) matches.emplace_back(found.gl_pathv[i]);
    globfree(&found);
    if (rc == GLOB_NOMATCH || (rc == 0 && matches.empty()))
      return fail(ErrorCode::not_found,
                  where_prefix(source) + "no file matches the input pattern '" + source.text + "' (looked in " +
                      pattern.parent_path().string() + ")",
                  source.text);
    if (rc != 0)
      return fail(ErrorCode::io_error, where_prefix(source) + "cannot expand the input pattern '" + source.text + "'",
                  source.text);
  } else {
    matches.push_back(pattern);
  }

  std::vector<PlannedInput> inputs;
  for (const auto& match : matches) {
    std::error_code error;
    auto status = fs::status(match, error);
    if (error || !fs::exists(status)) {
      return fail(ErrorCode::not_found,
                  where_prefix(source) + "input file '" + match.string() + "' does not exist; fix the path in the " +
                      "manifest (relative paths start at the manifest's folder)",
                  source.text);
    }
    // A glob may also match folders; only regular files are inputs.
    if (!fs::is_regular_file(status)) {
      if (has_glob_characters(source.text)) continue;
      return fail(ErrorCode::invalid_argument,
                  where_prefix(source) + "input '" + match.string() + "' is not a regular file", source.text);
    }
    inputs.push_back(PlannedInput{false, match, {}, match.filename().string()});
  }
  if (inputs.empty())
    return fail(ErrorCode::not_found, where_prefix(source) + "the input pattern '" + source.text +
                                          "' matches only folders, no files",
                source.text);
  return inputs;
}

std::string output_clash_key(const std::string& input_name, const config::JobParams& params) {
  std::string stem = fs::path(input_name).stem().string();
  std::string extension = std::visit(
      [](const config::ConvertParams& convert) { return std::string(config::file_extension(convert.format)); },
      params);
  return std::string(config::job_kind(params)) + "/" + stem + "." + extension;
}

std::vector<int> assign_output_suffixes(const std::vector<std::string>& keys) {
  std::map<std::string, int> seen;
  std::vector<int> suffixes;
  suffixes.reserve(keys.size());
  for (const auto& key : keys) {
    int count = ++seen[key];
    suffixes.push_back(count == 1 ? 0 : count);
  }
  return suffixes;
}

std::string local_output_name(const std::string& output_name, const std::string& input_name, int suffix) {
  if (suffix <= 0) return output_name;
  std::string tag = "-" + std::to_string(suffix);
  std::string stem = fs::path(input_name).stem().string();
  if (!stem.empty() && output_name.size() > stem.size() && output_name.compare(0, stem.size(), stem) == 0)
    return output_name.substr(0, stem.size()) + tag + output_name.substr(stem.size());
  auto dot = output_name.find('.', 1);
  if (dot == std::string::npos) return output_name + tag;
  return output_name.substr(0, dot) + tag + output_name.substr(dot);
}

Result<Plan> build_plan(const config::Manifest& manifest) {
  Plan plan;
  plan.name = manifest.name;
  plan.provider = manifest.provider;
  plan.manifest = manifest.file;
  plan.output_dir = manifest.output;
  std::set<fs::path> queued_uploads;
  std::vector<std::string> clash_keys;
  for (std::size_t entry = 0; entry < manifest.jobs.size(); ++entry) {
    const auto& job_entry = manifest.jobs[entry];
    int input_number = 0;
    std::set<std::string> seen_in_entry;
    for (const auto& source : job_entry.inputs) {
      auto expanded = expand_input(source, manifest.base_dir);
      if (!expanded) return fail(expanded.error());
      for (auto& input : *expanded) {
        // The same file named twice in one entry (a glob and a path) runs once.
        if (!seen_in_entry.insert(input.shown()).second) continue;
        PlannedJob job;
        job.key = fmt::format("e{}-i{}", entry + 1, ++input_number);
        job.entry_index = static_cast<int>(entry);
        job.kind = std::string(config::job_kind(job_entry.params));
        job.summary = describe_params(job_entry.params);
        job.params = job_entry.params;
        job.input = std::move(input);
        if (!job.input.is_url && queued_uploads.insert(job.input.file).second) plan.uploads.push_back(job.input.file);
        clash_keys.push_back(output_clash_key(job.input.name, job.params));
        plan.jobs.push_back(std::move(job));
      }
    }
  }
  auto suffixes = assign_output_suffixes(clash_keys);
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) plan.jobs[i].output_suffix = suffixes[i];
  return plan;
}

std::string describe_plan(const Plan& plan) {
  std::string text = fmt::format("Plan for '{}' on provider {}: {} job{}, {} file{} to upload\n", plan.name,
                                 plan.provider, plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s",
                                 plan.uploads.size(), plan.uploads.size() == 1 ? "" : "s");
  for (const auto& job : plan.jobs)
    text += fmt::format("  {:<8} {} {}: {}\n", job.key, job.kind, job.summary, job.input.shown());
  text += "Outputs go to " + plan.output_dir.string() + "\n";
  return text;
}

nlohmann::json plan_to_json(const Plan& plan) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& job : plan.jobs) {
    jobs.push_back({{"key", job.key},
                    {"entry", job.entry_index},
                    {"kind", job.kind},
                    {"summary", job.summary},
                    {"input", job.input.shown()},
                    {"input_kind", job.input.is_url ? "url" : "file"},
                    {"output_suffix", job.output_suffix}});
  }
  nlohmann::json uploads = nlohmann::json::array();
  for (const auto& file : plan.uploads) uploads.push_back(file.string());
  return {{"name", plan.name},     {"provider", plan.provider}, {"manifest", plan.manifest.string()},
          {"output", plan.output_dir.string()}, {"jobs", jobs}, {"uploads", uploads}};
}

}  // namespace ferry::controller
