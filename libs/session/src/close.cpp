// Ending sessions: the application's close (flush, then the close packet),
// shutdown, and the one place a session dies (close_session), which tells
// whatever is still open and queues the close_event.
#include <eio/server.hpp>

#include "session.hpp"

namespace eio {

using detail::closing_timeout;
using detail::link_state;
using detail::session;
using detail::session_state;

void server::close(session_ref ref, millis now, close_mode mode) {
  session* s = lookup(ref);
  if (!s || s->state != session_state::open) return;
  s->state = session_state::closing;
  if (mode == close_mode::discard) {
    s->buffer.clear();
    s->buffered_bytes = 0;
  }
  leave_probe(*s, probe_end::close_connection);
  // A client that never polls again must not keep the session forever.
  s->closing_due = now + closing_timeout;
  arm(*s);
  flush(*s, now);
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

// The buffer is empty: the close packet goes out on whatever can carry it now.
void server::finish_closing(session& s, millis now) {
  if (s.link == link_state::websocket && s.websocket) {
    // WebSocket: the reference just closes the socket, no close packet.
  } else if (s.held_get) {
    answer_held_get_with(s, packet_type::close);
  } else {
    return;  // wait for the next GET (or closing_due)
  }
  close_session(s, close_reason::forced_close, "", now);
}

void server::close_session(session& s, close_reason reason, std::string description, millis) {
  if (s.state == session_state::closed) return;
  s.state = session_state::closed;
  // Whatever is still open hears of it. A held poll gets a close packet, or
  // a noop when the client itself closed (it needs no close packet back; the
  // reference answers a close POSTed during a held GET so, and the
  // protocol's test suite asserts it).
  if (s.held_get) answer_held_get_with(s, reason == close_reason::transport_close ? packet_type::noop : packet_type::close);
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
  events_.emplace_back(close_event{s.ref, reason, std::move(description), s.user_data});
  release(s);
}

void server::release(session& s) {
  if (s.armed_at) deadlines_.erase({*s.armed_at, s.ref.slot});
  by_id_.erase(s.id);
  const std::uint32_t slot = s.ref.slot;
  slots_[slot].reset();  // `s` dies here
  free_slots_.push_back(slot);
}

}  // namespace eio
