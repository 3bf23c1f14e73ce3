// HttpClient against a loopback server: methods, headers, bodies from memory
// and from files, downloads with limits, progress aborts, timeouts, refused
// connections, keep-alive, and error messages that never show secrets.

#include "common/http_client.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/sha256.hpp"
#include "tests/controller/loopback_server.hpp"
#include "tests/support/files.hpp"

namespace ferry {
namespace {

namespace http = boost::beast::http;
using test::LoopbackRequest;
using test::LoopbackResponse;
using test::LoopbackServer;

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { http_global_init(); }
};

HttpRequest request_to(std::string url, std::string method = "GET") {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  return request;
}

std::string repeated_text(std::size_t bytes) {
  std::string text;
  text.reserve(bytes);
  for (std::size_t i = 0; i < bytes; ++i) text.push_back(static_cast<char>('a' + i % 26));
  return text;
}

TEST_F(HttpClientTest, SendsMethodHeadersAndBodyAndLowerCasesResponseHeaders) {
  LoopbackServer server([](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    response.set("X-Method", std::string(request.method_string()));
    response.set("X-Seen-Header", std::string(request["X-Custom"]));
    response.set(http::field::content_type, "text/plain");
    response.body() = "echo:" + request.body();
  });
  HttpClient client;
  HttpRequest request;
  request.method = "PUT";
  request.url = server.url("/things/1");
  request.headers = {{"X-Custom", "hello"}};
  request.body = R"({"a":1})";
  auto response = client.send(request);
  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"(echo:{"a":1})");
  EXPECT_EQ(response->headers.at("x-method"), "PUT");
  EXPECT_EQ(response->header("X-SEEN-HEADER"), "hello");
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_EQ(response->header("x-absent"), "");
}

TEST_F(HttpClientTest, NonSuccessStatusIsAnAnswerNotAnError) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    response.result(http::status::not_found);
    response.body() = R"({"error":{"code":"not_found","message":"no such job"}})";
  });
  HttpClient client;
  auto response = client.send(request_to(server.url("/v1/jobs/x")));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_NE(response->body.find("no such job"), std::string::npos);
}

TEST_F(HttpClientTest, PostWithoutBodySendsEmptyBody) {
  LoopbackServer server([](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    response.body() = std::string(request.method_string()) + ":" + std::to_string(request.body().size());
  });
  HttpClient client;
  auto response = client.send(request_to(server.url("/v1/jobs/a/cancel"), "POST"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST:0");
}

TEST_F(HttpClientTest, StreamsBodyFromFileWithItsLength) {
  test::TempDir dir;
  const std::string contents = repeated_text(3 * 1024 * 1024 + 17);
  test::write_text(dir / "input.bin", contents);
  LoopbackServer server([](const LoopbackRequest& request, LoopbackResponse& response, const auto&) {
    response.set("X-Length", std::string(request[http::field::content_length]));
    response.body() = sha256_hex(request.body());
  });
  HttpClient client;
  std::uint64_t last_done = 0;
  auto request = request_to(server.url("/v1/uploads"), "POST");
  request.body_file = dir / "input.bin";
  auto response = client.send(request, [&](std::uint64_t done, std::uint64_t) {
    last_done = done;
    return true;
  });
  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->body, sha256_hex(contents));
  EXPECT_EQ(response->header("x-length"), std::to_string(contents.size()));
  EXPECT_EQ(last_done, contents.size());
}

TEST_F(HttpClientTest, MissingBodyFileIsAnIoErrorNamingIt) {
  HttpClient client;
  auto request = request_to("http://127.0.0.1:9/", "POST");
  request.body_file = "/nonexistent/input.wav";
  auto response = client.send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::io_error);
  EXPECT_NE(response.error().message.find("/nonexistent/input.wav"), std::string::npos);
}

TEST_F(HttpClientTest, ReusesOneConnectionForSequentialRequests) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const auto&) { response.body() = "ok"; });
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    auto response = client.send(request_to(server.url("/v1/jobs/a")));
    ASSERT_TRUE(response);
  }
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpClientTest, DownloadWritesSuccessfulBodyToFile) {
  const std::string contents = repeated_text(1024 * 1024 + 5);
  LoopbackServer server([&](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    response.body() = contents;
  });
  test::TempDir dir;
  HttpClient client;
  auto response = client.download(request_to(server.url("/out.flac")), dir / "out.flac");
  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(test::read_text(dir / "out.flac"), contents);
}

TEST_F(HttpClientTest, DownloadKeepsErrorBodyOutOfTheFile) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    response.result(http::status::conflict);
    response.body() = R"({"error":{"code":"failed_precondition","message":"job is still running"}})";
  });
  test::TempDir dir;
  HttpClient client;
  auto response = client.download(request_to(server.url("/out.flac")), dir / "out.flac");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 409);
  EXPECT_NE(response->body.find("still running"), std::string::npos);
  EXPECT_EQ(test::read_text(dir / "out.flac"), "");
}

TEST_F(HttpClientTest, DownloadOverLimitIsResourceExhausted) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    response.body() = repeated_text(200000);
  });
  test::TempDir dir;
  HttpClient client;
  auto response = client.download(request_to(server.url("/big")), dir / "big", 1000);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::resource_exhausted);
}

TEST_F(HttpClientTest, ProgressCallbackReturningFalseCancelsTheTransfer) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const auto&) {
    response.body() = repeated_text(8 * 1024 * 1024);
  });
  test::TempDir dir;
  HttpClient client;
  auto response = client.download(request_to(server.url("/big")), dir / "big", 0,
                                  [](std::uint64_t done, std::uint64_t) { return done == 0; });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::cancelled);
}

TEST_F(HttpClientTest, SlowServerIsDeadlineExceeded) {
  LoopbackServer server([](const LoopbackRequest&, LoopbackResponse& response, const std::atomic<bool>& stopping) {
    for (int i = 0; i < 100 && !stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    response.body() = "late";
  });
  HttpClient client;
  auto request = request_to(server.url("/slow"));
  request.timeout = std::chrono::milliseconds(200);
  auto response = client.send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::deadline_exceeded);
  EXPECT_TRUE(response.error().retryable());
}

TEST_F(HttpClientTest, RefusedConnectionIsUnavailableAndNamesTheUrl) {
  std::string url;
  {
    // A port that was just listening and is now closed.
    LoopbackServer server([](const LoopbackRequest&, LoopbackResponse&, const auto&) {});
    url = server.url("/v1/health");
  }
  HttpClient client;
  auto response = client.send(request_to(url));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find(url), std::string::npos) << response.error().message;
}

TEST_F(HttpClientTest, ErrorMessagesNeverContainTokens) {
  HttpClient client;
  HttpRequest request;
  request.url = "http://user:secretpass@127.0.0.1:9/v1/jobs?token=secretquery";
  request.headers = {{"Authorization", "Bearer secrettoken"}};
  request.connect_timeout = std::chrono::milliseconds(500);
  auto response = client.send(request);
  ASSERT_FALSE(response);
  const std::string& message = response.error().message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  EXPECT_NE(message.find("127.0.0.1:9/v1/jobs"), std::string::npos) << message;
}

TEST_F(HttpClientTest, UnsupportedSchemeIsInvalidArgument) {
  HttpClient client;
  auto response = client.send(request_to("ftp://127.0.0.1/file"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace ferry
