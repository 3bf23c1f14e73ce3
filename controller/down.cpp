#include "controller/down.hpp"

#include <map>
#include <memory>

#include "controller/provider_factory.hpp"
#include "controller/state_store.hpp"
#include "controller/teardown.hpp"

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
  // One client per provider, made on first use: a run's instances share one.
  std::map<std::string, std::unique_ptr<providers::Provider>> clients;
  int stopped = 0;
  bool all_ok = true;
  for (const auto& id : run_ids) {
    auto instances = store->list_instances(id);
    if (!instances) continue;
    for (const auto& instance : *instances) {
      if (instance.state == "destroyed" || instance.state == "create_failed") continue;
      if (instance.provider_id.empty()) {
        if (instance.state == "intended")
          std::fprintf(err,
                       "warning: run %s recorded a %s instance that was being created when ferry stopped; "
                       "`ferry gc` finds it if it exists\n",
                       id.c_str(), instance.provider.c_str());
        continue;
      }
      auto& client = clients[instance.provider];
      if (!client) {
        auto made = make_provider(instance.provider);
        if (!made) {
          std::fprintf(err, "error: cannot stop %s instance %s of run %s: %s\n", instance.provider.c_str(),
                       instance.provider_id.c_str(), id.c_str(), made.error().message.c_str());
          all_ok = false;
          continue;
        }
        client = std::move(*made);
      }
      if (auto gone = destroy_and_confirm_gone(*client, instance.provider_id); !gone) {
        std::fprintf(err, "error: run %s: %s\n", id.c_str(), gone.error().describe().c_str());
        (void)store->set_instance_state(instance.id, "destroy_failed");
        all_ok = false;
        continue;
      }
      (void)store->set_instance_state(instance.id, "destroyed");
      std::fprintf(out, "stopped %s instance %s (run %s)\n", instance.provider.c_str(), instance.provider_id.c_str(),
                   id.c_str());
      ++stopped;
    }
  }
  if (stopped == 0 && all_ok) std::fprintf(err, "Nothing to stop: no instance of %s is up.\n",
                                           run_id.empty() ? "any run" : run_id.c_str());
  return all_ok ? ExitCode::ok : ExitCode::teardown_failed;
}

}  // namespace ferry::controller
