// bench::worker: the Engine.IO client of each session (see worker.hpp).
#include "worker.hpp"

#include <eio/base64.hpp>

#include <charconv>
#include <cstring>
#include <string>

namespace eio::tool::bench {

void worker::open_more() {
  while (opening_ < options_.open_window && next_to_open_ < sessions_.size()) {
    session& s = *sessions_[next_to_open_++];
    ++opening_;
    s.in_window = true;
    if (options_.mode == load_mode::handshake) {
      start_handshake(s);
    } else {
      start_session(s);
    }
  }
}

void worker::start_session(session& s) {
  s.state = session_state::opening;
  s.started_at = now_;
  if (!connect_to(s.main)) return;
  const target_requests& r = requests_[s.target];
  s.main.out.append(options_.transport == load_transport::websocket ? r.upgrade : r.handshake);
  ++s.main.responses_due;
}

void worker::start_handshake(session& s) {
  s.state = session_state::opening;
  s.started_at = now_;
  if (s.main.fd < 0 && !connect_to(s.main)) return;
  s.main.out.append(requests_[s.target].handshake);
  ++s.main.responses_due;
  mark_dirty(s.main);
}

void worker::on_open(session& s, std::string_view handshake) {
  std::string_view sid;
  constexpr std::string_view key = "\"sid\":\"";
  const std::size_t at = handshake.find(key);
  if (at != std::string_view::npos) {
    const std::size_t start = at + key.size();
    sid = handshake.substr(start, handshake.find('"', start) - start);
  }
  if (sid.empty()) {
    fail(s, "open packet without a sid");
    return;
  }
  const bool polling = options_.transport == load_transport::polling || options_.mode == load_mode::handshake;
  if (polling) {
    const std::string& path = options_.targets[s.target].path;
    const std::string& host = requests_[s.target].host;
    s.post_head.clear();
    s.post_head.append("POST ").append(path).append("?EIO=4&transport=polling&sid=").append(sid);
    s.post_head.append(" HTTP/1.1\r\nHost: ").append(host).append("\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ");
    s.get_request.clear();
    s.get_request.append("GET ").append(path).append("?EIO=4&transport=polling&sid=").append(sid);
    s.get_request.append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n\r\n");
  }
  s.state = session_state::open;
  if (options_.mode == load_mode::handshake) {
    // Requests go by POST (and GET) on the keep-alive connection.
    s.post_pending = false;
    s.post_body.clear();
    on_session_open(s);
    return;
  }
  if (polling) s.post_body.reserve(options_.inflight * (base64_encoded_size(options_.size) + 64) + 16);
  on_session_open(s);
  if (polling && s.state == session_state::open) {
    if (!connect_to(s.poll)) return;
    s.poll.out.reserve(s.get_request.size());
    issue_get(s);
  }
}

void worker::on_session_open(session& s) {
  if (options_.mode == load_mode::handshake) {
    close_in_handshake(s);  // at once
    return;
  }
  leave_window(s);
  counters_.opened.fetch_add(1, std::memory_order_relaxed);
  if (options_.mode == load_mode::echo) {
    for (unsigned i = 0; i < options_.inflight; ++i) send_echo(s);
  }
}

void worker::close_in_handshake(session& s) {
  s.post_body.assign("1");
  s.closing = true;
  maybe_post(s);
  if (s.in_window) {
    // The first cycle of each handshaker ends the opening phase for it.
    leave_window(s);
    counters_.opened.fetch_add(1, std::memory_order_relaxed);
  }
}

void worker::issue_main_get(session& s) {
  s.main.out.append(s.get_request);
  ++s.main.responses_due;
  mark_dirty(s.main);
}

void worker::issue_get(session& s) {
  if (s.get_pending || s.poll.fd < 0) return;
  s.poll.out.append(s.get_request);
  ++s.poll.responses_due;
  s.get_pending = true;
  mark_dirty(s.poll);
}

void worker::maybe_post(session& s) {
  if (s.post_pending || s.post_body.empty() || s.main.fd < 0) return;
  char length[24];
  const auto written = std::to_chars(length, length + sizeof length, s.post_body.size());
  s.main.out.append(s.post_head).append(length, written.ptr).append("\r\n\r\n").append(s.post_body);
  s.post_body.clear();
  ++s.main.responses_due;
  s.post_pending = true;
  mark_dirty(s.main);
}

// Sends one text packet ("3", "4...") on the session's transport.
void worker::send_packet(session& s, std::string_view packet) {
  if (options_.transport == load_transport::websocket || options_.mode == load_mode::fanout) {
    websocket::append_masked_frame(websocket::opcode::text, packet, next_mask(), s.main.out);
    mark_dirty(s.main);
  } else {
    if (!s.post_body.empty()) s.post_body.push_back('\x1e');
    s.post_body.append(packet);
    maybe_post(s);
  }
}

void worker::send_binary(session& s, std::string_view data) {
  if (options_.transport == load_transport::websocket) {
    websocket::append_masked_frame(websocket::opcode::binary, data, next_mask(), s.main.out);
    mark_dirty(s.main);
    return;
  }
  if (!s.post_body.empty()) s.post_body.push_back('\x1e');
  s.post_body.push_back('b');
  base64_encode(data, s.post_body);
  maybe_post(s);
}

std::string_view worker::payload(const session& s, std::uint64_t seq) const {
  const std::size_t offset = static_cast<std::size_t>((seq + s.index * 7u) % pattern_shift);
  return std::string_view(shared_.pattern).substr(offset, options_.size);
}

void worker::send_echo(session& s) {
  const std::string_view data = payload(s, s.send_seq);
  s.sent_at[s.send_seq % options_.inflight] = now_;
  ++s.send_seq;
  if (options_.transport == load_transport::websocket) {
    if (options_.binary) {
      websocket::append_masked_frame(websocket::opcode::binary, data, next_mask(), s.main.out);
    } else {
      frame_.assign(1, '4');
      frame_.append(data);
      websocket::append_masked_frame(websocket::opcode::text, frame_, next_mask(), s.main.out);
    }
    mark_dirty(s.main);
    return;
  }
  if (!s.post_body.empty()) s.post_body.push_back('\x1e');
  if (options_.binary) {
    s.post_body.push_back('b');
    base64_encode(data, s.post_body);
  } else {
    s.post_body.push_back('4');
    s.post_body.append(data);
  }
  maybe_post(s);
}

void worker::on_message(session& s, std::string_view data, bool binary) {
  switch (options_.mode) {
    case load_mode::echo: {
      if (s.recv_seq >= s.send_seq) {
        error(s, "an echo of a message never sent");
        return;
      }
      const std::string_view expected = payload(s, s.recv_seq);
      if (binary != options_.binary || data.size() != expected.size() || std::memcmp(data.data(), expected.data(), data.size()) != 0) {
        counters_.mismatches.fetch_add(1, std::memory_order_relaxed);
        error(s, "an echo differs from the message sent");
      }
      if (measuring_) latency_.record(static_cast<std::uint64_t>(now_ - s.sent_at[s.recv_seq % options_.inflight]));
      ++s.recv_seq;
      counters_.messages.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes.fetch_add(data.size(), std::memory_order_relaxed);
      send_echo(s);
      break;
    }
    case load_mode::fanout: {
      if (s.sender) break;
      // "<seq>:<send time ns>:xxx..."
      std::uint64_t seq = 0;
      std::int64_t sent = 0;
      const char* p = data.data();
      const char* end = p + data.size();
      auto r1 = std::from_chars(p, end, seq);
      auto r2 = r1.ptr < end ? std::from_chars(r1.ptr + 1, end, sent) : r1;
      if (binary || r1.ec != std::errc() || r2.ec != std::errc() || data.size() < options_.size) {
        counters_.mismatches.fetch_add(1, std::memory_order_relaxed);
        error(s, "a broadcast differs from the one sent");
        break;
      }
      delivered(s, seq, sent, data.size());
      break;
    }
    case load_mode::idle:
    case load_mode::handshake:
      error(s, "an unexpected message");
      break;
  }
}

session* worker::sender_for(std::uint64_t seq) const {
  session& s = *sessions_[seq % options_.sender_count()];
  return s.state == session_state::open ? &s : nullptr;
}

void worker::broadcast() {
  const std::uint64_t seq = shared_.broadcasts.load(std::memory_order_relaxed);
  session* sender = sender_for(seq);
  if (!sender) return;
  session& s = *sender;
  char numbers[48];
  auto r = std::to_chars(numbers, numbers + 20, seq);
  *r.ptr++ = ':';
  r = std::to_chars(r.ptr, numbers + sizeof numbers, now_);
  *r.ptr++ = ':';
  frame_.assign("4broadcast:");
  frame_.append(numbers, r.ptr);
  const std::size_t body = frame_.size() - 11;
  if (body < options_.size) frame_.append(options_.size - body, 'x');
  websocket::append_masked_frame(websocket::opcode::text, frame_, next_mask(), s.main.out);
  mark_dirty(s.main);
  shared_.broadcasts.store(seq + 1, std::memory_order_relaxed);
}

void worker::on_cycle_closed(session& s) {
  if (measuring_) latency_.record(static_cast<std::uint64_t>(now_ - s.started_at));
}

void worker::delivered(session& s, std::uint64_t seq, std::int64_t sent, std::size_t bytes) {
  std::uint64_t& next = s.next_from_sender[seq % s.next_from_sender.size()];
  if (seq != next) error(s, "broadcasts out of order or missing");
  next = seq + s.next_from_sender.size();
  latency_.record(static_cast<std::uint64_t>(now_ - sent));
  counters_.messages.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void worker::closed_by_server(session& s, const char* why) {
  fail(s, std::string("the server closed the session (") + why + ")");
}

void worker::leave_window(session& s) {
  if (s.in_window) {
    s.in_window = false;
    --opening_;
  }
}

// An error that leaves the session running (a bad echo, say).
void worker::error(session&, const std::string& why) {
  counters_.errors.fetch_add(1, std::memory_order_relaxed);
  record_error(why);
}

void worker::fail(session& s, const std::string& why) {
  if (s.state == session_state::closed) return;
  leave_window(s);
  if (s.state == session_state::open) counters_.closed.fetch_add(1, std::memory_order_relaxed);
  else counters_.failed.fetch_add(1, std::memory_order_relaxed);
  s.state = session_state::closed;
  close_fd(s.main);
  close_fd(s.poll);
  if (!shared_.stop.load(std::memory_order_relaxed)) error(s, why);
}

void worker::fail_global(const std::string& why) {
  counters_.errors.fetch_add(1, std::memory_order_relaxed);
  record_error(why);
}

void worker::record_error(const std::string& why) {
  std::lock_guard<std::mutex> lock(shared_.error_lock);
  if (shared_.first_error.empty()) shared_.first_error = why;
}

}  // namespace eio::tool::bench
