// eio::session: the Engine.IO server core, sans I/O.
//
// The core owns every protocol rule (request validation, handshake,
// heartbeat, polling, upgrade, buffering, close) and nothing else: it never
// reads a clock, starts a thread or touches a socket. The adapter (an HTTP and
// WebSocket stack) hands it inputs, each with `now`, and carries out the
// actions it queues; the application reads the events it queues and calls
// send()/close(). Timers are a query: next_deadline(), then on_timeout(now).
//
//   adapter                         server                       application
//   handle_request(conn, req, now) ->  | -> next_action(): http_response, ...
//   websocket_message(conn, ...)   ->  | -> next_event():  connection, message, close, ...
//   on_timeout(now)                ->  | <- send(session, ...), close(session)
//
// Behaviour follows the protocol (socketio/engine.io-protocol, README.md) and
// the observable behaviour of the Node reference server (engine.io 6); see
// docs/node-reference-behaviour.md for the facts and the places we differ.
#pragma once

#include <eio/detail/output_queue.hpp>
#include <eio/parser.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace eio {

// Milliseconds on the caller's monotonic clock, from an epoch of its choice.
using millis = std::chrono::milliseconds;

// The adapter's name for one HTTP exchange or WebSocket connection. Unique
// among the exchanges and connections the server currently knows.
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

// An HTTP request as the adapter received it.
struct http_request {
  std::string method;  // "GET", "POST", "OPTIONS", ...
  std::string path;    // without the query
  std::string query;   // the raw query string, without '?'
  header_list headers;
  std::string body;    // a POST's whole body (see handle_request)
  std::string remote_address;

