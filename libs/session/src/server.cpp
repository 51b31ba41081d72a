// The Engine.IO server core: request routing and verification, and every
// rule that moves a session (detail::session) from one state to another.
//
// The session's life in one table (state x input -> what happens). Each row
// is one function below; session_machine_test walks every cell.
//
//   input \ link         polling            probing/upgrading        websocket
//   GET                  hold / flush       hold (noop every 100 ms) 400 (transport mismatch)
//   POST                 decode, deliver    decode, deliver          400 (transport mismatch)
//   second GET/POST      400 + transport error                       -
//   WebSocket request    accept -> probing  400 (already upgrading)  400 (already upgraded)
//   probe "2probe"       -                  "3probe", upgrading      -
//   probe "5"            -                  upgrading: switch        -
//   probe other/closed   -                  abandon the probe        -
//   ws packet            -                  -                        deliver
//   ws closed            -                  abandon the probe        transport close/error
//   upgrade_timeout      -                  abandon the probe        -
//   noop_due             -                  upgrading: noop to a held GET, again in 100 ms
//   ping_at (v4)         queue ping, arm heartbeat_due
//   heartbeat_due        close: ping timeout
//   app send             queue (closing/closed: refused)
//   app close            closing: flush, then close packet, then closed
//
// Packets received (any link): message -> event; v4 pong / v3 ping ->
// heartbeat; close -> transport close; v4 ping, v3 pong -> transport error
// ("invalid heartbeat direction"); malformed -> parse error.
#include <eio/server.hpp>

#include <eio/base64.hpp>
#include <eio/utf8.hpp>

#include <algorithm>
#include <cassert>

#include "http.hpp"
#include "session.hpp"

