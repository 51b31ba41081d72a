// WebSocket messages and ends, and the upgrade from polling
// (engine.io-protocol "Upgrade"; socket.ts _maybeUpgrade): a probe
// WebSocket answers "2probe" with "3probe", the client pauses polling and
// sends "5", and the session moves over with nothing lost or reordered.
#include <eio/server.hpp>

#include "session.hpp"

namespace eio {

using detail::link_state;
using detail::noop_interval;
using detail::session;

void server::websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now) {
  receive_frame(connection, kind, data, now);
  seal_retained();  // a base64 message's bytes, decoded into storage of ours
  stable_input_ = {};
}

void server::websocket_message_owned(connection_id connection, frame_kind kind, std::string data, millis now) {
  const std::string_view kept = retain(std::move(data));
  receive_frame(connection, kind, kept, now);
  seal_retained();
  stable_input_ = {};
}

void server::receive_frame(connection_id connection, frame_kind kind, std::string_view data, millis now) {
  stable_input_ = data;
  session* s = by_connection(connection);
  if (!s) return;
  decode_options limits;
  limits.max_payload_bytes = options_.max_http_buffer_size;
  packet p;
  const decode_error error = decode_frame(data, kind, s->version, p, frame_scratch_, limits);
  if (s->probe == connection) return on_probe_packet(*s, connection, error ? nullptr : &p, now);
  if (s->websocket != connection) return;
  if (error.code == errc::payload_too_large) {
    // ws's maxPayload: a transport error (node-reference-behaviour.md, "WebSocket transport").
    return close_session(*s, close_reason::transport_error, "payload too large", now);
  }
  if (error) {
    return close_session(*s, close_reason::parse_error,
                         std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset), now);
  }
  on_packet(*s, p, now);
}

void server::websocket_closed(connection_id connection, connection_end how, millis now, std::string_view why) {
  if (session* s = by_connection(connection)) on_websocket_end(*s, connection, how, why, now);
}

void server::start_probe(session& s, connection_id connection, const http_request& request, millis now) {
  s.probe = connection;
  s.link = link_state::probing;
  s.upgrade_due = now + options_.upgrade_timeout;
  by_connection_[connection] = s.ref.slot;
  arm(s);
  actions_.emplace_back(websocket_accept{connection, response_headers(request, {}, false)});
}

// "2probe" came: "3probe" answers it, and the client pauses polling. A noop
// ends its pending GET, and more follow every noop_interval for GETs still
// on their way (socket.ts does the same).
void server::answer_probe(session& s, connection_id connection, millis now) {
  std::string frame;
  const frame_kind reply_kind = encode_frame(packet{packet_type::pong, false, "probe"}, s.version, true, frame);
  actions_.emplace_back(websocket_send{connection, reply_kind, std::move(frame), nullptr});
  s.link = link_state::upgrading;
  events_.emplace_back(upgrading_event{s.ref});
  if (s.held_get && s.buffer.empty()) answer_held_get_with(s, packet_type::noop);
  s.noop_due = now + noop_interval;
  arm(s);
}

// The upgrade ends without moving: the probe failed, timed out, or its
// connection ended (then there is nothing left to close).
void server::leave_probe(session& s, probe_end how) {
  if (!s.probe) return;
  if (how == probe_end::close_connection) actions_.emplace_back(websocket_close{*s.probe, 1000});
  by_connection_.erase(*s.probe);
  s.probe.reset();
  s.upgrade_due.reset();
  s.noop_due.reset();
  if (s.link != link_state::websocket) s.link = link_state::polling;
  arm(s);
}

void server::finish_upgrade(session& s, millis now) {
  s.websocket = s.probe;
  s.probe.reset();
  s.upgrade_due.reset();
  s.noop_due.reset();
  s.link = link_state::websocket;
  arm(s);
  // A poll still held would never be answered by a WebSocket session.
  if (s.held_get) answer_held_get_with(s, packet_type::noop);
  events_.emplace_back(upgrade_event{s.ref});
  flush(s, now);
}

}  // namespace eio
