#pragma once
// Starts the real ferry-agent binary for end-to-end tests: loopback, port 0
// with a port file, a jobs folder chosen by the test, and a known token.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_http.hpp"

namespace ferry::test {

inline constexpr const char* kTestToken = "e2e-token-7f3a";

struct AgentLaunch {
  std::filesystem::path jobs_dir;                 ///< required
  std::filesystem::path work_dir;                 ///< port file and log live here
  std::map<std::string, std::string> env;
  std::vector<std::string> extra_args;
  bool set_token = true;
  std::filesystem::path binary;                   ///< empty: the ferry-agent of this build
};

class AgentProcess {
 public:
  /// Starts the agent and waits for its port file; ADD_FAILURE and port 0
  /// when it does not come up.
  explicit AgentProcess(AgentLaunch launch);

  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  /// Everything the agent wrote to stderr so far.
  std::string log() const { return read_text(log_path_); }

  /// One request with the bearer token (unless `authorize` is false).
  HttpReply request(const std::string& method, const std::string& target, const std::string& body = {},
                    Headers headers = {}, bool authorize = true) const;
  /// The body of a reply parsed as JSON (null when it is not JSON).
  static nlohmann::json json(const HttpReply& reply);

 private:
  std::filesystem::path log_path_;
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace ferry::test
