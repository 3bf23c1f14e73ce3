#include "controller/teardown.hpp"

#include <thread>

namespace ferry::controller {

Status destroy_and_confirm_gone(providers::Provider& provider, const std::string& instance_id,
                                const TeardownOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto give_up_at = Clock::now() + options.deadline;
  auto pause = [&] {
    if (options.sleep) options.sleep(options.interval);
    else std::this_thread::sleep_for(options.interval);
  };
  auto teardown_failed = [&](const std::string& why) {
    return fail(ErrorCode::unavailable, provider.name() + ": destroy instance " + instance_id + ": " + why +
                                            "; it may still be billing: run `ferry down` or `ferry gc` again, or "
                                            "remove it in the " + provider.name() + " console");
  };

  std::string last_error;
  while (true) {
    auto destroyed = provider.destroy(instance_id);
    if (destroyed) break;
    last_error = destroyed.error().message;
    // Credentials refused will not fix themselves: stop at once.
    if (destroyed.error().code == ErrorCode::unauthenticated ||
        destroyed.error().code == ErrorCode::permission_denied)
      return teardown_failed(last_error);
    if (Clock::now() >= give_up_at) return teardown_failed(last_error);
    pause();
  }
  while (true) {
    auto info = provider.get(instance_id);
    if (info && info->state == providers::InstanceState::gone) return {};
    last_error = info ? "still listed as '" + (info->detail.empty() ? std::string("present") : info->detail) + "'"
                      : info.error().message;
    if (Clock::now() >= give_up_at) return teardown_failed(last_error);
    pause();
  }
}

}  // namespace ferry::controller
