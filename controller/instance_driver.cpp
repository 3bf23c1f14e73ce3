#include "controller/instance_driver.hpp"

#include <thread>

#include <fmt/format.h>

namespace ferry::controller {
namespace {

LifecycleClock::time_point now() { return LifecycleClock::now(); }

}  // namespace

InstanceDriver::InstanceDriver(providers::Provider& provider, StateStore& store, InstanceRequest request)
    : provider_(provider),
      store_(store),
      request_(std::move(request)),
      lifecycle_(provider.name(), request_.ranked_offers, request_.policy, now()) {}

const providers::Offer* InstanceDriver::offer() const {
  auto index = lifecycle_.current_offer();
  return index ? &request_.ranked_offers[*index] : nullptr;
}

void InstanceDriver::say(const std::string& text) {
  if (request_.say) request_.say(text);
}

void InstanceDriver::record_state(const std::string& state) {
  if (row_ == 0) return;
  if (auto saved = store_.set_instance_state(row_, state, lifecycle_.endpoint()); !saved)
    say("warning: " + saved.error().describe());
}

void InstanceDriver::record_saved(const Status& saved) {
  if (!saved) say("warning: " + saved.error().describe());
}

Status InstanceDriver::bring_up() {
  drive_until(Stage::ship);
  if (lifecycle_.stage() == Stage::ship) return {};
  if (lifecycle_.error()) return fail(*lifecycle_.error());
  return fail(ErrorCode::internal, provider_.name() + ": the instance closed before it was ready");
}

void InstanceDriver::work_done() {
  auto at = now();
  lifecycle_.on_shipped(at);
  lifecycle_.on_jobs_finished(at);
  Stage before = lifecycle_.stage();
  std::string instance = lifecycle_.instance_id();
  lifecycle_.on_fetched(at);
  record_transition(before, instance);
}

void InstanceDriver::work_failed(const Error& error) {
  Stage before = lifecycle_.stage();
  std::string instance = lifecycle_.instance_id();
  lifecycle_.on_work_failed(error, now());
  record_transition(before, instance);
}

Status InstanceDriver::tear_down() {
  drive_until(Stage::closed);
  if (lifecycle_.outcome() != Outcome::teardown_failed) return {};
  return fail(*lifecycle_.error());
}

void InstanceDriver::request_stop(const Error& reason) {
  if (stop_seen_) return;
  stop_seen_ = true;
  Stage before = lifecycle_.stage();
  std::string instance = lifecycle_.instance_id();
  say(provider_.name() + ": stopping: " + reason.message);
  lifecycle_.on_stop_requested(reason, now());
  record_transition(before, instance);
}

void InstanceDriver::drive_until(Stage until) {
  while (auto wait = step(until))
    if (wait->count() > 0) std::this_thread::sleep_for(*wait);
}

std::optional<std::chrono::milliseconds> InstanceDriver::step(Stage until) {
  using std::chrono::milliseconds;
  if (lifecycle_.stage() == until || lifecycle_.stage() == Stage::closed) return std::nullopt;
  if (!stop_seen_ && request_.stop_reason) {
    if (auto reason = request_.stop_reason()) {
      request_stop(*reason);
      return milliseconds(0);
    }
  }
  Stage before = lifecycle_.stage();
  std::string instance = lifecycle_.instance_id();
  lifecycle_.check_deadline(now());
  if (lifecycle_.stage() != before) {
    record_transition(before, instance);
    return milliseconds(0);
  }
  milliseconds wait(0);
  switch (lifecycle_.action().kind) {
    case Action::Kind::create: wait = perform_create(); break;
    case Action::Kind::get_until_running:
    case Action::Kind::get_until_gone: wait = poll_instance(); break;
    case Action::Kind::wait_agent_ready: wait = poll_agent(); break;
    case Action::Kind::destroy: wait = perform_destroy(); break;
    default: return std::nullopt;  // ship, poll, fetch: the caller's work
  }
  record_transition(before, instance);
  return wait;
}

void InstanceDriver::record_transition(Stage from, const std::string& previous_instance) {
  Stage to = lifecycle_.stage();
  if (to == from) return;
  if (to == Stage::ship) {
    record_state("running");
    if (row_ != 0) record_saved(store_.set_instance_ready(row_));
  }
  if (to == Stage::destroy) record_state("stopping");
  if (from == Stage::confirm_gone && lifecycle_.outcome() != Outcome::teardown_failed) {
    record_state("destroyed");
    if (billing_ == previous_instance && request_.on_billing_stopped) request_.on_billing_stopped(previous_instance);
    billing_.clear();
    say(fmt::format("{}: instance {} is gone", provider_.name(), previous_instance));
  }
  if (to == Stage::closed && lifecycle_.outcome() == Outcome::teardown_failed) record_state("destroy_failed");
  if (to == Stage::closed && lifecycle_.outcome() == Outcome::kept) record_state("kept");
  if (to == Stage::create && from != Stage::create && lifecycle_.error())
    say(lifecycle_.error()->message + "; trying the next offer");
}

std::chrono::milliseconds InstanceDriver::perform_create() {
  const providers::Offer& offer = request_.ranked_offers[*lifecycle_.action().offer_index];
  say(fmt::format("{}: creating an instance on offer {} ({}, ${:.3f}/h)", provider_.name(), offer.id,
                  offer.gpu_name.empty() ? "cpu" : offer.gpu_name, offer.price_per_hour));
  // The intent is on disk before the create call, its id right after: a
  // crash in between leaves a record `ferry gc` can act on.
  auto row = store_.record_intended_instance(request_.run_id, provider_.name(), offer.price_per_hour);
  if (!row) {
    lifecycle_.on_create_failed(row.error(), now());
    return std::chrono::milliseconds(0);
  }
  row_ = *row;
  auto created = provider_.create(offer, request_.launch);
  if (!created) {
    record_state("create_failed");
    if (providers::is_offer_unavailable(created.error()))
      say(created.error().message + "; trying the next offer");
    lifecycle_.on_create_failed(created.error(), now());
    return std::chrono::milliseconds(0);
  }
  record_saved(store_.set_instance_created(row_, *created));
  billing_ = *created;
  if (request_.on_billing_started) request_.on_billing_started(*created, offer);
  lifecycle_.on_created(*created, now());
  return std::chrono::milliseconds(0);
}

std::chrono::milliseconds InstanceDriver::poll_instance() {
  Stage before = lifecycle_.stage();
  auto info = provider_.get(lifecycle_.instance_id());
  // A failed get is retried until the stage's deadline: the API may be
  // briefly unreachable while the instance is fine.
  if (info) lifecycle_.on_instance_state(*info, now());
  return lifecycle_.stage() == before ? request_.poll_interval : std::chrono::milliseconds(0);
}

std::chrono::milliseconds InstanceDriver::poll_agent() {
  auto health = request_.agent_health ? request_.agent_health(lifecycle_.endpoint())
                                      : Result<std::string>(std::string("READY"));
  if (health && (*health == "READY" || *health == "BUSY")) {
    lifecycle_.on_agent_ready(now());
    return std::chrono::milliseconds(0);
  }
  if (health && *health == "SETUP_FAILED") {
    lifecycle_.on_agent_setup_failed("the agent reports SETUP_FAILED", now());
    return std::chrono::milliseconds(0);
  }
  // Not ready yet: make sure the machine itself is still there.
  Stage before = lifecycle_.stage();
  if (auto info = provider_.get(lifecycle_.instance_id())) lifecycle_.on_instance_state(*info, now());
  return lifecycle_.stage() == before ? request_.poll_interval : std::chrono::milliseconds(0);
}

std::chrono::milliseconds InstanceDriver::perform_destroy() {
  auto destroyed = provider_.destroy(lifecycle_.instance_id());
  if (destroyed) {
    // Billing stops here, not when the instance is confirmed gone.
    if (row_ != 0) record_saved(store_.set_instance_destroy_accepted(row_));
    lifecycle_.on_destroyed(now());
    return std::chrono::milliseconds(0);
  }
  say(fmt::format("{}: destroy instance {} failed ({}); trying again", provider_.name(), lifecycle_.instance_id(),
                  destroyed.error().message));
  lifecycle_.on_destroy_failed(destroyed.error(), now());
  return request_.poll_interval;
}

}  // namespace ferry::controller
