// eio::client: the Engine.IO client core, sans I/O.
//
// The mirror image of eio::server: it owns the client's protocol rules
// (handshake, long-polling with one GET in flight and one POST at a time,
// heartbeat, the polling -> WebSocket upgrade, close) and never reads a
// clock or touches a socket. The adapter performs the actions it queues
// (HTTP requests, WebSocket connections) and reports their outcome as inputs,
// each with `now`; the application reads events and calls send()/close().
//
//   adapter                                   client                 application
//   http_response_received(req, ...)   ->      |  -> next_action(): client_http_request, ...
//   websocket_message(conn, ...)       ->      |  -> next_event():  open, message, close, ...
//   on_timeout(now)                    ->      |  <- open(), send(), close()
//
// Behaviour follows engine.io-protocol v4 (and v3) and the Node client
// (engine.io-client 6; 3.x for the v3 heartbeat):
//   - The handshake is a polling GET (or, with websocket only, a WebSocket).
//   - While polling, one GET is always in flight; buffered packets go out in
//     one POST at a time, at most maxPayload bytes each (at least one packet).
//   - v4: the server pings, the client answers pong. v3: the client pings
//     every pingInterval (after the previous pong). Either way the session
//     closes with "ping timeout" when nothing arrives for
//     pingInterval + pingTimeout.
//   - Upgrade: after the handshake, if the server offers "websocket", a
//     WebSocket is opened and sent "2probe"; on "3probe" the client pauses
//     polling (no new GET or POST; the ones in flight finish), then sends "5"
//     and everything buffered on the WebSocket. Nothing is lost or reordered
//     in either direction.
//   - close() flushes what is buffered, sends a close packet ("1") and ends
//     the session ("forced close"); the server closing ends it with
//     "transport close".
#pragma once

#include <eio/detail/output_queue.hpp>
#include <eio/parser.hpp>
#include <eio/types.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio {

struct client_options {
  protocol_version version = protocol_version::v4;
  bool polling = true;    // may use HTTP long-polling (the handshake starts there when allowed)
  bool websocket = true;  // may use WebSocket (directly when polling is off, else by upgrade)
  bool upgrade = true;    // probe a WebSocket after a polling handshake when the server offers it
  std::string path = "/engine.io/";
  // Extra query parameters, in this order, before EIO/transport/sid;
  // percent-encoded by the client.
  std::vector<std::pair<std::string, std::string>> query;
  // v3 only: ask for base64 instead of binary frames and payloads ("b64=1").
  bool b64 = false;
  // Headers sent with every HTTP request (not WebSocket: the adapter's business).
  header_list extra_headers;
};

// The server's handshake (the open packet's JSON).
struct handshake_info {
  std::string sid;
  std::vector<std::string> upgrades;
  millis ping_interval{25000};
  millis ping_timeout{20000};
  std::size_t max_payload = 0;  // 0: the server did not say (v3 servers); no limit
};

enum class client_state : std::uint8_t {
  idle,     // open() not called yet
  opening,  // the handshake is under way
  open,     // exchanging packets
  closing,  // close() called: the buffer and the close packet go out, then closed
  closed,   // over; every input is ignored
};
std::string_view to_string(client_state state) noexcept;

// ---------------------------------------------------------------- actions

// Perform an HTTP request (to the server's origin) and report its outcome
// with http_response_received(request_id, ...) or http_failed(request_id).
struct client_http_request {
  connection_id request_id = 0;
  std::string method;  // "GET" or "POST"
  std::string target;  // path and query: "/engine.io/?EIO=4&transport=polling&sid=..."
  header_list headers;  // extra_headers (Content-Type is separate)
  std::string body;
  std::string content_type;  // POST: "text/plain;charset=UTF-8"; GET: empty
};
// Open a WebSocket and report websocket_opened / websocket_failed.
struct client_websocket_open {
  connection_id connection = 0;
  std::string target;  // path and query
};
struct client_websocket_send {
  connection_id connection = 0;
  frame_kind kind = frame_kind::text;
  std::string data;
};
// Close the WebSocket (close frame 1000, then the socket). No further input
// about this connection is expected; any that comes is ignored.
struct client_websocket_close {
  connection_id connection = 0;
};
using client_action =
    std::variant<client_http_request, client_websocket_open, client_websocket_send, client_websocket_close>;

// ---------------------------------------------------------------- events

