// bench::worker: what the server sends, read (see worker.hpp).
#include "worker.hpp"

#include <eio/base64.hpp>

#include <string>

namespace eio::tool::bench {

std::size_t worker::consume(connection& c, std::string_view input) {
  std::size_t pos = 0;
  const int fd = c.fd;
  while (pos < input.size() && c.fd == fd) {
    if (c.websocket) {
      websocket::frame_event event;
      const std::size_t used = c.owner->reader.read(input.substr(pos), event);
      pos += used;
      if (event.what == websocket::frame_event::kind::need_more) break;
      on_frame(*c.owner, event);
      continue;
    }
    const std::size_t used = consume_response(c, input.substr(pos));
    if (used == 0) break;
    pos += used;
  }
  return pos;
}

std::size_t worker::consume_response(connection& c, std::string_view input) {
  const wire::response_read read = wire::read_response(input, false, response_);
  if (read.status == wire::response_status::need_more) return 0;
  if (read.status == wire::response_status::error) {
    fail(*c.owner, std::string("bad HTTP response: ") + read.error);
    return 0;
  }
  if (c.responses_due > 0) --c.responses_due;
  if (response_.status == 101) {
    c.websocket = true;  // the open packet follows as the first frame
    return read.consumed;
  }
  on_response(c, response_.status, response_.body);
  return read.consumed;
}

void worker::on_frame(session& s, const websocket::frame_event& event) {
  using kind = websocket::frame_event::kind;
  switch (event.what) {
    case kind::message:
      if (event.message_kind == frame_kind::binary) {
        on_message(s, event.data, true);
      } else {
        on_packet(s, event.data);
      }
      break;
    case kind::ping:
      frame_.assign(event.data);
      websocket::append_masked_frame(websocket::opcode::pong, frame_, next_mask(), s.main.out);
      mark_dirty(s.main);
      break;
    case kind::pong:
    case kind::need_more:
      break;
    case kind::close:
      closed_by_server(s, "WebSocket close frame");
      break;
    case kind::error:
      fail(s, std::string("WebSocket: ") + event.reason);
      break;
  }
}

void worker::on_response(connection& c, int status, std::string_view body) {
  session& s = *c.owner;
  if (status != 200) {
    fail(s, "HTTP status " + std::to_string(status) + ": " + std::string(body.substr(0, 80)));
    return;
  }
  if (&c == &s.poll) {
    s.get_pending = false;
    // A polling payload: packets separated by the record separator.
    while (!body.empty() && s.state == session_state::open) {
      const std::size_t end = body.find('\x1e');
      on_packet(s, body.substr(0, end));
      if (end == std::string_view::npos) break;
      body.remove_prefix(end + 1);
    }
    if (s.state == session_state::open) issue_get(s);
    return;
  }
  if (s.state == session_state::opening) {
    // The polling handshake: 0{"sid":"...",...}
    if (body.empty() || body[0] != '0') {
      fail(s, "handshake answer is not an open packet");
      return;
    }
    on_open(s, body.substr(1));
    return;
  }
  if (options_.mode == load_mode::handshake && on_handshake_answer(s, body)) return;
  // The answer to a POST.
  s.post_pending = false;
  if (options_.mode == load_mode::handshake && s.closing) {
    s.closing = false;
    counters_.messages.fetch_add(1, std::memory_order_relaxed);
    s.state = session_state::waiting;
    on_cycle_closed(s);
    if (!shared_.stop.load(std::memory_order_relaxed)) start_handshake(s);
    return;
  }
  maybe_post(s);
}

// One Engine.IO packet in text form (a WebSocket text frame, or one packet
// of a polling payload).
void worker::on_packet(session& s, std::string_view packet) {
  if (packet.empty()) {
    fail(s, "empty packet");
    return;
  }
  switch (packet[0]) {
    case '0':
      if (s.state == session_state::opening) on_open(s, packet.substr(1));
      break;
    case '1':
      closed_by_server(s, "close packet");
      break;
    case '2':
      counters_.pings.fetch_add(1, std::memory_order_relaxed);
      send_packet(s, "3");
      break;
    case '4':
      on_message(s, packet.substr(1), false);
      break;
    case 'b':
      binary_.clear();
      {
        std::size_t offset = 0;
        if (!base64_decode(packet.substr(1), binary_, offset)) {
          error(s, "invalid base64 in a binary packet");
          return;
        }
      }
      on_message(s, binary_, true);
      break;
    case '6':
      break;
    default:
      error(s, "unexpected packet type");
      break;
  }
}

}  // namespace eio::tool::bench
