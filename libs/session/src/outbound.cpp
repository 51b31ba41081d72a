// Packets out: what the application sends (one message, a batch, a
// broadcast), the session's queue, and how it reaches the transport. The hot
// case skips the queue: a message for an open WebSocket session with nothing
// queued ahead of it is appended to its connection's output at once
// (connection_output); everything else waits in the session's buffer until
// flush() hands it over as actions (WebSocket frames, or the payload of a
// held GET). Backpressure is counted here too: buffered_bytes() against the
// watermarks and max_buffered_bytes.
#include <eio/server.hpp>

#include <eio/base64.hpp>
#include <eio/utf8.hpp>

#include "session.hpp"

#include <algorithm>

namespace eio {

using detail::link_state;
using detail::queued_packet;
using detail::session;
using detail::session_state;

// What send() needs to know of a text message's bytes, found once for a
// broadcast rather than once per session.
server::text_facts server::facts_of(std::string_view data, frame_kind kind) noexcept {
  if (kind == frame_kind::binary) return {};
  return {utf8_valid_prefix(data) == data.size(), data.find('\x1e') != std::string_view::npos};
}

// Whether `s` takes a message now: refused when it is not open or cannot
// carry the text (JSON text is UTF-8; v4 polling payloads are framed by
// '\x1e'); dropped when volatile and the session cannot take it at once.
server::delivery server::check_send(session& s, text_facts facts, const send_options& how) {
  if (s.state != session_state::open) return delivery::refused;
  if (!facts.utf8) return delivery::refused;
  if (facts.separator && s.version == protocol_version::v4 && s.link != link_state::websocket) return delivery::refused;
  if (how.is_volatile && !writable_now(s)) {
    ++s.volatile_dropped;
    ++volatile_dropped_;
    return delivery::dropped;
  }
  return delivery::queued;
}

// socket.io's transport.writable: a polling session with a GET held and
// nothing queued ahead; an upgraded one below its high watermark; nobody in
// the middle of an upgrade.
bool server::writable_now(const session& s) const noexcept {
  switch (s.link) {
    case link_state::polling:
    case link_state::probing:
      return s.held_get && s.buffer.empty();
    case link_state::upgrading:
      return false;
    case link_state::websocket:
      return s.websocket && !s.above_high_watermark;
  }
  return false;
}

bool server::send(session_ref ref, std::string_view data, frame_kind kind, millis now, send_options how) {
  session* s = lookup(ref);
  if (!s || check_send(*s, facts_of(data, kind), how) != delivery::queued) return false;
  const packet p{packet_type::message, kind == frame_kind::binary, data};
  if (!try_direct(*s, p, nullptr)) {
    queue(*s, packet_type::message, data, kind, nullptr, how.notify_id);
    flush(*s, now);
    return true;
  }
  if (how.notify_id) events_.emplace_back(sent_event{ref, *how.notify_id});
  account(*s, now);
  return true;
}

bool server::send_batch(session_ref ref, const outgoing_message* messages, std::size_t count, millis now) {
  session* s = lookup(ref);
  if (!s) return false;
  for (std::size_t i = 0; i < count; ++i) {
    if (check_send(*s, facts_of(messages[i].data, messages[i].kind), {}) != delivery::queued) return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    const packet p{packet_type::message, messages[i].kind == frame_kind::binary, messages[i].data};
    if (!try_direct(*s, p, nullptr)) queue(*s, packet_type::message, messages[i].data, messages[i].kind, nullptr, std::nullopt);
  }
  flush(*s, now);  // once: over polling, one response carries them all
  return true;
}

std::size_t server::broadcast_batch(const session_ref* sessions, std::size_t count, const shared_message* parts,
                                    std::size_t part_count, millis now, send_options how) {
  std::vector<text_facts> facts(part_count);
  for (std::size_t k = 0; k < part_count; ++k) {
    if (!parts[k].data) return 0;
    facts[k] = facts_of(*parts[k].data, parts[k].kind);
  }
  std::size_t taken = 0;
  for (std::size_t i = 0; i < count; ++i) {
    session* s = lookup(sessions[i]);
    if (!s) continue;
    // All parts or none: the refusals first (they change nothing), then the
    // volatile check once for the whole batch.
    bool refused = false;
    for (std::size_t k = 0; k < part_count && !refused; ++k) {
      refused = check_send(*s, facts[k], {}) != delivery::queued;
    }
    if (refused || (part_count > 0 && check_send(*s, facts[0], how) != delivery::queued)) continue;
    ++taken;
    bool queued = false;
    for (std::size_t k = 0; k < part_count; ++k) {
      const packet p{packet_type::message, parts[k].kind == frame_kind::binary, *parts[k].data};
      if (!queued && try_direct(*s, p, &parts[k].data)) continue;
      queue(*s, packet_type::message, {}, parts[k].kind, parts[k].data, std::nullopt);
      queued = true;
    }
    if (!queued) {
      if (how.notify_id) events_.emplace_back(sent_event{s->ref, *how.notify_id});
      account(*s, now);
      continue;
    }
    if (how.notify_id) {  // once the last part is handed over
      s->buffer.back().notify = true;
      s->buffer.back().notify_id = *how.notify_id;
    }
    flush(*s, now);
  }
  return taken;
}

// The direct path: an open WebSocket session with nothing queued ahead, in
// the session or in the action queue (an action taken is applied before the
// adapter calls in again, so an empty queue means every earlier frame of
// this connection is in its output already).
bool server::try_direct(session& s, const packet& p, const shared_bytes* shared) {
  if (!output_ || s.link != link_state::websocket || !s.websocket || !s.buffer.empty() || !actions_.empty()) return false;
  frame_layout layout;
  if (layout_frame(p, s.version, !s.base64_only, layout)) {
    if (shared) {
      output_->write_shared_message(*s.websocket, layout.kind, layout.prefix(), *shared);
    } else {
      output_->write_message(*s.websocket, layout.kind, layout.prefix(), p.data);
    }
  } else {
    encode_scratch_.clear();
    const frame_kind kind = encode_frame(p, s.version, !s.base64_only, encode_scratch_);
    output_->write_message(*s.websocket, kind, {}, encode_scratch_);
  }
  trace(packet_create_event{s.ref, p.type});
  trace(flush_event{s.ref, 1});
  return true;
}

void server::queue(session& s, packet_type type, std::string_view data, frame_kind kind, shared_bytes shared,
                   std::optional<std::uint64_t> notify_id) {
  queued_packet q;
  q.type = type;
  q.kind = kind;
  q.notify = notify_id.has_value();
  q.notify_id = notify_id.value_or(0);
  if (shared) {
    q.shared = std::move(shared);
  } else {
    q.data.assign(data);
  }
  s.buffered_bytes += q.weight();
  s.buffer.push_back(std::move(q));
  trace(packet_create_event{s.ref, type});
}

// Hands what the session's buffer holds to whatever can carry it now.
void server::flush(session& s, millis now) {
  if (s.state == session_state::closed) return;
  if (s.buffered_bytes > options_.max_buffered_bytes) return close_for_buffer(s, now);  // even if it could go now
  std::size_t sent = 0;
  if (s.link == link_state::websocket && s.websocket) {
    sent = flush_websocket(s);
  } else if (s.link != link_state::websocket && s.held_get && !s.buffer.empty()) {
    sent = flush_polling(s);
  }
  if (sent > 0) {
    trace(flush_event{s.ref, sent});
    for (std::size_t i = 0; i < sent; ++i) {
      s.buffered_bytes -= s.buffer[i].weight();
      if (s.buffer[i].notify) events_.emplace_back(sent_event{s.ref, s.buffer[i].notify_id});
    }
    s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<std::ptrdiff_t>(sent));
    if (s.buffer.empty()) {
      // With a direct output, an open WebSocket session's messages bypass
      // the buffer; what queues there is rare (its open packet, a ping), so
      // its memory goes rather than stay with every idle session.
      if (output_ && s.link == link_state::websocket) std::vector<queued_packet>().swap(s.buffer);
      events_.emplace_back(drain_event{s.ref});
    }
  }
  if (s.state == session_state::closing && s.buffer.empty()) return finish_closing(s, now);
  account(s, now);  // last: it may close the session
}

