#include "controller/lifecycle.hpp"

#include <utility>

namespace ferry::controller {

namespace {

// Most lifecycle errors concern no single manifest field.
Error lifecycle_error(ErrorCode code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field)};
}

}  // namespace

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::plan: return "plan";
    case Stage::create: return "create";
    case Stage::resolve: return "resolve";
    case Stage::ready: return "ready";
    case Stage::ship: return "ship";
    case Stage::poll: return "poll";
    case Stage::fetch: return "fetch";
    case Stage::destroy: return "destroy";
    case Stage::confirm_gone: return "confirm_gone";
    case Stage::closed: return "closed";
  }
  return "unknown";
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::pending: return "pending";
    case Outcome::succeeded: return "succeeded";
    case Outcome::kept: return "kept";
    case Outcome::failed: return "failed";
    case Outcome::teardown_failed: return "teardown_failed";
  }
  return "unknown";
}

InstanceLifecycle::InstanceLifecycle(std::string provider, std::vector<providers::Offer> ranked_offers,
                                     LifecyclePolicy policy, LifecycleClock::time_point now)
    : provider_(std::move(provider)), offers_(std::move(ranked_offers)), policy_(policy), stage_entered_(now) {
  if (offers_.empty()) {
    error_ = lifecycle_error(ErrorCode::unavailable,
                   provider_ + ": plan: no offer matches the manifest's resources; widen `resources`, "
                               "raise `max_price` or try another provider (`ferry offers --provider NAME`)",
                   "resources");
    close(Outcome::failed, now);
    return;
  }
  plan_next(now);
}

Action InstanceLifecycle::action() const {
  Action action;
  action.instance_id = instance_id_;
  switch (stage_) {
    case Stage::create:
      action.kind = Action::Kind::create;
      action.offer_index = current_offer_;
      break;
    case Stage::resolve: action.kind = Action::Kind::get_until_running; break;
    case Stage::ready: action.kind = Action::Kind::wait_agent_ready; break;
    case Stage::ship: action.kind = Action::Kind::ship; break;
    case Stage::poll: action.kind = Action::Kind::poll; break;
    case Stage::fetch: action.kind = Action::Kind::fetch; break;
    case Stage::destroy: action.kind = Action::Kind::destroy; break;
    case Stage::confirm_gone: action.kind = Action::Kind::get_until_gone; break;
    case Stage::plan:
    case Stage::closed: action.kind = Action::Kind::none; break;
  }
  return action;
}

void InstanceLifecycle::on_created(const std::string& instance_id, LifecycleClock::time_point now) {
  if (stage_ != Stage::create) return;
  instance_id_ = instance_id;
  if (stopping_) {
    tear_down(true, now);
    return;
  }
  enter(Stage::resolve, now);
}

void InstanceLifecycle::on_create_failed(const Error& error, LifecycleClock::time_point now) {
  if (stage_ != Stage::create) return;
  if (stopping_) {
    close(Outcome::failed, now);
    return;
  }
  if (providers::is_offer_unavailable(error)) {
    failed_hosts_.insert(host_of(*current_offer_));
    error_ = error;
    plan_next(now);
    return;
  }
  error_ = error;
  close(Outcome::failed, now);
}

