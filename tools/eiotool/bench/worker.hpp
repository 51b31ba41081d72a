// `eiotool bench`: one load thread (bench::worker) and what it shares with
// the coordinating thread (load.cpp). Its member functions live by concern:
// worker_io.cpp (epoll, sockets, writes), worker_input.cpp (HTTP answers
// read with eio::wire's response reader, WebSocket frames with its frame
// reader), worker_session.cpp (the Engine.IO client: handshake, polling,
// echo and fanout checks, errors).
//
// What a message means is a hook: the worker itself sends and checks plain
// Engine.IO messages (`eiotool bench`); socketio_load.cpp derives from it
// and puts a Socket.IO socket on each session (`eiotool bench --socketio`),
// overriding the virtual functions below.
#pragma once

#include "load.hpp"

#include <eio/websocket_codec.hpp>
#include <eio/wire/response_reader.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

namespace eio::tool::bench {


inline std::int64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
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

struct session {
  virtual ~session() = default;  // a derived worker may keep more per session (new_session)
  std::uint32_t index = 0;
  bool sender = false;  // fanout: one that broadcasts (one per target)
  std::uint32_t target = 0;  // index into options.targets
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
  std::uint64_t send_seq = 0;
  std::uint64_t recv_seq = 0;
  // fanout receivers: the next broadcast due from each sender (sender k
  // sends k, k + senders, ...; the senders' broadcasts may interleave on
  // the way, each one's stay in order)
  std::vector<std::uint64_t> next_from_sender;
  std::vector<std::int64_t> sent_at;  // echo: send time of each message in flight
  std::int64_t started_at = 0;
};

class worker {
public:
  worker(const load_options& options, shared_state& shared, worker_counters& counters, unsigned id)
      : options_(options), shared_(shared), counters_(counters), mask_state_(0x9e3779b9u ^ (id * 0x85ebca6bu)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
    scratch_.resize(256 * 1024);
    for (const load_target& t : options.targets) {
      target_requests r;
      r.host = t.host + ":" + std::to_string(t.port);
      r.upgrade = "GET " + t.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + r.host +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + std::string(websocket_key) +
                  "\r\nSec-WebSocket-Version: 13\r\n\r\n";
      r.handshake = "GET " + t.path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: " + r.host + "\r\n\r\n";
      requests_.push_back(std::move(r));
    }
    frame_.reserve(options.size + 64);
    binary_.reserve(options.size + 64);
  }
  virtual ~worker() {
    for (auto& s : sessions_) {
      close_fd(s->main);
      close_fd(s->poll);
    }
    if (epoll_ >= 0) ::close(epoll_);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Session `index` talks to target index % targets (fanout: the senders
  // are 0 .. targets-1, one on each).
  void add_session(std::uint32_t index, bool sender) {
    std::unique_ptr<session> s = new_session();
    s->index = index;
    s->sender = sender;
    const auto targets = static_cast<std::uint32_t>(options_.targets.size());
    s->target = index % targets;
    if (options_.mode == load_mode::fanout && !sender) {
      for (std::uint32_t k = 0; k < options_.sender_count(); ++k) s->next_from_sender.push_back(k);
    }
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
  int wait_for_events(std::vector<epoll_event>& events, int timeout);

  void run();

protected:
  // ----- hooks: what the sessions say (worker_session.cpp has the Engine.IO ones) -----

  virtual std::unique_ptr<session> new_session() { return std::make_unique<session>(); }

  // The Engine.IO session is open (state open; polling: the POST and GET
  // requests built). Handshake mode: post_body is empty and no POST is out;
  // otherwise the polling GET connection is made right after this.
  virtual void on_session_open(session& s);

  // An Engine.IO message ("4..." or a binary one) for the session.
  virtual void on_message(session& s, std::string_view data, bool binary);

  // Echo mode: sends the next message.
  virtual void send_echo(session& s);

  // Fanout mode, the sender: one broadcast.
  virtual void broadcast();

  // Handshake mode: an answer on the keep-alive connection of an open
  // session, before it is taken as the answer to a POST. True when taken.
  virtual bool on_handshake_answer(session&, std::string_view /*body*/) { return false; }

  // Handshake mode: the close POST was answered (counted already), before
  // the next handshake starts.
  virtual void on_cycle_closed(session& s);

  // ----- connections -----

  bool connect_to(connection& c);

  void close_fd(connection& c);

  void mark_dirty(connection& c);

  void flush_dirty();

  void flush(connection& c);

  // Reads what arrived and acts on it. False when the connection is gone.
  bool on_readable(connection& c);

  void lost_connection(connection& c, const std::string& why);

  // ----- input -----

  std::size_t consume(connection& c, std::string_view input);

  // One whole HTTP response (eio::wire::read_response), or 0 bytes when it is
  // not all here yet.
  std::size_t consume_response(connection& c, std::string_view input);

  void on_frame(session& s, const websocket::frame_event& event);

  // One Engine.IO packet in text form (a WebSocket text frame, or one packet
  // of a polling payload).
  void on_packet(session& s, std::string_view packet);

  void on_response(connection& c, int status, std::string_view body);

  // ----- the Engine.IO session -----

  void open_more();

  void start_session(session& s);

  void start_handshake(session& s);

  void on_open(session& s, std::string_view handshake);

  // Handshake mode: closes the session, a `1` packet by POST; the first
  // time, the handshaker counts as open.
  void close_in_handshake(session& s);

  // Handshake mode: a GET on the keep-alive connection.
  void issue_main_get(session& s);

  void issue_get(session& s);

  void maybe_post(session& s);

  // Sends one text packet ("3", "4...") on the session's transport.
  void send_packet(session& s, std::string_view packet);

  // Sends one binary message (a WebSocket binary frame, or "b<base64>").
  void send_binary(session& s, std::string_view data);

  std::string_view payload(const session& s, std::uint64_t seq) const;

  // Fanout: the sender whose turn broadcast `seq` is, when it is open (the
  // senders are the first sessions of worker 0).
  session* sender_for(std::uint64_t seq) const;

  // Fanout: broadcast `seq`, sent at `sent` (ns), arrived at a receiver.
  void delivered(session& s, std::uint64_t seq, std::int64_t sent, std::size_t bytes);

  void closed_by_server(session& s, const char* why);

  void leave_window(session& s);

  // An error that leaves the session running (a bad echo, say).
  void error(session&, const std::string& why);

  void fail(session& s, const std::string& why);

  void fail_global(const std::string& why);

  void record_error(const std::string& why);

  // RFC 6455 section 10.3 asks browsers for unpredictable masks; a load
  // generator only needs them to vary (xorshift32).
  std::uint32_t next_mask() noexcept {
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    return mask_state_;
  }

  const load_options& options_;
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
  wire::http_response_view response_;  // reused: no allocation per response
  struct target_requests {
    std::string host;       // host:port, for Host headers
    std::string upgrade;    // the WebSocket handshake
    std::string handshake;  // the polling handshake
  };
  std::vector<target_requests> requests_;  // one per options.targets
  std::int64_t now_ = 0;
  bool measuring_ = false;
  std::uint32_t mask_state_;
  latency_histogram latency_;

public:
  bool has_sender_ = false;
  std::int64_t next_broadcast_ = 0;
};

// The coordinating thread (load.cpp): starts options.threads workers made by
// `make`, opens every session, measures, drains and sums the counters.
// `cycles` names what handshake mode counts, in the progress lines.
using make_worker = std::function<std::unique_ptr<worker>(shared_state&, worker_counters&, unsigned id)>;
load_result run_workers(const load_options& options, const char* cycles, const make_worker& make);


}  // namespace eio::tool::bench
