#include "controller/job_board.hpp"

#include <algorithm>

namespace ferry::controller {

JobBoard::JobBoard(std::vector<int> entry_of, std::vector<bool> awaits_earlier, int max_attempts)
    : max_attempts_(std::max(1, max_attempts)) {
  jobs_.resize(entry_of.size());
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    jobs_[i].entry = entry_of[i];
    jobs_[i].slot = i < awaits_earlier.size() && awaits_earlier[i] ? Slot::waiting : Slot::ready;
  }
}

std::vector<std::size_t> JobBoard::release_awaited() {
  std::vector<std::size_t> released;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].slot != Slot::waiting) continue;
    bool earlier_done = std::all_of(jobs_.begin(), jobs_.end(), [&](const Job& other) {
      return other.entry >= jobs_[i].entry || other.slot == Slot::done;
    });
    if (!earlier_done) continue;
    jobs_[i].slot = Slot::ready;
    released.push_back(i);
  }
  return released;
}

std::optional<std::size_t> JobBoard::take(std::size_t instance) {
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].slot != Slot::ready) continue;
    jobs_[i].slot = Slot::running;
    jobs_[i].instance = instance;
    ++jobs_[i].attempts;
    return i;
  }
  return std::nullopt;
}

void JobBoard::finish(std::size_t job) { jobs_[job].slot = Slot::done; }

bool JobBoard::give_back(std::size_t job) {
  if (jobs_[job].slot != Slot::running || jobs_[job].attempts >= max_attempts_) return false;
  jobs_[job].slot = Slot::ready;
  return true;
}

bool JobBoard::has_unassigned() const {
  return std::any_of(jobs_.begin(), jobs_.end(),
                     [](const Job& job) { return job.slot == Slot::ready || job.slot == Slot::waiting; });
}

std::size_t JobBoard::ready_count() const {
  return static_cast<std::size_t>(
      std::count_if(jobs_.begin(), jobs_.end(), [](const Job& job) { return job.slot == Slot::ready; }));
}

bool JobBoard::all_done() const {
  return std::all_of(jobs_.begin(), jobs_.end(), [](const Job& job) { return job.slot == Slot::done; });
}

std::vector<std::size_t> JobBoard::unfinished() const {
  std::vector<std::size_t> left;
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].slot != Slot::done) left.push_back(i);
  return left;
}

}  // namespace ferry::controller
