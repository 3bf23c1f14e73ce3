// The per-instance state machine, driven by events with a fake clock: the
// happy path, failover (bounded, never the same host twice), deadlines,
// stop requests and --keep.

#include <gtest/gtest.h>

#include "controller/lifecycle.hpp"

namespace ferry::controller {
namespace {

using namespace std::chrono_literals;
using providers::InstanceInfo;
using providers::InstanceState;
using providers::Offer;

const LifecycleClock::time_point t0{};

Offer offer(std::string id, std::string machine = {}) {
  Offer o;
  o.provider = "vast";
  o.id = std::move(id);
  o.machine_id = std::move(machine);
  return o;
}

InstanceInfo state(InstanceState s, std::optional<std::string> endpoint = std::nullopt) {
  InstanceInfo info;
  info.state = s;
  info.endpoint = std::move(endpoint);
  info.detail = "status text";
  return info;
}

Error error(ErrorCode code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field)};
}

Error unavailable_offer() { return error(ErrorCode::unavailable, "vast: create: offer gone", "offer"); }

InstanceLifecycle make(std::vector<Offer> offers, LifecyclePolicy policy = {}) {
  return InstanceLifecycle("vast", std::move(offers), policy, t0);
}

// Drives a lifecycle from create to a running, ready agent.
void bring_up(InstanceLifecycle& life, const std::string& id) {
  life.on_created(id, t0);
  life.on_instance_state(state(InstanceState::running, "http://1.2.3.4:5"), t0);
  life.on_agent_ready(t0);
}

TEST(Lifecycle, HappyPathVisitsEveryStageAndClosesSucceededOnlyWhenGone) {
  auto life = make({offer("a")});
  EXPECT_EQ(life.stage(), Stage::create);
  EXPECT_EQ(life.action().kind, Action::Kind::create);
  EXPECT_EQ(life.action().offer_index, 0u);
  life.on_created("i-1", t0);
  EXPECT_EQ(life.action().kind, Action::Kind::get_until_running);
  life.on_instance_state(state(InstanceState::starting), t0);
  EXPECT_EQ(life.stage(), Stage::resolve) << "starting keeps waiting";
  life.on_instance_state(state(InstanceState::running), t0);
  EXPECT_EQ(life.stage(), Stage::resolve) << "running without an endpoint keeps waiting";
  life.on_instance_state(state(InstanceState::running, "http://1.2.3.4:5"), t0);
  EXPECT_EQ(life.stage(), Stage::ready);
  EXPECT_EQ(life.endpoint(), "http://1.2.3.4:5");
  life.on_agent_ready(t0);
  EXPECT_EQ(life.action().kind, Action::Kind::ship);
  life.on_shipped(t0);
  EXPECT_EQ(life.action().kind, Action::Kind::poll);
  life.on_jobs_finished(t0);
  EXPECT_EQ(life.action().kind, Action::Kind::fetch);
  life.on_fetched(t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);
  EXPECT_EQ(life.action().instance_id, "i-1");
  life.on_destroyed(t0);
  EXPECT_EQ(life.action().kind, Action::Kind::get_until_gone);
  life.on_instance_state(state(InstanceState::stopping), t0);
  EXPECT_EQ(life.stage(), Stage::confirm_gone);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.stage(), Stage::closed);
  EXPECT_EQ(life.outcome(), Outcome::succeeded);
  EXPECT_FALSE(life.error());
}

TEST(Lifecycle, NoOffersClosesAtOnceWithAnErrorSayingWhatToChange) {
  auto life = make({});
  EXPECT_EQ(life.outcome(), Outcome::failed);
  ASSERT_TRUE(life.error());
  EXPECT_NE(life.error()->message.find("vast"), std::string::npos);
  EXPECT_NE(life.error()->message.find("max_price"), std::string::npos);
}

