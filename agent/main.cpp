// ferry-agent: runs ferry's audio jobs on the machine it lives on.
//
// `ferry-agent serve` exit statuses:
//   0  stopped by SIGTERM/SIGINT, or by FERRY_IDLE_TIMEOUT
//   1  could not start (bad flag or environment value, port in use, jobs folder unwritable)
//   3  FERRY_DEADLINE reached (kExitDeadlineReached)

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>

#include "agent/engines/compute.hpp"
#include "agent/engines/engine.hpp"
#include "agent/http/lifetime.hpp"
#include "agent/http/server.hpp"
#include "agent/jobs/job_manager.hpp"
#if FERRY_HAVE_TORCH
#include "agent/generation_cli.hpp"
#include "agent/separation_cli.hpp"
#endif
#include "agent/loop_command.hpp"
#include "common/files.hpp"
#include "common/http_client.hpp"
#include "common/log.hpp"
#include "config/units.hpp"

namespace {

namespace http = ferry::agent::http;
namespace jobs = ferry::agent::jobs;
using namespace std::chrono_literals;

constexpr int kExitStartFailed = 1;
// How long a running job gets to notice the cancel flag at shutdown.
constexpr auto kShutdownGrace = 10s;

struct ServeFlags {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8185;
  std::string port_file;
  std::string jobs_dir = "ferry-jobs";
  std::string models_dir;
  std::string max_upload = "20GB";
  std::string header_timeout = "30s";
  std::string io_timeout = "60s";
  int threads = 4;
};

int start_failed(const std::string& message) {
  spdlog::error("{}", message);
  return kExitStartFailed;
}

// Reads a duration from the environment; unset or empty means no limit, and
// so does "0".
ferry::Result<std::optional<std::chrono::milliseconds>> duration_from_env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::optional<std::chrono::milliseconds>{};
  auto parsed = ferry::config::parse_duration(value);
  if (!parsed)
    return ferry::fail(ferry::ErrorCode::invalid_argument,
                       std::string(name) + "='" + value + "' is not a duration (e.g. 10m, 2h): " +
                           parsed.error().message,
                       name);
  if (parsed->count() == 0) return std::optional<std::chrono::milliseconds>{};
  return std::optional<std::chrono::milliseconds>{*parsed};
}

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing safe to do
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

// Why the serve loop ends; set once by a signal or the lifetime check.
struct StopRequest {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<http::LifetimeVerdict> verdict;  // keep_running here means "signal"
  int signal = 0;

  void request(http::LifetimeVerdict why, int signal_number = 0) {
    std::lock_guard lock(mutex);
    if (verdict) return;
    verdict = why;
    signal = signal_number;
    changed.notify_all();
  }
};

