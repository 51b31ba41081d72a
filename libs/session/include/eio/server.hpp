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
#include <eio/types.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace eio {

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
  // Bytes one session may have waiting (its queue in the core plus what the
  // adapter has not written yet) before it is closed with write_buffer_full:
  // the last resort against a peer that never reads (the reference grows
  // without bound). The watermarks below are the application's earlier say.
  std::size_t max_buffered_bytes = 16 * 1024 * 1024;
  // Backpressure the application can see: when a session's buffered_bytes()
  // rises above high_watermark it gets a high_watermark_event (and volatile
  // sends to it are dropped); when it falls to low_watermark or below, a
  // low_watermark_event. Each event once per crossing.
  std::size_t high_watermark = 1024 * 1024;
  std::size_t low_watermark = 256 * 1024;
  // Packets per POST payload (eio::decode_options::max_packets).
  std::size_t max_packets_per_payload = 500'000;
  // Queue the trace events (packet_event, packet_create_event, flush_event):
  // one or more per packet, for tests and debugging; off, they cost nothing.
  bool trace_events = false;

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

// What the handshake request said (its body aside), kept for the session's
// life: Socket.IO's socket.handshake is built from it. Every session holds
// one, so it is one buffer: where each field ends, then the fields back to
// back (an http_request copy cost about 700 bytes more per idle WebSocket
// session, a text and a separate index 80 more than this).
class session_handshake {
public:
  session_handshake(const http_request& request, millis time);

  std::string_view method() const noexcept { return field(0); }
  std::string_view path() const noexcept { return field(1); }
  std::string_view query() const noexcept { return field(2); }  // raw, without '?'
  std::string_view remote_address() const noexcept { return field(3); }
  std::size_t header_count() const noexcept { return (field_count_ - fixed_fields) / 2; }
  std::string_view header_name(std::size_t i) const noexcept { return field(fixed_fields + 2 * i); }
  std::string_view header_value(std::size_t i) const noexcept { return field(fixed_fields + 2 * i + 1); }
  // The first header named `name` (ASCII case-insensitively).
  std::optional<std::string_view> header_value(std::string_view name) const noexcept;
  // The percent-decoded value of query parameter `name` (http_request's rules).
  std::optional<std::string> query_param(std::string_view name) const;
  // When the session was opened: the `now` of its handshake.
  millis time() const noexcept { return time_; }
  // The request again, as an http_request (without its body).
  http_request request() const;

private:
  static constexpr std::size_t fixed_fields = 4;  // method, path, query, remote address
  std::uint32_t field_end(std::size_t i) const noexcept;
  std::string_view field(std::size_t i) const noexcept;

  // field_count_ end offsets (std::uint32_t, into the text), then the text.
  std::string bytes_;
  std::uint32_t field_count_ = 0;
  millis time_{0};
};

// How send() treats a message.
struct send_options {
  // Socket.IO's volatile: dropped instead of queued when the session cannot
  // take it now (polling with no GET held, an upgrade under way, or above
  // high_watermark). Dropped messages are counted (volatile_dropped()).
  bool is_volatile = false;
  // A sent_event carries this once the message was handed to the transport.
  std::optional<std::uint64_t> notify_id;
};

// One message of broadcast_batch(): bytes shared by every receiver.
struct shared_message {
  shared_bytes data;
  frame_kind kind = frame_kind::text;
};

