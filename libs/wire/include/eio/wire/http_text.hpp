// Small text rules of HTTP and RFC 6455 that every adapter needs: one copy
// each. Standard library only (SHA-1 included: the handshake's one use of
// a hash does not justify a crypto library).
#pragma once

#include <eio/server.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eio::wire {

// RFC 9112 section 3.2: a server answers 400 to an HTTP/1.1 request without
// a Host field line and to any request with more than one (which of two
// authorities would it be for?). Returns why a request with `host_fields`
// Host field lines is refused, or null.
constexpr const char* host_field_problem(std::size_t host_fields, bool http_1_1) noexcept {
  if (host_fields > 1) return "more than one Host header";
  if (host_fields == 0 && http_1_1) return "HTTP/1.1 request without a Host header";
  return nullptr;
}

// Whether comma-separated header value `list` names `token`, ignoring case
// and optional whitespace (RFC 9110 section 5.6.1): "keep-alive, Upgrade".
bool has_token(std::string_view list, std::string_view token) noexcept;

// The reason phrase of a status code (RFC 9110 section 15), "Unknown" for
// one it does not list.
std::string_view reason_phrase(int status) noexcept;
// Appends "HTTP/1.1 <status> <reason>\r\n".
void append_status_line(int status, std::string& out);

// The SHA-1 digest of `data` (FIPS 180-4), 20 raw bytes. For RFC 6455's
// handshake only: SHA-1 is not a security primitive any more.
std::string sha1(std::string_view data);

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

}  // namespace eio::wire
