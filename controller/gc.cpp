#include "controller/gc.hpp"

#include <unistd.h>

#include <map>
#include <memory>

#include <fmt/format.h>

#include "controller/ask.hpp"
#include "controller/provider_factory.hpp"
#include "controller/run_lease.hpp"
#include "controller/state_store.hpp"

namespace ferry::controller {
namespace {

constexpr std::string_view kLabelPrefix = "ferry:";

std::string_view verdict_text(GcCandidate::Verdict verdict) {
  switch (verdict) {
    case GcCandidate::Verdict::collect: return "orphaned";
    case GcCandidate::Verdict::live_run: return "run in progress";
    case GcCandidate::Verdict::kept: return "kept (ferry down RUN stops it)";
  }
  return "";
}

}  // namespace

std::vector<GcCandidate> classify_listed(const std::string& provider,
                                         const std::vector<providers::InstanceInfo>& listed,
                                         const std::function<bool(const std::string&)>& run_is_live,
                                         const std::function<bool(const std::string&)>& is_kept) {
  std::vector<GcCandidate> candidates;
  for (const auto& instance : listed) {
    if (instance.state == providers::InstanceState::gone) continue;
    // Providers filter by prefix already; check again so a loose filter
    // can never make gc touch an instance ferry did not start.
    if (instance.label.rfind(kLabelPrefix, 0) != 0) continue;
    GcCandidate candidate{provider, instance, instance.label.substr(kLabelPrefix.size())};
    if (run_is_live(candidate.run_id)) candidate.verdict = GcCandidate::Verdict::live_run;
    else if (is_kept(instance.id)) candidate.verdict = GcCandidate::Verdict::kept;
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

ExitCode collect_garbage(const GcOptions& options, std::FILE* out, std::FILE* err) {
  auto path = StateStore::default_path();
  if (!path) {
    std::fprintf(err, "error: %s\n", path.error().describe().c_str());
    return ExitCode::teardown_failed;
  }
  auto store = StateStore::open(*path);
  if (!store) {
    std::fprintf(err, "error: %s\n", store.error().describe().c_str());
    return ExitCode::teardown_failed;
  }
  const std::filesystem::path state_dir = path->parent_path();

  std::vector<std::string> names = options.providers;
  if (names.empty())
    for (const auto& name : cloud_provider_names())
      if (has_credentials(name)) names.push_back(name);
  if (names.empty()) {
    std::fprintf(err, "Nothing to look at: none of VAST_API_KEY, RUNPOD_API_KEY, FLY_API_TOKEN is set.\n");
    return ExitCode::ok;
  }

  // Instances the store records as kept, and every record by provider id
  // (to close it once its instance is confirmed gone).
  std::map<std::string, InstanceRecord> records;  // "<provider>/<id>"
  if (auto runs = store->list_runs(100000))
    for (const auto& run : *runs)
      if (auto instances = store->list_instances(run.id))
        for (const auto& instance : *instances)
          if (!instance.provider_id.empty()) records[instance.provider + "/" + instance.provider_id] = instance;

  bool all_ok = true;
  bool header_printed = false;
  std::vector<std::pair<providers::Provider*, GcCandidate>> to_collect;
  std::vector<std::unique_ptr<providers::Provider>> clients;
  for (const auto& name : names) {
    auto provider = make_provider(name);
    if (!provider) {
      std::fprintf(err, "error: %s\n", provider.error().describe().c_str());
      all_ok = false;
      continue;
    }
    auto listed = (*provider)->list(std::string(kLabelPrefix));
    if (!listed) {
      std::fprintf(err, "error: %s: list instances: %s; check the credential and try again\n", name.c_str(),
                   listed.error().describe().c_str());
      all_ok = false;
      continue;
    }
    auto candidates = classify_listed(
        name, *listed, [&](const std::string& run_id) { return run_is_alive(state_dir, run_id); },
        [&](const std::string& id) {
          auto found = records.find(name + "/" + id);
          return found != records.end() && found->second.state == "kept";
        });
    for (auto& candidate : candidates) {
      if (!header_printed) {
        std::fprintf(out, "%-8s %-28s %-24s %s\n", "PROVIDER", "INSTANCE", "RUN", "STATUS");
        header_printed = true;
      }
      std::fprintf(out, "%-8s %-28s %-24s %s\n", name.c_str(), candidate.instance.id.c_str(),
                   candidate.run_id.c_str(), std::string(verdict_text(candidate.verdict)).c_str());
      if (candidate.verdict == GcCandidate::Verdict::collect) to_collect.emplace_back(provider->get(), candidate);
    }
    clients.push_back(std::move(*provider));
  }

  if (to_collect.empty()) {
    std::fprintf(err, "Nothing to collect: no orphaned ferry instance at %s.\n", fmt::format("{}", fmt::join(names, ", ")).c_str());
    return all_ok ? ExitCode::ok : ExitCode::teardown_failed;
  }
  if (!options.yes) {
    std::function<bool(const std::string&)> confirm = options.confirm;
    if (!confirm && ::isatty(STDIN_FILENO)) confirm = ask_on_terminal;
    if (!confirm) {
      std::fprintf(err,
                   "error: %zu orphaned instance(s) may be billing; pass --yes to destroy them "
                   "(no terminal to ask on)\n",
                   to_collect.size());
      return ExitCode::usage;
    }
    if (!confirm(fmt::format("Destroy {} orphaned instance(s)?", to_collect.size()))) {
      std::fprintf(err, "Nothing destroyed.\n");
      return ExitCode::usage;
    }
  }

  for (auto& [provider, candidate] : to_collect) {
    auto gone = destroy_and_confirm_gone(*provider, candidate.instance.id, options.teardown);
    auto record = records.find(candidate.provider + "/" + candidate.instance.id);
    if (!gone) {
      std::fprintf(err, "error: %s\n", gone.error().describe().c_str());
      if (record != records.end()) (void)store->set_instance_state(record->second.id, "destroy_failed");
      all_ok = false;
      continue;
    }
    if (record != records.end()) (void)store->set_instance_state(record->second.id, "destroyed");
    std::fprintf(out, "destroyed %s instance %s (run %s)\n", candidate.provider.c_str(), candidate.instance.id.c_str(),
                 candidate.run_id.c_str());
  }
  return all_ok ? ExitCode::ok : ExitCode::teardown_failed;
}

}  // namespace ferry::controller