struct client_open_event {  // the handshake succeeded
  handshake_info handshake;
  transport_kind transport = transport_kind::polling;
};
struct client_message_event {
  frame_kind kind = frame_kind::text;
  std::string data;
};
struct client_upgrading_event {};  // "3probe" arrived: polling pauses
struct client_upgrade_event {};    // "5" sent: the WebSocket carries everything now
struct client_close_event {
  // forced_close (close()), transport_close (the server closed),
  // transport_error (a failed or refused request or connection),
  // ping_timeout, parse_error (the server sent garbage).
  close_reason reason = close_reason::transport_close;
  std::string description;
};
struct client_error_event {  // a failure the session may survive (a failed probe) or not (then close follows)
  std::string message;
};
using client_event = std::variant<client_open_event, client_message_event, client_upgrading_event,
                                  client_upgrade_event, client_close_event, client_error_event>;

// ---------------------------------------------------------------- client

class client {
public:
  explicit client(client_options options = {});

  const client_options& options() const noexcept { return options_; }

  // ---- the application

  // Starts the handshake (idle only; later calls are ignored).
  void open(millis now);
  // Queues a message. False when the session is closing or closed (or
  // never opened), and for text the transport could not carry: text that
  // is not UTF-8, and, for v4 while polling may still carry it (before the
  // upgrade to WebSocket), text containing '\x1e', the polling separator.
  // Messages sent while opening wait for the handshake.
  bool send(std::string data, frame_kind kind, millis now);
  // Flushes the buffer, sends a close packet, ends the session with
  // "forced close". While opening: ends it at once.
  void close(millis now);

  // ---- inputs from the adapter

  // The response to client_http_request `request_id` (status, headers, whole
  // body). Responses to requests the client no longer cares about (after
  // close) are ignored.
  void http_response_received(connection_id request_id, int status, const header_list& headers, std::string body,
                              millis now);
  // The request failed without a response (connection refused, reset).
  void http_failed(connection_id request_id, millis now);
  void websocket_opened(connection_id connection, millis now);
  void websocket_failed(connection_id connection, millis now);
  // One whole WebSocket message.
  void websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now);
  // The server closed the connection (or it dropped).
  void websocket_closed(connection_id connection, millis now);

  // ---- timers

  std::optional<millis> next_deadline() const noexcept;
  void on_timeout(millis now);

  // ---- outputs

  std::optional<client_action> next_action();
  std::optional<client_event> next_event();

  // ---- inspection

  client_state state() const noexcept { return state_; }
  transport_kind transport() const noexcept { return transport_; }
  // Set once the handshake succeeded.
  const std::optional<handshake_info>& handshake() const noexcept { return handshake_; }
  std::size_t buffered_packets() const noexcept { return buffer_.size(); }
  bool upgrading() const noexcept { return probe_ != probe_state::none; }

private:
  // The upgrade's progress (engine.io-client Socket._probe, Polling.pause).
  enum class probe_state : std::uint8_t {
    none,        // no upgrade under way
    connecting,  // the WebSocket is being opened
    probing,     // "2probe" sent, waiting for "3probe"
    pausing,     // "3probe" received: no new GET/POST; waiting for the ones in flight
  };
  struct queued {
    packet_type type = packet_type::message;
    bool binary = false;
    std::string data;
  };

  std::string target(transport_kind kind) const;
  connection_id next_id() noexcept { return ++last_id_; }
  void start_poll(millis now);
  void start_probe();
  void receive(const packet& p, millis now);
  void on_handshake(std::string_view json, millis now);
  void queue(packet_type type, std::string data, bool binary);
  void flush(millis now);
  void maybe_finish_pause(millis now);
  void drop_probe(std::string why, millis now);
  void finish(close_reason reason, std::string description);

  client_options options_;
  client_state state_ = client_state::idle;
  transport_kind transport_ = transport_kind::polling;
  std::optional<handshake_info> handshake_;
  connection_id last_id_ = 0;

  // Polling: the GET in flight (the handshake GET too) and the POST in flight.
  std::optional<connection_id> get_;
  std::optional<connection_id> post_;
  // WebSocket: the connection in use, and the one being probed.
  std::optional<connection_id> websocket_;
  bool websocket_ready_ = false;  // websocket_ connected (WebSocket-only handshake)
  std::optional<connection_id> probe_conn_;
  probe_state probe_ = probe_state::none;

  std::deque<queued> buffer_;  // packets not yet handed to a transport
  bool close_queued_ = false;  // the close packet is in buffer_

  // Timers, absolute; nullopt when not armed.
  std::optional<millis> silence_due_;  // nothing heard for pingInterval + pingTimeout
  std::optional<millis> ping_at_;      // v3: send the next ping

  detail::output_queue<client_action> actions_;
  detail::output_queue<client_event> events_;
  std::string scratch_;
};

}  // namespace eio
