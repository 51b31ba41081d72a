// `eiotool bench --socketio` (socketio_load.hpp): the bench worker of
// `eiotool bench` (worker.hpp: sockets, HTTP and WebSocket framing, the
// epoll loop, the phases and the counters) with a Socket.IO socket on each
// session. This file keeps the Socket.IO part: the packets, built and
// checked with eio::socketio, and what each mode does with them.
#include "socketio_load.hpp"
#include "worker.hpp"

#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>
#include <eio/websocket_codec.hpp>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eio::tool::bench {
namespace {

// How far a session's Socket.IO socket is (after the Engine.IO open).
enum class sio_step : std::uint8_t {
  none,        // Engine.IO not open yet
  connecting,  // CONNECT sent, its answer awaited
  joining,     // fanout receivers: join sent, its ack awaited
  ready,       // counted as open
  // handshake mode, on the keep-alive connection:
  connect_posted,  // the POST of "40" is out
  connect_polled,  // the GET for its answer is out
};

struct sio_session : session {
  sio_step step = sio_step::none;
  bool attachment_due = false;  // a binary echo's text part arrived; its attachment is next
};

class sio_worker final : public worker {
public:
  sio_worker(const socketio_load_options& sio, shared_state& shared, worker_counters& counters, unsigned id)
      : worker(sio.load, shared, counters, id), sio_(sio) {
    // The constant parts of the packets, built once with the codec.
    std::vector<socketio::attachment> attachments;
    if (socketio::make_event_data("echo", socketio::value::array({socketio::value::binary({})}), binary_echo_data_, attachments)) {
      throw std::runtime_error("cannot build the binary echo event");
    }
    socketio::append_json_string(sio.room, room_json_);
  }

private:
  static sio_session& sio(session& s) { return static_cast<sio_session&>(s); }

  std::unique_ptr<session> new_session() override { return std::make_unique<sio_session>(); }

  void on_session_open(session& s) override {
    if (options_.mode == load_mode::handshake) {
      // CONNECT by POST on the keep-alive connection; its answer comes by GET.
      append_connect(s.post_body);
      sio(s).step = sio_step::connect_posted;
      maybe_post(s);
      return;
    }
    sio(s).step = sio_step::connecting;
    frame_.clear();
    append_connect(frame_);
    send_packet(s, frame_);
  }

  bool on_handshake_answer(session& s, std::string_view body) override {
    if (sio(s).step == sio_step::connect_polled) {
      // The GET for the CONNECT answer: a polling payload.
      while (!body.empty() && s.state == session_state::open && sio(s).step == sio_step::connect_polled) {
        const std::size_t end = body.find('\x1e');
        on_packet(s, body.substr(0, end));
        if (end == std::string_view::npos) break;
        body.remove_prefix(end + 1);
      }
      if (s.state == session_state::open && sio(s).step == sio_step::connect_polled) issue_main_get(s);
      return true;
    }
    if (sio(s).step == sio_step::connect_posted) {
      s.post_pending = false;
      sio(s).step = sio_step::connect_polled;
      issue_main_get(s);
      return true;
    }
    return false;
  }

  void on_cycle_closed(session& s) override { sio(s).step = sio_step::none; }

  // "40": a CONNECT to the main namespace, built by the codec.
  static void append_connect(std::string& out) {
    socketio::packet connect;
    connect.type = socketio::packet_type::connect;
    out.push_back('4');
    socketio::encode(connect, out);
  }

  // The socket is connected (and, for fanout receivers, in the room).
  void sio_ready(session& s) {
    sio(s).step = sio_step::ready;
    leave_window(s);
    counters_.opened.fetch_add(1, std::memory_order_relaxed);
    if (options_.mode == load_mode::echo) {
      for (unsigned i = 0; i < options_.inflight; ++i) send_echo(s);
    }
  }

  // Encodes `p` as an Engine.IO message into frame_ ("4" + the Socket.IO text).
  void frame_packet(const socketio::packet& p) {
    frame_.assign(1, '4');
    if (socketio::encode(p, frame_)) throw std::logic_error("socketio::encode refused a packet of the bench");
  }

  void send_echo(session& s) override {
    const std::string_view data = payload(s, s.send_seq);
    s.sent_at[s.send_seq % options_.inflight] = now_;
    socketio::packet p;
    if (sio_.acks) p.id = s.send_seq;
    ++s.send_seq;
    if (options_.binary) {
      p.type = socketio::packet_type::binary_event;
      p.attachments = 1;
      p.data = binary_echo_data_;
      frame_packet(p);
      send_packet(s, frame_);
      send_binary(s, data);
      return;
    }
    args_.clear();
    socketio::append_json_string(data, args_);
    event_data_.clear();
    socketio::append_event_data("echo", args_, event_data_);
    p.type = socketio::packet_type::event;
    p.data = event_data_;
    frame_packet(p);
    send_packet(s, frame_);
  }

