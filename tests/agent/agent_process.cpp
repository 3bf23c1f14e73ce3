#include "tests/agent/agent_process.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace ferry::test {

AgentProcess::AgentProcess(AgentLaunch launch) {
  static std::atomic<int> counter{0};
  const int n = ++counter;
  const auto port_file = launch.work_dir / ("agent-" + std::to_string(n) + ".port");
  log_path_ = launch.work_dir / ("agent-" + std::to_string(n) + ".log");
  ChildProcess::Options options;
  const std::string binary = launch.binary.empty() ? std::string(FERRY_AGENT_BIN) : launch.binary.string();
  options.argv = {binary,          "serve",  "--host", "127.0.0.1",        "--port",
                  "0",             "--port-file", port_file.string(), "--jobs", launch.jobs_dir.string()};
  options.argv.insert(options.argv.end(), launch.extra_args.begin(), launch.extra_args.end());
  options.env = launch.env;
  options.env["FERRY_LOG_LEVEL"] = "debug";
  options.unset_env = {"FERRY_IDLE_TIMEOUT", "FERRY_DEADLINE"};
  if (launch.set_token) options.env["FERRY_AGENT_TOKEN"] = kTestToken;
  else options.unset_env.push_back("FERRY_AGENT_TOKEN");
  for (const auto& [name, value] : launch.env) options.env[name] = value;
  options.stderr_path = log_path_;
  process_ = std::make_unique<ChildProcess>(options);
  auto port = wait_for_port_file(port_file, std::chrono::seconds(60));
  if (!port) {
    ADD_FAILURE() << "ferry-agent did not write its port file; its log:\n" << log();
    return;
  }
  port_ = *port;
}

HttpReply AgentProcess::request(const std::string& method, const std::string& target, const std::string& body,
                                Headers headers, bool authorize) const {
  if (authorize) headers.emplace_back("Authorization", std::string("Bearer ") + kTestToken);
  auto reply = http_exchange(port_, build_request(method, target, headers, body));
  if (!reply) {
    ADD_FAILURE() << "no HTTP reply to " << method << " " << target;
    return {};
  }
  return *reply;
}

nlohmann::json AgentProcess::json(const HttpReply& reply) {
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json() : parsed;
}

}  // namespace ferry::test