std::size_t server::flush_websocket(session& s) {
  for (const queued_packet& q : s.buffer) {
    frame_layout layout;
    if (q.shared && layout_frame(q.view(), s.version, !s.base64_only, layout)) {
      actions_.emplace_back(websocket_send{*s.websocket, layout.kind, std::string(layout.prefix()), q.shared});
      continue;
    }
    std::string frame;
    const frame_kind kind = encode_frame(q.view(), s.version, !s.base64_only, frame);
    actions_.emplace_back(websocket_send{*s.websocket, kind, std::move(frame), nullptr});
  }
  return s.buffer.size();
}

// One payload of whole packets for the held GET, at most
// max_http_buffer_size bytes (the maxPayload the client was told), but
// never less than one packet; the rest waits for the next GET.
std::size_t server::flush_polling(session& s) {
  std::vector<packet> views;
  std::size_t bytes = 0;
  for (const queued_packet& q : s.buffer) {
    const std::size_t size = q.kind == frame_kind::binary ? base64_encoded_size(q.bytes().size()) + 2 : q.bytes().size() + 1;
    if (!views.empty() && bytes + size > options_.max_http_buffer_size) break;
    bytes += size + 1;
    views.push_back(q.view());
  }
  const bool binary_ok = s.version == protocol_version::v3 && !s.base64_only && s.held_get_jsonp.empty();
  std::string payload;
  const payload_format format = encode_payload(views, s.version, binary_ok, payload);
  answer_held_get(s, payload, format);
  return views.size();
}

// The session's buffered_bytes() against its bounds: past
// max_buffered_bytes it closes; crossing the watermarks tells the
// application, once per crossing.
void server::account(session& s, millis now) {
  if (s.state == session_state::closed) return;
  // The common case, cheaply: nothing the adapter holds, and the queue under every bound.
  if (!s.above_high_watermark && !(output_ && s.websocket) &&
      s.buffered_bytes <= std::min(options_.high_watermark, options_.max_buffered_bytes)) {
    return;
  }
  const std::size_t buffered = buffered_bytes(s);
  if (buffered > options_.max_buffered_bytes) return close_for_buffer(s, now);
  if (!s.above_high_watermark && buffered > options_.high_watermark) {
    s.above_high_watermark = true;
    events_.emplace_back(high_watermark_event{s.ref, buffered});
  } else if (s.above_high_watermark && buffered <= options_.low_watermark) {
    s.above_high_watermark = false;
    events_.emplace_back(low_watermark_event{s.ref, buffered});
  }
}

void server::close_for_buffer(session& s, millis now) {
  s.buffer.clear();
  s.buffered_bytes = 0;
  close_session(s, close_reason::write_buffer_full,
                "more than " + std::to_string(options_.max_buffered_bytes) + " bytes buffered", now);
}

void server::output_progress(connection_id connection, millis now) {
  session* s = by_connection(connection);
  if (s && s->above_high_watermark && s->websocket == connection) account(*s, now);
}

}  // namespace eio