int serve(const ServeFlags& flags) {
  ferry::init_logging("ferry-agent");
  // A client that disconnects mid-download must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  auto idle_timeout = duration_from_env("FERRY_IDLE_TIMEOUT");
  if (!idle_timeout) return start_failed(idle_timeout.error().message);
  auto deadline = duration_from_env("FERRY_DEADLINE");
  if (!deadline) return start_failed(deadline.error().message);
  auto max_upload = ferry::config::parse_size(flags.max_upload);
  if (!max_upload) return start_failed("--max-upload '" + flags.max_upload + "': " + max_upload.error().message);
  auto header_timeout = ferry::config::parse_duration(flags.header_timeout);
  auto io_timeout = ferry::config::parse_duration(flags.io_timeout);
  if (!header_timeout || !io_timeout || header_timeout->count() <= 0 || io_timeout->count() <= 0)
    return start_failed("--header-timeout and --io-timeout must be positive durations such as 30s");

  http::ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.max_upload_bytes = *max_upload;
  options.header_timeout = *header_timeout;
  options.io_timeout = *io_timeout;
  options.threads = flags.threads;
  if (const char* token = std::getenv("FERRY_AGENT_TOKEN"); token && *token) {
    options.token = token;
  } else {
    options.token = random_token();
    // The one place the token is ever written: nobody else could learn it.
    std::fprintf(stderr, "ferry-agent: FERRY_AGENT_TOKEN is not set; generated token: %s\n", options.token.c_str());
    std::fflush(stderr);
  }

  ferry::http_global_init();
  http::AgentInfo info;
  info.version = FERRY_VERSION;
  info.started = std::chrono::steady_clock::now();
  info.idle_timeout = *idle_timeout;
  info.deadline = *deadline;
  // LibTorch is loaded by the first job that needs it, not here.
  info.compute = ferry::agent::probe_compute();
  const http::LifetimeLimits limits{info.idle_timeout, info.deadline};

  auto store = jobs::JobStore::open(flags.jobs_dir);
  if (!store) return start_failed(store.error().describe());
  jobs::JobManagerOptions manager_options;
  manager_options.runner = [models_dir = std::filesystem::path(flags.models_dir)](
                               const ferry::config::JobParams& params,
                               const std::vector<ferry::agent::LocalInput>& inputs,
                               ferry::agent::EngineContext& context) {
    context.models_dir = models_dir;
    return ferry::agent::run_job(params, inputs, context);
  };
  manager_options.resolve_inputs = jobs::make_input_resolver(*store, *max_upload);
  auto manager = std::make_unique<jobs::JobManager>(*store, std::move(manager_options));
  for (const auto& warning : manager->load()) spdlog::warn("{}", warning);

  auto server = std::make_unique<http::Server>(options, *manager, info);
  auto port = server->start();
  if (!port) return start_failed(port.error().message);
  spdlog::info("listening on {}:{} (device {}, jobs in {})", flags.host, *port, info.compute.device, flags.jobs_dir);
  manager->start();
  auto& context = server->context();
  context.phase = http::AgentPhase::ready;
  // Written last, so whoever waits for it finds the agent READY.
  if (!flags.port_file.empty()) {
    if (auto written = ferry::write_file_atomic(flags.port_file, std::to_string(*port) + "\n"); !written)
      return start_failed("cannot write --port-file: " + written.error().describe());
  }

  StopRequest stop;
  boost::asio::signal_set signals(server->io_context(), SIGINT, SIGTERM);
  signals.async_wait([&stop](const boost::system::error_code& ec, int signal_number) {
    if (!ec) stop.request(http::LifetimeVerdict::keep_running, signal_number);
  });
  {
    std::unique_lock lock(stop.mutex);
    while (!stop.verdict) {
      stop.changed.wait_for(lock, 200ms);
      if (stop.verdict) break;
      lock.unlock();
      // Idle time counts from the end of the last job, not only the last request.
      const bool busy = manager->busy();
      if (busy) context.touch();
      auto verdict = http::check_lifetime(limits, std::chrono::steady_clock::now(), info.started,
                                          context.last_activity(), busy);
      lock.lock();
      if (verdict != http::LifetimeVerdict::keep_running) stop.verdict = verdict;
    }
  }

  int exit_code = 0;
  switch (*stop.verdict) {
    case http::LifetimeVerdict::keep_running:
      spdlog::info("received signal {}; shutting down", stop.signal);
      break;
    case http::LifetimeVerdict::idle_timeout:
      spdlog::info("idle for {}: no jobs and no requests; shutting down (FERRY_IDLE_TIMEOUT)",
                   ferry::config::format_duration(*info.idle_timeout));
      break;
    case http::LifetimeVerdict::deadline:
      spdlog::warn("deadline of {} since start reached; shutting down (FERRY_DEADLINE), exit status {}",
                   ferry::config::format_duration(*info.deadline), http::kExitDeadlineReached);
      exit_code = http::kExitDeadlineReached;
      break;
  }
  server->stop_accepting();
  if (!manager->shutdown(kShutdownGrace)) {
    spdlog::error("the running job did not stop within {}s; exiting anyway (it will run again on the next start)",
                  std::chrono::seconds(kShutdownGrace).count());
    spdlog::default_logger()->flush();
    std::_Exit(exit_code);
  }
  signals.cancel();
  server->stop();
  // The manager goes first: its watchers hold executors of the server's
  // io_context, which must outlive them.
  manager.reset();
  server.reset();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-agent: runs ferry's audio jobs (separation, generation, loops, conversion) on this machine"};
  app.require_subcommand(1);
  app.footer(
      "serve exit status: 0 stopped by signal or idle timeout, 1 could not start, 3 FERRY_DEADLINE reached.\n"
      "Environment: FERRY_AGENT_TOKEN (bearer token; generated and printed when unset), FERRY_IDLE_TIMEOUT,\n"
      "FERRY_DEADLINE (durations such as 10m or 2h; unset or 0: no limit), FERRY_MODELS_DIR.");

  ServeFlags flags;
  if (const char* models = std::getenv("FERRY_MODELS_DIR"); models && *models) flags.models_dir = models;
  auto* serve_command = app.add_subcommand("serve", "Serve the HTTP API on --port and run submitted jobs");
  serve_command->add_option("--host", flags.host, "Address to listen on (127.0.0.1 or 0.0.0.0)")
      ->capture_default_str();
  serve_command->add_option("--port", flags.port, "TCP port; 0 picks a free one")->capture_default_str();
  serve_command->add_option("--port-file", flags.port_file,
                            "Write the bound port to this file (atomically) once listening");
  serve_command->add_option("--jobs", flags.jobs_dir, "Folder for jobs, uploads and outputs")->capture_default_str();
  serve_command->add_option("--models", flags.models_dir, "Folder of model checkpoints (default: $FERRY_MODELS_DIR)");
  serve_command->add_option("--max-upload", flags.max_upload, "Largest accepted upload or fetched input (e.g. 20GB)")
      ->capture_default_str();
  // Tuning and test knobs, kept out of --help.
  serve_command->add_option("--header-timeout", flags.header_timeout)->group("");
  serve_command->add_option("--io-timeout", flags.io_timeout)->group("");
  serve_command->add_option("--threads", flags.threads)->group("")->check(CLI::Range(1, 64));

  ferry::agent::LoopFlags loop_flags;
  auto* loop_command_line = ferry::agent::add_loop_command(app, loop_flags);

#if FERRY_HAVE_TORCH
  ferry::agent::cli::SeparationCommands separation_commands(app);
  ferry::agent::cli::GenerationCommand generation_command(app);
#endif
  CLI11_PARSE(app, argc, argv);
#if FERRY_HAVE_TORCH
  if (auto status = separation_commands.run()) return *status;
  if (auto status = generation_command.run()) return *status;
#endif
  if (serve_command->parsed()) return serve(flags);
  if (loop_command_line->parsed()) return ferry::agent::run_loop_command(loop_flags);
  return 0;
}
