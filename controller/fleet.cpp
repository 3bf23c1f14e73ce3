#include "controller/fleet.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ferry::controller {
namespace {

// Room for the main thread, the tick and libcurl's resolver threads within 32.
constexpr std::size_t kMaxFleetThreads = 16;

class Fleet {
 public:
  Fleet(const std::vector<WorkerStep>& workers, const FleetOptions& options,
        const std::function<void(const char*)>& on_exception)
      : workers_(workers), options_(options), on_exception_(on_exception), remaining_(workers.size()) {}

  void run() {
    if (workers_.empty()) return;
    for (std::size_t i = 0; i < workers_.size(); ++i) boost::asio::post(io_, [this, i] { step(i); });
    if (options_.tick) schedule_tick();
    std::size_t threads = std::max<std::size_t>(1, options_.threads);
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i) pool.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& thread : pool) thread.join();
  }

 private:
  void step(std::size_t worker) {
    std::optional<std::chrono::milliseconds> next;
    try {
      next = workers_[worker]();
    } catch (const std::exception& error) {
      if (on_exception_) on_exception_(error.what());
      next = std::chrono::seconds(1);
    }
    if (!next) {
      --remaining_;
      return;
    }
    if (next->count() <= 0) {
      boost::asio::post(io_, [this, worker] { step(worker); });
      return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, *next);
    timer->async_wait([this, worker, timer](const boost::system::error_code&) { step(worker); });
  }

  void schedule_tick() {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, options_.tick_interval);
    timer->async_wait([this, timer](const boost::system::error_code&) {
      if (remaining_ == 0) return;  // the last timer: io_.run() may return
      try {
        options_.tick();
      } catch (const std::exception& error) {
        if (on_exception_) on_exception_(error.what());
      }
      schedule_tick();
    });
  }

  const std::vector<WorkerStep>& workers_;
  const FleetOptions& options_;
  const std::function<void(const char*)>& on_exception_;
  boost::asio::io_context io_;
  std::atomic<std::size_t> remaining_;
};

}  // namespace

void run_fleet(const std::vector<WorkerStep>& workers, const FleetOptions& options,
               const std::function<void(const char*)>& on_exception) {
  Fleet fleet(workers, options, on_exception);
  fleet.run();
}

std::size_t fleet_threads(std::size_t instances) { return std::clamp<std::size_t>(instances, 1, kMaxFleetThreads); }

}  // namespace ferry::controller