  // A corrupted or unexpected answer: counted, and the session carries on.
  void mismatch(session& s, const char* why) {
    counters_.mismatches.fetch_add(1, std::memory_order_relaxed);
    error(s, why);
  }

  // One Socket.IO packet, text part (an Engine.IO message's data).
  void on_sio(session& s, std::string_view text) {
    socketio::packet p;
    socketio::payload_info info;
    if (const socketio::decode_error e = decoder_.decode(text, p, info)) {
      mismatch(s, "a Socket.IO packet the codec refuses");
      return;
    }
    if (p.nsp != "/") {
      mismatch(s, "a Socket.IO packet for another namespace");
      return;
    }
    if (sio(s).attachment_due) {
      mismatch(s, "a text packet where an attachment was due");
      sio(s).attachment_due = false;
    }
    using type = socketio::packet_type;
    switch (p.type) {
      case type::connect:
        if (sio(s).step == sio_step::connecting) {
          if (options_.mode == load_mode::fanout && !s.sender) {
            // join "bench", acked with id 0.
            event_data_.clear();
            socketio::append_event_data("join", room_json_, event_data_);
            socketio::packet join;
            join.type = type::event;
            join.id = 0;
            join.data = event_data_;
            frame_packet(join);
            send_packet(s, frame_);
            sio(s).step = sio_step::joining;
          } else {
            sio_ready(s);
          }
        } else if (sio(s).step == sio_step::connect_polled) {
          connected_in_handshake(s);
        } else {
          mismatch(s, "a CONNECT answer nobody asked for");
        }
        return;
      case type::connect_error:
        fail(s, "CONNECT refused: " + std::string(p.data.substr(0, 80)));
        return;
      case type::disconnect:
        closed_by_server(s, "Socket.IO DISCONNECT");
        return;
      case type::event:
      case type::binary_event:
        if (info.name_kind == socketio::event_name_kind::string && info.name == "auth") return;  // the demo greets every socket
        on_event(s, p, info);
        return;
      case type::ack:
      case type::binary_ack:
        on_ack(s, p, info);
        return;
    }
  }

  void on_event(session& s, const socketio::packet& p, const socketio::payload_info& info) {
    const bool named = info.name_kind == socketio::event_name_kind::string;
    if (options_.mode == load_mode::echo && !sio_.acks && named && info.name == "echo" && !p.id) {
      on_echo(s, p, info);
      return;
    }
    if (options_.mode == load_mode::fanout && named && info.name == "room-message" && !p.id) {
      on_delivery(s, p, info);
      return;
    }
    mismatch(s, "an unexpected event");
  }

  void on_ack(session& s, const socketio::packet& p, const socketio::payload_info& info) {
    if (sio(s).step == sio_step::joining && p.id == std::uint64_t{0}) {
      sio_ready(s);
      return;
    }
    if (options_.mode == load_mode::echo && sio_.acks && sio(s).step == sio_step::ready) {
      if (p.id != s.recv_seq) {
        mismatch(s, "an ack with another id than the one due");
        return;
      }
      on_echo(s, p, info);
      return;
    }
    mismatch(s, "an unexpected ack");
  }

  // The echo of message recv_seq: an event or an ack with its one argument.
  void on_echo(session& s, const socketio::packet& p, const socketio::payload_info& info) {
    if (s.recv_seq >= s.send_seq) {
      mismatch(s, "an echo of a message never sent");
      return;
    }
    if (options_.binary) {
      if (!socketio::is_binary(p.type) || p.attachments != 1 || info.arg_count != 1 || info.placeholder_count != 1 ||
          info.args(p.data).front() != '{') {
        mismatch(s, "an echo differs from the message sent (not one binary argument)");
        return;
      }
      sio(s).attachment_due = true;  // verified, and counted, with the attachment
      return;
    }
    args_.clear();
    socketio::append_json_string(payload(s, s.recv_seq), args_);
    if (socketio::is_binary(p.type) || info.arg_count != 1 || info.args(p.data) != args_) {
      mismatch(s, "an echo differs from the message sent");
    }
    echoed(s, options_.size);
  }

  void echoed(session& s, std::size_t bytes) {
    if (measuring_) latency_.record(static_cast<std::uint64_t>(now_ - s.sent_at[s.recv_seq % options_.inflight]));
    ++s.recv_seq;
    counters_.messages.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes.fetch_add(bytes, std::memory_order_relaxed);
    send_echo(s);
  }

