// download_bench: how fast ferry-agent serves a job output compared with
// nginx serving the same file on the same machine, both over loopback, both
// fetched by the same client (ferry::HttpClient, libcurl).
//
// Usage: download_bench [--size-mb N] [--rounds N]
// Prints MB/s for each server (best and median of the rounds) and the ratio
// agent/nginx; the goal is a ratio of at least 0.8.

#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "bench/machine.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
constexpr const char* kToken = "download-bench-token";
constexpr const char* kNginx = "/usr/sbin/nginx";

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(address.sin_port);
}

void write_test_file(const fs::path& path, std::uint64_t bytes) {
  std::vector<char> block(1 << 20);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((i * 131) ^ (i >> 9));
  std::ofstream out(path, std::ios::binary);
  for (std::uint64_t written = 0; written < bytes; written += block.size())
    out.write(block.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(block.size(), bytes - written)));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A finished job written by hand, with the big file as its only output.
void write_job(const fs::path& jobs_dir, const fs::path& file, std::uint64_t bytes) {
  const fs::path job_dir = jobs_dir / "bench-job";
  fs::create_directories(job_dir / "outputs");
  fs::create_hard_link(file, job_dir / "outputs" / "big.bin");
  nlohmann::json record = {
      {"id", "bench-job"}, {"kind", "convert"}, {"state", "succeeded"},
      {"progress", {{"stage", ""}, {"done", 0}, {"total", 0}}}, {"error", nullptr},
      {"outputs", {{{"name", "big.bin"}, {"bytes", bytes}, {"sha256", std::string(64, '0')}}}},
      {"spec", {{"kind", "convert"}, {"inputs", nlohmann::json::array()}, {"params", {{"format", "wav"}}}}},
      {"attempts", 1}, {"created_at", "2024-01-01T00:00:00.000Z"}, {"started_at", nullptr}, {"finished_at", nullptr}};
  ferry::test::write_text(job_dir / "job.json", record.dump());
}

void write_nginx_config(const fs::path& dir, std::uint16_t port) {
  const std::string d = dir.string();
  std::string config = "daemon off;\nworker_processes 1;\nerror_log " + d + "/error.log;\npid " + d + "/nginx.pid;\n";
  if (::geteuid() == 0) config += "user root;\n";
  config += "events { worker_connections 64; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    config += std::string("  ") + temp + "_temp_path " + d + "/" + temp + ";\n";
  config += "  server {\n    listen 127.0.0.1:" + std::to_string(port) + ";\n    location / { root " + d +
            "/www; }\n  }\n}\n";
  ferry::test::write_text(dir / "nginx.conf", config);
}

// Downloads `url` `rounds` times into /dev/null; MB/s of each round.
std::vector<double> measure(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                            std::uint64_t bytes, int rounds) {
  ferry::HttpClient client;
  std::vector<double> rates;
  for (int i = 0; i < rounds; ++i) {
    ferry::HttpRequest request;
    request.url = url;
    request.headers = headers;
    request.timeout = 300s;
    const auto start = std::chrono::steady_clock::now();
    auto response = client.download(request, "/dev/null");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!response || response->status != 200)
      throw std::runtime_error("download of " + url + " failed: " +
                               (response ? "HTTP " + std::to_string(response->status) : response.error().describe()));
    rates.push_back(static_cast<double>(bytes) / 1e6 / seconds);
  }
  return rates;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t size_mb = 1000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--size-mb") size_mb = std::stoull(argv[i + 1]);
    else if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
  }
  const std::uint64_t bytes = size_mb * 1'000'000;
  try {
    ferry::http_global_init();
    ferry::test::TempDir dir("ferry-download-bench");
    fs::create_directories(dir / "www");
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) fs::create_directories(dir / temp);
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    const fs::path file = dir / "www" / "big.bin";
    fmt::print("writing a {} MB test file...\n", size_mb);
    write_test_file(file, bytes);
    write_job(dir / "jobs", file, bytes);

    ferry::test::ChildProcess::Options agent_options;
    agent_options.argv = {FERRY_AGENT_BIN, "serve", "--host", "127.0.0.1", "--port", "0",
                          "--port-file", (dir / "agent.port").string(), "--jobs", (dir / "jobs").string()};
    agent_options.env = {{"FERRY_AGENT_TOKEN", kToken}};
    agent_options.unset_env = {"FERRY_IDLE_TIMEOUT", "FERRY_DEADLINE"};
    agent_options.stderr_path = dir / "agent.log";
    ferry::test::ChildProcess agent(agent_options);
    auto agent_port = ferry::test::wait_for_port_file(dir / "agent.port", 60s);
    if (!agent_port) throw std::runtime_error("ferry-agent did not start: " + ferry::test::read_text(dir / "agent.log"));

    const auto nginx_port = free_port();
    write_nginx_config(dir.path(), nginx_port);
    ferry::test::ChildProcess::Options nginx_options;
    nginx_options.argv = {kNginx, "-c", (dir / "nginx.conf").string(), "-p", dir.path().string()};
    nginx_options.stderr_path = dir / "nginx.stderr";
    ferry::test::ChildProcess nginx(nginx_options);
    const std::string nginx_url = "http://127.0.0.1:" + std::to_string(nginx_port) + "/big.bin";
    ferry::HttpClient probe;
    if (!ferry::test::wait_until(
            [&] {
              ferry::HttpRequest head;
              head.url = nginx_url;
              head.method = "HEAD";
              auto response = probe.send(head);
              return response && response->status == 200;
            },
            10s))
      throw std::runtime_error("nginx did not start: " + ferry::test::read_text(dir / "error.log"));

    const std::string agent_url =
        "http://127.0.0.1:" + std::to_string(*agent_port) + "/v1/jobs/bench-job/outputs/big.bin";
    const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kToken}};
    fmt::print("machine: {}\n", ferry::bench::machine_description());
    fmt::print("file: {} MB from the page cache, {} rounds each, alternating, client ferry::HttpClient -> /dev/null\n",
               size_mb, rounds);
    measure(nginx_url, {}, bytes, 1);  // warm the page cache
    std::vector<double> agent_rates, nginx_rates;
    for (int i = 0; i < rounds; ++i) {
      auto n = measure(nginx_url, {}, bytes, 1);
      auto a = measure(agent_url, auth, bytes, 1);
      nginx_rates.push_back(n[0]);
      agent_rates.push_back(a[0]);
    }
    const double agent_best = *std::max_element(agent_rates.begin(), agent_rates.end());
    const double nginx_best = *std::max_element(nginx_rates.begin(), nginx_rates.end());
    fmt::print("nginx        best {:8.0f} MB/s  median {:8.0f} MB/s\n", nginx_best, median(nginx_rates));
    fmt::print("ferry-agent  best {:8.0f} MB/s  median {:8.0f} MB/s\n", agent_best, median(agent_rates));
    fmt::print("ratio agent/nginx: best {:.2f}, median {:.2f} (goal >= 0.80)\n", agent_best / nginx_best,
               median(agent_rates) / median(nginx_rates));
    nginx.signal(SIGQUIT);
    nginx.wait_for_exit(5s);
    agent.signal(SIGTERM);
    agent.wait_for_exit(15s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "download_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
