#include "agent/http/routes.hpp"

#include <gtest/gtest.h>

namespace ferry::agent::http {
namespace {

Route must_route(std::string_view method, std::string_view target) {
  auto route = route_request(method, target);
  EXPECT_TRUE(route.has_value()) << method << " " << target << ": " << route.error().describe();
  return route.value_or(Route{});
}

Error must_fail(std::string_view method, std::string_view target) {
  auto route = route_request(method, target);
  EXPECT_FALSE(route.has_value()) << method << " " << target;
  return route ? Error{} : route.error();
}

TEST(Routes, HealthChecksNeedNoToken) {
  EXPECT_FALSE(must_route("GET", "/healthz").requires_auth);
  EXPECT_FALSE(must_route("GET", "/v1/health").requires_auth);
  EXPECT_FALSE(must_route("GET", "/health").requires_auth);
  EXPECT_EQ(must_route("GET", "/health").endpoint, Endpoint::health);
}

TEST(Routes, EverythingElseNeedsTheToken) {
  for (auto [method, target] : {std::pair{"GET", "/v1/status"}, {"POST", "/v1/uploads"}, {"POST", "/v1/jobs"},
                                {"GET", "/v1/jobs"}, {"PUT", "/v1/jobs/a"}, {"GET", "/v1/jobs/a"},
                                {"DELETE", "/v1/jobs/a"}, {"POST", "/v1/jobs/a/cancel"},
                                {"GET", "/v1/jobs/a/outputs/x.wav"}, {"GET", "/status"}, {"POST", "/job"},
                                {"GET", "/job/a"}, {"GET", "/result/a"}, {"GET", "/jobs"}})
    EXPECT_TRUE(must_route(method, target).requires_auth) << method << " " << target;
}

TEST(Routes, LegacyRoutesMapOntoTheSameEndpoints) {
  EXPECT_EQ(must_route("GET", "/status").endpoint, Endpoint::status);
  EXPECT_EQ(must_route("POST", "/job").endpoint, Endpoint::create_job);
  EXPECT_EQ(must_route("GET", "/job/abc").endpoint, Endpoint::get_job);
  EXPECT_EQ(must_route("GET", "/jobs").endpoint, Endpoint::list_jobs);
  auto result = must_route("GET", "/result/abc");
  EXPECT_EQ(result.endpoint, Endpoint::get_result);
  EXPECT_EQ(result.job_id, "abc");
}

TEST(Routes, BindsJobIdAndOutputName) {
  auto route = must_route("GET", "/v1/jobs/job_1-A/outputs/song.vocals.mp3");
  EXPECT_EQ(route.endpoint, Endpoint::get_output);
  EXPECT_EQ(route.job_id, "job_1-A");
  EXPECT_EQ(route.output_name, "song.vocals.mp3");
  EXPECT_EQ(must_route("POST", "/v1/jobs/x/cancel").endpoint, Endpoint::cancel_job);
  EXPECT_EQ(must_route("DELETE", "/v1/jobs/x").endpoint, Endpoint::delete_job);
  EXPECT_EQ(must_route("PUT", "/v1/jobs/x").endpoint, Endpoint::put_job);
}

TEST(Routes, WaitIsParsedAndCappedAtSixtySeconds) {
  EXPECT_EQ(must_route("GET", "/v1/jobs/a?wait=2.5").wait, std::chrono::milliseconds(2500));
  EXPECT_EQ(must_route("GET", "/v1/jobs/a?x=1&wait=600").wait, std::chrono::milliseconds(60000));
  EXPECT_EQ(must_route("GET", "/v1/jobs/a").wait, std::chrono::milliseconds(0));
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a?wait=soon").field, "wait");
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a?wait=-1").field, "wait");
}

TEST(Routes, UnknownPathIsNotFound) {
  EXPECT_EQ(must_fail("GET", "/v2/jobs").code, ErrorCode::not_found);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a/outputs").code, ErrorCode::not_found);
  EXPECT_EQ(must_fail("GET", "/").code, ErrorCode::not_found);
}

TEST(Routes, WrongMethodListsTheAllowedOnes) {
  auto route = must_route("PATCH", "/v1/jobs/a");
  EXPECT_EQ(route.endpoint, Endpoint::method_not_allowed);
  EXPECT_EQ(route.allow, "PUT, GET, DELETE");
  EXPECT_EQ(must_route("DELETE", "/healthz").allow, "GET");
}

TEST(Routes, TraversalAndOddCharactersAreRejectedBeforeUse) {
  EXPECT_EQ(must_fail("GET", "/v1/jobs/../outputs/x").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/%2e%2e/outputs/x").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a/outputs/%2e%2e%2fjob.json").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a/outputs/..").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a/outputs/.hidden").field, "name");
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a%20b").field, "id");
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a;b").field, "id");
  EXPECT_EQ(must_fail("GET", "/v1/jobs/" + std::string(65, 'a')).field, "id");
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a%zz").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "/v1/jobs/a%00").code, ErrorCode::invalid_argument);
  EXPECT_EQ(must_fail("GET", "http://host/v1/jobs").field, "target");
}

TEST(PercentDecode, DecodesEscapesAndRejectsMalformedOnes) {
  EXPECT_EQ(percent_decode("a%41%2fb"), "aA/b");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%g0"));
}

}  // namespace
}  // namespace ferry::agent::http
