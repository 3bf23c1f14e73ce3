// A stand-in for `ferry run` up to the point where jobs would be shipped:
// records the run, takes its lease, brings an instance up through the
// InstanceDriver and then waits forever. The SIGKILL test kills it at random
// points and checks that `ferry gc` leaves nothing billing.
//   bring_up_tool PROVIDER STATE_DIR RUN_ID

#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/http_client.hpp"
#include "controller/cloud_plan.hpp"
#include "controller/instance_driver.hpp"
#include "controller/provider_factory.hpp"
#include "controller/run_lease.hpp"

int main(int argc, char** argv) {
  using namespace ferry;
  using namespace ferry::controller;
  if (argc != 4) {
    std::fprintf(stderr, "usage: bring_up_tool PROVIDER STATE_DIR RUN_ID\n");
    return 2;
  }
  const std::string provider_name = argv[1];
  const std::filesystem::path state_dir = argv[2];
  const std::string run_id = argv[3];
  http_global_init();
  auto store = StateStore::open(state_dir / "state.db");
  auto lease = RunLease::acquire(state_dir, run_id);
  auto provider = make_provider(provider_name);
  if (!store || !lease || !provider) {
    std::fprintf(stderr, "bring_up_tool: cannot start\n");
    return 1;
  }
  RunRecord run;
  run.id = run_id;
  run.provider = provider_name;
  run.state = RunState::starting;
  run.started_at = now_unix();
  (void)store->create_run(run);

  config::Manifest manifest;
  manifest.image = "ghcr.io/example/ferry-agent:cpu";
  if (provider_name != "fly") manifest.resources.gpu = config::GpuRequest{};
  auto offers = choose_offers(**provider, manifest.resources);
  if (!offers) {
    std::fprintf(stderr, "bring_up_tool: %s\n", offers.error().message.c_str());
    return 1;
  }
  InstanceRequest request;
  request.run_id = run_id;
  request.ranked_offers = *offers;
  request.launch = launch_spec_for(manifest, run_id, "token");
  request.poll_interval = std::chrono::milliseconds(20);
  InstanceDriver driver(**provider, *store, request);
  if (auto up = driver.bring_up(); !up) {
    std::fprintf(stderr, "bring_up_tool: %s\n", up.error().message.c_str());
    return 1;
  }
  std::printf("ready %s\n", driver.instance_id().c_str());
  std::fflush(stdout);
  while (true) ::pause();
}