namespace eio {

using detail::link_state;
using detail::queued_packet;
using detail::session;
using detail::session_state;

namespace {

constexpr std::string_view text_content_type = "text/plain; charset=UTF-8";
constexpr std::string_view binary_content_type = "application/octet-stream";

// How often an upgrading session ends a held GET with a noop (socket.ts's check interval).
constexpr millis noop_interval{100};

int status_of(request_error code) { return code == request_error::forbidden ? 403 : 400; }

std::string handshake_json(const session& s, const server_options& options) {
  std::string json = "{\"sid\":";
  detail::append_json_string(s.id, json);
  json += ",\"upgrades\":[";
  if (s.link == link_state::polling && options.allow_upgrades && options.allow_websocket) json += "\"websocket\"";
  json += "],\"pingInterval\":" + std::to_string(options.ping_interval.count());
  json += ",\"pingTimeout\":" + std::to_string(options.ping_timeout.count());
  // The reference sends v3 clients the same JSON, maxPayload included.
  json += ",\"maxPayload\":" + std::to_string(options.max_http_buffer_size);
  json += '}';
  return json;
}

}  // namespace

// ------------------------------------------------------------ construction

server::server(server_options options) : options_(std::move(options)) {
  if (!options_.generate_id) options_.generate_id = detail::random_session_id;
}

server::~server() = default;

session* server::lookup(session_ref ref) noexcept {
  if (ref.slot >= slots_.size() || !slots_[ref.slot]) return nullptr;
  session* s = slots_[ref.slot].get();
  return s->ref == ref ? s : nullptr;
}

const session* server::lookup(session_ref ref) const noexcept {
  return const_cast<server*>(this)->lookup(ref);
}

session* server::by_connection(connection_id connection) noexcept {
  const auto found = by_connection_.find(connection);
  return found == by_connection_.end() ? nullptr : slots_[found->second].get();
}

std::optional<session_ref> server::find_session(std::string_view sid) const {
  const auto found = by_id_.find(std::string(sid));
  if (found == by_id_.end()) return std::nullopt;
  return slots_[found->second]->ref;
}

std::string_view server::session_id(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? std::string_view(s->id) : std::string_view();
}

std::optional<transport_kind> server::session_transport(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  if (!s) return std::nullopt;
  return s->link == link_state::websocket ? transport_kind::websocket : transport_kind::polling;
}

std::optional<protocol_version> server::session_protocol(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  if (!s) return std::nullopt;
  return s->version;
}

std::optional<action> server::next_action() {
  return actions_.take();
}

std::optional<event> server::next_event() {
  return events_.take();
}

// ------------------------------------------------------------ HTTP responses

header_list server::response_headers(const http_request& request, std::string_view content_type, bool handshake) const {
  header_list headers;
  if (!content_type.empty()) headers.push_back({"Content-Type", std::string(content_type)});
  if (options_.cors) detail::append_cors_headers(*options_.cors, request, false, headers);
  if (handshake && options_.initial_headers) options_.initial_headers(request, headers);
  if (options_.headers) options_.headers(request, headers);
  return headers;
}

void server::refuse(connection_id connection, const http_request& request, bool websocket, request_error code,
                    std::string context, std::string message) {
  if (message.empty()) message = std::string(default_message(code));
  if (websocket) {
    // The reference refuses upgrades with a bare 400 and the message as text,
    // whatever the code (server.ts abortUpgrade).
    actions_.emplace_back(http_response{connection, 400, {{"Content-Type", "text/html"}}, message});
  } else {
    std::string body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":";
    detail::append_json_string(message, body);
    body += '}';
    actions_.emplace_back(http_response{connection, status_of(code),
                                        response_headers(request, "application/json", false), std::move(body)});
  }
  http_request without_body = request;
  without_body.body.clear();
  events_.emplace_back(connection_error_event{code, std::string(default_message(code)), std::move(context),
                                              std::move(without_body)});
}

// ------------------------------------------------------------ requests

void server::handle_request(connection_id connection, http_request request, millis now) {
  if (request.method == "POST") {
    std::string body = std::move(request.body);
    request.body.clear();
    if (begin_post(connection, request, now)) finish_post(connection, std::move(body), now);
    return;
  }
  if (request.method == "OPTIONS" && options_.cors && request.header_value("origin")) {
    header_list headers;
    detail::append_cors_headers(*options_.cors, request, true, headers);
    actions_.emplace_back(http_response{connection, 204, std::move(headers), {}});
    return;
  }
  route(connection, request, false, now);
}

bool server::begin_post(connection_id connection, const http_request& head, millis now) {
  session* s = route(connection, head, false, now);
  return s && s->pending_post == connection;
}

void server::handle_websocket(connection_id connection, const http_request& request, millis now) {
  route(connection, request, true, now);
}

// The application's allow_request hook; refuses the request when it says no.
bool server::allowed(connection_id connection, const http_request& request, bool websocket) {
  if (!options_.allow_request) return true;
  request_verdict verdict = options_.allow_request(request);
  if (!verdict.allowed) {
    refuse(connection, request, websocket, request_error::forbidden, "allow_request denied", std::move(verdict.message));
  }
  return verdict.allowed;
}

// Verification in the reference's order (server.ts verify): transport,
// origin, then either the session the sid names or a new handshake.
session* server::route(connection_id connection, const http_request& request, bool websocket, millis now) {
  const std::optional<std::string> transport_name = request.query_param("transport");
  const bool polling_named = transport_name == "polling" && options_.allow_polling;
  const bool websocket_named = transport_name == "websocket" && options_.allow_websocket;
  if (!(websocket ? websocket_named : polling_named || websocket_named)) {
    refuse(connection, request, websocket, request_error::unknown_transport, "transport " + transport_name.value_or("(none)"));
    return nullptr;
  }
  if (const auto origin = request.header_value("origin")) {
    for (const char c : *origin) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
        refuse(connection, request, websocket, request_error::bad_request, "invalid origin header");
        return nullptr;
      }
    }
  }
  const std::optional<std::string> sid = request.query_param("sid");
  if (!sid) {
    if (request.method != "GET") {
      refuse(connection, request, websocket, request_error::bad_handshake_method, "method " + request.method);
      return nullptr;
    }
    if (!websocket && transport_name != "polling") {  // a WebSocket handshake must be an upgrade request
      refuse(connection, request, websocket, request_error::bad_request, "websocket transport without an upgrade");
      return nullptr;
    }
    if (!allowed(connection, request, websocket)) return nullptr;
    // The version is checked last, as the reference does in handshake().
    const std::optional<std::string> eio = request.query_param("EIO");
    const protocol_version version = eio == "4" ? protocol_version::v4 : protocol_version::v3;
    if (version == protocol_version::v3 && !options_.allow_eio3) {
      refuse(connection, request, websocket, request_error::unsupported_protocol_version, "EIO " + eio.value_or("(none)"));
      return nullptr;
    }
    return handshake(connection, request, websocket ? link_state::websocket : link_state::polling, version, now);
  }

  const auto found = by_id_.find(*sid);
  if (found == by_id_.end()) {
    refuse(connection, request, websocket, request_error::unknown_sid, "unknown sid " + *sid);
    return nullptr;
  }
  session& s = *slots_[found->second];
  if (websocket) {
    if (s.link == link_state::websocket || s.probe || !options_.allow_upgrades || s.state != session_state::open) {
      // The reference accepts the WebSocket and closes it at once; the
      // session and any upgrade in progress go on.
      actions_.emplace_back(websocket_accept{connection, {}});
      actions_.emplace_back(websocket_close{connection, 1000});
      return nullptr;
    }
    if (!allowed(connection, request, websocket)) return nullptr;
    start_probe(s, connection, request, now);
    return &s;
  }
  if (s.link == link_state::websocket || transport_name != "polling") {
    refuse(connection, request, websocket, request_error::bad_request, "transport mismatch");
    return nullptr;
  }
  const session_ref ref = s.ref;
  if (request.method == "GET") {
    poll_get(s, connection, request, now);
  } else if (request.method == "POST") {
    poll_post_begin(s, connection, request, now);
  } else {
    refuse(connection, request, websocket, request_error::bad_request, "method " + request.method);
    return nullptr;
  }
  return lookup(ref);  // null when the request closed the session (overlap, bad content)
}

