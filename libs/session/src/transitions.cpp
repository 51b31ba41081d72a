// Every input that moves a session, and what it does in each link state:
// one dispatch per input, in the order of the rows of session_machine_test's
// table (the source of truth, walked cell by cell). A cell no case names is
// a transport error. The topic files hold what each step does.
#include <eio/server.hpp>

#include "session.hpp"

namespace eio {

using detail::link_state;
using detail::session;
using detail::session_state;
using detail::noop_interval;

// GET with the session's sid. Polling in any form holds it (one at a time:
// a second is "overlap from client"); an upgraded session has no polling.
void server::on_get(session& s, connection_id connection, const http_request& request, millis now) {
  switch (s.link) {
    case link_state::polling:
    case link_state::probing:
    case link_state::upgrading:
      if (s.held_get) return refuse_and_close(s, connection, request, close_reason::transport_error, "overlap from client", now);
      return hold_get(s, connection, request, now);
    case link_state::websocket:
      return refuse(connection, request, false, request_error::bad_request, "transport mismatch");
  }
  close_session(s, close_reason::transport_error, "GET in an unknown state", now);
}

// POST with the session's sid: its body is read next (finish_post), one at a
// time; v4 payloads are text only.
void server::on_post(session& s, connection_id connection, const http_request& request, millis now) {
  switch (s.link) {
    case link_state::polling:
    case link_state::probing:
    case link_state::upgrading: {
      if (s.pending_post) {
        return refuse_and_close(s, connection, request, close_reason::transport_error, "data request overlap from client", now);
      }
      const auto content_type = request.header_value("content-type");
      if (s.version == protocol_version::v4 && content_type && ascii_iequals(*content_type, "application/octet-stream")) {
        return refuse_and_close(s, connection, request, close_reason::transport_error, "invalid content", now);
      }
      return begin_post_body(s, connection, request);
    }
    case link_state::websocket:
      return refuse(connection, request, false, request_error::bad_request, "transport mismatch");
  }
  close_session(s, close_reason::transport_error, "POST in an unknown state", now);
}

// A WebSocket with the session's sid: the probe of an upgrade. Only an open
// polling session with upgrades allowed may start one; otherwise the
// reference accepts the WebSocket and closes it at once, and the session
// (and any upgrade under way) goes on.
void server::on_websocket_request(session& s, connection_id connection, const http_request& request, millis now) {
  switch (s.link) {
    case link_state::polling:
      if (options_.allow_upgrades && s.state == session_state::open) {
        if (allowed(connection, request, true)) start_probe(s, connection, request, now);
        return;
      }
      [[fallthrough]];
    case link_state::probing:
    case link_state::upgrading:
    case link_state::websocket:
      actions_.emplace_back(websocket_accept{connection, {}});
      actions_.emplace_back(websocket_close{connection, 1000});
      return;
  }
  close_session(s, close_reason::transport_error, "WebSocket request in an unknown state", now);
}

// A message on the probe WebSocket (engine.io-protocol "Upgrade"): "2probe"
// then "5"; anything else, malformed included (`p` null), ends the probe.
void server::on_probe_packet(session& s, connection_id connection, const packet* p, millis now) {
  switch (s.link) {
    case link_state::probing:
      if (p && p->type == packet_type::ping && p->data == "probe") return answer_probe(s, connection, now);
      return leave_probe(s, probe_end::close_connection);
    case link_state::upgrading:
      if (p && p->type == packet_type::upgrade) return finish_upgrade(s, now);
      return leave_probe(s, probe_end::close_connection);
    case link_state::polling:
    case link_state::websocket:
      break;  // no probe in these states
  }
  close_session(s, close_reason::transport_error, "probe packet in an unknown state", now);
}

// A packet on the session's transport (a POST payload, or its WebSocket):
// the same rules whatever the link. A closing session hears nothing more
// (socket.ts onPacket).
void server::on_packet(session& s, const packet& p, millis now) {
  if (s.state != session_state::open) return;
  trace(packet_event{s.ref, p.type});
  switch (p.type) {
    case packet_type::message: return deliver(s, p);
    case packet_type::ping: return on_ping_packet(s, now);  // v3 heartbeat; v4: a transport error
    case packet_type::pong: return on_pong_packet(s, now);  // v4 heartbeat; v3: a transport error
    case packet_type::close: return close_session(s, close_reason::transport_close, "", now);
    case packet_type::open:
    case packet_type::upgrade:
    case packet_type::noop:
      return;  // meaningless here; the reference ignores them too
  }
}

// A WebSocket of the session ended: the probe's end only ends the upgrade;
// the session's own ends the session.
void server::on_websocket_end(session& s, connection_id connection, connection_end how, std::string_view why, millis now) {
  if (s.probe == connection) return leave_probe(s, probe_end::already_closed);
  if (s.websocket != connection) return;
  by_connection_.erase(connection);
  s.websocket.reset();
  if (how == connection_end::closed) return close_session(s, close_reason::transport_close, "", now);
  close_session(s, close_reason::transport_error, why.empty() ? "websocket error" : std::string(why), now);
}

// The session's timers that are due, most final first.
void server::on_timers(session& s, millis now) {
  if (s.heartbeat_due && *s.heartbeat_due <= now) return close_session(s, close_reason::ping_timeout, "", now);
  if (s.closing_due && *s.closing_due <= now) {
    return close_session(s, close_reason::forced_close, "no poll collected the close packet", now);
  }
  if (s.upgrade_due && *s.upgrade_due <= now) leave_probe(s, probe_end::close_connection);
  if (s.noop_due && *s.noop_due <= now) {
    // Upgrading: a held GET is ended with a noop every noop_interval, for
    // GETs still on their way when "3probe" left (socket.ts does the same).
    if (s.held_get && s.buffer.empty()) answer_held_get_with(s, packet_type::noop);
    s.noop_due = now + noop_interval;
  }
  if (s.ping_at && *s.ping_at <= now) return send_ping(s, now);
  arm(s);
}

}  // namespace eio
