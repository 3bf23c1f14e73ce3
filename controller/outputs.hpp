#pragma once
// Bringing a finished job's outputs home: each one downloaded under a
// temporary name in the output folder, checked against the size and sha256
// the agent reported, then renamed into place.

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/agent_client.hpp"
#include "controller/plan.hpp"

namespace ferry::controller {

/// Downloads every output of `job` (finished on the agent as `agent_job`)
/// into `output_dir`; returns the final local paths. An output whose name is
/// not a safe file name is refused (data_loss), never written.
Result<std::vector<std::filesystem::path>> fetch_outputs(AgentClient& agent, const std::string& agent_job_id,
                                                         const AgentJob& agent_job, const PlannedJob& job,
                                                         const std::filesystem::path& output_dir);

}  // namespace ferry::controller
