// eio::socketio server: socket.handshake, what the Engine.IO handshake
// request said, as socket.io 4 builds it (lib/socket.ts buildHandshake).
//
// Plain data, so that fetch_sockets() can carry it between nodes.
#pragma once

#include <eio/socketio/value.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace eio::socketio {

struct handshake {
  // The request headers as received (names as sent; several of one name
  // stay several entries).
  std::vector<std::pair<std::string, std::string>> headers;
  // When the Engine.IO session was opened, as JavaScript's `new Date() + ""`
  // writes it, in UTC: "Tue Mar 05 2024 10:00:00 GMT+0000 (Coordinated
  // Universal Time)".
  std::string time;
  std::string address;  // the peer's address
  bool xdomain = false;  // the request had an Origin header
  bool secure = false;   // it came over TLS (the adapter says: runtime_options::secure)
  std::int64_t issued = 0;  // the same instant as `time`, in milliseconds since the Unix epoch
  std::string url;          // path and query of the handshake request ("/socket.io/?EIO=4&transport=polling")
  // The handshake's query parameters, percent-decoded, in order (EIO,
  // transport, t and the client's own).
  std::vector<std::pair<std::string, std::string>> query;
  // The CONNECT packet's payload (protocol v5), or the namespace's query
  // parameters as strings (protocol v4: "/admin?token=1"); {} when none.
  value auth = value::object();
};

// `epoch_ms` (milliseconds since the Unix epoch) as JavaScript's
// `String(new Date(epoch_ms))` writes it in the UTC time zone.
std::string javascript_date_string(std::int64_t epoch_ms);

}  // namespace eio::socketio
