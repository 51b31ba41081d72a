// Small text rules of HTTP and RFC 6455 that several pieces of the adapter
// need (internal): one copy each.
#pragma once

#include <string>
#include <string_view>

namespace eio::detail {

// Whether comma-separated header value `list` names `token`, ignoring case
// and optional whitespace (RFC 9110 section 5.6.1): "keep-alive, Upgrade".
bool has_token(std::string_view list, std::string_view token) noexcept;

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID))
// (RFC 6455 section 4.2.2).
std::string websocket_accept_value(std::string_view key);

}  // namespace eio::detail