session* server::handshake(connection_id connection, const http_request& request, link_state link,
                           protocol_version version, millis now) {
  std::string id = options_.generate_id();
  while (by_id_.count(id)) id = options_.generate_id();  // the generator must not repeat an open session's id

  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    generations_.push_back(0);
  }
  slots_[slot] = std::make_unique<session>();
  session& s = *slots_[slot];
  s.id = std::move(id);
  s.ref = session_ref{slot, ++generations_[slot]};
  s.version = version;
  s.link = link;
  const std::optional<std::string> b64 = request.query_param("b64");
  s.base64_only = b64 && !b64->empty();  // any value, as the reference reads it (no binary frames either)
  by_id_.emplace(s.id, slot);

  // Heartbeat (engine.io-protocol "Heartbeat"): v4 servers ping; v3 clients do.
  if (version == protocol_version::v4) {
    s.ping_at = now + options_.ping_interval;
  } else {
    s.heartbeat_due = now + options_.ping_interval + options_.ping_timeout;
  }
  arm(s);

  // Announced before anything can close it, so the application always hears
  // of a session before its close.
  const session_ref ref = s.ref;
  events_.emplace_back(connection_event{ref, s.id, link == link_state::websocket ? transport_kind::websocket : transport_kind::polling, version});

  queue(s, packet_type::open, handshake_json(s, options_), false, std::nullopt);
  if (options_.initial_packet) queue(s, packet_type::message, *options_.initial_packet, false, std::nullopt);

  if (link == link_state::websocket) {
    s.websocket = connection;
    by_connection_[connection] = slot;
    actions_.emplace_back(websocket_accept{connection, response_headers(request, {}, true)});
    flush(s, now);
  } else {
    // The handshake GET is the first held poll: it leaves with the open packet.
    s.held_get = connection;
    s.held_get_headers = response_headers(request, {}, true);
    if (options_.cookie) {
      s.held_get_headers.push_back({"Set-Cookie", detail::set_cookie_value(*options_.cookie, s.id)});
    }
    s.held_get_jsonp = jsonp_of(request);
    by_connection_[connection] = slot;
    flush(s, now);
  }
  // flush() may have closed the session already (write_buffer_full): `s`
  // must not be touched again.
  return lookup(ref);
}

