// The vocabulary eio::server and eio::client share: time, connection names,
// transports, HTTP headers, why a session closed, and the bytes a broadcast
// shares. Standard library and eio::parser only.
#pragma once

#include <eio/parser.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio {

// Milliseconds on the caller's monotonic clock, from an epoch of its choice.
using millis = std::chrono::milliseconds;

// The adapter's name for one HTTP exchange or WebSocket connection. Unique
// among the exchanges and connections the core currently knows.
using connection_id = std::uint64_t;

enum class transport_kind : std::uint8_t { polling, websocket };
std::string_view to_string(transport_kind kind) noexcept;

struct header {
  std::string name;  // matched without regard to ASCII case
  std::string value;
};
using header_list = std::vector<header>;

// The value of header `name` in `headers` (the first, case-insensitively).
std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) noexcept;

// ASCII case-insensitive equality, as header names and tokens compare.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

// Why a session closed, as the reference names it (server and client).
enum class close_reason : std::uint8_t {
  transport_close,       // "transport close": the peer closed (close packet, socket closed)
  transport_error,       // "transport error": overlapping polls, a poll cut short, a bad frame, a failed request
  ping_timeout,          // "ping timeout"
  forced_close,          // "forced close": the application called close()
  parse_error,           // "parse error": the peer sent malformed packets
  server_shutting_down,  // "server shutting down": server::shutdown()
  write_buffer_full,     // "write buffer full": more than max_buffered_bytes waited (eio only)
};
std::string_view to_string(close_reason reason) noexcept;

// How close() ends a session: after what is buffered has gone out, or at
// once, dropping it.
enum class close_mode : std::uint8_t { flush, discard };

// Message bytes shared, read-only, by every session one broadcast reaches:
// encoded once, referenced by each session's queue and each connection's
// output until written. Safe to share between threads (event loops).
using shared_bytes = std::shared_ptr<const std::string>;

}  // namespace eio
