#pragma once
// Response builders: JSON bodies and the one error shape
//   {"error": {"code": "invalid_argument", "message": "...", "field": "..."}}
// used for every failure, from routing to uploads.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace ferry::agent::http {

using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// The error body as JSON text; `field` is omitted when empty.
std::string error_body(const Error& error);

/// A JSON response with Content-Type and Content-Length set.
StringResponse json_response(unsigned status, const nlohmann::json& body, unsigned http_version, bool keep_alive);

/// An error response; the status is http_status(error.code) unless
/// `status_override` is given (405, 416 have no code of their own).
StringResponse error_response(const Error& error, unsigned http_version, bool keep_alive, unsigned status_override = 0);

}  // namespace ferry::agent::http
