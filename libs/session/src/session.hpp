// One Engine.IO session's state. Internal to eio::session; transitions.cpp
// holds the rules that move it, the topic files (routing, polling, upgrade,
// heartbeat, outbound, close) what each rule does.
#pragma once

#include <eio/server.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eio::detail {

// How often an upgrading session ends a held GET with a noop (socket.ts's
// check interval), and how long a closing session waits for a GET to take
// its close packet (the reference's polling closeTimeout).
constexpr millis noop_interval{100};
constexpr millis closing_timeout{30000};

// Where a session is in its life (engine.io-protocol "Protocol"; the
// reference's readyState, whose "opening" lasts only inside the handshake).
enum class session_state : std::uint8_t {
  open,     // exchanging packets
  closing,  // the application closed it: flushing, then the close packet
  closed,   // gone: only until the server releases the slot
};

// The transport's own state, orthogonal to session_state.
enum class link_state : std::uint8_t {
  polling,    // HTTP long-polling only
  probing,    // polling, and a WebSocket connection waits for "2probe"
  upgrading,  // polling, "3probe" sent: the client pauses polling, then sends "5"
  websocket,  // upgraded, or opened on WebSocket
};

// A packet waiting for the transport: its bytes owned, or shared with the
// other sessions of a broadcast.
struct queued_packet {
  packet_type type = packet_type::message;
  frame_kind kind = frame_kind::text;
  bool notify = false;  // a sent_event with notify_id once handed over
  std::uint64_t notify_id = 0;
  std::string data;
  shared_bytes shared;

  std::string_view bytes() const noexcept { return shared ? std::string_view(*shared) : std::string_view(data); }
  packet view() const noexcept { return packet{type, kind == frame_kind::binary, bytes()}; }
  // What it counts against the session's buffer: its bytes and its type.
  std::size_t weight() const noexcept { return bytes().size() + 1; }
};

struct session {
  std::string id;
  session_ref ref;
  protocol_version version = protocol_version::v4;
  bool base64_only = false;  // v3 client without binary support (b64=1)
  session_state state = session_state::open;
  link_state link = link_state::polling;
  std::shared_ptr<const session_handshake> handshake;
  void* user_data = nullptr;

  // Polling: the GET held open (its response headers were computed when it
  // arrived, CORS depends on its Origin) and a POST whose body is arriving.
  std::optional<connection_id> held_get;
  header_list held_get_headers;
  std::string held_get_jsonp;  // the JSONP index of the held GET, "" for XHR
  std::optional<connection_id> pending_post;

  // WebSocket: the connection in use, or the one being probed.
  std::optional<connection_id> websocket;
  std::optional<connection_id> probe;

  // Timers, absolute; nullopt when not armed.
  std::optional<millis> ping_at;        // v4: send the next ping
  std::optional<millis> heartbeat_due;  // v4: the pong's deadline; v3: the next ping's
  std::optional<millis> upgrade_due;    // an unfinished upgrade is abandoned
  std::optional<millis> closing_due;    // a close packet nobody polled for
  std::optional<millis> noop_due;       // upgrading: the next noop for a held GET
  std::optional<millis> armed_at;       // this session's entry in server::deadlines_

  std::vector<queued_packet> buffer;
  std::size_t buffered_bytes = 0;  // the weight of `buffer`
  bool above_high_watermark = false;
  std::uint64_t volatile_dropped = 0;

  std::optional<millis> earliest_deadline() const noexcept {
    std::optional<millis> earliest;
    for (const auto& t : {ping_at, heartbeat_due, upgrade_due, closing_due, noop_due}) {
      if (t && (!earliest || *t < *earliest)) earliest = t;
    }
    return earliest;
  }
};

}  // namespace eio::detail
