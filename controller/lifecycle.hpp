#pragma once
// One instance's life as a state machine: plan -> create -> resolve -> ready
// -> ship -> poll -> fetch -> destroy -> confirm gone -> closed. Pure: the
// caller performs the side effect named by action(), feeds the outcome back
// as an event, and calls check_deadline() as time passes. No sockets, no
// clock of its own, so every transition is unit-tested.
//
// Failover: a create refused because of the offer, or an instance that dies
// or does not come up in time before any job was shipped, moves to the next
// ranked offer (after tearing the dead one down), never on a host that
// already failed, and at most `max_offers_tried` offers in all.

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "providers/provider.hpp"

namespace ferry::controller {

using LifecycleClock = std::chrono::steady_clock;

enum class Stage {
  plan,          ///< choosing the next offer to create on
  create,        ///< the create call is under way
  resolve,       ///< polling get() until running with an endpoint
  ready,         ///< waiting for the agent's /v1/health = READY
  ship,          ///< uploading inputs and submitting jobs
  poll,          ///< following jobs
  fetch,         ///< downloading outputs
  destroy,       ///< destroy() is being called (repeated until it succeeds)
  confirm_gone,  ///< polling get() until the provider says gone
  closed,        ///< nothing more to do; see outcome()
};
std::string_view to_string(Stage stage);

/// How a closed lifecycle ended.
enum class Outcome {
  pending,          ///< not closed yet
  succeeded,        ///< work done, instance confirmed gone
  kept,             ///< work done (or stopped), instance left running on purpose (--keep)
  failed,           ///< the work failed; the instance is confirmed gone (or never existed)
  teardown_failed,  ///< the instance could not be confirmed gone: it may still bill
};
std::string_view to_string(Outcome outcome);

/// How long each waiting stage may last before the lifecycle gives up on it.
struct StageDeadlines {
  std::chrono::seconds create{120};
  std::chrono::seconds resolve{600};       ///< image pull and boot
  std::chrono::seconds ready{600};         ///< agent setup (model downloads)
  std::chrono::seconds destroy{180};       ///< destroy() keeps failing
  std::chrono::seconds confirm_gone{300};  ///< get() keeps saying it exists
};

struct LifecyclePolicy {
  StageDeadlines deadlines;
  /// Offers tried in all (creates refused, instances that died at boot).
  std::size_t max_offers_tried = 5;
  /// `--keep`: after the work (or a stop request) leave the instance up.
  bool keep = false;
};

/// What the caller should do now.
struct Action {
  enum class Kind { create, get_until_running, wait_agent_ready, ship, poll, fetch, destroy, get_until_gone, none };
  Kind kind = Kind::none;
  std::optional<std::size_t> offer_index;  ///< for create: which of the ranked offers
  std::string instance_id;                 ///< for every action on an existing instance
};

class InstanceLifecycle {
 public:
  /// `ranked_offers` best first (rank_offers). With none, the lifecycle
  /// closes at once as failed (no_capacity-style unavailable error).
  InstanceLifecycle(std::string provider, std::vector<providers::Offer> ranked_offers, LifecyclePolicy policy,
                    LifecycleClock::time_point now);

  Stage stage() const { return stage_; }
  Outcome outcome() const { return outcome_; }
  /// Why the lifecycle failed (or, for teardown_failed, why it could not
  /// tear down), naming the provider, the step and what to do.
  const std::optional<Error>& error() const { return error_; }
  /// The current (or last) instance's provider id; empty before a create answered.
  const std::string& instance_id() const { return instance_id_; }
  /// The offer the current instance runs on.
  std::optional<std::size_t> current_offer() const { return current_offer_; }
  std::size_t offers_tried() const { return offers_tried_; }
  /// Hosts (Offer::machine_id, else offer id) that failed; never used again.
  const std::set<std::string>& failed_hosts() const { return failed_hosts_; }
  const std::string& endpoint() const { return endpoint_; }

  Action action() const;

  // Events: what the caller observed. Each is ignored when it does not fit
  // the current stage (a late answer after a deadline moved on).
  void on_created(const std::string& instance_id, LifecycleClock::time_point now);
  void on_create_failed(const Error& error, LifecycleClock::time_point now);
  /// get() answered: running with an endpoint moves on; exited/gone means it
  /// died (destroy, then fail over); anything else keeps waiting.
  void on_instance_state(const providers::InstanceInfo& info, LifecycleClock::time_point now);
  void on_agent_ready(LifecycleClock::time_point now);
  /// The agent reported SETUP_FAILED: the host is bad, fail over.
  void on_agent_setup_failed(const std::string& detail, LifecycleClock::time_point now);
  void on_shipped(LifecycleClock::time_point now);
  void on_jobs_finished(LifecycleClock::time_point now);
  void on_fetched(LifecycleClock::time_point now);
  /// The work itself failed (upload refused, agent unreachable mid-run):
  /// tear down and close as failed. No failover once jobs were shipped.
  void on_work_failed(const Error& error, LifecycleClock::time_point now);
  void on_destroyed(LifecycleClock::time_point now);
  void on_destroy_failed(const Error& error, LifecycleClock::time_point now);
  /// Ctrl-C, SIGTERM, budget or max_duration: stop now (kept with --keep;
  /// an outcome of kept with error() set means stopped or failed, but kept).
  void on_stop_requested(const Error& reason, LifecycleClock::time_point now);

  /// Applies the current stage's deadline: waiting stages fail over or fail,
  /// teardown stages close as teardown_failed.
  void check_deadline(LifecycleClock::time_point now);
  /// When the current stage's deadline passes; nullopt for stages without one.
  std::optional<LifecycleClock::time_point> deadline() const;

 private:
  void enter(Stage stage, LifecycleClock::time_point now);
  /// The next offer not yet tried whose host did not fail, within the bound.
  std::optional<std::size_t> next_offer() const;
  void plan_next(LifecycleClock::time_point now);
  /// The current instance (or offer) is bad: remember its host, and tear
  /// down before trying the next offer.
  void fail_over(const Error& why, LifecycleClock::time_point now);
  /// Destroy the current instance (close at once when there is none).
  /// `honour_keep`: with --keep, close as kept instead.
  void tear_down(bool honour_keep, LifecycleClock::time_point now);
  void close(Outcome outcome, LifecycleClock::time_point now);
  std::string host_of(std::size_t offer_index) const;

  std::string provider_;
  std::vector<providers::Offer> offers_;
  LifecyclePolicy policy_;
  Stage stage_ = Stage::plan;
  Outcome outcome_ = Outcome::pending;
  LifecycleClock::time_point stage_entered_;
  std::optional<Error> error_;
  std::optional<Error> last_teardown_error_;
  std::string instance_id_;
  std::string endpoint_;
  std::optional<std::size_t> current_offer_;
  std::size_t next_candidate_ = 0;
  std::size_t offers_tried_ = 0;
  std::set<std::string> failed_hosts_;
  bool work_done_ = false;     ///< outputs fetched
  bool failing_over_ = false;  ///< after confirm_gone: plan the next offer
  bool stopping_ = false;      ///< a stop was requested: no failover
};

}  // namespace ferry::controller
