#include "tests/fakecloud/server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fstream>
#include <thread>

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr std::string_view kProxyPrefix = "/_fake/proxy/";

std::string decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

Request to_request(const http::request<http::string_body>& message) {
  Request request;
  request.method = std::string(message.method_string());
  std::string_view target = message.target();
  auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      auto equals = pair.find('=');
      request.query[decode(pair.substr(0, equals))] =
          equals == std::string_view::npos ? "" : decode(pair.substr(equals + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = message.body();
  return request;
}

http::response<http::string_body> to_message(const Response& response, unsigned version, bool keep_alive) {
  http::response<http::string_body> message{static_cast<http::status>(response.status), version};
  message.set(http::field::server, "fakecloud");
  if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.body() = response.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

// Forwards one request to the agent on 127.0.0.1:port, the path after the
// proxy name kept; any failure is the 502 a real proxy would give.
http::response<http::string_body> forward(const http::request<http::string_body>& incoming, std::string target,
                                          int port, bool keep_alive) {
  try {
    boost::asio::io_context io;
    beast::tcp_stream upstream(io);
    upstream.expires_after(std::chrono::seconds(120));
    upstream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    http::request<http::string_body> outgoing = incoming;
    outgoing.target(target.empty() ? "/" : target);
    outgoing.keep_alive(false);
    outgoing.prepare_payload();
    http::write(upstream, outgoing);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    http::read(upstream, buffer, parser);
    auto response = parser.release();
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
  } catch (const std::exception& error) {
    return to_message(json_response(502, {{"error", std::string("proxy: ") + error.what()}}), incoming.version(),
                      keep_alive);
  }
}

void session(World& world, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  try {
    for (;;) {
      stream.expires_after(std::chrono::seconds(60));
      http::request_parser<http::string_body> parser;
      parser.body_limit(1ull << 32);
      http::read(stream, buffer, parser);
      auto message = parser.release();
      bool keep_alive = message.keep_alive();
      std::string_view target = message.target();
      if (target.rfind(kProxyPrefix, 0) == 0) {
        std::string_view rest = target.substr(kProxyPrefix.size());
        auto slash = rest.find_first_of("/?");
        std::string name(rest.substr(0, slash));
        std::string forwarded = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        std::optional<int> port;
        {
          std::lock_guard lock(world.mutex);
          port = world.proxy_port(name);
        }
        stream.expires_never();
        if (port) {
          http::write(stream, forward(message, forwarded, *port, keep_alive));
        } else {
          // What RunPod's proxy and Fly's edge answer while nothing listens.
          http::write(stream, to_message(text_response(502, "no started instance behind " + name), message.version(),
                                         keep_alive));
        }
      } else {
        Request request = to_request(message);
        int delay = 0;
        {
          std::lock_guard lock(world.mutex);
          if (request.path.rfind("/_fake/", 0) != 0) delay = world.faults.slow_ms;
        }
        if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        Response response = dispatch(world, request);
        http::write(stream, to_message(response, message.version(), keep_alive));
      }
      if (!keep_alive) break;
    }
  } catch (const std::exception&) {
    // The client went away or sent garbage: drop the connection.
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

Response dispatch(World& world, const Request& request) {
  std::lock_guard lock(world.mutex);
  for (auto* handler : {handle_control, handle_vast, handle_runpod, handle_fly})
    if (auto response = handler(world, request)) return *response;
  return json_response(404, {{"error", "fakecloud serves no " + request.method + " " + request.path}});
}

void serve(World& world, const std::string& host, std::uint16_t port, const std::string& port_file) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address(host), port));
  if (!port_file.empty()) {
    std::string temporary = port_file + ".tmp";
    {
      std::ofstream out(temporary);
      out << acceptor.local_endpoint().port() << "\n";
    }
    std::rename(temporary.c_str(), port_file.c_str());
  }
  for (;;) {
    tcp::socket socket(io);
    boost::system::error_code error;
    acceptor.accept(socket, error);
    if (error) continue;
    std::thread(session, std::ref(world), std::move(socket)).detach();
  }
}

}  // namespace ferry::fakecloud
