// The heartbeat (engine.io-protocol "Heartbeat") and the timers that keep
// time for it and for the rest: v4 servers ping every pingInterval and wait
// pingTimeout for the pong; v3 clients ping and the server answers, closing
// when pingInterval + pingTimeout pass without one.
#include <eio/server.hpp>

#include "session.hpp"

namespace eio {

using detail::session;

void server::start_heartbeat(session& s, millis now) {
  if (s.version == protocol_version::v4) {
    s.ping_at = now + options_.ping_interval;
  } else {
    s.heartbeat_due = now + options_.ping_interval + options_.ping_timeout;
  }
  arm(s);
}

void server::on_ping_packet(session& s, millis now) {
  if (s.version == protocol_version::v4) {
    return close_session(s, close_reason::transport_error, "invalid heartbeat direction", now);
  }
  s.heartbeat_due = now + options_.ping_interval + options_.ping_timeout;
  arm(s);
  queue(s, packet_type::pong, {}, frame_kind::text, nullptr, std::nullopt);  // bare "3", as the reference answers
  events_.emplace_back(heartbeat_event{s.ref});
  flush(s, now);
}

void server::on_pong_packet(session& s, millis now) {
  if (s.version == protocol_version::v3) {
    return close_session(s, close_reason::transport_error, "invalid heartbeat direction", now);
  }
  s.heartbeat_due.reset();
  s.ping_at = now + options_.ping_interval;
  arm(s);
  events_.emplace_back(heartbeat_event{s.ref});
}

void server::send_ping(session& s, millis now) {
  s.ping_at.reset();
  s.heartbeat_due = now + options_.ping_timeout;
  arm(s);
  queue(s, packet_type::ping, {}, frame_kind::text, nullptr, std::nullopt);
  flush(s, now);  // may close the session (write_buffer_full)
}

// ------------------------------------------------------------ timers

// Keeps the session's one entry in deadlines_ at its earliest timer.
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
    on_timers(s, now);
  }
}

}  // namespace eio