std::string server::jsonp_of(const http_request& request) {
  // The v4 client no longer offers JSONP, but the reference still serves it
  // to any protocol version that asks with `j`; so do we.
  const std::optional<std::string> j = request.query_param("j");
  return j ? "j" + detail::jsonp_index(*j) : std::string();
}

// ------------------------------------------------------------ polling

void server::poll_get(session& s, connection_id connection, const http_request& request, millis now) {
  if (s.held_get) {
    // Two GETs at once (polling.ts "overlap from client").
    actions_.emplace_back(http_response{connection, 400, response_headers(request, {}, false), {}});
    close_session(s, close_reason::transport_error, "overlap from client", now);
    return;
  }
  s.held_get = connection;
  s.held_get_headers = response_headers(request, {}, false);
  s.held_get_jsonp = jsonp_of(request);
  by_connection_[connection] = s.ref.slot;
  // While upgrading, an empty GET waits for the next noop tick rather than
  // getting one at once: a client that has not seen "3probe" yet would poll
  // again at once, and so on in a busy loop.
  if (!s.buffer.empty() || s.state == session_state::closing) flush(s, now);
}

void server::poll_post_begin(session& s, connection_id connection, const http_request& request, millis now) {
  if (s.pending_post) {
    actions_.emplace_back(http_response{connection, 400, response_headers(request, {}, false), {}});
    close_session(s, close_reason::transport_error, "data request overlap from client", now);
    return;
  }
  const auto content_type = request.header_value("content-type");
  const bool binary_body = content_type && ascii_iequals(*content_type, binary_content_type);
  if (binary_body && s.version == protocol_version::v4) {  // v4 payloads are text only
    actions_.emplace_back(http_response{connection, 400, response_headers(request, {}, false), {}});
    close_session(s, close_reason::transport_error, "invalid content", now);
    return;
  }
  s.pending_post = connection;
  post_formats_[connection] = post_format{binary_body, !jsonp_of(request).empty(), response_headers(request, {}, false)};
  by_connection_[connection] = s.ref.slot;
}

void server::finish_post(connection_id connection, std::string body, millis now) {
  session* s = by_connection(connection);
  const auto format = post_formats_.find(connection);
  if (!s || s->pending_post != connection || format == post_formats_.end()) return;  // no longer expected
  // An adapter that read the whole body anyway: the limit still holds, on
  // the raw body as the reference counts it (fact 43, difference 1).
  if (body.size() > options_.max_http_buffer_size) return body_too_large(connection, now);
  post_format how = std::move(format->second);
  post_formats_.erase(format);
  by_connection_.erase(connection);
  s->pending_post.reset();

  header_list headers = std::move(how.headers);
  headers.insert(headers.begin(), header{"Content-Type", "text/html"});
  actions_.emplace_back(http_response{connection, 200, std::move(headers), "ok"});

  std::string jsonp_body;
  std::string_view payload = body;
  if (how.jsonp) {
    std::optional<std::string> decoded = detail::jsonp_payload(body);
    if (!decoded) return;  // no single d field: nothing to decode, still "ok" (fact 47)
    jsonp_body = std::move(*decoded);
    payload = jsonp_body;
  }
  decode_options limits;
  limits.max_payload_bytes = options_.max_http_buffer_size;
  limits.max_packets = options_.max_packets_per_payload;
  payload_decoder decoder(s->version, how.binary ? payload_format::binary : payload_format::text, limits);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(payload, packets);
  const session_ref ref = s->ref;
  for (const packet& p : packets) {
    session* alive = lookup(ref);
    if (!alive || alive->state == session_state::closed) return;
    receive(*alive, p, now);
  }
  if (error) {
    if (session* alive = lookup(ref)) {
      close_session(*alive, close_reason::parse_error,
                    std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset), now);
    }
  }
}

