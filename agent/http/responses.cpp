#include "agent/http/responses.hpp"

#include <boost/beast/http/field.hpp>

namespace ferry::agent::http {
namespace bhttp = boost::beast::http;

std::string error_body(const Error& error) {
  nlohmann::json detail = {{"code", std::string(to_string(error.code))}, {"message", error.message}};
  if (!error.field.empty()) detail["field"] = error.field;
  // Replace invalid UTF-8 (e.g. echoed from a request) instead of throwing.
  return nlohmann::json{{"error", detail}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StringResponse json_response(unsigned status, const nlohmann::json& body, unsigned http_version, bool keep_alive) {
  StringResponse response{static_cast<bhttp::status>(status), http_version};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::cache_control, "no-store");
  response.keep_alive(keep_alive);
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

StringResponse error_response(const Error& error, unsigned http_version, bool keep_alive, unsigned status_override) {
  const unsigned status = status_override ? status_override : static_cast<unsigned>(http_status(error.code));
  StringResponse response{static_cast<bhttp::status>(status), http_version};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::cache_control, "no-store");
  if (error.code == ErrorCode::unauthenticated) response.set(bhttp::field::www_authenticate, "Bearer");
  response.keep_alive(keep_alive);
  response.body() = error_body(error);
  response.prepare_payload();
  return response;
}

}  // namespace ferry::agent::http
