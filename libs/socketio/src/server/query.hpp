// Query strings: the handshake's, and protocol v4's namespace with auth
// ("/admin?token=1"). Internal.
#pragma once

#include <eio/socketio/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eio::socketio::detail {

// Percent-decoding with '+' as a space (Node's querystring, URLSearchParams).
std::string query_decode(std::string_view text);
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// socket.io client.ts _parseNamespace for protocol v4 (EIO3) clients:
// new URL(nsp).pathname and its searchParams as the auth object.
struct v4_namespace {
  std::string_view name;
  value auth;
};
// The auth object is parsed only when `with_auth` (a CONNECT).
v4_namespace split_v4_namespace(std::string_view nsp, bool with_auth);

}  // namespace eio::socketio::detail