void server::body_too_large(connection_id connection, millis now) {
  session* s = by_connection(connection);
  const auto format = post_formats_.find(connection);
  if (!s || s->pending_post != connection || format == post_formats_.end()) return;
  actions_.emplace_back(http_response{connection, 413, std::move(format->second.headers), {}});
  post_formats_.erase(format);
  by_connection_.erase(connection);
  s->pending_post.reset();
  close_session(*s, close_reason::transport_error, "payload too large", now);
}

void server::http_closed(connection_id connection, millis now) {
  session* s = by_connection(connection);
  if (!s) return;
  if (s->held_get == connection) {
    by_connection_.erase(connection);
    s->held_get.reset();
    close_session(*s, close_reason::transport_error, "poll connection closed prematurely", now);
  } else if (s->pending_post == connection) {
    by_connection_.erase(connection);
    post_formats_.erase(connection);
    s->pending_post.reset();
    close_session(*s, close_reason::transport_error, "data request connection closed prematurely", now);
  }
}

void server::answer_held_get(session& s, std::string_view payload_bytes, payload_format format) {
  std::string body;
  std::string_view content_type = format == payload_format::binary ? binary_content_type : text_content_type;
  if (!s.held_get_jsonp.empty()) {
    detail::append_jsonp(std::string_view(s.held_get_jsonp).substr(1), payload_bytes, body);
    content_type = text_content_type;  // the reference sends JSONP as text/plain too
  } else {
    body.assign(payload_bytes);
  }
  header_list headers = std::move(s.held_get_headers);
  headers.insert(headers.begin(), {header{"Content-Type", std::string(content_type)}, header{"Cache-Control", "no-store"}});
  actions_.emplace_back(http_response{*s.held_get, 200, std::move(headers), std::move(body)});
  by_connection_.erase(*s.held_get);
  s.held_get.reset();
  s.held_get_headers.clear();
  s.held_get_jsonp.clear();
}

void server::answer_held_get_with_noop(session& s) {
  std::string payload;
  const packet noop{packet_type::noop, false, {}};
  const payload_format format = encode_payload(&noop, 1, s.version, false, payload);
  answer_held_get(s, payload, format);
}

// ------------------------------------------------------------ WebSocket

void server::start_probe(session& s, connection_id connection, const http_request& request, millis now) {
  s.probe = connection;
  s.link = link_state::probing;
  s.upgrade_due = now + options_.upgrade_timeout;
  by_connection_[connection] = s.ref.slot;
  arm(s);
  actions_.emplace_back(websocket_accept{connection, response_headers(request, {}, false)});
}

void server::abandon_probe(session& s) {
  if (!s.probe) return;
  actions_.emplace_back(websocket_close{*s.probe, 1000});
  by_connection_.erase(*s.probe);
  s.probe.reset();
  s.upgrade_due.reset();
  s.noop_due.reset();
  s.link = link_state::polling;
  arm(s);
}

