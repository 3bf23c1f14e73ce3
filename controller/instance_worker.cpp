#include "controller/instance_worker.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config/job_spec.hpp"
#include "config/units.hpp"
#include "controller/outputs.hpp"

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Agent calls that failed without an answer (connection refused, timeout,
// a proxy's 5xx): the agent or its machine may be gone. Anything else is the
// agent refusing one job.
bool is_connectivity_error(const Error& error) {
  return error.code == ErrorCode::unavailable || error.code == ErrorCode::deadline_exceeded;
}

// Failed calls in a row, with the machine still listed as running, before
// the agent counts as lost (AgentClient already retries each call).
constexpr int kAgentFailuresBeforeLost = 3;
// Keeps a round of long polls from spinning when an agent answers at once
// without news (an agent that does not long-poll). A long poll that brings
// news needs no pause: the agent spaces its own progress notices.
constexpr milliseconds kLongPollRoundFloor{250};

// What a long poll may have changed, to tell news from an early answer.
std::string job_news(const AgentJob& job) {
  return job.state + '/' + job.stage + '/' + (job.fraction ? std::to_string(*job.fraction) : std::string());
}

}  // namespace

InstanceWorker::InstanceWorker(std::size_t index, SharedRun& shared, std::unique_ptr<providers::Provider> provider,
                               StateStore store, InstanceRequest request, WorkerOptions options)
    : index_(index),
      shared_(shared),
      provider_(std::move(provider)),
      provider_name_(provider_->name()),
      store_(std::move(store)),
      options_(std::move(options)) {
  request.agent_health = [this](const std::string& endpoint) { return agent_health(endpoint); };
  request.stop_reason = [this] { return shared_.stop_reason(); };
  request.say = [this](const std::string& text) { say(text); };
  request.on_billing_started = [this](const std::string& id, const providers::Offer& offer) {
    shared_.billing_started(id, offer.price_per_hour);
  };
  request.on_billing_stopped = [this](const std::string& id) { shared_.billing_stopped(id); };
  driver_ = std::make_unique<InstanceDriver>(*provider_, store_, std::move(request));
}

Result<std::string> InstanceWorker::agent_health(const std::string& endpoint) {
  if (!agent_ || agent_->endpoint() != endpoint)
    agent_ = std::make_unique<AgentClient>(endpoint, options_.agent_token, [this] { return shared_.stopping(); });
  return agent_->health();
}

