#pragma once
// The endpoints that answer from memory with one JSON document: health,
// status and the job operations. Streaming endpoints (uploads, outputs,
// long-polls) live in the session; they reuse these for their final answer.

#include <string_view>

#include "agent/http/context.hpp"
#include "agent/http/responses.hpp"
#include "agent/http/routes.hpp"

namespace ferry::agent::http {

/// "STARTING", "READY", "BUSY" or "SETUP_FAILED".
std::string_view health_state(const ServerContext& context);

/// The answer to a route without a request body (all but upload, create_job
/// and put_job), ignoring get_job's wait.
StringResponse answer_simple(ServerContext& context, const Route& route, unsigned http_version, bool keep_alive);

/// create_job and put_job: validates the JSON body and queues the job.
StringResponse answer_submit(ServerContext& context, const Route& route, std::string_view body,
                             unsigned http_version, bool keep_alive);

/// The job's API representation.
nlohmann::json job_json(const jobs::JobView& view);

}  // namespace ferry::agent::http
