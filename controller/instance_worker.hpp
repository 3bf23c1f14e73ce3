#pragma once
// One instance of a run, driven in short steps so that a few threads can
// drive many instances: bring it up (InstanceDriver), then take jobs from the
// SharedRun, upload their inputs, submit them, follow them and bring their
// outputs home, then tear it down. The same code runs the `local` agent and
// every cloud. When the instance is lost mid-run its unfinished jobs go back
// to the board for the other instances.

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/agent_client.hpp"
#include "controller/instance_driver.hpp"
#include "controller/shared_run.hpp"
#include "controller/state_store.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct WorkerOptions {
  std::string agent_token;
  std::filesystem::path output_dir;
  /// Pause between rounds of job polls (and of provider polls, via the request).
  std::chrono::milliseconds poll_interval{1000};
  /// Long-poll the agent (a thread waits up to a second on it): only when
  /// there are as many threads as instances.
  bool long_poll = false;
};

class InstanceWorker {
 public:
  /// `request` is completed here (agent health, stop reason, messages and
  /// billing go through the worker and `shared`).
  InstanceWorker(std::size_t index, SharedRun& shared, std::unique_ptr<providers::Provider> provider,
                 StateStore store, InstanceRequest request, WorkerOptions options);

  /// One bounded step; the wait before the next, or nullopt when the
  /// instance is closed (torn down, kept, or never started).
  std::optional<std::chrono::milliseconds> step();

  const InstanceDriver& driver() const { return *driver_; }
  /// Whether the agent became READY at some point.
  bool came_up() const { return came_up_; }
  /// Why the instance was lost while it ran jobs, if it was.
  const std::optional<Error>& lost() const { return lost_; }
  const std::string& provider_name() const { return provider_name_; }

 private:
  enum class Phase { bringing_up, working, tearing_down, closed };
  struct InFlight {
    JobTicket ticket;
    bool submitted = false;
    bool finished = false;
    /// What the last answer said (state, stage, fraction): a long poll that
    /// brings something new is followed at once by the next one.
    std::string last_seen;
  };

  std::optional<std::chrono::milliseconds> work();
  /// Uploads the job's input when this agent lacks it, then submits.
  Status send(InFlight& job);
  void settle(InFlight& job, const AgentJob& latest);
  /// An agent call failed: decides between the job's failure, a retry on
  /// the next step, and losing the instance. True when the phase changed.
  bool on_agent_error(const Error& error, InFlight& job);
  void lose_instance(const Error& why);
  void stop_jobs(const Error& reason);
  Result<std::string> agent_health(const std::string& endpoint);
  void say(const std::string& text) { shared_.say(text); }

  std::size_t index_;
  SharedRun& shared_;
  std::unique_ptr<providers::Provider> provider_;
  std::string provider_name_;
  StateStore store_;
  WorkerOptions options_;
  std::unique_ptr<InstanceDriver> driver_;
  std::unique_ptr<AgentClient> agent_;
  Phase phase_ = Phase::bringing_up;
  bool came_up_ = false;
  std::optional<Error> lost_;
  std::vector<InFlight> in_flight_;
  std::set<std::filesystem::path> uploaded_;
  int agent_failures_ = 0;  ///< consecutive failed calls while the instance looked alive
};

}  // namespace ferry::controller