void InstanceLifecycle::on_instance_state(const providers::InstanceInfo& info, LifecycleClock::time_point now) {
  using providers::InstanceState;
  const bool dead = info.state == InstanceState::exited || info.state == InstanceState::gone ||
                    info.state == InstanceState::stopping;
  std::string detail = info.detail.empty() ? std::string() : " (" + info.detail + ")";
  switch (stage_) {
    case Stage::resolve:
      if (info.state == InstanceState::running && info.endpoint) {
        endpoint_ = *info.endpoint;
        enter(Stage::ready, now);
      } else if (dead) {
        fail_over(lifecycle_error(ErrorCode::unavailable,
                        provider_ + ": start instance " + instance_id_ + ": it stopped before it ran" + detail),
                  now);
      }
      return;
    case Stage::ready:
      if (dead)
        fail_over(lifecycle_error(ErrorCode::unavailable,
                        provider_ + ": start agent on " + instance_id_ + ": the instance stopped" + detail),
                  now);
      return;
    case Stage::ship:
    case Stage::poll:
    case Stage::fetch:
      if (dead)
        on_work_failed(lifecycle_error(ErrorCode::unavailable,
                             provider_ + ": instance " + instance_id_ + " stopped while jobs ran" + detail +
                                 "; run again to redo the unfinished jobs"),
                       now);
      return;
    case Stage::confirm_gone:
      if (info.state != InstanceState::gone) return;
      if (failing_over_ && !stopping_) {
        failing_over_ = false;
        plan_next(now);
      } else {
        close(work_done_ ? Outcome::succeeded : Outcome::failed, now);
      }
      return;
    default: return;
  }
}

void InstanceLifecycle::on_agent_ready(LifecycleClock::time_point now) {
  if (stage_ == Stage::ready) enter(Stage::ship, now);
}

void InstanceLifecycle::on_agent_setup_failed(const std::string& detail, LifecycleClock::time_point now) {
  if (stage_ != Stage::ready) return;
  fail_over(lifecycle_error(ErrorCode::unavailable,
                  provider_ + ": start agent on " + instance_id_ + ": setup failed: " + detail), now);
}

void InstanceLifecycle::on_shipped(LifecycleClock::time_point now) {
  if (stage_ == Stage::ship) enter(Stage::poll, now);
}

void InstanceLifecycle::on_jobs_finished(LifecycleClock::time_point now) {
  if (stage_ == Stage::poll) enter(Stage::fetch, now);
}

void InstanceLifecycle::on_fetched(LifecycleClock::time_point now) {
  if (stage_ != Stage::fetch) return;
  work_done_ = true;
  tear_down(true, now);
}

void InstanceLifecycle::on_work_failed(const Error& error, LifecycleClock::time_point now) {
  if (stage_ != Stage::ready && stage_ != Stage::ship && stage_ != Stage::poll && stage_ != Stage::fetch) return;
  error_ = error;
  tear_down(true, now);
}

void InstanceLifecycle::on_destroyed(LifecycleClock::time_point now) {
  if (stage_ == Stage::destroy) enter(Stage::confirm_gone, now);
}

void InstanceLifecycle::on_destroy_failed(const Error& error, LifecycleClock::time_point) {
  // Stay in destroy: the caller repeats with backoff until the deadline.
  if (stage_ == Stage::destroy) last_teardown_error_ = error;
}

void InstanceLifecycle::on_stop_requested(const Error& reason, LifecycleClock::time_point now) {
  if (stage_ == Stage::closed || stopping_) return;
  stopping_ = true;
  failing_over_ = false;
  if (!work_done_) error_ = reason;
  switch (stage_) {
    case Stage::create:  // wait for the answer: an instance may be on its way
    case Stage::destroy:
    case Stage::confirm_gone: return;
    case Stage::plan: close(Outcome::failed, now); return;
    default: tear_down(true, now); return;
  }
}

std::optional<LifecycleClock::time_point> InstanceLifecycle::deadline() const {
  const StageDeadlines& limits = policy_.deadlines;
  switch (stage_) {
    case Stage::create: return stage_entered_ + limits.create;
    case Stage::resolve: return stage_entered_ + limits.resolve;
    case Stage::ready: return stage_entered_ + limits.ready;
    case Stage::destroy: return stage_entered_ + limits.destroy;
    case Stage::confirm_gone: return stage_entered_ + limits.confirm_gone;
    default: return std::nullopt;
  }
}