std::optional<milliseconds> InstanceWorker::step() {
  switch (phase_) {
    case Phase::bringing_up: {
      if (auto wait = driver_->step(Stage::ship)) return wait;
      if (driver_->lifecycle().stage() == Stage::ship) {
        came_up_ = true;
        phase_ = Phase::working;
        shared_.instance_up();
        // The endpoint may have changed with a failover since the last health check.
        if (!agent_ || agent_->endpoint() != driver_->endpoint())
          agent_ = std::make_unique<AgentClient>(driver_->endpoint(), options_.agent_token,
                                                 [this] { return shared_.stopping(); });
        say(fmt::format("{}: instance {} is ready at {}", provider_name_, driver_->instance_id(),
                        driver_->endpoint()));
        return milliseconds(0);
      }
      // Closed without coming up; the lifecycle tore down what it started.
      shared_.instance_not_started();
      phase_ = Phase::closed;
      return std::nullopt;
    }
    case Phase::working: return work();
    case Phase::tearing_down: {
      if (auto wait = driver_->step(Stage::closed)) return wait;
      phase_ = Phase::closed;
      return std::nullopt;
    }
    case Phase::closed: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<milliseconds> InstanceWorker::work() {
  if (auto reason = shared_.stop_reason()) {
    stop_jobs(*reason);
    return milliseconds(0);
  }
  while (in_flight_.size() < shared_.capacity()) {
    auto ticket = shared_.take_job(index_);
    if (!ticket) break;
    in_flight_.push_back(InFlight{*ticket, false, false, {}});
    if (auto sent = send(in_flight_.back()); !sent && on_agent_error(sent.error(), in_flight_.back()))
      return milliseconds(0);
  }
  std::erase_if(in_flight_, [](const InFlight& job) { return job.finished; });
  if (in_flight_.empty()) {
    // Stay while some job may still come this way (awaiting an earlier
    // entry, or given back by a lost instance).
    if (shared_.has_unassigned_work()) return options_.poll_interval;
    shared_.instance_leaves();
    driver_->work_done();
    phase_ = Phase::tearing_down;
    return milliseconds(0);
  }

  const auto round_started = Clock::now();
  bool waited = false;
  bool news = false;
  for (auto& job : in_flight_) {
    if (job.finished) continue;
    if (!job.submitted) {
      // A send that failed on the connection: try it again.
      if (auto sent = send(job); !sent) {
        if (on_agent_error(sent.error(), job)) return milliseconds(0);
        continue;
      }
    }
    // The oldest job is most likely the running one: wait on it, look at the others.
    const bool waits_here = options_.long_poll && !waited;
    waited = true;
    auto latest = agent_->get_job(job.ticket.agent_id, waits_here ? 1 : 0);
    if (!latest) {
      if (on_agent_error(latest.error(), job)) return milliseconds(0);
      continue;
    }
    agent_failures_ = 0;
    if (waits_here) {
      auto seen = job_news(*latest);
      news = seen != job.last_seen;
      job.last_seen = std::move(seen);
    }
    if (latest->finished())
      settle(job, *latest);
    else
      shared_.job_progress(job.ticket.index, *latest);
    if (phase_ != Phase::working) return milliseconds(0);
  }
  std::erase_if(in_flight_, [](const InFlight& job) { return job.finished; });
  if (!options_.long_poll) return options_.poll_interval;
  if (news) return milliseconds(0);
  auto spent = std::chrono::duration_cast<milliseconds>(Clock::now() - round_started);
  return std::max(milliseconds(0), kLongPollRoundFloor - spent);
}

Status InstanceWorker::send(InFlight& job) {
  const PlannedJob& plan = *job.ticket.plan;
  config::JobSpec spec;
  spec.params = plan.params;
  if (!plan.input.generated) {
    config::InputRef input;
    input.name = plan.input.name;
    if (plan.input.is_url) {
      input.url = plan.input.url;
    } else {
      auto digest = shared_.input_digest(plan.input.file);
      if (!digest) return fail(digest.error());
      if (!uploaded_.contains(plan.input.file)) {
        std::error_code error;
        auto size = std::filesystem::file_size(plan.input.file, error);
        say(fmt::format("Uploading {} ({}) to {}", plan.input.file.string(), config::format_size(error ? 0 : size),
                        driver_->instance_id()));
        auto receipt = agent_->upload(plan.input.file, *digest);
        if (!receipt) return fail(receipt.error());
        uploaded_.insert(plan.input.file);
      }
      input.upload_sha256 = *digest;
    }
    spec.inputs.push_back(std::move(input));
  }
  shared_.job_submitted(job.ticket.index, driver_->record_row());
  auto accepted = agent_->put_job(job.ticket.agent_id, config::job_spec_to_json(spec));
  if (!accepted) return fail(accepted.error());
  job.submitted = true;
  job.last_seen = job_news(*accepted);
  agent_failures_ = 0;
  shared_.job_progress(job.ticket.index, *accepted);
  return {};
}

void InstanceWorker::settle(InFlight& job, const AgentJob& latest) {
  shared_.job_finished_on_agent(job.ticket.index, latest);
  if (latest.state != "succeeded") {
    std::string message = latest.error ? latest.error->describe() : "the agent gave no reason";
    shared_.job_progress(job.ticket.index, latest);
    shared_.job_ended(job.ticket.index, latest.state, message);
    job.finished = true;
    return;
  }
  shared_.job_state(job.ticket.index, "downloading");
  auto fetched = fetch_outputs(*agent_, job.ticket.agent_id, latest, *job.ticket.plan, options_.output_dir);
  if (!fetched) {
    if (fetched.error().code == ErrorCode::cancelled || is_connectivity_error(fetched.error())) {
      on_agent_error(fetched.error(), job);
      return;
    }
    shared_.job_ended(job.ticket.index, "failed", fetched.error().describe());
    job.finished = true;
    return;
  }
  shared_.job_succeeded(job.ticket.index, latest, std::move(*fetched));
  job.finished = true;
}

bool InstanceWorker::on_agent_error(const Error& error, InFlight& job) {
  if (error.code == ErrorCode::cancelled || shared_.stopping()) {
    stop_jobs(shared_.stop_reason().value_or(error));
    return true;
  }
  if (!is_connectivity_error(error)) {
    shared_.job_ended(job.ticket.index, "failed", error.describe());
    job.finished = true;
    return false;
  }
  // No answer from the agent: is its machine still there?
  auto info = provider_->get(driver_->instance_id());
  using providers::InstanceState;
  bool dead = info && (info->state == InstanceState::exited || info->state == InstanceState::gone ||
                       info->state == InstanceState::stopping);
  if (dead) {
    std::string detail = info->detail.empty() ? std::string() : " (" + info->detail + ")";
    lose_instance(Error{ErrorCode::unavailable,
                        provider_name_ + ": instance " + driver_->instance_id() + " stopped while jobs ran" + detail,
                        {}});
    return true;
  }
  if (++agent_failures_ >= kAgentFailuresBeforeLost) {
    lose_instance(Error{ErrorCode::unavailable,
                        provider_name_ + ": the agent on instance " + driver_->instance_id() + " at " +
                            driver_->endpoint() + " stopped answering: " + error.message,
                        {}});
    return true;
  }
  return false;
}

void InstanceWorker::lose_instance(const Error& why) {
  lost_ = why;
  say("error: " + why.message);
  for (auto& job : in_flight_) {
    if (job.finished) continue;
    shared_.give_back(job.ticket.index, why);
    job.finished = true;
  }
  in_flight_.clear();
  shared_.instance_leaves();
  driver_->work_failed(why);
  phase_ = Phase::tearing_down;
}

void InstanceWorker::stop_jobs(const Error& reason) {
  // A short, separate client: the run's client refuses to talk once stopping.
  std::unique_ptr<AgentClient> canceller;
  if (agent_)
    canceller = std::make_unique<AgentClient>(agent_->endpoint(), options_.agent_token, std::function<bool()>{},
                                              RetryPolicy{2, milliseconds(100), milliseconds(200)});
  for (auto& job : in_flight_) {
    if (job.finished) continue;
    if (canceller && job.submitted) (void)canceller->cancel_job(job.ticket.agent_id);
    shared_.job_ended(job.ticket.index, "canceled", reason.message);
    job.finished = true;
  }
  in_flight_.clear();
  shared_.instance_leaves();
  driver_->request_stop(reason);
  phase_ = Phase::tearing_down;
}

}  // namespace ferry::controller
