#include "controller/run_settings.hpp"

#include "config/units.hpp"

namespace ferry::controller {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

Result<std::optional<milliseconds>> positive_duration(const EnvLookup& env, const char* name) {
  auto text = env(name);
  if (!text) return std::optional<milliseconds>();
  auto parsed = config::parse_duration(*text);
  if (!parsed || parsed->count() <= 0)
    return fail(ErrorCode::invalid_argument,
                std::string(name) + "=\"" + *text + "\" is not a positive duration; use e.g. 500ms, 30s or 10m, "
                "or unset it",
                name);
  return std::optional<milliseconds>(*parsed);
}

// Stage deadlines count whole seconds; round up so "1500ms" never becomes 1 s.
seconds whole_seconds(milliseconds value) { return duration_cast<seconds>(value + milliseconds(999)); }

}  // namespace

Result<RunSettings> run_settings_for(const std::string& provider, const EnvLookup& env) {
  RunSettings settings;
  if (provider == "local") {
    // A process on this machine: answers fast, starts in seconds.
    settings.poll_interval = milliseconds(200);
    settings.deadlines.create = seconds(30);
    settings.deadlines.resolve = seconds(60);
    settings.deadlines.ready = seconds(60);
    settings.deadlines.destroy = seconds(30);
    settings.deadlines.confirm_gone = seconds(30);
  }
  auto poll = positive_duration(env, "FERRY_POLL_INTERVAL");
  if (!poll) return fail(poll.error());
  if (*poll) settings.poll_interval = **poll;
  auto start = positive_duration(env, "FERRY_START_TIMEOUT");
  if (!start) return fail(start.error());
  if (*start) settings.deadlines.resolve = settings.deadlines.ready = whole_seconds(**start);
  auto destroy = positive_duration(env, "FERRY_DESTROY_TIMEOUT");
  if (!destroy) return fail(destroy.error());
  if (*destroy) settings.deadlines.destroy = settings.deadlines.confirm_gone = whole_seconds(**destroy);
  return settings;
}

}  // namespace ferry::controller