void InstanceLifecycle::check_deadline(LifecycleClock::time_point now) {
  auto limit = deadline();
  if (!limit || now < *limit) return;
  auto seconds = [](std::chrono::seconds s) { return std::to_string(s.count()) + " s"; };
  const StageDeadlines& limits = policy_.deadlines;
  switch (stage_) {
    case Stage::create:
      // The create may still happen at the provider: say how to find it.
      error_ = lifecycle_error(ErrorCode::deadline_exceeded,
                     provider_ + ": create: no answer within " + seconds(limits.create) +
                         "; an instance may have been made anyway: run `ferry gc` to find and remove it");
      close(Outcome::failed, now);
      return;
    case Stage::resolve:
      fail_over(lifecycle_error(ErrorCode::deadline_exceeded, provider_ + ": start instance " + instance_id_ +
                                                        ": not running with a reachable port within " +
                                                        seconds(limits.resolve)),
                now);
      return;
    case Stage::ready:
      fail_over(lifecycle_error(ErrorCode::deadline_exceeded, provider_ + ": start agent on " + instance_id_ +
                                                        ": not ready within " + seconds(limits.ready)),
                now);
      return;
    case Stage::destroy:
    case Stage::confirm_gone: {
      std::string why = last_teardown_error_ ? last_teardown_error_->message
                                             : "still listed after " + seconds(stage_ == Stage::destroy
                                                                                   ? limits.destroy
                                                                                   : limits.confirm_gone);
      // `why` is the provider's own error, which names the step already.
      error_ = lifecycle_error(ErrorCode::unavailable,
                     why + "; instance " + instance_id_ + " may still be billing: run `ferry down RUN` later or "
                           "remove it in the " + provider_ + " console");
      close(Outcome::teardown_failed, now);
      return;
    }
    default: return;
  }
}

void InstanceLifecycle::enter(Stage stage, LifecycleClock::time_point now) {
  stage_ = stage;
  stage_entered_ = now;
}

std::string InstanceLifecycle::host_of(std::size_t offer_index) const {
  const providers::Offer& offer = offers_[offer_index];
  return offer.machine_id.empty() ? "offer:" + offer.id : "machine:" + offer.machine_id;
}

std::optional<std::size_t> InstanceLifecycle::next_offer() const {
  if (offers_tried_ >= policy_.max_offers_tried) return std::nullopt;
  for (std::size_t i = next_candidate_; i < offers_.size(); ++i)
    if (!failed_hosts_.count(host_of(i))) return i;
  return std::nullopt;
}

void InstanceLifecycle::plan_next(LifecycleClock::time_point now) {
  enter(Stage::plan, now);
  instance_id_.clear();
  endpoint_.clear();
  auto index = next_offer();
  if (!index) {
    std::string last = error_ ? "; the last failure: " + error_->message : std::string();
    error_ = lifecycle_error(ErrorCode::unavailable,
                   provider_ + ": create: no machine could be started after trying " +
                       std::to_string(offers_tried_) + " offer(s)" + last +
                       ". Try again later, widen `resources`, raise `max_price` or use another provider",
                   "offer");
    close(Outcome::failed, now);
    return;
  }
  current_offer_ = *index;
  next_candidate_ = *index + 1;
  ++offers_tried_;
  enter(Stage::create, now);
}

void InstanceLifecycle::fail_over(const Error& why, LifecycleClock::time_point now) {
  failed_hosts_.insert(host_of(*current_offer_));
  error_ = why;
  failing_over_ = true;
  // A broken instance is destroyed even with --keep: nothing on it is worth keeping.
  tear_down(false, now);
}

void InstanceLifecycle::tear_down(bool honour_keep, LifecycleClock::time_point now) {
  if (honour_keep && policy_.keep) {
    close(Outcome::kept, now);
    return;
  }
  if (instance_id_.empty()) {
    close(work_done_ ? Outcome::succeeded : Outcome::failed, now);
    return;
  }
  last_teardown_error_.reset();
  enter(Stage::destroy, now);
}

void InstanceLifecycle::close(Outcome outcome, LifecycleClock::time_point now) {
  outcome_ = outcome;
  enter(Stage::closed, now);
}

}  // namespace ferry::controller
