// Small text rules of HTTP and RFC 6455 that several pieces of the adapter
// need (internal): one copy each.
#pragma once

#include <eio/server.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eio::detail {

// RFC 9112 section 3.2: a server answers 400 to an HTTP/1.1 request without
// a Host field line and to any request with more than one (which of two
// authorities would it be for?). Returns why a request with `host_fields`
// Host field lines is refused, or null. Inline: the request reader's fuzz
// target compiles http_reader.cpp alone.
constexpr const char* host_field_problem(std::size_t host_fields, bool http_1_1) noexcept {
  if (host_fields > 1) return "more than one Host header";
  if (host_fields == 0 && http_1_1) return "HTTP/1.1 request without a Host header";
  return nullptr;
}

// Whether comma-separated header value `list` names `token`, ignoring case
// and optional whitespace (RFC 9110 section 5.6.1): "keep-alive, Upgrade".
bool has_token(std::string_view list, std::string_view token) noexcept;

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID))
// (RFC 6455 section 4.2.2).
std::string websocket_accept_value(std::string_view key);

// What is wrong with a WebSocket upgrade request by RFC 6455 section 4.2.1
// (the adapter's part; the core checks Engine.IO's), or nothing. Either way
// the answer is a 400 with `reason` as its text, and, for a version we do
// not speak, a "Sec-WebSocket-Version: 13" header (section 4.4).
struct upgrade_refusal {
  std::string_view reason;
  bool name_our_version = false;
};
std::optional<upgrade_refusal> check_websocket_upgrade(const http_request& request, bool has_body);

}  // namespace eio::detail
