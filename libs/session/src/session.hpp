// One Engine.IO session's state. Internal to eio::session; server.cpp holds
// the rules that move it.
#pragma once

#include <eio/server.hpp>

#include <optional>
#include <string>
#include <vector>

namespace eio::detail {

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

struct queued_packet {
  packet_type type = packet_type::message;
  bool binary = false;
  bool notify = false;  // a sent_event with notify_id once written
  std::uint64_t notify_id = 0;
  std::string data;
};

struct session {
  std::string id;
  session_ref ref;
  protocol_version version = protocol_version::v4;
  bool base64_only = false;  // v3 client without binary support (b64=1)
  session_state state = session_state::open;
  link_state link = link_state::polling;

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
  std::size_t buffered_bytes = 0;

  std::optional<millis> earliest_deadline() const noexcept {
    std::optional<millis> earliest;
    for (const auto& t : {ping_at, heartbeat_due, upgrade_due, closing_due, noop_due}) {
      if (t && (!earliest || *t < *earliest)) earliest = t;
    }
    return earliest;
  }
};

}  // namespace eio::detail