void server::websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now) {
  session* s = by_connection(connection);
  if (!s) return;
  decode_options limits;
  limits.max_payload_bytes = options_.max_http_buffer_size;
  packet p;
  const decode_error error = decode_frame(data, kind, s->version, p, frame_scratch_, limits);

  if (s->probe == connection) {
    // engine.io-protocol "Upgrade": 2probe, then 5; anything else ends the probe.
    if (!error && s->link == link_state::probing && p.type == packet_type::ping && p.data == "probe") {
      std::string frame;
      const frame_kind reply_kind = encode_frame(packet{packet_type::pong, false, "probe"}, s->version, true, frame);
      actions_.emplace_back(websocket_send{connection, reply_kind, std::move(frame)});
      s->link = link_state::upgrading;
      events_.emplace_back(upgrading_event{s->ref});
      // The client now pauses polling: a noop ends its pending GET, and more
      // follow every 100 ms for GETs still on their way (socket.ts does the same).
      if (s->held_get && s->buffer.empty()) answer_held_get_with_noop(*s);
      s->noop_due = now + noop_interval;
      arm(*s);
      return;
    }
    if (!error && s->link == link_state::upgrading && p.type == packet_type::upgrade) {
      return finish_upgrade(*s, now);
    }
    return abandon_probe(*s);
  }
  if (s->websocket != connection) return;
  if (error.code == errc::payload_too_large) {  // ws's maxPayload: a transport error (fact 50)
    return close_session(*s, close_reason::transport_error, "payload too large", now);
  }
  if (error) {
    return close_session(*s, close_reason::parse_error,
                         std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset), now);
  }
  receive(*s, p, now);
}

void server::finish_upgrade(session& s, millis now) {
  s.websocket = s.probe;
  s.probe.reset();
  s.upgrade_due.reset();
  s.noop_due.reset();
  s.link = link_state::websocket;
  arm(s);
  // A poll still held would never be answered by a WebSocket session.
  if (s.held_get) answer_held_get_with_noop(s);
  events_.emplace_back(upgrade_event{s.ref});
  flush(s, now);
}

void server::websocket_closed(connection_id connection, bool error, millis now, std::string_view why) {
  session* s = by_connection(connection);
  if (!s) return;
  if (s->probe == connection) {
    by_connection_.erase(connection);
    s->probe.reset();
    s->upgrade_due.reset();
    s->noop_due.reset();
    s->link = link_state::polling;
    arm(*s);
    return;
  }
  if (s->websocket != connection) return;
  by_connection_.erase(connection);
  s->websocket.reset();
  std::string description;
  if (error) description = why.empty() ? "websocket error" : std::string(why);
  close_session(*s, error ? close_reason::transport_error : close_reason::transport_close, std::move(description), now);
}

// ------------------------------------------------------------ packets in

void server::receive(session& s, const packet& p, millis now) {
  if (s.state != session_state::open) return;  // a closing session hears nothing more (socket.ts onPacket)
  events_.emplace_back(packet_event{s.ref, p.type});
  switch (p.type) {
    case packet_type::message:
      events_.emplace_back(message_event{s.ref, p.binary, std::string(p.data)});
      return;
    case packet_type::ping:
      if (s.version == protocol_version::v4) {
        return close_session(s, close_reason::transport_error, "invalid heartbeat direction", now);
      }
      s.heartbeat_due = now + options_.ping_interval + options_.ping_timeout;
      arm(s);
      queue(s, packet_type::pong, {}, false, std::nullopt);  // bare "3", as the reference answers
      events_.emplace_back(heartbeat_event{s.ref});
      return flush(s, now);
    case packet_type::pong:
      if (s.version == protocol_version::v3) {
        return close_session(s, close_reason::transport_error, "invalid heartbeat direction", now);
      }
      s.heartbeat_due.reset();
      s.ping_at = now + options_.ping_interval;
      arm(s);
      events_.emplace_back(heartbeat_event{s.ref});
      return;
    case packet_type::close:
      return close_session(s, close_reason::transport_close, "", now);
    case packet_type::open:
    case packet_type::upgrade:
    case packet_type::noop:
      return;  // meaningless here; the reference ignores them too
  }
}

// ------------------------------------------------------------ packets out

