// `eiotool bench --socketio` (socketio_load.hpp): the Engine.IO clients of
// load.cpp with a Socket.IO socket on each session. The sockets, HTTP and
// WebSocket framing, the epoll loop, the phases and the counters are a copy
// of load.cpp's, kept apart while load.cpp is being split by concern; once
// that lands, this file keeps only the Socket.IO part (from on_open to
// connected_in_handshake) on top of the shared transport.
#include "socketio_load.hpp"

#include <eio/base64.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>
#include <eio/websocket_codec.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace eio::tool::bench {
namespace {

std::int64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double cpu_seconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// What the worker threads and the coordinating thread share.
struct shared_state {
  std::atomic<bool> measuring{false};  // latencies are recorded
  std::atomic<bool> sending{false};    // fanout: the sender broadcasts
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> broadcasts{0};
  std::int64_t measure_start = 0;
  // Echo payloads are windows of this buffer at an offset that depends on
  // the session and the sequence number (see payload()).
  std::string pattern;
  std::mutex error_lock;
  std::string first_error;
};

// Counters a worker bumps and the coordinator reads each second.
struct alignas(64) worker_counters {
  std::atomic<std::uint64_t> opened{0}, failed{0}, closed{0}, messages{0}, bytes{0}, errors{0}, mismatches{0}, pings{0};
};

constexpr std::size_t pattern_shift = 251;  // distinct windows before they repeat
constexpr std::string_view websocket_key = "dGhlIHNhbXBsZSBub25jZQ==";  // any 16 bytes (RFC 6455 4.1)

enum class session_state : std::uint8_t { waiting, opening, open, closed };

struct session;

struct connection {
  session* owner = nullptr;
  int fd = -1;
  bool connecting = false;
  bool write_armed = false;
  bool dirty = false;
  bool websocket = false;     // past the 101: frames from here on
  unsigned responses_due = 0; // HTTP requests sent and not yet answered
  std::string out;
  std::size_t out_sent = 0;
  std::string in;  // bytes read and not yet consumed
};

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

struct session {
  std::uint32_t index = 0;
  bool sender = false;  // fanout: the one that broadcasts
  session_state state = session_state::waiting;
  connection main;      // the WebSocket, or the polling POST (and handshake) connection
  connection poll;      // polling: the long-poll GET connection
  websocket::frame_reader reader{std::size_t{1} << 26, /*require_masked=*/false};
  std::string post_head;  // "POST ...&sid=SID HTTP/1.1\r\n...Content-Length: "
  std::string get_request;
  std::string post_body;  // packets waiting for the next POST
  bool post_pending = false;
  bool get_pending = false;
  bool closing = false;   // handshake mode: the close POST is out
  bool in_window = false; // counted among the sessions being opened
  sio_step step = sio_step::none;
  bool attachment_due = false;  // a binary echo's text part arrived; its attachment is next
  std::uint64_t send_seq = 0;
  std::uint64_t recv_seq = 0;
  std::vector<std::int64_t> sent_at;  // echo: send time of each message in flight
  std::int64_t started_at = 0;
};

class worker {
public:
  worker(const socketio_load_options& sio, shared_state& shared, worker_counters& counters, unsigned id)
      : options_(sio.load), sio_(sio), shared_(shared), counters_(counters), mask_state_(0x9e3779b9u ^ (id * 0x85ebca6bu)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
    scratch_.resize(256 * 1024);
    const std::string host = options_.target.host + ":" + std::to_string(options_.target.port);
    upgrade_request_ = "GET " + options_.target.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + host +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + std::string(websocket_key) +
                       "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    handshake_request_ = "GET " + options_.target.path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    host_ = host;
    frame_.reserve(options_.size + 64);
    binary_.reserve(options_.size + 64);
    // The constant parts of the packets, built once with the codec.
    std::vector<socketio::attachment> attachments;
    if (socketio::make_event_data("echo", socketio::value::array({socketio::value::binary({})}), binary_echo_data_, attachments)) {
      throw std::runtime_error("cannot build the binary echo event");
    }
    socketio::append_json_string(sio.room, room_json_);
  }
  ~worker() {
    for (auto& s : sessions_) {
      close_fd(s->main);
      close_fd(s->poll);
    }
    if (epoll_ >= 0) ::close(epoll_);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void add_session(std::uint32_t index, bool sender) {
    auto s = std::make_unique<session>();
    s->index = index;
    s->sender = sender;
    if (options_.mode == load_mode::echo) s->sent_at.assign(options_.inflight, 0);
    s->main.owner = s.get();
    s->poll.owner = s.get();
    s->main.out.reserve(4096);
    sessions_.push_back(std::move(s));
  }

  latency_histogram& latency() { return latency_; }

  // epoll_wait; with busy_poll_us, non-blocking ones first until something
  // is ready or that time is up (the sleep and wake-up it saves are most of
  // a round trip on an idle machine: it sharpens the latency case).
  // The spin never runs past `timeout` (the next broadcast), and the wait
  // after it takes only what is left.
  int wait_for_events(std::vector<epoll_event>& events, int timeout) {
    const int capacity = static_cast<int>(events.size());
    if (options_.busy_poll_us > 0 && timeout > 0) {
      const std::int64_t start = now_ns();
      const std::int64_t due = start + static_cast<std::int64_t>(timeout) * 1'000'000;
      const std::int64_t until = std::min(due, start + static_cast<std::int64_t>(options_.busy_poll_us) * 1000);
      do {
        const int n = epoll_wait(epoll_, events.data(), capacity, 0);
        if (n != 0) return n;
      } while (now_ns() < until && !shared_.stop.load(std::memory_order_relaxed));
      timeout = static_cast<int>(std::max<std::int64_t>(0, (due - now_ns()) / 1'000'000));
    }
    return epoll_wait(epoll_, events.data(), capacity, timeout);
  }

  void run() {
    std::vector<epoll_event> events(1024);
    next_broadcast_ = 0;
    while (!shared_.stop.load(std::memory_order_relaxed)) {
      now_ = now_ns();
      open_more();
      int timeout = 20;
      if (has_sender_ && shared_.sending.load(std::memory_order_relaxed)) {
        if (next_broadcast_ == 0) next_broadcast_ = now_;
        while (now_ >= next_broadcast_) {
          broadcast();
          next_broadcast_ += static_cast<std::int64_t>(1e9 / options_.rate);
        }
        timeout = static_cast<int>(std::min<std::int64_t>(20, (next_broadcast_ - now_) / 1'000'000));
      }
      flush_dirty();
      const int n = wait_for_events(events, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_global("epoll_wait failed");
        return;
      }
      now_ = now_ns();
      measuring_ = shared_.measuring.load(std::memory_order_relaxed);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<connection*>(events[i].data.ptr);
        if (c->fd < 0) continue;
        const std::uint32_t what = events[i].events;
        if (c->connecting) {
          if (!(what & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
          int error = 0;
          socklen_t length = sizeof error;
          getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
          if (error != 0) {
            fail(*c->owner, std::string("connect: ") + std::strerror(error));
            continue;
          }
          c->connecting = false;
          mark_dirty(*c);
          continue;
        }
        if (what & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
          if (!on_readable(*c)) continue;
        }
        if ((what & EPOLLOUT) && c->fd >= 0) flush(*c);
      }
    }
  }

private:
  // ----- connections -----

  bool connect_to(connection& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      fail(*c.owner, std::string("socket: ") + std::strerror(errno));
      return false;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.connecting = true;
    c.websocket = false;
    c.responses_due = 0;
    c.out.clear();
    c.out_sent = 0;
    c.in.clear();
    const auto& address = options_.target.address;
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0 && errno != EINPROGRESS) {
      fail(*c.owner, std::string("connect: ") + std::strerror(errno));
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    c.write_armed = true;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  }

  void close_fd(connection& c) {
    if (c.fd >= 0) ::close(c.fd);  // leaves the epoll set with it
    c.fd = -1;
    c.connecting = false;
    c.write_armed = false;
  }

  void mark_dirty(connection& c) {
    if (!c.dirty) {
      c.dirty = true;
      dirty_.push_back(&c);
    }
  }

  void flush_dirty() {
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      connection& c = *dirty_[i];
      c.dirty = false;
      if (c.fd >= 0 && !c.connecting) flush(c);
    }
    dirty_.clear();
  }

  void flush(connection& c) {
    while (c.out_sent < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        lost_connection(c, std::string("send: ") + std::strerror(errno));
        return;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    const bool pending = c.out_sent < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_sent = 0;
    }
    if (pending != c.write_armed) {
      epoll_event ev{};
      ev.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
      ev.data.ptr = &c;
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
      c.write_armed = pending;
    }
  }

  // Reads what arrived and acts on it. False when the connection is gone.
  bool on_readable(connection& c) {
    const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      lost_connection(c, std::string("recv: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) {
      lost_connection(c, "the server closed the connection");
      return false;
    }
    std::string_view input;
    if (c.in.empty()) {
      input = std::string_view(scratch_.data(), static_cast<std::size_t>(n));
    } else {
      c.in.append(scratch_.data(), static_cast<std::size_t>(n));
      input = c.in;
    }
    const int fd = c.fd;
    const std::size_t consumed = consume(c, input);
    if (c.fd != fd || c.fd < 0) return false;  // closed (or reopened) while consuming
    if (c.in.empty()) {
      c.in.assign(input.substr(consumed));
    } else {
      c.in.erase(0, consumed);
    }
    return true;
  }

  void lost_connection(connection& c, const std::string& why) {
    session& s = *c.owner;
    if (options_.mode == load_mode::handshake && &c == &s.main && c.responses_due == 0 && !s.closing) {
      // A keep-alive connection the server let go between requests: open another.
      close_fd(c);
      if (!shared_.stop.load(std::memory_order_relaxed)) start_handshake(s);
      return;
    }
    if (s.state == session_state::closed) return;
    fail(s, why);
  }

  // ----- input -----

  std::size_t consume(connection& c, std::string_view input) {
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

  // One whole HTTP response, or 0 bytes when it is not all here yet.
  std::size_t consume_response(connection& c, std::string_view input) {
    const std::size_t head_end = input.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      if (input.size() > 64 * 1024) fail(*c.owner, "response head over 64 KiB");
      return 0;
    }
    const std::string_view head = input.substr(0, head_end + 2);
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
      fail(*c.owner, "not an HTTP response");
      return 0;
    }
    int status = 0;
    std::from_chars(head.data() + 9, head.data() + 12, status);
    std::size_t length = 0;
    bool chunked = false;
    for (std::size_t line = head.find("\r\n") + 2; line < head.size();) {
      const std::size_t end = head.find("\r\n", line);
      const std::string_view field = head.substr(line, end - line);
      line = end + 2;
      const std::size_t colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = field.substr(0, colon);
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (iequals(name, "content-length")) {
        std::from_chars(value.data(), value.data() + value.size(), length);
      } else if (iequals(name, "transfer-encoding") && value.find("chunked") != std::string_view::npos) {
        chunked = true;
      }
    }
    const std::size_t body_start = head_end + 4;
    if (status == 101) {
      c.websocket = true;
      if (c.responses_due > 0) --c.responses_due;
      // The open packet follows as the first frame.
      return body_start;
    }
    std::string_view body;
    std::size_t total = 0;
    if (chunked) {
      // Chunks of hex size, CRLF, data, CRLF; ends with a 0-size chunk.
      body_scratch_.clear();
      std::size_t at = body_start;
      for (;;) {
        const std::size_t size_end = input.find("\r\n", at);
        if (size_end == std::string_view::npos) return 0;
        std::size_t chunk = 0;
        std::from_chars(input.data() + at, input.data() + size_end, chunk, 16);
        at = size_end + 2;
        if (chunk == 0) {
          const std::size_t trailer_end = input.find("\r\n", at);
          if (trailer_end == std::string_view::npos) return 0;
          total = trailer_end + 2;
          break;
        }
        if (input.size() < at + chunk + 2) return 0;
        body_scratch_.append(input.data() + at, chunk);
        at += chunk + 2;
      }
      body = body_scratch_;
    } else {
      if (input.size() < body_start + length) return 0;
      body = input.substr(body_start, length);
      total = body_start + length;
    }
    if (c.responses_due > 0) --c.responses_due;
    on_response(c, status, body);
    return total;
  }

  static bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (x != b[i]) return false;
    }
    return true;
  }