TEST(Lifecycle, UnavailableOfferMovesToTheNextOffer) {
  auto life = make({offer("a"), offer("b")});
  life.on_create_failed(unavailable_offer(), t0);
  EXPECT_EQ(life.stage(), Stage::create);
  EXPECT_EQ(life.action().offer_index, 1u);
  EXPECT_EQ(life.offers_tried(), 2u);
}

TEST(Lifecycle, OtherCreateErrorsStopWithoutTryingMoreOffers) {
  auto life = make({offer("a"), offer("b")});
  life.on_create_failed(error(ErrorCode::unauthenticated, "vast: VAST_API_KEY refused"), t0);
  EXPECT_EQ(life.outcome(), Outcome::failed);
  EXPECT_EQ(life.error()->code, ErrorCode::unauthenticated);
  EXPECT_EQ(life.offers_tried(), 1u);
}

TEST(Lifecycle, InstanceThatExitsAtBootIsDestroyedThenTheNextOfferIsTried) {
  auto life = make({offer("a", "host-1"), offer("b", "host-2")});
  life.on_created("i-1", t0);
  life.on_instance_state(state(InstanceState::exited), t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy) << "the dead instance is torn down first";
  EXPECT_EQ(life.action().instance_id, "i-1");
  life.on_destroyed(t0);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.stage(), Stage::create);
  EXPECT_EQ(life.action().offer_index, 1u);
  EXPECT_TRUE(life.instance_id().empty());
  EXPECT_TRUE(life.failed_hosts().count("machine:host-1"));
}

TEST(Lifecycle, FailoverNeverReturnsToAHostThatFailed) {
  // Two offers on the same physical machine: after it fails, both are skipped.
  auto life = make({offer("a", "host-1"), offer("b", "host-1"), offer("c", "host-2")});
  life.on_created("i-1", t0);
  life.on_instance_state(state(InstanceState::exited), t0);
  life.on_destroyed(t0);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.action().offer_index, 2u);
}

TEST(Lifecycle, FailoverIsBoundedAndTheErrorNamesTheLastFailure) {
  LifecyclePolicy policy;
  policy.max_offers_tried = 2;
  auto life = make({offer("a"), offer("b"), offer("c")}, policy);
  life.on_create_failed(unavailable_offer(), t0);
  life.on_create_failed(unavailable_offer(), t0);
  EXPECT_EQ(life.outcome(), Outcome::failed);
  EXPECT_EQ(life.offers_tried(), 2u);
  ASSERT_TRUE(life.error());
  EXPECT_NE(life.error()->message.find("2 offer(s)"), std::string::npos) << life.error()->message;
  EXPECT_NE(life.error()->message.find("offer gone"), std::string::npos) << life.error()->message;
}

TEST(Lifecycle, ResolveDeadlineFailsOverAfterDestroying) {
  LifecyclePolicy policy;
  policy.deadlines.resolve = 60s;
  auto life = make({offer("a"), offer("b")}, policy);
  life.on_created("i-1", t0);
  life.check_deadline(t0 + 59s);
  EXPECT_EQ(life.stage(), Stage::resolve);
  life.check_deadline(t0 + 60s);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);
  EXPECT_EQ(life.error()->code, ErrorCode::deadline_exceeded);
}

TEST(Lifecycle, AgentSetupFailureFailsOverEvenWithKeep) {
  LifecyclePolicy policy;
  policy.keep = true;
  auto life = make({offer("a"), offer("b")}, policy);
  life.on_created("i-1", t0);
  life.on_instance_state(state(InstanceState::running, "http://x"), t0);
  life.on_agent_setup_failed("CUDA driver too old", t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);
}

TEST(Lifecycle, InstanceDyingWhileJobsRunFailsWithoutFailover) {
  auto life = make({offer("a"), offer("b")});
  bring_up(life, "i-1");
  life.on_shipped(t0);
  life.on_instance_state(state(InstanceState::exited), t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);
  life.on_destroyed(t0);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.outcome(), Outcome::failed);
  EXPECT_EQ(life.offers_tried(), 1u);
}