bool server::send(session_ref ref, std::string data, bool binary, millis now, std::optional<std::uint64_t> notify_id) {
  session* s = lookup(ref);
  if (!s || s->state != session_state::open) return false;
  if (!binary) {
    // Text the client could not decode is refused here, not sent broken:
    // JSON text is UTF-8, and v4 polling payloads are framed by '\x1e'.
    if (utf8_valid_prefix(data) != data.size()) return false;
    if (s->version == protocol_version::v4 && s->link != link_state::websocket &&
        data.find('\x1e') != std::string::npos) {
      return false;
    }
  }
  queue(*s, packet_type::message, std::move(data), binary, notify_id);
  if (lookup(ref)) flush(*s, now);
  return true;
}

void server::queue(session& s, packet_type type, std::string data, bool binary, std::optional<std::uint64_t> notify_id) {
  s.buffered_bytes += data.size() + 1;
  queued_packet q;
  q.type = type;
  q.binary = binary;
  q.notify = notify_id.has_value();
  q.notify_id = notify_id.value_or(0);
  q.data = std::move(data);
  s.buffer.push_back(std::move(q));
  events_.emplace_back(packet_create_event{s.ref, type});
}

void server::flush(session& s, millis now) {
  if (s.state == session_state::closed) return;
  if (s.buffered_bytes > options_.max_buffered_bytes) {
    s.buffer.clear();
    s.buffered_bytes = 0;
    return close_session(s, close_reason::write_buffer_full,
                         "more than " + std::to_string(options_.max_buffered_bytes) + " bytes buffered", now);
  }
  std::size_t sent = 0;
  if (s.link == link_state::websocket && s.websocket) {
    for (const queued_packet& q : s.buffer) {
      std::string frame;
      const frame_kind kind = encode_frame(packet{q.type, q.binary, q.data}, s.version, !s.base64_only, frame);
      actions_.emplace_back(websocket_send{*s.websocket, kind, std::move(frame)});
    }
    sent = s.buffer.size();
  } else if (s.link != link_state::websocket && s.held_get && !s.buffer.empty()) {
    // One payload of whole packets, at most max_http_buffer_size bytes (the
    // maxPayload the client was told), but never less than one packet.
    std::vector<packet> views;
    std::size_t bytes = 0;
    for (const queued_packet& q : s.buffer) {
      const std::size_t size = q.binary ? base64_encoded_size(q.data.size()) + 2 : q.data.size() + 1;
      if (!views.empty() && bytes + size > options_.max_http_buffer_size) break;
      bytes += size + 1;
      views.push_back(packet{q.type, q.binary, q.data});
    }
    const bool binary_ok = s.version == protocol_version::v3 && !s.base64_only && s.held_get_jsonp.empty();
    std::string payload;
    const payload_format format = encode_payload(views, s.version, binary_ok, payload);
    answer_held_get(s, payload, format);
    sent = views.size();
  }
  if (sent > 0) {
    events_.emplace_back(flush_event{s.ref, sent});
    for (std::size_t i = 0; i < sent; ++i) {
      s.buffered_bytes -= s.buffer[i].data.size() + 1;
      if (s.buffer[i].notify) events_.emplace_back(sent_event{s.ref, s.buffer[i].notify_id});
    }
    s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<std::ptrdiff_t>(sent));
    if (s.buffer.empty()) events_.emplace_back(drain_event{s.ref});
  }
  if (s.state == session_state::closing && s.buffer.empty()) finish_closing(s, now);
}

// ------------------------------------------------------------ closing

void server::close(session_ref ref, millis now, bool discard) {
  session* s = lookup(ref);
  if (!s || s->state != session_state::open) return;
  s->state = session_state::closing;
  if (discard) {
    s->buffer.clear();
    s->buffered_bytes = 0;
  }
  abandon_probe(*s);
  // A client that never polls again must not keep the session forever
  // (the reference's polling closeTimeout, a fixed 30 s).
  s->closing_due = now + millis(30000);
  arm(*s);
  flush(*s, now);
}