  // The percent-decoded value of query parameter `name`, if present.
  std::optional<std::string> query_param(std::string_view name) const;
  std::optional<std::string_view> header_value(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

// Engine.IO's request error codes (the reference's Server.errors).
enum class request_error : std::uint8_t {
  unknown_transport = 0,         // "Transport unknown"
  unknown_sid = 1,               // "Session ID unknown"
  bad_handshake_method = 2,      // "Bad handshake method"
  bad_request = 3,               // "Bad request"
  forbidden = 4,                 // "Forbidden" (HTTP 403; all others 400)
  unsupported_protocol_version = 5,  // "Unsupported protocol version"
};
std::string_view default_message(request_error code) noexcept;

// What allow_request decides for a handshake or upgrade.
struct request_verdict {
  bool allowed = true;
  std::string message;  // with a denial: the body's message (default "Forbidden")

  static request_verdict allow() { return {}; }
  static request_verdict deny(std::string message = "Forbidden") { return {false, std::move(message)}; }
};

// Why a session closed, as the reference names it.
enum class close_reason : std::uint8_t {
  transport_close,       // "transport close": the client closed (close packet, socket closed)
  transport_error,       // "transport error": overlapping polls, a poll cut short, a bad frame
  ping_timeout,          // "ping timeout"
  forced_close,          // "forced close": the application called close()
  parse_error,           // "parse error": the client sent malformed packets
  server_shutting_down,  // "server shutting down": shutdown()
  write_buffer_full,     // "write buffer full": more than max_buffered_bytes waited (eio only)
};
std::string_view to_string(close_reason reason) noexcept;

struct cookie_options {
  std::string name = "io";
  std::string path = "/";
  bool http_only = true;
  std::string same_site = "Lax";  // empty: no SameSite attribute
};

struct cors_options {
  // Allowed origins, compared exactly ("https://app.example"); the allowed
  // request origin is echoed back. Ignored when any_origin.
  std::vector<std::string> origins;
  // "Access-Control-Allow-Origin: *". With credentials this would be refused
  // by browsers, so the request origin is echoed only if reflect_any_origin.
  bool any_origin = false;
  bool reflect_any_origin = false;  // echo any origin, even with credentials: know what you do
  bool credentials = false;
  std::vector<std::string> methods = {"GET", "POST"};
  std::vector<std::string> allowed_headers;  // empty: echo Access-Control-Request-Headers
  std::vector<std::string> exposed_headers;
  std::optional<int> max_age_seconds;
};

struct server_options {
  millis ping_interval{25000};
  millis ping_timeout{20000};
  millis upgrade_timeout{10000};
  std::size_t max_http_buffer_size = 1'000'000;  // bytes of one POST body or WebSocket message
  bool allow_polling = true;
  bool allow_websocket = true;
  bool allow_upgrades = true;
  bool allow_eio3 = false;
  std::optional<std::string> initial_packet;  // a message sent right after the handshake
  std::optional<cookie_options> cookie;       // none by default, as in the reference
  std::optional<cors_options> cors;           // none by default
  std::string path = "/engine.io/";
  // Bytes the write buffer of one session may hold before the session is
  // closed with write_buffer_full (the reference grows without bound).
  std::size_t max_buffered_bytes = 16 * 1024 * 1024;
  // Packets per POST payload (eio::decode_options::max_packets).
  std::size_t max_packets_per_payload = 500'000;

  // A new session ID; must be unique among open sessions. Default: 20
  // characters of URL-safe base64 from 15 bytes of std::random_device.
  std::function<std::string()> generate_id;
  // Runs on every handshake and upgrade request before anything else.
  std::function<request_verdict(const http_request&)> allow_request;
  // May add headers to the handshake response only ("initial_headers").
  std::function<void(const http_request&, header_list&)> initial_headers;
  // May add headers to every polling response and WebSocket accept ("headers").
  std::function<void(const http_request&, header_list&)> headers;
};

// The default server_options::generate_id: 20 characters of URL-safe base64
// (A-Z a-z 0-9 - _) from 15 bytes of std::random_device. Thread-safe.
std::string random_session_id();

// A session as the application and the actions name it: stable while the
// session lives, never reused for another session while the server lives.
struct session_ref {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  friend bool operator==(session_ref a, session_ref b) { return a.slot == b.slot && a.generation == b.generation; }
  friend bool operator!=(session_ref a, session_ref b) { return !(a == b); }
};

// ---------------------------------------------------------------- actions

// Answer HTTP exchange `connection` (now, or later for a held poll).
struct http_response {
  connection_id connection = 0;
  int status = 200;
  header_list headers;  // Content-Type included; the adapter adds Content-Length / framing
  std::string body;
};
// Complete the WebSocket handshake of `connection` (101) with these extra headers.
struct websocket_accept {
  connection_id connection = 0;
  header_list headers;
};
// Send one WebSocket message.
struct websocket_send {
  connection_id connection = 0;
  frame_kind kind = frame_kind::text;
  std::string data;
};
// Close a WebSocket connection (close frame with this code, then the socket).
struct websocket_close {
  connection_id connection = 0;
  std::uint16_t code = 1000;
};
using action = std::variant<http_response, websocket_accept, websocket_send, websocket_close>;

// ---------------------------------------------------------------- events

struct connection_event {  // a handshake succeeded
  session_ref session;
  // What the handshake settled, carried here because the session may already
  // be gone (closed by input handled in the same turn) when this is read.
  std::string id;
  transport_kind transport = transport_kind::polling;
  protocol_version version = protocol_version::v4;
};
struct connection_error_event {  // a request was refused
  request_error code;
  std::string message;
  std::string context;  // what exactly was wrong ("unknown sid abc", ...)
  http_request request;  // without its body
};
struct message_event {
  session_ref session;
  bool binary = false;
  std::string data;
};
struct packet_event {  // every packet received, before its own handling
  session_ref session;
  packet_type type;
};
struct packet_create_event {  // every packet queued for the client
  session_ref session;
  packet_type type;
};
struct heartbeat_event {  // a ping (v3) or pong (v4) arrived
  session_ref session;
};
struct flush_event {  // packets handed to the transport
  session_ref session;
  std::size_t packets = 0;
};
struct drain_event {  // the write buffer is empty again
  session_ref session;
};
struct sent_event {  // the packet of send(..., notify_id) was written out
  session_ref session;
  std::uint64_t notify_id = 0;
};
struct upgrading_event {  // the client probed a WebSocket
  session_ref session;
};
struct upgrade_event {  // the session moved to WebSocket
  session_ref session;
};
struct close_event {
  session_ref session;
  close_reason reason;
  std::string description;
};
using event = std::variant<connection_event, connection_error_event, message_event, packet_event, packet_create_event,
                           heartbeat_event, flush_event, drain_event, sent_event, upgrading_event, upgrade_event,
                           close_event>;

// ---------------------------------------------------------------- server

namespace detail {
struct session;
enum class link_state : std::uint8_t;
}

class server {
public:
  explicit server(server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  const server_options& options() const noexcept { return options_; }

  // ---- inputs from the adapter

  // An HTTP request on options().path, body included (the adapter stops
  // reading a body at max_http_buffer_size and calls body_too_large
  // instead). Answers now, or holds a polling GET open until there is
  // something to send. Also answers CORS preflights (OPTIONS).
  void handle_request(connection_id connection, http_request request, millis now);
  // Two-phase form for POSTs whose body is still arriving: begin_post with
  // the head (the body empty); returns true when the adapter should read the
  // body and call finish_post, false when the request was answered already.
  bool begin_post(connection_id connection, const http_request& head, millis now);
  void finish_post(connection_id connection, std::string body, millis now);
  // The body passed max_http_buffer_size: 413, and the session closes.
  void body_too_large(connection_id connection, millis now);
  // A WebSocket upgrade request (the adapter checked RFC 6455's own headers).
  // Queues websocket_accept, or an http_response refusing it.
  void handle_websocket(connection_id connection, const http_request& request, millis now);
  // One whole WebSocket message (fragments joined, UTF-8 checked for text).
  void websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now);
  // The peer closed, or the connection failed (then `error` is true, and
  // `why` may say how, e.g. "message too big (1009)", for the close event).
  void websocket_closed(connection_id connection, bool error, millis now, std::string_view why = {});
  // An HTTP exchange ended before it was answered (a held GET, a POST whose
  // body never came).
  void http_closed(connection_id connection, millis now);

  // ---- timers

  // The earliest time on_timeout must be called, if any timer is armed.
  std::optional<millis> next_deadline() const noexcept;
  // Runs every timer due at or before `now`.
  void on_timeout(millis now);

  // ---- the application

  // Queues a message. Returns false when the session is gone or closing, and
  // for text the client could not receive: text that is not UTF-8, and, for
  // a v4 session not yet upgraded to WebSocket, text containing '\x1e' (the
  // v4 polling separator; the reference has the same limit but sends it
  // broken). With notify_id, a sent_event carries it once written out.
  bool send(session_ref session, std::string data, bool binary, millis now,
            std::optional<std::uint64_t> notify_id = std::nullopt);
  // Flushes what is buffered, then sends a close packet and ends the session
  // (close_reason::forced_close). With discard, drops the buffer instead.
  void close(session_ref session, millis now, bool discard = false);
  // Closes every session (server_shutting_down).
  void shutdown(millis now);

  // ---- outputs

  std::optional<action> next_action();
  std::optional<event> next_event();

  // ---- inspection
  // The session's state now, not when an event was queued: by the time an
  // event is read, input handled in the same turn may have closed its
  // session (its close_event is then further down the queue).

  std::size_t session_count() const noexcept { return by_id_.size(); }
  std::optional<session_ref> find_session(std::string_view sid) const;
  // "" when the session is gone.
  std::string_view session_id(session_ref session) const noexcept;
  std::optional<transport_kind> session_transport(session_ref session) const noexcept;
  std::optional<protocol_version> session_protocol(session_ref session) const noexcept;

private:
  struct post_format {  // how to read a POST whose body is still arriving
    bool binary = false;
    bool jsonp = false;
    header_list headers;  // for its "ok"
  };

  detail::session* lookup(session_ref ref) noexcept;
  const detail::session* lookup(session_ref ref) const noexcept;
  detail::session* by_connection(connection_id connection) noexcept;
  detail::session* route(connection_id connection, const http_request& request, bool websocket, millis now);
  detail::session* handshake(connection_id connection, const http_request& request, detail::link_state link,
                             protocol_version version, millis now);
  bool allowed(connection_id connection, const http_request& request, bool websocket);
  void refuse(connection_id connection, const http_request& request, bool websocket, request_error code,
              std::string context, std::string message = {});
  header_list response_headers(const http_request& request, std::string_view content_type, bool handshake) const;
  static std::string jsonp_of(const http_request& request);
  void poll_get(detail::session& s, connection_id connection, const http_request& request, millis now);
  void poll_post_begin(detail::session& s, connection_id connection, const http_request& request, millis now);
  void answer_held_get(detail::session& s, std::string_view payload, payload_format format);
  void answer_held_get_with_noop(detail::session& s);
  void start_probe(detail::session& s, connection_id connection, const http_request& request, millis now);
  void abandon_probe(detail::session& s);
  void finish_upgrade(detail::session& s, millis now);
  void receive(detail::session& s, const packet& p, millis now);
  void queue(detail::session& s, packet_type type, std::string data, bool binary,
             std::optional<std::uint64_t> notify_id);
  void flush(detail::session& s, millis now);
  void finish_closing(detail::session& s, millis now);
  void close_session(detail::session& s, close_reason reason, std::string description, millis now);
  void release(detail::session& s);
  void arm(detail::session& s);

  server_options options_;
  std::vector<std::unique_ptr<detail::session>> slots_;
  std::vector<std::uint32_t> generations_;  // per slot, so a session_ref never names a later session
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<std::string, std::uint32_t> by_id_;
  std::unordered_map<connection_id, std::uint32_t> by_connection_;  // held GETs, pending POSTs, WebSockets
  std::unordered_map<connection_id, post_format> post_formats_;
  std::set<std::pair<millis, std::uint32_t>> deadlines_;  // one entry per session with a timer armed
  detail::output_queue<action> actions_;
  detail::output_queue<event> events_;
  std::string frame_scratch_;  // base64 frames decode here
};

}  // namespace eio
