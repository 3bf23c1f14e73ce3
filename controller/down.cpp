#include "controller/down.hpp"

#include "controller/state_store.hpp"
#include "providers/local/local_provider.hpp"

namespace ferry::controller {

ExitCode take_down(const std::string& run_id, std::FILE* out, std::FILE* err) {
  auto path = StateStore::default_path();
  if (!path) {
    std::fprintf(err, "error: %s\n", path.error().describe().c_str());
    return ExitCode::job_failed;
  }
  auto store = StateStore::open(*path);
  if (!store) {
    std::fprintf(err, "error: %s\n", store.error().describe().c_str());
    return ExitCode::job_failed;
  }
  std::vector<std::string> run_ids;
  if (!run_id.empty()) {
    auto run = store->find_run(run_id);
    if (!run || !*run) {
      std::fprintf(err, "error: no run '%s'; `ferry status` lists the runs\n", run_id.c_str());
      return ExitCode::usage;
    }
    run_ids.push_back(run_id);
  } else {
    auto runs = store->list_runs(1000);
    if (!runs) {
      std::fprintf(err, "error: %s\n", runs.error().describe().c_str());
      return ExitCode::job_failed;
    }
    for (const auto& run : *runs) run_ids.push_back(run.id);
  }
  providers::LocalProvider local;
  int stopped = 0;
  bool all_ok = true;
  for (const auto& id : run_ids) {
    auto instances = store->list_instances(id);
    if (!instances) continue;
    for (const auto& instance : *instances) {
      if (instance.state == "destroyed" || instance.provider_id.empty()) continue;
      if (instance.provider != "local") {
        std::fprintf(err, "warning: run %s has a %s instance %s; this version can only stop local agents\n",
                     id.c_str(), instance.provider.c_str(), instance.provider_id.c_str());
        all_ok = false;
        continue;
      }
      if (auto destroyed = local.destroy(instance.provider_id); !destroyed) {
        std::fprintf(err, "error: could not stop %s of run %s: %s\n", instance.provider_id.c_str(), id.c_str(),
                     destroyed.error().describe().c_str());
        (void)store->set_instance_state(instance.id, "destroy_failed");
        all_ok = false;
        continue;
      }
      (void)store->set_instance_state(instance.id, "destroyed");
      std::fprintf(out, "stopped %s (run %s)\n", instance.provider_id.c_str(), id.c_str());
      ++stopped;
    }
  }
  if (stopped == 0 && all_ok) std::fprintf(err, "Nothing to stop: no instance of %s is up.\n",
                                           run_id.empty() ? "any run" : run_id.c_str());
  return all_ok ? ExitCode::ok : ExitCode::teardown_failed;
}

}  // namespace ferry::controller