// The buffer is empty: the close packet goes out on whatever can carry it now.
void server::finish_closing(session& s, millis now) {
  if (s.link == link_state::websocket && s.websocket) {
    // WebSocket: the reference just closes the socket, no close packet.
  } else if (s.held_get) {
    std::string payload;
    const packet close_packet{packet_type::close, false, {}};
    const payload_format format = encode_payload(&close_packet, 1, s.version, false, payload);
    answer_held_get(s, payload, format);
  } else {
    return;  // wait for the next GET (or closing_due)
  }
  close_session(s, close_reason::forced_close, "", now);
}

void server::close_session(session& s, close_reason reason, std::string description, millis) {
  if (s.state == session_state::closed) return;
  s.state = session_state::closed;
  // Whatever is still open hears of it: a held poll gets a close packet, the
  // WebSocket connections are closed.
  if (s.held_get) {
    std::string payload;
    const packet close_packet{packet_type::close, false, {}};
    const payload_format format = encode_payload(&close_packet, 1, s.version, false, payload);
    answer_held_get(s, payload, format);
  }
  if (s.pending_post) {
    // The reference destroys the connection; an answer lets the adapter
    // finish the exchange cleanly.
    actions_.emplace_back(http_response{*s.pending_post, 400, {}, {}});
    by_connection_.erase(*s.pending_post);
    post_formats_.erase(*s.pending_post);
  }
  for (const auto& connection : {s.websocket, s.probe}) {
    if (!connection) continue;
    actions_.emplace_back(websocket_close{*connection, 1000});
    by_connection_.erase(*connection);
  }
  events_.emplace_back(close_event{s.ref, reason, std::move(description)});
  release(s);
}

void server::shutdown(millis now) {
  for (auto& slot : slots_) {
    if (slot && slot->state != session_state::closed) {
      session& s = *slot;
      s.buffer.clear();
      s.buffered_bytes = 0;
      close_session(s, close_reason::server_shutting_down, "", now);
    }
  }
}

void server::release(session& s) {
  if (s.armed_at) deadlines_.erase({*s.armed_at, s.ref.slot});
  by_id_.erase(s.id);
  const std::uint32_t slot = s.ref.slot;
  slots_[slot].reset();  // `s` dies here
  free_slots_.push_back(slot);
}

// ------------------------------------------------------------ timers

void server::arm(session& s) {
  const std::optional<millis> due = s.earliest_deadline();
  if (due == s.armed_at) return;
  if (s.armed_at) deadlines_.erase({*s.armed_at, s.ref.slot});
  s.armed_at = due;
  if (due) deadlines_.insert({*due, s.ref.slot});
}

std::optional<millis> server::next_deadline() const noexcept {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void server::on_timeout(millis now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    session& s = *slots_[deadlines_.begin()->second];
    if (s.heartbeat_due && *s.heartbeat_due <= now) {
      close_session(s, close_reason::ping_timeout, "", now);
      continue;
    }
    if (s.closing_due && *s.closing_due <= now) {
      close_session(s, close_reason::forced_close, "no poll collected the close packet", now);
      continue;
    }
    if (s.upgrade_due && *s.upgrade_due <= now) abandon_probe(s);
    if (s.noop_due && *s.noop_due <= now) {
      if (s.held_get && s.buffer.empty()) answer_held_get_with_noop(s);
      s.noop_due = now + noop_interval;
    }
    if (s.ping_at && *s.ping_at <= now) {
      s.ping_at.reset();
      s.heartbeat_due = now + options_.ping_timeout;
      queue(s, packet_type::ping, {}, false, std::nullopt);
      arm(s);
      const session_ref ref = s.ref;
      flush(s, now);
      if (!lookup(ref)) continue;
    }
    arm(s);
  }
}

}  // namespace eio