// One message of send_batch().
struct outgoing_message {
  std::string_view data;
  frame_kind kind = frame_kind::text;
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
// Send one WebSocket message: `data`, followed by *shared_tail when that is
// set (a broadcast: the bytes every receiver shares; write them with a
// gather write or copy them, but do not change them).
struct websocket_send {
  connection_id connection = 0;
  frame_kind kind = frame_kind::text;
  std::string data;
  shared_bytes shared_tail;
};
// Close a WebSocket connection (close frame with this code, then the socket).
struct websocket_close {
  connection_id connection = 0;
  std::uint16_t code = 1000;
};
using action = std::variant<http_response, websocket_accept, websocket_send, websocket_close>;

// ---------------------------------------------------------------- events
//
// Events are small (the variant is 72 bytes on 64-bit Linux; it was 264
// with a whole http_request inside): what a rare event carries in bulk is
// behind a pointer, and the hot one, message_event, is 32 bytes.

struct connection_event {  // a handshake succeeded
  session_ref session;
  // What the handshake settled, carried here because the session may already
  // be gone (closed by input handled in the same turn) when this is read.
  std::string id;
  transport_kind transport = transport_kind::polling;
  protocol_version version = protocol_version::v4;
  std::shared_ptr<const session_handshake> handshake;
};
struct connection_error_event {  // a request was refused
  request_error code;
  std::string context;  // what exactly was wrong ("unknown sid abc", ...); default_message(code) says the rest
  std::shared_ptr<const http_request> request;  // without its body
};
struct message_event {
  session_ref session;
  frame_kind kind = frame_kind::text;
  // Valid until the next call to next_event(): a view of the adapter's read
  // buffer (see websocket_message) or of the core's own storage. Copy what
  // must live longer.
  std::string_view data;
};
struct packet_event {  // trace_events: every packet received, before its own handling
  session_ref session;
  packet_type type;
};
struct packet_create_event {  // trace_events: every packet queued for the client
  session_ref session;
  packet_type type;
};
struct heartbeat_event {  // a ping (v3) or pong (v4) arrived
  session_ref session;
};
struct flush_event {  // trace_events: packets handed to the transport
  session_ref session;
  std::size_t packets = 0;
};
struct drain_event {  // packets that had waited in the session's queue went out; none wait now
  session_ref session;
};
struct sent_event {  // the message of send(..., notify_id) was handed to the transport
  session_ref session;
  std::uint64_t notify_id = 0;
};
struct upgrading_event {  // the client probed a WebSocket
  session_ref session;
};
struct upgrade_event {  // the session moved to WebSocket
  session_ref session;
};
struct high_watermark_event {  // buffered_bytes() rose above high_watermark
  session_ref session;
  std::size_t buffered = 0;
};
struct low_watermark_event {  // and fell back to low_watermark or below
  session_ref session;
  std::size_t buffered = 0;
};
struct close_event {
  session_ref session;
  close_reason reason;
  std::string description;
  void* user_data = nullptr;  // what set_user_data() last stored: its owner may release it now
};
using event = std::variant<connection_event, connection_error_event, message_event, packet_event, packet_create_event,
                           heartbeat_event, flush_event, drain_event, sent_event, upgrading_event, upgrade_event,
                           high_watermark_event, low_watermark_event, close_event>;

// ---------------------------------------------------------------- the direct path

// An adapter's connection outputs, given to server::attach_output. With it
// the hot case skips the action queue: a message for an open WebSocket
// session, when nothing is queued ahead of it, is appended to its
// connection's output at once by send()/broadcast(). Everything else (HTTP
// answers, accepts, closes, the first frames of a session) still comes as
// actions, so an adapter without an output loses nothing but speed.
//
// The core calls these from inside its own calls (send(), broadcast(),
// websocket_message(), timers); they must only buffer (write to the socket
// later, when the adapter flushes), never call back into the server.
class connection_output {
public:
  virtual ~connection_output() = default;
  // Appends one WebSocket message of `kind`: `prefix` (0 or 1 byte of
  // Engine.IO framing, see eio::layout_frame) followed by `body`.
  virtual void write_message(connection_id connection, frame_kind kind, std::string_view prefix,
                             std::string_view body) = 0;
  // The same with a body shared by many connections: keep a reference to it
  // (a gather write) rather than copy it.
  virtual void write_shared_message(connection_id connection, frame_kind kind, std::string_view prefix,
                                    const shared_bytes& body) = 0;
  // Bytes given for `connection` (by actions or the calls above) that the
  // socket has not taken yet; 0 for a connection the adapter does not know.
  virtual std::size_t unsent_bytes(connection_id connection) const noexcept = 0;
};

// ---------------------------------------------------------------- server

namespace detail {
struct session;
enum class link_state : std::uint8_t;
struct queued_packet;
}

// How a WebSocket connection ended, as the adapter saw it.
enum class connection_end : std::uint8_t {
  closed,  // the peer closed it (close frame, or the socket ended cleanly)
  failed,  // a protocol error or an I/O error
};

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
  // The whole body. Answers "ok" when it decodes, else 400 with the
  // Engine.IO error body, and the session closes with parse_error.
  void finish_post(connection_id connection, std::string body, millis now);
  // The body passed max_http_buffer_size: 413, and the session closes.
  void body_too_large(connection_id connection, millis now);
  // A WebSocket upgrade request (the adapter checked RFC 6455's own headers).
  // Queues websocket_accept, or an http_response refusing it.
  void handle_websocket(connection_id connection, const http_request& request, millis now);
  // One whole WebSocket message (fragments joined, UTF-8 checked for text).
  // The message_event it may queue is a view of `data`: keep those bytes
  // unchanged until you have taken the events this call queued (adapters
  // drain events after each read). websocket_message_owned hands the bytes
  // over instead (an inflated message, say).
  void websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now);
  void websocket_message_owned(connection_id connection, frame_kind kind, std::string data, millis now);
  // The connection ended; `why` may say how (e.g. "message too big (1009)"),
  // for the close event.
  void websocket_closed(connection_id connection, connection_end how, millis now, std::string_view why = {});
  // The socket took bytes of `connection`'s output after a write had to
  // wait: the core looks at the session's buffered_bytes() again (the low
  // watermark). Cheap; call it after every write that made progress while
  // the connection's output was waiting.
  void output_progress(connection_id connection, millis now);
  // An HTTP exchange ended before it was answered (a held GET, a POST whose
  // body never came).
  void http_closed(connection_id connection, millis now);
  // Enables the direct path (connection_output); null disables it. The
  // output must outlive the server or be detached first.
  void attach_output(connection_output* output) noexcept { output_ = output; }

  // ---- timers

  // The earliest time on_timeout must be called, if any timer is armed.
  std::optional<millis> next_deadline() const noexcept;
  // Runs every timer due at or before `now`.
  void on_timeout(millis now);

  // ---- the application

  // Sends a message. Returns false when the session is gone or closing, for
  // text the client could not receive (text that is not UTF-8, and, for a v4
  // session not yet upgraded to WebSocket, text containing '\x1e', the v4
  // polling separator; the reference has the same limit but sends it
  // broken), and for a volatile message dropped.
  bool send(session_ref session, std::string_view data, frame_kind kind, millis now, send_options how = {});
  // Several messages for one session, all or none (false, and nothing sent,
  // when send() would refuse any), handed to the transport together: over
  // polling they leave in one response (a Socket.IO binary event and its
  // attachments).
  bool send_batch(session_ref session, const outgoing_message* messages, std::size_t count, millis now);
  bool send_batch(session_ref session, const std::vector<outgoing_message>& messages, millis now) {
    return send_batch(session, messages.data(), messages.size(), now);
  }
  // One message for many sessions, encoded once: every session's queue and
  // every connection's output refer to `data` instead of copying it. Returns
  // how many sessions took it (send()'s rules, per session).
  std::size_t broadcast(const session_ref* sessions, std::size_t count, shared_bytes data, frame_kind kind, millis now,
                        send_options how = {}) {
    const shared_message part{std::move(data), kind};
    return broadcast_batch(sessions, count, &part, 1, now, how);
  }
  std::size_t broadcast(const std::vector<session_ref>& sessions, shared_bytes data, frame_kind kind, millis now,
                        send_options how = {}) {
    return broadcast(sessions.data(), sessions.size(), std::move(data), kind, now, how);
  }
  // Several messages for many sessions (a Socket.IO binary event and its
  // attachments), each encoded once; every session takes all of them or
  // none (send_batch's rule), handed over together. Returns how many
  // sessions took them.
  std::size_t broadcast_batch(const session_ref* sessions, std::size_t count, const shared_message* parts,
                              std::size_t part_count, millis now, send_options how = {});
  // Ends the session with close_reason::forced_close: flush sends what is
  // buffered first, then the close packet; discard drops the buffer.
  void close(session_ref session, millis now, close_mode mode = close_mode::flush);
  // Closes every session (server_shutting_down).
  void shutdown(millis now);

  // A pointer-sized slot per session for the layer above (its own object
  // for this session, say), so it keeps no map of its own. The core never
  // dereferences it; it is forgotten when the session closes, and the
  // close_event hands it back. Setting it on a session gone is a no-op.
  void set_user_data(session_ref session, void* data) noexcept;
  void* user_data(session_ref session) const noexcept;

  // ---- outputs

  std::optional<action> next_action();
  std::optional<event> next_event();

  // ---- inspection
  // The session's state now, not when an event was queued: by the time an
  // event is read, input handled in the same turn may have closed its
  // session (its close_event is then further down the queue).

  std::size_t session_count() const noexcept { return by_id_.size(); }
  // Appends every live session to `out` (for a broadcast to all).
  void all_sessions(std::vector<session_ref>& out) const;
  std::optional<session_ref> find_session(std::string_view sid) const;
  // "" when the session is gone.
  std::string_view session_id(session_ref session) const noexcept;
  std::optional<transport_kind> session_transport(session_ref session) const noexcept;
  std::optional<protocol_version> session_protocol(session_ref session) const noexcept;
  // The handshake request and time; null when the session is gone.
  std::shared_ptr<const session_handshake> handshake(session_ref session) const noexcept;
  // Bytes waiting for the session's client: its queue in the core, plus
  // what the adapter has not written (connection_output::unsent_bytes).
  std::size_t buffered_bytes(session_ref session) const noexcept;
  // Volatile messages dropped for `session` (0 when gone), and for all
  // sessions since the server started.
  std::uint64_t volatile_dropped(session_ref session) const noexcept;
  std::uint64_t volatile_dropped() const noexcept { return volatile_dropped_; }