  // An Engine.IO message: a Socket.IO packet's text part, or the attachment
  // of a binary echo.
  void on_message(session& s, std::string_view data, bool binary) override {
    if (!binary) {
      on_sio(s, data);
      return;
    }
    if (!sio(s).attachment_due) {
      mismatch(s, "a binary message with no packet waiting for it");
      return;
    }
    sio(s).attachment_due = false;
    const std::string_view expected = payload(s, s.recv_seq);
    if (data.size() != expected.size() || std::memcmp(data.data(), expected.data(), data.size()) != 0) {
      mismatch(s, "an echo differs from the message sent (attachment)");
    }
    echoed(s, data.size());
  }

  // A room-message: ["room-message","<seq>:<send time ns>:xxx..."] (and an
  // offset, see below).
  void on_delivery(session& s, const socketio::packet& p, const socketio::payload_info& info) {
    if (s.sender) {
      mismatch(s, "a room message to the sender, who is not in the room");
      return;
    }
    // A server with connection state recovery appends the packet's offset
    // as a last string argument: ["room-message","<ours>","<offset>"].
    const std::string_view args = info.args(p.data);
    const std::string_view arg = args.substr(0, options_.size + 2);
    const std::string_view offset = args.substr(arg.size());
    const bool offset_ok = info.arg_count == 1 ? offset.empty()
                                               : info.arg_count == 2 && offset.size() >= 3 && offset.substr(0, 2) == ",\"" &&
                                                     offset.back() == '"';
    if (!offset_ok || arg.size() != options_.size + 2 || arg.front() != '"' || arg.back() != '"') {
      mismatch(s, "a broadcast differs from the one sent");
      return;
    }
    std::uint64_t seq = 0;
    std::int64_t sent = 0;
    const char* q = arg.data() + 1;
    const char* end = arg.data() + arg.size() - 1;
    auto r1 = std::from_chars(q, end, seq);
    auto r2 = r1.ptr < end ? std::from_chars(r1.ptr + 1, end, sent) : r1;
    if (r1.ec != std::errc() || r2.ec != std::errc() || *r1.ptr != ':') {
      mismatch(s, "a broadcast differs from the one sent");
      return;
    }
    delivered(s, seq, sent, options_.size);
  }

  // A sender, in turn: 42["to-room","bench","<seq>:<send time ns>:xxx..."].
  void broadcast() override {
    const std::uint64_t seq = shared_.broadcasts.load(std::memory_order_relaxed);
    session* sender = sender_for(seq);
    if (!sender || sio(*sender).step != sio_step::ready) return;
    session& s = *sender;
    char numbers[48];
    auto r = std::to_chars(numbers, numbers + 20, seq);
    *r.ptr++ = ':';
    r = std::to_chars(r.ptr, numbers + sizeof numbers, now_);
    *r.ptr++ = ':';
    binary_.assign(numbers, r.ptr);
    if (binary_.size() < options_.size) binary_.append(options_.size - binary_.size(), 'x');
    args_.assign(room_json_);
    args_.push_back(',');
    socketio::append_json_string(binary_, args_);
    event_data_.clear();
    socketio::append_event_data("to-room", args_, event_data_);
    socketio::packet p;
    p.type = socketio::packet_type::event;
    p.data = event_data_;
    frame_packet(p);
    websocket::append_masked_frame(websocket::opcode::text, frame_, next_mask(), s.main.out);
    mark_dirty(s.main);
    shared_.broadcasts.store(seq + 1, std::memory_order_relaxed);
  }

  // handshake mode: the CONNECT answer came by GET; close the session ("1" by POST).
  void connected_in_handshake(session& s) {
    if (measuring_) latency_.record(static_cast<std::uint64_t>(now_ - s.started_at));
    sio(s).step = sio_step::none;
    close_in_handshake(s);
  }

  const socketio_load_options& sio_;
  socketio::decoder decoder_;
  std::string binary_echo_data_;  // ["echo",{"_placeholder":true,"num":0}]
  std::string room_json_;         // "bench", as JSON
  std::string event_data_;        // scratch: an event's data
  std::string args_;              // scratch: arguments as JSON text
};

}  // namespace

load_result run_socketio_load(const socketio_load_options& sio) {
  return run_workers(sio.load, "connects", [&sio](shared_state& shared, worker_counters& counters, unsigned id) {
    return std::make_unique<sio_worker>(sio, shared, counters, id);
  });
}

}  // namespace eio::tool::bench
