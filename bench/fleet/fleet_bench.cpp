// Runs the real `ferry run --yes` on a manifest with `instances: N` and N
// small convert jobs (1 s WAVs) against fakecloud's Vast API, whose
// instances are real ferry-agent processes. In order, with one state folder:
// a dry run with no history (cold), a calibration run of the same manifest,
// a dry run calibrated on it, and the measured run. It prints, for the
// measured run only:
//   1. the controller's peak RSS (wait4's ru_maxrss; goal <= 150 MB),
//   2. its peak thread count (/proc/PID/status every 20 ms; goal <= 32),
//   3. orchestration time per job beyond the agent's own work (goal < 100 ms):
//      per instance that ran jobs, from its agent listening (the emulator's
//      ledger: when the agent wrote its port file; no earlier than the end
//      of the emulated boot, before which the port is hidden) to the
//      emulator stamping it destroyed, minus the agent's own time on its jobs (started ->
//      finished as the agent reported it, from ferry's state database),
//      divided by its jobs. It covers noticing READY, upload, submit,
//      polling, fetching the outputs home and the destroy. Nothing polls
//      the agents but ferry. The controller's CPU time per job is printed
//      next to it.
//   4. both dry runs' expected cost against the ledger's total for the
//      measured run's instances alone (label ferry:<run-id>; goal within
//      5 %), and that no instance of either run is left billing.
// Also the per-agent memory and the lowest MemAvailable seen during the run.
//
//   fleet_bench [--instances 200] [--boot-ms 300] [--poll 100ms]
//               [--ferry BIN] [--agent BIN] [--fakecloud BIN] [--keep DIR]

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "agent/engines/engine.hpp"
#include "bench/machine.hpp"
#include "common/http_client.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A mono 16-bit PCM WAV of a 440 Hz tone.
std::string wav_tone(double seconds, int rate = 16000) {
  const auto frames = static_cast<std::uint32_t>(seconds * rate);
  auto u32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  auto u16 = [](std::uint16_t v) { return std::string{static_cast<char>(v), static_cast<char>(v >> 8)}; };
  std::string data;
  data.reserve(frames * 2);
  for (std::uint32_t i = 0; i < frames; ++i) {
    auto sample = static_cast<std::int16_t>(8000 * std::sin(2 * std::numbers::pi * 440.0 * i / rate));
    data += u16(static_cast<std::uint16_t>(sample));
  }
  return "RIFF" + u32(36 + static_cast<std::uint32_t>(data.size())) + "WAVEfmt " + u32(16) + u16(1) + u16(1) +
         u32(rate) + u32(rate * 2) + u16(2) + u16(16) + "data" + u32(static_cast<std::uint32_t>(data.size())) + data;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A "Key:   123 kB" line of a /proc status-like file, as a number.
std::optional<long> proc_field(const fs::path& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return std::nullopt;
}

// The children of `pid` (all its threads'), from /proc/PID/task/*/children.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code error;
  for (const auto& task : fs::directory_iterator(fs::path("/proc") / std::to_string(pid) / "task", error)) {
    std::ifstream in(task.path() / "children");
    for (pid_t child; in >> child;) children.push_back(child);
  }
  return children;
}

struct Spawned {
  pid_t pid = -1;
};

// fork + exec with `env` added, stdout and stderr to files.
Spawned spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const fs::path& out, const fs::path& err) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return {pid};
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

