#pragma once
// Drives one InstanceLifecycle against a real Provider: performs the action
// the state machine names (create, poll get, wait for the agent, destroy,
// confirm gone), feeds the answers back, and records every step in the
// state store BEFORE the side effect (the intended instance before create,
// the provider id right after). The jobs themselves (ship, poll, fetch) stay
// with the caller, between bring_up() and tear_down().

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/lifecycle.hpp"
#include "controller/state_store.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

struct InstanceRequest {
  std::string run_id;
  std::vector<providers::Offer> ranked_offers;  ///< best first
  providers::LaunchSpec launch;                 ///< label, image, env (token, FERRY_IDLE_TIMEOUT, FERRY_DEADLINE)
  LifecyclePolicy policy;
  /// Pause between polls of get() and of the agent's health.
  std::chrono::milliseconds poll_interval{std::chrono::milliseconds(500)};
  /// The agent's /v1/health status at an endpoint ("READY", "STARTING",
  /// "SETUP_FAILED", ...); an error while it does not answer yet.
  std::function<Result<std::string>(const std::string& endpoint)> agent_health;
  /// Why the run must stop now (Ctrl-C, SIGTERM, budget, max_duration), or
  /// nullopt to go on. Asked between steps.
  std::function<std::optional<Error>()> stop_reason;
  /// Progress lines for the user.
  std::function<void(const std::string&)> say;
  /// Billing hooks: the provider answered a create on `offer` with `instance_id`;
  /// the instance is confirmed gone. For the run's spend so far.
  std::function<void(const std::string& instance_id, const providers::Offer& offer)> on_billing_started;
  std::function<void(const std::string& instance_id)> on_billing_stopped;
};

class InstanceDriver {
 public:
  InstanceDriver(providers::Provider& provider, StateStore& store, InstanceRequest request);

  /// Creates (failing over as the lifecycle decides), waits until the
  /// instance runs with an endpoint and the agent is READY. On failure the
  /// lifecycle has already torn down whatever it started; when
  /// teardown_failed() the error says what may still be billing (exit 7).
  Status bring_up();
  /// The jobs ran and the outputs are home: tear down (or keep).
  void work_done();
  /// The work failed: tear down (or keep) and remember why.
  void work_failed(const Error& error);
  /// Stop now (Ctrl-C, budget, max_duration): tear down (or keep) whatever
  /// the stage. Later stop reasons are not asked for again.
  void request_stop(const Error& reason);
  /// One bounded step towards `until` (Stage::ship for bring-up,
  /// Stage::closed for teardown): performs at most one provider or agent
  /// call and returns how long to wait before the next step, or nullopt
  /// once the lifecycle is at `until` or closed. Lets a scheduler drive many
  /// instances on a few threads; bring_up() and tear_down() loop over it.
  std::optional<std::chrono::milliseconds> step(Stage until);
  /// Runs the teardown the lifecycle asks for until it closes. ok for
  /// succeeded, kept and failed-but-gone; unavailable (exit 7 material) when
  /// the instance may still be billing.
  Status tear_down();

  const InstanceLifecycle& lifecycle() const { return lifecycle_; }
  const std::string& endpoint() const { return lifecycle_.endpoint(); }
  const std::string& instance_id() const { return lifecycle_.instance_id(); }
  bool teardown_failed() const { return lifecycle_.outcome() == Outcome::teardown_failed; }
  /// The offer the instance runs on (for the price).
  const providers::Offer* offer() const;
  /// The state store row of the current instance (0 before the first create).
  std::int64_t record_row() const { return row_; }

 private:
  /// Performs steps (sleeping between them) until `until` or closed.
  void drive_until(Stage until);
  // Each performs one action and returns the wait before the next step.
  std::chrono::milliseconds perform_create();
  std::chrono::milliseconds poll_instance();
  std::chrono::milliseconds poll_agent();
  std::chrono::milliseconds perform_destroy();
  /// Keeps the state store in step with the lifecycle after each action.
  void record_transition(Stage from, const std::string& previous_instance);
  void record_state(const std::string& state);
  /// Warns when a state store write failed: the run goes on without it.
  void record_saved(const Status& saved);
  void say(const std::string& text);

  providers::Provider& provider_;
  StateStore& store_;
  InstanceRequest request_;
  InstanceLifecycle lifecycle_;
  std::int64_t row_ = 0;  ///< state store row of the current instance
  bool stop_seen_ = false;
  std::string billing_;   ///< the instance whose billing was reported started and not yet stopped
};

}  // namespace ferry::controller
