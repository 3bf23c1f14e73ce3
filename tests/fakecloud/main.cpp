// fakecloud: one loopback server emulating the Vast.ai, RunPod and Fly.io
// APIs (same paths, bodies, status codes and quirks) whose instances are real
// ferry-agent processes. Point the FERRY_*_API_URL variables at it:
//   Vast    FERRY_VAST_API_URL=http://127.0.0.1:PORT          (/api/v0, /api/v1)
//   RunPod  FERRY_RUNPOD_API_URL=http://127.0.0.1:PORT        (/v2)
//           FERRY_RUNPOD_GRAPHQL_URL=http://127.0.0.1:PORT/graphql
//           FERRY_RUNPOD_PROXY_URL=http://127.0.0.1:PORT/_fake/proxy/{pod_id}-{port}
//   Fly     FERRY_FLY_API_URL=http://127.0.0.1:PORT           (/v1/apps)
//           FERRY_FLY_APP_URL=http://127.0.0.1:PORT/_fake/proxy/{app}
// Control: GET /_fake/ledger, GET|POST /_fake/faults, GET|PUT /_fake/offers,
// GET /_fake/instances/ID, POST /_fake/instances/ID/kill.

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/fakecloud/server.hpp"

namespace {

// Waits for SIGTERM/SIGINT/SIGHUP on its own thread, then kills every agent
// and leaves: nothing the emulator started outlives it.
void stop_on_signal(ferry::fakecloud::World& world, sigset_t signals, std::filesystem::path work_root) {
  int received = 0;
  sigwait(&signals, &received);
  {
    std::lock_guard lock(world.mutex);
    world.destroy_all();
  }
  std::error_code ignored;
  std::filesystem::remove_all(work_root, ignored);
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fakecloud: a local emulator of the Vast.ai, RunPod and Fly.io APIs"};
  std::string agent_binary;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  app.add_option("--agent-bin", agent_binary, "The ferry-agent binary started for each instance")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port; 0 picks a free one")->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--port-file", port_file, "Write the bound port here once listening");
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread inherits the mask
  signal(SIGPIPE, SIG_IGN);

  std::string pattern = (std::filesystem::temp_directory_path() / "fakecloud-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    std::perror("fakecloud: cannot create a work folder");
    return 1;
  }
  std::filesystem::path work_root(pattern);
  ferry::fakecloud::World world(std::filesystem::absolute(agent_binary), work_root);
  std::thread(stop_on_signal, std::ref(world), signals, work_root).detach();
  try {
    ferry::fakecloud::serve(world, host, static_cast<std::uint16_t>(port), port_file);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fakecloud: %s\n", error.what());
    std::error_code ignored;
    std::filesystem::remove_all(work_root, ignored);
    return 1;
  }
}