std::optional<json> get_json(ferry::HttpClient& client, const std::string& url, const std::string& method = "GET",
                             const std::string& body = {}) {
  ferry::HttpRequest request;
  request.method = method;
  request.url = url;
  request.body = body;
  request.timeout = 10s;
  auto response = client.send(request);
  if (!response || response->status != 200) return std::nullopt;
  json parsed = json::parse(response->body, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// The agent's own work for one job: the convert engine on the same input,
// the median of a few runs in this process.
double reference_job_seconds(const fs::path& input, const fs::path& scratch) {
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    fs::path out = scratch / ("ref-out-" + std::to_string(i));
    fs::path tmp = scratch / ("ref-tmp-" + std::to_string(i));
    fs::create_directories(out);
    fs::create_directories(tmp);
    ferry::config::ConvertParams params;
    params.format = ferry::config::AudioFormat::flac;
    ferry::agent::EngineContext context;
    context.output_dir = out;
    context.scratch_dir = tmp;
    auto start = Clock::now();
    auto outputs = ferry::agent::run_convert(params, {{input, input.filename().string()}}, context);
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (!outputs) {
      std::fprintf(stderr, "fleet_bench: the reference convert failed: %s\n", outputs.error().message.c_str());
      return -1;
    }
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// N Vast offers shaped like the emulator's first built-in row, each on its
// own machine at the same price.
json vast_offers(const json& template_row, int count) {
  json rows = json::array();
  for (int i = 0; i < count; ++i) {
    json row = template_row;
    row["id"] = 50000 + i;
    row["ask_contract_id"] = 50000 + i;
    row["machine_id"] = 60000 + i;
    row["host_id"] = 70000 + i;
    row["rented"] = false;
    rows.push_back(row);
  }
  return rows;
}

// Finds `key` anywhere in `value` (the dry run nests its estimate).
std::optional<json> find_key(const json& value, const std::string& key) {
  if (value.is_object()) {
    if (value.contains(key)) return value.at(key);
    for (const auto& [name, child] : value.items())
      if (auto found = find_key(child, key)) return found;
  } else if (value.is_array()) {
    for (const auto& child : value)
      if (auto found = find_key(child, key)) return found;
  }
  return std::nullopt;
}

// Samples, while `ferry run` runs: the controller's threads (every 20 ms),
// the agents' total RSS and the machine's MemAvailable (every 500 ms).
struct Sampler {
  std::atomic<bool> stop{false};
  long peak_threads = 0;
  long peak_agents = 0;
  long peak_agents_rss_kb = 0;  ///< their summed VmRSS at that moment
  long max_agent_rss_kb = 0;
  long peak_agents_anon_kb = 0;  ///< their summed RssAnon (private memory) at that moment
  long min_available_kb = -1;

  void run(pid_t ferry, pid_t fakecloud) {
    auto next_memory = Clock::now();
    while (!stop) {
      if (auto threads = proc_field(fs::path("/proc") / std::to_string(ferry) / "status", "Threads"))
        peak_threads = std::max(peak_threads, *threads);
      if (Clock::now() >= next_memory) {
        next_memory += 500ms;
        long sum = 0, anon = 0, count = 0;
        for (pid_t agent : children_of(fakecloud)) {
          auto rss = proc_field(fs::path("/proc") / std::to_string(agent) / "status", "VmRSS");
          if (!rss) continue;
          sum += *rss;
          anon += proc_field(fs::path("/proc") / std::to_string(agent) / "status", "RssAnon").value_or(0);
          ++count;
          max_agent_rss_kb = std::max(max_agent_rss_kb, *rss);
        }
        if (count > peak_agents || (count == peak_agents && sum > peak_agents_rss_kb)) {
          peak_agents = count;
          peak_agents_rss_kb = sum;
          peak_agents_anon_kb = anon;
        }
        if (auto available = proc_field("/proc/meminfo", "MemAvailable"))
          min_available_kb = min_available_kb < 0 ? *available : std::min(min_available_kb, *available);
      }
      std::this_thread::sleep_for(20ms);
    }
  }
};

std::string history_text(int samples) { return "history, " + std::to_string(samples) + " samples"; }

struct Stats {
  double median = 0, mean = 0, p90 = 0, max = 0;
};

Stats stats_of(std::vector<double> values) {
  Stats stats;
  if (values.empty()) return stats;
  std::sort(values.begin(), values.end());
  stats.median = values[values.size() / 2];
  stats.p90 = values[std::min(values.size() - 1, values.size() * 9 / 10)];
  stats.max = values.back();
  for (double v : values) stats.mean += v;
  stats.mean /= static_cast<double>(values.size());
  return stats;
}

// Kills what is left of a child and reaps it.
void kill_and_reap(pid_t pid, int signal_number) {
  if (pid <= 0) return;
  ::kill(pid, signal_number);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// What the steps of the benchmark share.
struct Context {
  std::string ferry_bin;
  std::string manifest;
  std::map<std::string, std::string> env;
  fs::path dir;
  std::string base;  ///< fakecloud's URL
  pid_t fakecloud = -1;
};

// `ferry run --dry-run --json`'s estimate and what it was based on.
struct DryRun {
  double expected_cost = 0;
  double startup_seconds = 0;
  std::string startup_basis = "?";  ///< "history, 20 samples" / "default"
  std::string convert_basis = "?";  ///< "x0.031000 (history, 20 samples)" / "x1.000000 (default)"
};

DryRun dry_run(const Context& context, const std::string& tag) {
  Spawned dry = spawn({context.ferry_bin, "run", context.manifest, "--dry-run", "--json"}, context.env,
                      context.dir / (tag + ".out"), context.dir / (tag + ".err"));
  int status = 0;
  ::waitpid(dry.pid, &status, 0);
  DryRun result;
  json plan = json::parse(read_text(context.dir / (tag + ".out")), nullptr, false);
  auto estimate = find_key(plan, "estimate");
  if (!estimate || !(*estimate)["expected_cost"].is_number()) {
    std::fprintf(stderr, "fleet_bench: %s gave no expected_cost (exit %d): %s\n", tag.c_str(), WEXITSTATUS(status),
                 read_text(context.dir / (tag + ".err")).c_str());
    return result;
  }
  result.expected_cost = (*estimate)["expected_cost"];
  result.startup_seconds = estimate->value("startup_seconds", 0.0);
  auto basis_text = [](const json& basis) {
    if (!basis.is_object()) return std::string("?");
    std::string source = basis.value("source", "?");
    return source == "history" ? history_text(basis.value("samples", 0)) : source;
  };
  result.startup_basis = basis_text(estimate->value("startup_basis", json()));
  json convert = (*estimate)["job_times"].is_object() ? (*estimate)["job_times"].value("convert", json()) : json();
  if (convert.is_object())
    result.convert_basis = "x" + std::to_string(convert.value("factor", 1.0)) + " (" + basis_text(convert) + ")";
  return result;
}

// One `ferry run --yes --json`, with the controller's threads and memory,
// the agents' memory and each agent's READY moment sampled from outside.
struct Measured {
  int exit_code = -1;
  std::string run_id;
  std::string state = "(no JSON summary)";
  int jobs_ok = 0, jobs_total = 0;
  double wall = 0;
  rusage usage{};
  std::unique_ptr<Sampler> sampler = std::make_unique<Sampler>();
};

Measured measured_run(const Context& context, const std::string& tag) {
  Measured result;
  const auto start = Clock::now();
  Spawned run = spawn({context.ferry_bin, "run", context.manifest, "--yes", "--json"}, context.env,
                      context.dir / (tag + ".out"), context.dir / (tag + ".err"));
  std::thread sampling([&] { result.sampler->run(run.pid, context.fakecloud); });
  int status = 0;
  ::wait4(run.pid, &status, 0, &result.usage);
  result.wall = std::chrono::duration<double>(Clock::now() - start).count();
  result.sampler->stop = true;
  sampling.join();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  json summary = json::parse(read_text(context.dir / (tag + ".out")), nullptr, false);
  if (summary.is_object()) {
    result.run_id = summary.value("run_id", "");
    result.state = summary.value("state", "?");
    for (const auto& job : summary["jobs"]) {
      ++result.jobs_total;
      if (job["state"] == "succeeded") ++result.jobs_ok;
    }
  }
  return result;
}

// What each instance of a run did, from ferry's own state database: its
// jobs and the agent's time on each (started -> finished, as the agent
// reported it), keyed by the provider's instance id.
struct InstanceWork {
  int jobs = 0;
  std::vector<double> job_seconds;
  double total_seconds() const {
    double total = 0;
    for (double seconds : job_seconds) total += seconds;
    return total;
  }
};

std::map<std::string, InstanceWork> agent_work_by_instance(const fs::path& database, const std::string& run_id) {
  std::map<std::string, InstanceWork> work;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "fleet_bench: cannot open %s: %s\n", database.c_str(), db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return work;
  }
  sqlite3_stmt* query = nullptr;
  const char* sql =
      "SELECT i.provider_id, j.work_s FROM instances i JOIN jobs j ON j.instance_row = i.id "
      "WHERE i.run_id = ? AND j.state = 'succeeded' AND j.work_s IS NOT NULL";
  if (sqlite3_prepare_v2(db, sql, -1, &query, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(query, 1, run_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(query) == SQLITE_ROW) {
      auto& instance = work[reinterpret_cast<const char*>(sqlite3_column_text(query, 0))];
      ++instance.jobs;
      instance.job_seconds.push_back(sqlite3_column_double(query, 1));
    }
  } else {
    std::fprintf(stderr, "fleet_bench: cannot read jobs from %s: %s\n", database.c_str(), sqlite3_errmsg(db));
  }
  sqlite3_finalize(query);
  sqlite3_close(db);
  return work;
}

// The ledger rows of one run (its instances carry the label "ferry:<run-id>"),
// their total cost and how many still bill; every row for an empty id.
struct RunLedger {
  std::vector<json> rows;
  double total = 0;
  std::size_t live = 0;
};

RunLedger ledger_of(const std::optional<json>& ledger, const std::string& run_id) {
  RunLedger result;
  if (!ledger) return result;
  for (const auto& row : (*ledger)["instances"]) {
    if (!run_id.empty() && row.value("label", "") != "ferry:" + run_id) continue;
    result.rows.push_back(row);
    result.total += row.value("cost", 0.0);
    if (row["destroyed_at"].is_null()) ++result.live;
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry run with many instances on fakecloud"};
  int instances = 200;
  int boot_ms = 300;
  std::string poll = "100ms";
  std::string ferry_bin = FERRY_BIN, agent_bin = FERRY_AGENT_BIN, fakecloud_bin = FAKECLOUD_BIN;
  std::string keep_dir;
  app.add_option("--instances", instances, "Instances, and as many 1 s convert jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--boot-ms", boot_ms, "The emulator's create-to-running time")->capture_default_str();
  app.add_option("--poll", poll, "FERRY_POLL_INTERVAL for the run")->capture_default_str();
  app.add_option("--ferry", ferry_bin, "The ferry binary")->capture_default_str();
  app.add_option("--agent", agent_bin, "The ferry-agent binary")->capture_default_str();
  app.add_option("--fakecloud", fakecloud_bin, "The fakecloud binary")->capture_default_str();
  app.add_option("--keep", keep_dir, "Work in this folder and keep it (default: a temporary one, removed)");
  CLI11_PARSE(app, argc, argv);
  for (const auto& bin : {ferry_bin, agent_bin, fakecloud_bin})
    if (::access(bin.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "fleet_bench: %s is not an executable; build it or pass its path\n", bin.c_str());
      return 2;
    }
  ::signal(SIGPIPE, SIG_IGN);
  ferry::http_global_init();

  fs::path dir;
  if (keep_dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "fleet-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      std::perror("fleet_bench: cannot create a work folder");
      return 1;
    }
    dir = pattern;
  } else {
    dir = fs::absolute(keep_dir);
    fs::create_directories(dir);
  }
  fs::create_directories(dir / "inputs");
  const std::string tone = wav_tone(1.0);
  for (int i = 0; i < instances; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "in_%03d.wav", i);
    write_text(dir / "inputs" / name, tone);
  }
  std::printf("fleet_bench: %d instances, %d convert jobs (1 s mono 16 kHz WAV -> FLAC), provider vast on fakecloud\n",
              instances, instances);
  std::printf("machine: %s; load average at start: %s", ferry::bench::machine_description().c_str(),
              read_text("/proc/loadavg").c_str());

  const double job_seconds = reference_job_seconds(dir / "inputs" / "in_000.wav", dir);
  if (job_seconds < 0) return 1;

  // The emulator, with N offers so that every instance has its own machine.
  Spawned fakecloud = spawn({fakecloud_bin, "--agent-bin", agent_bin, "--port-file", (dir / "port").string()}, {},
                            dir / "fakecloud.out", dir / "fakecloud.log");
  std::string port;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline && port.empty(); std::this_thread::sleep_for(50ms))
    port = read_text(dir / "port");
  if (port.empty()) {
    std::fprintf(stderr, "fleet_bench: fakecloud did not start: %s\n", read_text(dir / "fakecloud.log").c_str());
    kill_and_reap(fakecloud.pid, SIGKILL);
    return 1;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(std::atoi(port.c_str()));
  ferry::HttpClient control;
  auto catalogue = get_json(control, base + "/_fake/offers");
  const json offers = catalogue && !(*catalogue)["vast"].empty() ? vast_offers((*catalogue)["vast"][0], instances)
                                                                 : json();
  // Vast offers are single hosts rented once: every plan and run starts from the same free catalogue.
  auto reset_offers = [&] {
    return !offers.is_null() && get_json(control, base + "/_fake/offers", "PUT", json{{"vast", offers}}.dump());
  };
  if (!reset_offers() || !get_json(control, base + "/_fake/faults", "POST", json{{"boot_ms", boot_ms}}.dump())) {
    std::fprintf(stderr, "fleet_bench: could not set fakecloud's offers and boot time\n");
    kill_and_reap(fakecloud.pid, SIGTERM);
    return 1;
  }

  write_text(dir / "fleet.yaml", "name: fleet\nprovider: vast\nimage: ghcr.io/example/ferry-agent:cpu\n"
                                 "output: ./results\nresources:\n  gpu: {count: 1}\ninstances: " +
                                     std::to_string(instances) +
                                     "\njobs:\n  - convert: {inputs: ['inputs/*.wav'], format: flac}\n");
  // One state folder for every step: the calibration run's history is the second plan's.
  const std::map<std::string, std::string> env = {{"FERRY_VAST_API_URL", base},
                                                  {"VAST_API_KEY", "fleet-bench-key"},
                                                  {"XDG_STATE_HOME", (dir / "state").string()},
                                                  {"NO_COLOR", "1"},
                                                  {"FERRY_POLL_INTERVAL", poll},
                                                  // Hundreds of agents start at once on a few cores.
                                                  {"FERRY_START_TIMEOUT", "600s"},
                                                  {"FERRY_DESTROY_TIMEOUT", "60s"}};
  const std::string manifest = (dir / "fleet.yaml").string();
  Context context{ferry_bin, manifest, env, dir, base, fakecloud.pid};

  // 1. The plan with no history, 2. a run that makes the history, 3. the
  // plan calibrated on it, 4. the run every other figure is measured on.
  const DryRun cold = dry_run(context, "dry-cold");
  Measured calibration_run = measured_run(context, "calibration");
  std::printf("\ncalibration run %s: exit %d, %d of %d jobs succeeded, wall %.2f s\n", calibration_run.run_id.c_str(),
              calibration_run.exit_code, calibration_run.jobs_ok, calibration_run.jobs_total, calibration_run.wall);
  reset_offers();
  const DryRun calibrated = dry_run(context, "dry-calibrated");
  reset_offers();
  Measured run = measured_run(context, "run");
  auto ledger = get_json(control, base + "/_fake/ledger");
  kill_and_reap(fakecloud.pid, SIGTERM);

  std::printf("\nferry run %s: exit %d, state %s, %d of %d jobs succeeded, wall %.2f s\n", run.run_id.c_str(),
              run.exit_code, run.state.c_str(), run.jobs_ok, run.jobs_total, run.wall);
  if (run.exit_code != 0) std::printf("  its stderr ends: %s\n", read_text(dir / "run.err").substr(0, 2000).c_str());

  const double rss_mb = static_cast<double>(run.usage.ru_maxrss) / 1024.0;
  std::printf("1. controller peak RSS: %.1f MB (goal <= 150 MB): %s\n", rss_mb, rss_mb <= 150 ? "met" : "NOT met");
  std::printf("2. controller peak threads: %ld (goal <= 32): %s\n", run.sampler->peak_threads,
              run.sampler->peak_threads <= 32 ? "met" : "NOT met");

  // Per instance of the measured run: its agent listening -> destroyed in
  // the ledger, less the agent's own work on its jobs (from ferry's state).
  const RunLedger measured = ledger_of(ledger, run.run_id);
  const RunLedger calibrating = ledger_of(ledger, calibration_run.run_id);
  const auto work = agent_work_by_instance(dir / "state" / "ferry" / "state.db", run.run_id);
  std::vector<double> orchestration, idle_teardown, lifetimes, ready_delays, job_work;
  for (const auto& row : measured.rows) {
    if (row["destroyed_at"].is_null()) continue;
    const double created = row["created_at"], gone = row["destroyed_at"];
    lifetimes.push_back(gone - created);
    if (!row["agent_listening_at"].is_number()) continue;
    // The emulator shows the agent's port only once the emulated boot is over.
    const double listening = std::max(row["agent_listening_at"].get<double>(), created + boot_ms / 1000.0);
    ready_delays.push_back(listening - created);
    auto done = work.find(row["id"].get<std::string>());
    if (done == work.end() || done->second.jobs == 0) {
      idle_teardown.push_back(gone - listening);  // came up after the queue was empty
      continue;
    }
    for (double seconds : done->second.job_seconds) job_work.push_back(seconds);
    orchestration.push_back((gone - listening - done->second.total_seconds()) / done->second.jobs);
  }
  const double cpu = static_cast<double>(run.usage.ru_utime.tv_sec + run.usage.ru_stime.tv_sec) +
                     static_cast<double>(run.usage.ru_utime.tv_usec + run.usage.ru_stime.tv_usec) / 1e6;
  Stats over = stats_of(orchestration), life = stats_of(lifetimes), boot = stats_of(ready_delays),
        agent = stats_of(job_work), idle = stats_of(idle_teardown);
  std::printf("3. orchestration per job beyond the agent's work (agent listening and booted -> destroyed, minus\n"
              "   the agent's own time on its jobs, divided by its jobs):\n");
  std::printf("   median %.0f ms, mean %.0f ms, p90 %.0f ms, max %.0f ms over %zu instances that ran jobs"
              " (goal < 100 ms): %s\n",
              over.median * 1e3, over.mean * 1e3, over.p90 * 1e3, over.max * 1e3, orchestration.size(),
              !orchestration.empty() && over.median < 0.1 ? "met (median)" : "NOT met (median)");
  std::printf("   parts: agent's own time per job %.0f ms median, %.0f ms p90 under this load (the convert engine\n"
              "          alone, unloaded, in this process: %.1f ms); %zu instances came up after the queue was\n"
              "          empty and went from listening to destroyed in %.0f ms (median);\n"
              "          create -> agent listening: median %.2f s, max %.2f s (emulated boot %d ms + agent start-up\n"
              "          under %d-way contention); instance lifetime create -> destroyed: median %.2f s, max %.2f s\n",
              agent.median * 1e3, agent.p90 * 1e3, job_seconds * 1e3, idle_teardown.size(), idle.median * 1e3,
              boot.median, boot.max, boot_ms, instances, life.median, life.max);
  std::printf("   controller CPU (user+sys) %.2f s in all, %.1f ms per job\n", cpu,
              cpu * 1e3 / std::max(1, instances));

  std::printf("4. dry-run estimate vs the measured run's ledger total $%.6f (goal within 5 %%):\n", measured.total);
  for (const auto* plan : {&cold, &calibrated}) {
    const double ratio = measured.total > 0 ? plan->expected_cost / measured.total : 0.0;
    std::printf("   %-10s estimate $%.6f: ratio %.3f (%+.1f %%): %s; start-up %.2f s per instance (%s)\n",
                plan == &cold ? "cold" : "calibrated", plan->expected_cost, ratio, (ratio - 1) * 100,
                measured.total > 0 && std::abs(ratio - 1) <= 0.05 ? "met" : "NOT met", plan->startup_seconds,
                plan->startup_basis.c_str());
  }
  std::printf("   calibrated on run %s, whose ledger total was $%.6f (%zu instances); the measured run's\n"
              "   instances lived %.2f s (median); convert job time factor %s\n",
              calibration_run.run_id.c_str(), calibrating.total, calibrating.rows.size(), life.median,
              calibrated.convert_basis.c_str());
  std::printf("   ledger of the measured run: %zu instances created, %zu destroyed, %zu live at the end%s\n",
              measured.rows.size(), measured.rows.size() - measured.live, measured.live,
              measured.live == 0 ? " (nothing left billing)" : " (LEFT BILLING)");
  const std::size_t live_anywhere = ledger_of(ledger, "").live;
  if (live_anywhere != measured.live) std::printf("   %zu instance(s) of other runs LEFT BILLING\n", live_anywhere);
  std::printf("agents: peak %ld at once, %.0f MB RSS together (%.0f MB of it anonymous; largest single agent %.1f MB);"
              " lowest MemAvailable %.0f MB\n",
              run.sampler->peak_agents, static_cast<double>(run.sampler->peak_agents_rss_kb) / 1024.0,
              static_cast<double>(run.sampler->peak_agents_anon_kb) / 1024.0,
              static_cast<double>(run.sampler->max_agent_rss_kb) / 1024.0,
              static_cast<double>(run.sampler->min_available_kb) / 1024.0);
  std::printf("load average at the end: %s", read_text("/proc/loadavg").c_str());

  if (keep_dir.empty()) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  } else {
    std::printf("work folder kept: %s\n", dir.c_str());
  }
  return run.exit_code == 0 && calibration_run.exit_code == 0 && live_anywhere == 0 ? 0 : 1;
}
