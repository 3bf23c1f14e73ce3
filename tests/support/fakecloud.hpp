#pragma once
// A running fakecloud for end-to-end tests: started on a free loopback port
// with real ferry-agent instances, driven through its /_fake control API, and
// stopped with SIGTERM (which also stops every agent it started).

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace ferry::test {

class RunningFakecloud {
 public:
  ~RunningFakecloud() { stop(); }

  /// Starts `fakecloud_bin`, its port file and log in `dir`; fails with the
  /// log when it is not listening within 10 s.
  ::testing::AssertionResult start(const std::string& fakecloud_bin, const std::string& agent_bin,
                                   const std::filesystem::path& dir) {
    ChildProcess::Options options;
    options.argv = {fakecloud_bin, "--agent-bin", agent_bin, "--port-file", (dir / "port").string()};
    options.stderr_path = dir / "fakecloud.log";
    process_ = std::make_unique<ChildProcess>(options);
    auto port = wait_for_port_file(dir / "port", std::chrono::seconds(10));
    if (!port) return ::testing::AssertionFailure() << "fakecloud did not start: " << read_text(dir / "fakecloud.log");
    base_ = "http://127.0.0.1:" + std::to_string(*port);
    return ::testing::AssertionSuccess();
  }

  /// SIGTERM, then expects fakecloud to exit within 10 s. Idempotent.
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    EXPECT_TRUE(process_->wait_for_exit(std::chrono::seconds(10)));
    process_.reset();
  }

  /// "http://127.0.0.1:PORT": the base URL of all three emulated APIs.
  const std::string& base() const { return base_; }

  /// The variables that point ferry's three providers at this emulator, with
  /// test credentials, the state store under `state_dir` and no colour.
  std::map<std::string, std::string> client_environment(const std::filesystem::path& state_dir) const {
    return {{"FERRY_VAST_API_URL", base_},
            {"FERRY_RUNPOD_API_URL", base_},
            {"FERRY_RUNPOD_GRAPHQL_URL", base_ + "/graphql"},
            {"FERRY_RUNPOD_PROXY_URL", base_ + "/_fake/proxy/{pod_id}-{port}"},
            {"FERRY_FLY_API_URL", base_},
            {"FERRY_FLY_APP_URL", base_ + "/_fake/proxy/{app}"},
            {"VAST_API_KEY", "vast-test-key"},
            {"RUNPOD_API_KEY", "runpod-test-key"},
            {"FLY_API_TOKEN", "fly-test-token"},
            {"XDG_STATE_HOME", state_dir.string()},
            {"NO_COLOR", "1"}};
  }

  /// GET `path` (or POST `body` to it) on the control API; expects 200.
  nlohmann::json control(const std::string& path, const std::string& body = {}) {
    HttpRequest request;
    request.method = body.empty() ? "GET" : "POST";
    request.url = base_ + path;
    request.body = body;
    auto response = client_.send(request);
    EXPECT_TRUE(response) << path;
    if (!response) return {};
    EXPECT_EQ(response->status, 200) << path << ": " << response->body;
    return nlohmann::json::parse(response->body, nullptr, false);
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string base_;
  HttpClient client_;
};

}  // namespace ferry::test