  void on_frame(session& s, const websocket::frame_event& event) {
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

  // One Engine.IO packet in text form (a WebSocket text frame, or one packet
  // of a polling payload).
  void on_packet(session& s, std::string_view packet) {
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
        on_sio(s, packet.substr(1));
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

  void on_response(connection& c, int status, std::string_view body) {
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
    if (options_.mode == load_mode::handshake && s.step == sio_step::connect_polled) {
      // The GET for the CONNECT answer: a polling payload.
      while (!body.empty() && s.state == session_state::open && s.step == sio_step::connect_polled) {
        const std::size_t end = body.find('\x1e');
        on_packet(s, body.substr(0, end));
        if (end == std::string_view::npos) break;
        body.remove_prefix(end + 1);
      }
      if (s.state == session_state::open && s.step == sio_step::connect_polled) issue_main_get(s);
      return;
    }
    // The answer to a POST.
    s.post_pending = false;
    if (options_.mode == load_mode::handshake && s.step == sio_step::connect_posted) {
      s.step = sio_step::connect_polled;
      issue_main_get(s);
      return;
    }
    if (options_.mode == load_mode::handshake && s.closing) {
      s.closing = false;
      counters_.messages.fetch_add(1, std::memory_order_relaxed);
      s.state = session_state::waiting;
      s.step = sio_step::none;
      if (!shared_.stop.load(std::memory_order_relaxed)) start_handshake(s);
      return;
    }
    maybe_post(s);
  }

  // ----- the Engine.IO session -----

  void open_more() {
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

  void start_session(session& s) {
    s.state = session_state::opening;
    s.started_at = now_;
    if (!connect_to(s.main)) return;
    s.main.out.append(options_.transport == load_transport::websocket ? upgrade_request_ : handshake_request_);
    ++s.main.responses_due;
  }

  void start_handshake(session& s) {
    s.state = session_state::opening;
    s.step = sio_step::none;
    s.started_at = now_;
    if (s.main.fd < 0 && !connect_to(s.main)) return;
    s.main.out.append(handshake_request_);
    ++s.main.responses_due;
    mark_dirty(s.main);
  }

  void on_open(session& s, std::string_view handshake) {
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
      s.post_head.clear();
      s.post_head.append("POST ").append(options_.target.path).append("?EIO=4&transport=polling&sid=").append(sid);
      s.post_head.append(" HTTP/1.1\r\nHost: ").append(host_).append("\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ");
      s.get_request.clear();
      s.get_request.append("GET ").append(options_.target.path).append("?EIO=4&transport=polling&sid=").append(sid);
      s.get_request.append(" HTTP/1.1\r\nHost: ").append(host_).append("\r\n\r\n");
    }
    s.state = session_state::open;
    if (options_.mode == load_mode::handshake) {
      // CONNECT by POST on the keep-alive connection; its answer comes by GET.
      s.post_pending = false;
      s.post_body.clear();
      append_connect(s.post_body);
      s.step = sio_step::connect_posted;
      maybe_post(s);
      return;
    }
    if (polling) {
      s.post_body.reserve(options_.inflight * (base64_encoded_size(options_.size) + 64) + 16);
      if (!connect_to(s.poll)) return;
      s.poll.out.reserve(s.get_request.size());
      issue_get(s);
    }
    s.step = sio_step::connecting;
    frame_.clear();
    append_connect(frame_);
    send_packet(s, frame_);
  }

  // "40": a CONNECT to the main namespace, built by the codec.
  static void append_connect(std::string& out) {
    socketio::packet connect;
    connect.type = socketio::packet_type::connect;
    out.push_back('4');
    socketio::encode(connect, out);
  }

  // The socket is connected (and, for fanout receivers, in the room).
  void sio_ready(session& s) {
    s.step = sio_step::ready;
    leave_window(s);
    counters_.opened.fetch_add(1, std::memory_order_relaxed);
    if (options_.mode == load_mode::echo) {
      for (unsigned i = 0; i < options_.inflight; ++i) send_echo(s);
    }
  }

  // handshake mode: a GET on the keep-alive connection.
  void issue_main_get(session& s) {
    s.main.out.append(s.get_request);
    ++s.main.responses_due;
    mark_dirty(s.main);
  }

  void issue_get(session& s) {
    if (s.get_pending || s.poll.fd < 0) return;
    s.poll.out.append(s.get_request);
    ++s.poll.responses_due;
    s.get_pending = true;
    mark_dirty(s.poll);
  }

  void maybe_post(session& s) {
    if (s.post_pending || s.post_body.empty() || s.main.fd < 0) return;
    char length[24];
    const auto written = std::to_chars(length, length + sizeof length, s.post_body.size());
    s.main.out.append(s.post_head).append(length, written.ptr).append("\r\n\r\n").append(s.post_body);
    s.post_body.clear();
    ++s.main.responses_due;
    s.post_pending = true;
    mark_dirty(s.main);
  }

  // Sends one Engine.IO text packet ("3", "4...") on the session's transport.
  void send_packet(session& s, std::string_view packet) {
    if (options_.transport == load_transport::websocket || options_.mode == load_mode::fanout) {
      websocket::append_masked_frame(websocket::opcode::text, packet, next_mask(), s.main.out);
      mark_dirty(s.main);
    } else {
      if (!s.post_body.empty()) s.post_body.push_back('\x1e');
      s.post_body.append(packet);
      maybe_post(s);
    }
  }

  // Sends one Engine.IO binary message (an attachment).
  void send_binary(session& s, std::string_view data) {
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

  std::string_view payload(const session& s, std::uint64_t seq) const {
    const std::size_t offset = static_cast<std::size_t>((seq + s.index * 7u) % pattern_shift);
    return std::string_view(shared_.pattern).substr(offset, options_.size);
  }

  // Encodes `p` as an Engine.IO message into frame_ ("4" + the Socket.IO text).
  void frame_packet(const socketio::packet& p) {
    frame_.assign(1, '4');
    if (socketio::encode(p, frame_)) throw std::logic_error("socketio::encode refused a packet of the bench");
  }

  void send_echo(session& s) {
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
    if (s.attachment_due) {
      mismatch(s, "a text packet where an attachment was due");
      s.attachment_due = false;
    }
    using type = socketio::packet_type;
    switch (p.type) {
      case type::connect:
        if (s.step == sio_step::connecting) {
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
            s.step = sio_step::joining;
          } else {
            sio_ready(s);
          }
        } else if (s.step == sio_step::connect_polled) {
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
    if (s.step == sio_step::joining && p.id == std::uint64_t{0}) {
      sio_ready(s);
      return;
    }
    if (options_.mode == load_mode::echo && sio_.acks && s.step == sio_step::ready) {
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
      s.attachment_due = true;  // verified, and counted, with the attachment
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

  // An Engine.IO binary message: the attachment of a binary echo.
  void on_message(session& s, std::string_view data, bool /*binary*/) {
    if (!s.attachment_due) {
      mismatch(s, "a binary message with no packet waiting for it");
      return;
    }
    s.attachment_due = false;
    const std::string_view expected = payload(s, s.recv_seq);
    if (data.size() != expected.size() || std::memcmp(data.data(), expected.data(), data.size()) != 0) {
      mismatch(s, "an echo differs from the message sent (attachment)");
    }
    echoed(s, data.size());
  }

  // A room-message: ["room-message","<seq>:<send time ns>:xxx..."].
  void on_delivery(session& s, const socketio::packet& p, const socketio::payload_info& info) {
    if (s.sender) {
      mismatch(s, "a room message to the sender, who is not in the room");
      return;
    }
    const std::string_view arg = info.args(p.data);
    if (info.arg_count != 1 || arg.size() != options_.size + 2 || arg.front() != '"' || arg.back() != '"') {
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
    if (seq != s.recv_seq) error(s, "broadcasts out of order or missing");
    s.recv_seq = seq + 1;
    latency_.record(static_cast<std::uint64_t>(now_ - sent));
    counters_.messages.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes.fetch_add(options_.size, std::memory_order_relaxed);
  }

  // The sender: 42["to-room","bench","<seq>:<send time ns>:xxx..."].
  void broadcast() {
    session& s = *sessions_.front();
    if (s.state != session_state::open || s.step != sio_step::ready) return;
    const std::uint64_t seq = shared_.broadcasts.load(std::memory_order_relaxed);
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
    s.step = sio_step::none;
    s.post_body.assign("1");
    s.closing = true;
    maybe_post(s);
    if (s.in_window) {
      // The first connect of each handshaker ends the opening phase for it.
      leave_window(s);
      counters_.opened.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void closed_by_server(session& s, const char* why) {
    fail(s, std::string("the server closed the session (") + why + ")");
  }

  void leave_window(session& s) {
    if (s.in_window) {
      s.in_window = false;
      --opening_;
    }
  }

  // An error that leaves the session running (a bad echo, say).
  void error(session&, const std::string& why) {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    record_error(why);
  }

  void fail(session& s, const std::string& why) {
    if (s.state == session_state::closed) return;
    leave_window(s);
    if (s.state == session_state::open) counters_.closed.fetch_add(1, std::memory_order_relaxed);
    else counters_.failed.fetch_add(1, std::memory_order_relaxed);
    s.state = session_state::closed;
    close_fd(s.main);
    close_fd(s.poll);
    if (!shared_.stop.load(std::memory_order_relaxed)) error(s, why);
  }

  void fail_global(const std::string& why) {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    record_error(why);
  }

  void record_error(const std::string& why) {
    std::lock_guard<std::mutex> lock(shared_.error_lock);
    if (shared_.first_error.empty()) shared_.first_error = why;
  }

  // RFC 6455 section 10.3 asks browsers for unpredictable masks; a load
  // generator only needs them to vary (xorshift32).
  std::uint32_t next_mask() noexcept {
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    return mask_state_;
  }

  const load_options& options_;
  const socketio_load_options& sio_;
  shared_state& shared_;
  worker_counters& counters_;
  int epoll_ = -1;
  std::vector<std::unique_ptr<session>> sessions_;
  std::size_t next_to_open_ = 0;
  unsigned opening_ = 0;
  std::vector<connection*> dirty_;
  std::vector<char> scratch_;
  std::string frame_;
  std::string binary_;
  std::string body_scratch_;
  socketio::decoder decoder_;
  std::string binary_echo_data_;  // ["echo",{"_placeholder":true,"num":0}]
  std::string room_json_;         // "bench", as JSON
  std::string event_data_;        // scratch: an event's data
  std::string args_;              // scratch: arguments as JSON text
  std::string upgrade_request_;
  std::string handshake_request_;
  std::string host_;
  std::int64_t now_ = 0;
  bool measuring_ = false;
  std::uint32_t mask_state_;
  latency_histogram latency_;

public:
  bool has_sender_ = false;
  std::int64_t next_broadcast_ = 0;
};

struct totals {
  std::uint64_t opened = 0, failed = 0, closed = 0, messages = 0, bytes = 0, errors = 0, mismatches = 0, pings = 0;
};

totals sum(const std::vector<worker_counters>& counters) {
  totals t;
  for (const auto& c : counters) {
    t.opened += c.opened.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
    t.closed += c.closed.load(std::memory_order_relaxed);
    t.messages += c.messages.load(std::memory_order_relaxed);
    t.bytes += c.bytes.load(std::memory_order_relaxed);
    t.errors += c.errors.load(std::memory_order_relaxed);
    t.mismatches += c.mismatches.load(std::memory_order_relaxed);
    t.pings += c.pings.load(std::memory_order_relaxed);
  }
  return t;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

load_result run_socketio_load(const socketio_load_options& sio) {
  const load_options& options = sio.load;
  raise_open_file_limit();
  shared_state shared;
  {
    // Text stays within the letters (no record separator, valid UTF-8);
    // binary uses every byte value.
    std::uint32_t x = 2463534242u;
    shared.pattern.resize(options.size + pattern_shift);
    for (char& ch : shared.pattern) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      ch = options.binary ? static_cast<char>(x >> 24) : static_cast<char>('a' + (x >> 8) % 26);
    }
  }

  const unsigned threads = std::max(1u, options.threads);
  std::vector<worker_counters> counters(threads);
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned t = 0; t < threads; ++t) workers.push_back(std::make_unique<worker>(sio, shared, counters[t], t));
  std::uint32_t total_sessions = options.connections;
  if (options.mode == load_mode::fanout) {
    workers[0]->add_session(0, /*sender=*/true);
    workers[0]->has_sender_ = true;
  }
  for (std::uint32_t i = 0; i < total_sessions; ++i) {
    workers[i % threads]->add_session(options.mode == load_mode::fanout ? i + 1 : i, false);
  }
  if (options.mode == load_mode::fanout) ++total_sessions;

  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->run(); });

  load_result result;
  const std::int64_t started = now_ns();
  auto seconds_since = [](std::int64_t t) { return static_cast<double>(now_ns() - t) / 1e9; };
  auto progress = [&](const char* phase, double seconds, std::uint64_t rate_count, double interval) {
    if (!options.progress) return;
    const totals t = sum(counters);
    std::fprintf(stderr, "bench: %s %4.1fs open %llu/%u failed %llu closed %llu %s %.0f/s errors %llu\n", phase, seconds,
                 static_cast<unsigned long long>(t.opened), total_sessions, static_cast<unsigned long long>(t.failed),
                 static_cast<unsigned long long>(t.closed),
                 options.mode == load_mode::handshake ? "connects" : options.mode == load_mode::fanout ? "deliveries" : "messages",
                 interval > 0 ? static_cast<double>(rate_count) / interval : 0.0, static_cast<unsigned long long>(t.errors));
  };

  // Phase 1: open every session (handshake mode: every handshaker's first).
  std::int64_t last_tick = started;
  std::uint64_t last_messages = 0;
  for (;;) {
    const totals t = sum(counters);
    if (t.opened + t.failed >= total_sessions) break;
    if (seconds_since(started) > options.open_timeout) {
      std::lock_guard<std::mutex> lock(shared.error_lock);
      if (shared.first_error.empty()) shared.first_error = "not every session opened within the open timeout";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (now_ns() - last_tick >= 1'000'000'000) {
      last_tick = now_ns();
      progress("opening", seconds_since(started), 0, 0);
    }
  }
  result.open_seconds = seconds_since(started);
  if (options.mode == load_mode::idle && options.progress) {
    std::fprintf(stderr, "bench: all sessions open: %llu of %u\n", static_cast<unsigned long long>(sum(counters).opened), total_sessions);
  }
  if (options.mode == load_mode::idle && !options.on_open.empty()) {
    // The workers keep answering pings meanwhile.
    const int status = std::system(options.on_open.c_str());
    if (status != 0) std::fprintf(stderr, "bench: --on-open command exited with status %d\n", status);
  }

  // Phase 2: measure.
  const totals before = sum(counters);
  const double cpu_before = cpu_seconds();
  const std::int64_t measure_start = now_ns();
  shared.measure_start = measure_start;
  shared.measuring.store(true);
  if (options.mode == load_mode::fanout) shared.sending.store(true);
  last_tick = measure_start;
  last_messages = before.messages;
  const auto measure_end = measure_start + static_cast<std::int64_t>(options.duration * 1e9);
  while (now_ns() < measure_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(50, std::max<std::int64_t>(1, (measure_end - now_ns()) / 1'000'000))));
    const std::int64_t now = now_ns();
    if (now - last_tick >= 1'000'000'000) {
      const totals t = sum(counters);
      progress("running", static_cast<double>(now - measure_start) / 1e9, t.messages - last_messages, static_cast<double>(now - last_tick) / 1e9);
      last_tick = now;
      last_messages = t.messages;
    }
  }
  shared.sending.store(false);
  totals after = sum(counters);
  const double cpu_after = cpu_seconds();
  result.elapsed = static_cast<double>(now_ns() - measure_start) / 1e9;
  if (options.mode == load_mode::fanout) {
    // Let the last broadcasts arrive: up to two seconds.
    result.broadcasts = shared.broadcasts.load();
    const std::uint64_t receivers = after.opened > 0 ? after.opened - 1 : 0;  // less the sender
    result.expected = result.broadcasts * receivers;
    const std::int64_t drain_end = now_ns() + 2'000'000'000;
    while (now_ns() < drain_end && sum(counters).messages - before.messages < result.expected) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    after = sum(counters);
  }
  shared.measuring.store(false);
  shared.stop.store(true);
  for (auto& t : running) t.join();

  result.sessions_opened = after.opened;
  result.sessions_failed = after.failed;
  result.sessions_alive = after.opened - after.closed;
  if (options.mode == load_mode::handshake) result.sessions_alive = 0;
  result.messages = after.messages - before.messages;
  result.bytes = after.bytes - before.bytes;
  if (options.mode == load_mode::fanout) result.lost = result.expected > result.messages ? result.expected - result.messages : 0;
  result.errors = after.errors;
  result.mismatches = after.mismatches;
  result.pings = after.pings;
  result.client_cpu = cpu_after - cpu_before;
  result.first_error = shared.first_error;
  for (auto& w : workers) result.latency.merge(w->latency());
  workers.clear();
  return result;
}

}  // namespace eio::tool::bench