private:
  struct post_format {  // how to read a POST whose body is still arriving
    bool binary = false;
    bool jsonp = false;
    header_list headers;  // for its answer
  };
  enum class delivery : std::uint8_t { queued, dropped, refused };
  enum class probe_end : std::uint8_t { close_connection, already_closed };
  struct text_facts {
    bool utf8 = true;
    bool separator = false;  // holds '\x1e'
  };
  static constexpr std::uint64_t unsealed = ~std::uint64_t{0};

  // server.cpp: the session table, retained bytes, inspection
  detail::session* lookup(session_ref ref) noexcept;
  const detail::session* lookup(session_ref ref) const noexcept;
  detail::session* by_connection(connection_id connection) noexcept;
  std::string_view retain(std::string&& bytes);
  void seal_retained() noexcept;
  void deliver(detail::session& s, const packet& p);
  std::size_t buffered_bytes(const detail::session& s) const noexcept;
  template <typename Event>
  void trace(Event e) {
    if (options_.trace_events) events_.emplace_back(std::move(e));
  }

  // routing.cpp: verification, refusals, the handshake
  detail::session* route(connection_id connection, const http_request& request, bool websocket, millis now);
  detail::session* handshake(connection_id connection, const http_request& request, detail::link_state link,
                             protocol_version version, millis now);
  bool allowed(connection_id connection, const http_request& request, bool websocket);
  void refuse(connection_id connection, const http_request& request, bool websocket, request_error code,
              std::string context, std::string message = {});
  static std::string error_body(request_error code, std::string_view message);
  header_list response_headers(const http_request& request, std::string_view content_type, bool handshake) const;
  static std::string jsonp_of(const http_request& request);

  // transitions.cpp: every input that moves a session, one dispatch each
  void on_get(detail::session& s, connection_id connection, const http_request& request, millis now);
  void on_post(detail::session& s, connection_id connection, const http_request& request, millis now);
  void on_websocket_request(detail::session& s, connection_id connection, const http_request& request, millis now);
  void on_probe_packet(detail::session& s, connection_id connection, const packet* p, millis now);
  void on_packet(detail::session& s, const packet& p, millis now);
  void on_websocket_end(detail::session& s, connection_id connection, connection_end how, std::string_view why,
                        millis now);
  void on_timers(detail::session& s, millis now);

  // polling.cpp
  void hold_get(detail::session& s, connection_id connection, const http_request& request, millis now);
  void begin_post_body(detail::session& s, connection_id connection, const http_request& request);
  void refuse_and_close(detail::session& s, connection_id connection, const http_request& request, close_reason reason,
                        std::string description, millis now);
  void answer_held_get(detail::session& s, std::string_view payload, payload_format format);
  void answer_held_get_with(detail::session& s, packet_type type);

  // upgrade.cpp
  void receive_frame(connection_id connection, frame_kind kind, std::string_view data, millis now);
  void start_probe(detail::session& s, connection_id connection, const http_request& request, millis now);
  void answer_probe(detail::session& s, connection_id connection, millis now);
  void leave_probe(detail::session& s, probe_end how);
  void finish_upgrade(detail::session& s, millis now);

  // heartbeat.cpp, and the timers
  void start_heartbeat(detail::session& s, millis now);
  void on_ping_packet(detail::session& s, millis now);
  void on_pong_packet(detail::session& s, millis now);
  void send_ping(detail::session& s, millis now);
  void arm(detail::session& s);

  // outbound.cpp
  static text_facts facts_of(std::string_view data, frame_kind kind) noexcept;
  delivery check_send(detail::session& s, text_facts facts, const send_options& how);
  bool writable_now(const detail::session& s) const noexcept;
  bool try_direct(detail::session& s, const packet& p, const shared_bytes* shared);
  void queue(detail::session& s, packet_type type, std::string_view data, frame_kind kind, shared_bytes shared,
             std::optional<std::uint64_t> notify_id);
  void flush(detail::session& s, millis now);
  std::size_t flush_websocket(detail::session& s);
  std::size_t flush_polling(detail::session& s);
  void account(detail::session& s, millis now);
  void close_for_buffer(detail::session& s, millis now);

  // close.cpp
  void finish_closing(detail::session& s, millis now);
  void close_session(detail::session& s, close_reason reason, std::string description, millis now);
  void release(detail::session& s);

  server_options options_;
  connection_output* output_ = nullptr;
  std::vector<std::unique_ptr<detail::session>> slots_;
  std::vector<std::uint32_t> generations_;  // per slot, so a session_ref never names a later session
  std::vector<std::uint32_t> free_slots_;
  // Keyed by a view of the session's own id (the session outlives its entry).
  std::unordered_map<std::string_view, std::uint32_t> by_id_;
  std::unordered_map<connection_id, std::uint32_t> by_connection_;  // held GETs, pending POSTs, WebSockets
  std::unordered_map<connection_id, post_format> post_formats_;
  std::set<std::pair<millis, std::uint32_t>> deadlines_;  // one entry per session with a timer armed
  detail::output_queue<action> actions_;
  detail::output_queue<event> events_;
  // Bytes message_events view that the core owns (decoded POST bodies,
  // base64 frames, handed-over messages), each with the number of the event
  // that views it: freed once that event has been taken and the next asked for.
  std::deque<std::pair<std::uint64_t, std::string>> retained_;  // a deque: views stay put as it grows
  std::uint64_t events_taken_ = 0;
  std::string_view stable_input_;  // the input being handled: message events may view it
  std::string frame_scratch_;  // base64 frames decode here
  std::string encode_scratch_;  // frames that need transforming (base64) on the direct path
  std::uint64_t volatile_dropped_ = 0;
};

}  // namespace eio

namespace std {
template <>
struct hash<eio::session_ref> {
  std::size_t operator()(eio::session_ref ref) const noexcept {
    return std::hash<std::uint64_t>()((std::uint64_t{ref.generation} << 32) | ref.slot);
  }
};
}  // namespace std
