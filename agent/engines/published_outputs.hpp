#pragma once
// Outputs a job has published so far, removed again unless the job
// succeeds: a failed or cancelled job leaves nothing under a final name.

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "agent/engines/engine.hpp"

namespace ferry::agent {

class PublishedOutputs {
 public:
  PublishedOutputs() = default;
  PublishedOutputs(const PublishedOutputs&) = delete;
  PublishedOutputs& operator=(const PublishedOutputs&) = delete;
  ~PublishedOutputs() {
    if (released_) return;
    std::error_code ignored;
    for (const auto& output : outputs_) std::filesystem::remove(output.path, ignored);
  }
  void add(OutputFile output) { outputs_.push_back(std::move(output)); }
  /// The job succeeded: keep the files and hand their list over.
  std::vector<OutputFile> release() {
    released_ = true;
    return std::move(outputs_);
  }

 private:
  std::vector<OutputFile> outputs_;
  bool released_ = false;
};

}  // namespace ferry::agent