TEST(Lifecycle, DestroyFailuresAreRetriedUntilTheDeadlineThenTeardownFails) {
  LifecyclePolicy policy;
  policy.deadlines.destroy = 30s;
  auto life = make({offer("a")}, policy);
  bring_up(life, "i-9");
  life.on_work_failed(error(ErrorCode::unavailable, "agent unreachable"), t0);
  life.on_destroy_failed(error(ErrorCode::unavailable, "vast: destroy: HTTP 500"), t0 + 1s);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy) << "a failed destroy is repeated";
  life.check_deadline(t0 + 30s);
  EXPECT_EQ(life.outcome(), Outcome::teardown_failed);
  const std::string& message = life.error()->message;
  EXPECT_NE(message.find("i-9"), std::string::npos) << message;
  EXPECT_NE(message.find("billing"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
}

TEST(Lifecycle, InstanceThatNeverLeavesTheListIsTeardownFailed) {
  LifecyclePolicy policy;
  policy.deadlines.confirm_gone = 10s;
  auto life = make({offer("a")}, policy);
  bring_up(life, "i-2");
  life.on_work_failed(error(ErrorCode::unavailable, "x"), t0);
  life.on_destroyed(t0);
  life.check_deadline(t0 + 10s);
  EXPECT_EQ(life.outcome(), Outcome::teardown_failed);
}

TEST(Lifecycle, StopDuringCreateWaitsForTheAnswerThenDestroys) {
  auto life = make({offer("a"), offer("b")});
  life.on_stop_requested(error(ErrorCode::cancelled, "interrupted"), t0);
  EXPECT_EQ(life.stage(), Stage::create);
  life.on_created("i-3", t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);
  life.on_destroyed(t0);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.outcome(), Outcome::failed);
  EXPECT_EQ(life.error()->code, ErrorCode::cancelled);
  EXPECT_EQ(life.offers_tried(), 1u) << "a stop never fails over";
}

TEST(Lifecycle, StopWhileRunningTearsDownUnlessKept) {
  auto life = make({offer("a")});
  bring_up(life, "i-4");
  life.on_stop_requested(error(ErrorCode::resource_exhausted, "budget"), t0);
  EXPECT_EQ(life.action().kind, Action::Kind::destroy);

  LifecyclePolicy keep;
  keep.keep = true;
  auto kept = make({offer("a")}, keep);
  bring_up(kept, "i-5");
  kept.on_stop_requested(error(ErrorCode::cancelled, "interrupted"), t0);
  EXPECT_EQ(kept.outcome(), Outcome::kept);
  EXPECT_EQ(kept.instance_id(), "i-5");
}

TEST(Lifecycle, StopDuringFailoverTeardownDoesNotStartAnotherInstance) {
  auto life = make({offer("a"), offer("b")});
  life.on_created("i-1", t0);
  life.on_instance_state(state(InstanceState::exited), t0);
  life.on_stop_requested(error(ErrorCode::cancelled, "interrupted"), t0);
  life.on_destroyed(t0);
  life.on_instance_state(state(InstanceState::gone), t0);
  EXPECT_EQ(life.outcome(), Outcome::failed);
}

TEST(Lifecycle, LateEventsForAnotherStageAreIgnored) {
  auto life = make({offer("a")});
  life.on_agent_ready(t0);
  life.on_fetched(t0);
  life.on_destroyed(t0);
  EXPECT_EQ(life.stage(), Stage::create);
}

TEST(Lifecycle, KeepLeavesAFinishedInstanceRunning) {
  LifecyclePolicy policy;
  policy.keep = true;
  auto life = make({offer("a")}, policy);
  bring_up(life, "i-6");
  life.on_shipped(t0);
  life.on_jobs_finished(t0);
  life.on_fetched(t0);
  EXPECT_EQ(life.outcome(), Outcome::kept);
  EXPECT_FALSE(life.error());
}

}  // namespace
}  // namespace ferry::controller
