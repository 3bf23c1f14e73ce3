#pragma once
// Recorded provider answers for the parser tests (tests/providers/data).

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/http_client.hpp"

namespace ferry::providers::test {

inline std::string recorded(const std::string& name) {
  std::ifstream in(std::string(FERRY_PROVIDERS_DATA) + "/" + name);
  if (!in) throw std::runtime_error("missing recording " + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline HttpResponse reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

}  // namespace ferry::providers::test
