// The event loops of eio::poco_server: non-blocking sockets in a PollSet,
// HTTP/1.1 requests read by detail::http_reader, WebSocket frames through
// eio::websocket's codec, and the eio::server core deciding everything
// Engine.IO.
#include "compression.hpp"
#include "http_reader.hpp"
#include "http_text.hpp"
#include "output_buffer.hpp"
#include "steady_clock.hpp"

#include <eio/base64.hpp>
#include <eio/poco_server.hpp>
#include <eio/utf8.hpp>
#include <eio/websocket_codec.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <openssl/ssl.h>

#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace eio {
namespace {

using detail::steady_now;

}  // namespace

namespace detail {

// One event loop: its thread's PollSet, its connections, its core.
struct event_loop final : connection_output {
  struct connection {
    connection_id id = 0;
    Poco::Net::StreamSocket socket;  // a SecureStreamSocket under TLS
    std::string in;
    // WebSocket bytes of `in` already handled but still viewed by the
    // message events they made: erased before the next read, once the
    // events have been taken (server::websocket_message's contract).
    std::size_t in_handled = 0;
    output_buffer out;
    bool websocket = false;
    bool close_after_write = false;
    bool want_write = false;  // POLL_WRITE is armed
    bool flush_pending = false;  // listed in event_loop::unflushed
    // TLS may need the other direction first (a record to read before a
    // write can go on, or the reverse): wait for that readiness, not ours.
    bool tls_write_waits_for_read = false;
    bool tls_read_waits_for_write = false;
    // The HTTP request being read (one at a time: no pipelining). Made when
    // a request's first bytes come and let go once it is read, so the
    // connections an idle polling session holds (its long-poll GET, its
    // keep-alive POST connection) and WebSocket connections carry none (it
    // is 456 of the 872 bytes a connection took when it was a member).
    std::unique_ptr<http_reader> http;
    bool head_done = false;        // its head was read
    bool reading_post = false;     // a POST the core waits to see the body of (begin_post said so)
    bool awaiting_answer = false;  // handed to the core, not answered yet
    bool keep_alive = true;
    std::string websocket_key;
    http_encoding response_encoding = http_encoding::identity;  // for the answer to the GET being served
    std::optional<permessage_deflate_params> offered_deflate;  // negotiated on the upgrade request
    millis request_started{0};
    millis closing_since{0};  // first seen with close_after_write by the sweep
    // Lingering close (poco_server_options::linger_timeout): its input is
    // read and dropped, linger_left bytes more at most (linger_bytes while
    // its answer waits, as many again once it is written); once write_shut,
    // it is closed at linger_deadline.
    bool lingering = false;
    bool write_shut = false;
    std::size_t linger_left = 0;
    millis linger_deadline{0};
    // What only a WebSocket needs, made when the upgrade is accepted: the
    // connections of polling sessions, most of all, go without.
    struct websocket_side {
      websocket::frame_reader reader;
      std::optional<permessage_deflate> deflate;  // negotiated on the upgrade request
      std::string inflated;                       // scratch for compressed messages
    };
    std::unique_ptr<websocket_side> ws;  // made when `websocket` first becomes true; kept after it closes
  };

  poco_server::impl& shared;
  const unsigned index;
  server core;
  Poco::Net::PollSet poll;
  // Wakes poll() from other threads: a datagram to ourselves (Poco 1.11's
  // PollSet has no wake-up of its own).
  Poco::Net::DatagramSocket wake_socket;
  std::atomic<bool> wake_pending{false};
  std::mutex inbox_mutex;
  std::vector<poco_server::task> tasks;                   // guarded by inbox_mutex
  std::vector<std::unique_ptr<connection>> arrivals;      // guarded by inbox_mutex
  bool stopped = false;                                   // guarded by inbox_mutex: drained, takes no more
  std::unordered_map<connection_id, std::unique_ptr<connection>> connections;
  std::unordered_map<Poco::Net::SocketImpl*, connection_id> by_socket;  // keyed by the shared impl
  connection_id next_id = 1;
  millis last_sweep{0};
  bool busy_since_trim = false;  // took a connection since memory was last handed back
  // Connections with WebSocket frames appended and not yet written: written
  // once the core's outputs are all applied, so the frames one read produced
  // go out in one send (a send per frame was most of the server's CPU time).
  std::vector<connection_id> unflushed;
  std::vector<connection_id> flushing;  // its swap partner, to keep both capacities
  // Connections dropped while events of theirs may still be queued (a
  // message event views its read buffer): freed once the events are taken.
  std::vector<std::unique_ptr<connection>> retired;
  std::string message_scratch;  // a compressed message's bytes before deflate
  std::size_t next_accept_loop = 0;  // loop 0 only: round-robin of accepted sockets

  event_loop(poco_server::impl& owner, unsigned i);
  ~event_loop() override { core.attach_output(nullptr); }
  void run();

  // connection_output: the core's direct path for open WebSocket sessions.
  void write_message(connection_id id, frame_kind kind, std::string_view prefix, std::string_view body) override;
  void write_shared_message(connection_id id, frame_kind kind, std::string_view prefix, const shared_bytes& body) override;
  std::size_t unsent_bytes(connection_id id) const noexcept override;
  void wake();
  void hand_over(std::unique_ptr<connection> c);
  bool post(poco_server::task work);
  loop_context context(millis now);

private:
  const poco_server_options& options() const;
  void run_inbox(millis now);
  std::optional<millis> next_deadline(millis now);
  void run_application_timers(millis now);
  template <typename F>
  void guarded(const char* what, F&& f);
  Poco::Net::PollSet::SocketModeMap wait_for_sockets(long wait_ms);
  void accept_all(millis now);
  void adopt(std::unique_ptr<connection> c, millis now);
  connection* find(connection_id id);
  std::unique_ptr<connection> detach(connection_id id);
  void drop(connection_id id, bool tell_core);
  void read_some(connection_id id, millis now);
  bool input_unwanted(const connection& c) const;
  void discard_input(connection_id id);
  void linger(connection_id id);
  void process_input(connection_id id, millis now);
  bool start_request(connection& c, http_head head, std::size_t head_bytes, millis now);
  void reject_request(connection& c, const http_reader_error& error, bool at_head, millis now);
  void refuse_large_body(connection_id id, http_head head, millis now);
  bool route_elsewhere(connection& c, const http_request& request, std::size_t head_bytes);
  void update_poll_mode(connection& c);
  void read_frames(connection& c, millis now);
  void respond_plain(connection& c, int status, std::string_view text);
  void reply_and_close(connection& c, int status, std::string_view text);
  void write_response(connection& c, int status, const header_list& headers, const std::string& body);
  void finish_exchange(connection& c);
  void apply(action& a, millis now);
  void append_message(connection& c, frame_kind kind, std::string_view head, std::string_view body,
                      const shared_bytes* tail);
  void mark_unflushed(connection& c);
  void pump(millis now);
  void write_some(connection_id id);
  int send_some(connection& c);
  void sweep_slow_requests(millis now);
  void release_memory_when_idle();
  void drain_and_close();
};

}  // namespace detail

using detail::event_loop;

namespace detail {
// The loop whose thread this is (null on other threads).
thread_local event_loop* current_loop = nullptr;
}  // namespace detail

struct poco_server::impl {
  poco_server& self;
  poco_server_options options;
  event_handler handler;
  loop_hooks hooks;
  Poco::Net::Context::Ptr tls_context;  // null without TLS
  Poco::Net::ServerSocket listener;
  std::vector<std::unique_ptr<event_loop>> loops;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open_connections{0};
  std::uint16_t port = 0;  // kept: the listener closes when the loops stop

  impl(poco_server& owner, poco_server_options o, event_handler h, loop_hooks l)
      : self(owner), options(std::move(o)), handler(std::move(h)), hooks(std::move(l)) {
    if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
    options.threads = std::min(options.threads, static_cast<unsigned>(loop_tags.size()));
    if (!options.tls_certificate_file.empty() || !options.tls_private_key_file.empty()) {
      tls_context = make_tls_context(options.tls_certificate_file, options.tls_private_key_file);
      listener = Poco::Net::SecureServerSocket(tls_context);
    }
    listener.bind(Poco::Net::SocketAddress(options.host, options.port), true);
    listener.listen(1024);
    listener.setBlocking(false);
    port = listener.address().port();
    for (unsigned i = 0; i < options.threads; ++i) loops.push_back(std::make_unique<event_loop>(*this, i));
    loops[0]->poll.add(listener, Poco::Net::PollSet::POLL_READ);
  }

  static Poco::Net::Context::Ptr make_tls_context(const std::string& certificate, const std::string& key) {
    static const bool initialised = (Poco::Net::initializeSSL(), true);
    (void)initialised;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, certificate, "",
                                                              Poco::Net::Context::VERIFY_NONE);
    // Non-blocking writes: accept partial writes and a write buffer that moved
    // between retries (our out buffer grows while a write waits).
    SSL_CTX_set_mode(context->sslContext(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return context;
  }

  // The loop that owns `sid`: its first character when it carries a tag.
  unsigned owner_of(std::string_view sid, unsigned fallback) const {
    if (loops.size() < 2 || sid.empty()) return fallback;
    const std::size_t tag = loop_tags.find(sid.front());
    return tag < loops.size() ? static_cast<unsigned>(tag) : fallback;
  }

  void run() {
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops.size(); ++i) threads.emplace_back([this, i] { loops[i]->run(); });
    loops[0]->run();
    for (auto& t : threads) t.join();
  }

  static constexpr std::string_view loop_tags = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
};

event_loop::event_loop(poco_server::impl& owner, unsigned i)
    : shared(owner), index(i), core([&] {
        server_options core_options = owner.options.core;
        if (owner.options.threads > 1) {
          // Tag every id with the loop, so requests naming it find their way
          // here: the first character of our own 20-character ids (114
          // random bits remain), a prefix to an application's.
          core_options.generate_id = [tag = poco_server::impl::loop_tags[i], base = core_options.generate_id] {
            if (base) return tag + base();
            std::string id = random_session_id();
            id.front() = tag;
            return id;
          };
        }
        return core_options;
      }()) {
  core.attach_output(this);
  wake_socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0));
  wake_socket.connect(wake_socket.address());
  wake_socket.setBlocking(false);
  poll.add(wake_socket, Poco::Net::PollSet::POLL_READ);
}

const poco_server_options& event_loop::options() const { return shared.options; }

loop_context event_loop::context(millis now) { return loop_context{shared.self, core, index, now}; }

void event_loop::wake() {
  if (wake_pending.exchange(true)) return;  // one datagram is enough
  try {
    wake_socket.sendBytes("w", 1);
  } catch (const Poco::Exception&) {
    // The socket buffer is full of wake-ups already: the loop will look.
  }
}

bool event_loop::post(poco_server::task work) {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    if (stopped) return false;
    tasks.push_back(std::move(work));
  }
  wake();
  return true;
}

void event_loop::hand_over(std::unique_ptr<connection> c) {
  if (!c) return;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    if (!stopped) {
      arrivals.push_back(std::move(c));
      c = nullptr;
    }
  }
  if (c) {  // this loop has drained and closed its connections already
    --shared.open_connections;
    try {
      c->socket.close();
    } catch (const Poco::Exception&) {
    }
    return;
  }
  wake();
}

void event_loop::run_inbox(millis now) {
  wake_pending.store(false);  // before taking the queue: a later post wakes again
  char drain[64];
  try {
    while (wake_socket.receiveBytes(drain, sizeof drain) > 0) {
    }
  } catch (const Poco::Exception&) {
  }
  std::vector<poco_server::task> work;
  std::vector<std::unique_ptr<connection>> came;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    work.swap(tasks);
    came.swap(arrivals);
  }
  for (auto& c : came) adopt(std::move(c), now);
  for (auto& w : work) {
    loop_context ctx = context(now);
    guarded("a posted task", [&] { w(ctx); });
    pump(now);
  }
}

// Runs application code. An exception from it must not end the loop (on any
// thread but run()'s it would end the process): it is reported on stderr
// and the loop goes on.
template <typename F>
void event_loop::guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eio::poco_server: %s threw: %s\n", what, e.what());
  } catch (...) {
    std::fprintf(stderr, "eio::poco_server: %s threw\n", what);
  }
}

// poll() for at most wait_ms (the next timer). With options().busy_poll,
// non-blocking polls first, until something is ready or that time is up;
// then the blocking poll for what is left of wait_ms, so timers keep time.
Poco::Net::PollSet::SocketModeMap event_loop::wait_for_sockets(long wait_ms) {
  using clock = std::chrono::steady_clock;
  const auto timer_due = clock::now() + std::chrono::milliseconds(wait_ms);
  if (options().busy_poll.count() > 0 && wait_ms > 0) {
    const auto spin_until = std::min(timer_due, clock::now() + options().busy_poll);
    do {
      Poco::Net::PollSet::SocketModeMap ready = poll.poll(Poco::Timespan(0));
      if (!ready.empty()) return ready;
    } while (clock::now() < spin_until && !shared.stopping.load(std::memory_order_relaxed));
  }
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(timer_due - clock::now());
  return poll.poll(Poco::Timespan(std::max<long>(0, static_cast<long>(left.count()))));
}

// The earliest of the core's timers and the application's (loop_hooks).
std::optional<millis> event_loop::next_deadline(millis now) {
  std::optional<millis> due = core.next_deadline();
  if (shared.hooks.next_deadline) {
    loop_context ctx = context(now);
    std::optional<millis> application;
    guarded("loop_hooks::next_deadline", [&] { application = shared.hooks.next_deadline(ctx); });
    if (application && (!due || *application < *due)) due = application;
  }
  return due;
}

void event_loop::run_application_timers(millis now) {
  if (!shared.hooks.next_deadline || !shared.hooks.on_timeout) return;
  loop_context ctx = context(now);
  std::optional<millis> due;
  guarded("loop_hooks::next_deadline", [&] { due = shared.hooks.next_deadline(ctx); });
  if (!due || *due > now) return;
  guarded("loop_hooks::on_timeout", [&] { shared.hooks.on_timeout(ctx); });
  pump(now);
}

void event_loop::run() {
  current_loop = this;
  while (!shared.stopping.load(std::memory_order_relaxed)) {
    millis now = steady_now();
    long wait_ms = 100;  // also how soon stop() is noticed
    if (const auto due = next_deadline(now)) wait_ms = std::clamp<long>(static_cast<long>((*due - now).count()), 0, wait_ms);
    const Poco::Net::PollSet::SocketModeMap ready = wait_for_sockets(wait_ms);
    now = steady_now();
    for (const auto& [socket, mode] : ready) {
      if (socket == shared.listener) {
        accept_all(now);
        continue;
      }
      if (socket == wake_socket) continue;  // the inbox runs below, every turn
      const auto found = by_socket.find(socket.impl());
      if (found == by_socket.end()) continue;
      const connection_id id = found->second;
      bool read = mode & (Poco::Net::PollSet::POLL_READ | Poco::Net::PollSet::POLL_ERROR);
      if (mode & Poco::Net::PollSet::POLL_WRITE) {
        if (connection* c = find(id); c && c->tls_read_waits_for_write) {
          c->tls_read_waits_for_write = false;  // the write TLS needed can go now: read on
          update_poll_mode(*c);
          read = true;
        }
        write_some(id);
        core.output_progress(id, now);  // the low watermark, if the session waits for it
      }
      if (read) read_some(id, now);
      pump(now);
    }
    run_inbox(now);
    if (const auto due = core.next_deadline(); due && *due <= now) core.on_timeout(now);
    run_application_timers(now);
    if (now - last_sweep >= millis(1000)) {
      sweep_slow_requests(now);
      release_memory_when_idle();
    }
    pump(now);
  }
  drain_and_close();
}

void event_loop::drain_and_close() {
  if (index == 0) {
    // Stop accepting: new clients are refused at once instead of waiting in
    // the backlog while we drain.
    try {
      poll.remove(shared.listener);
      shared.listener.close();
    } catch (const Poco::Exception&) {
    }
  }
  millis now = steady_now();
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    stopped = true;  // from here, connections handed over are closed by the sender
  }
  run_inbox(now);  // what came before: the connections close with the rest
  core.shutdown(now);
  pump(now);
  // Flush what the sockets take within the bound, then close them all.
  const millis give_up = now + options().drain_timeout;
  while (steady_now() < give_up && std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c.second->out.empty(); })) {
    poll.poll(Poco::Timespan(20 * 1000));
    std::vector<connection_id> ids;
    for (const auto& c : connections) ids.push_back(c.first);
    for (const connection_id id : ids) write_some(id);
  }
  while (!connections.empty()) drop(connections.begin()->first, false);
}

void event_loop::accept_all(millis now) {
  for (;;) {
    Poco::Net::StreamSocket socket;
    try {
      socket = shared.listener.acceptConnection();
    } catch (const Poco::Exception&) {
      return;  // nothing more to accept now (EAGAIN), or a transient error
    }
    if (shared.open_connections.load() >= options().max_connections) {
      // Refused clearly when the bytes can go in plain text; a TLS client
      // sees the connection close.
      if (!shared.tls_context) {
        static constexpr std::string_view refusal =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
            "Too many connections";
        try {
          socket.setBlocking(false);
          socket.sendBytes(refusal.data(), static_cast<int>(refusal.size()));
        } catch (const Poco::Exception&) {
        }
      }
      socket.close();
      continue;
    }
    try {
      socket.setBlocking(false);
      socket.setNoDelay(true);
    } catch (const Poco::Exception&) {
      continue;  // reset before we got to it
    }
    auto c = std::make_unique<connection>();
    c->socket = socket;
    ++shared.open_connections;
    const std::size_t target = next_accept_loop++ % shared.loops.size();
    if (target == index) {
      adopt(std::move(c), now);
    } else {
      shared.loops[target]->hand_over(std::move(c));
    }
  }
}

// Takes a connection in: a new one, or one another loop handed over with
// the start of a request for one of our sessions.
void event_loop::adopt(std::unique_ptr<connection> c, millis now) {
  c->id = next_id++;
  busy_since_trim = true;
  c->request_started = now;
  c->http.reset();
  c->head_done = false;
  c->reading_post = false;
  c->awaiting_answer = false;
  c->want_write = !c->out.empty();
  try {
    poll.add(c->socket, Poco::Net::PollSet::POLL_READ | (c->want_write ? Poco::Net::PollSet::POLL_WRITE : 0));
  } catch (const Poco::Exception&) {
    --shared.open_connections;  // the socket went bad in between: it closes with `c`
    return;
  }
  by_socket[c->socket.impl()] = c->id;
  const connection_id id = c->id;
  connections.emplace(id, std::move(c));
  if (!find(id)->in.empty()) process_input(id, now);
}

event_loop::connection* event_loop::find(connection_id id) {
  const auto found = connections.find(id);
  return found == connections.end() ? nullptr : found->second.get();
}

// Takes a connection out of this loop without closing it.
std::unique_ptr<event_loop::connection> event_loop::detach(connection_id id) {
  const auto found = connections.find(id);
  if (found == connections.end()) return nullptr;
  std::unique_ptr<connection> c = std::move(found->second);
  connections.erase(found);
  try {
    poll.remove(c->socket);
  } catch (const Poco::Exception&) {
  }
  by_socket.erase(c->socket.impl());
  return c;
}

// Closes and forgets a connection; tells the core what it loses.
void event_loop::drop(connection_id id, bool tell_core) {
  std::unique_ptr<connection> c = detach(id);
  if (!c) return;
  --shared.open_connections;
  const bool was_websocket = c->websocket;
  const bool was_waiting = c->awaiting_answer || (c->head_done && !c->websocket);
  try {
    c->socket.close();
  } catch (const Poco::Exception&) {
  }
  if (c->ws) retired.push_back(std::move(c));  // events may still view its read buffer
  if (!tell_core) return;
  const millis now = steady_now();
  if (was_websocket) {
    core.websocket_closed(id, connection_end::closed, now);
  } else if (was_waiting) {
    core.http_closed(id, now);
  }
}

void event_loop::read_some(connection_id id, millis now) {
  connection* c = find(id);
  if (!c) return;
  if (c->tls_write_waits_for_read) {  // the record TLS wanted may be here now
    c->tls_write_waits_for_read = false;
    write_some(id);
    if (!(c = find(id))) return;
  }
  const bool tls = !shared.tls_context.isNull();
  if (!tls && input_unwanted(*c)) return discard_input(id);
  if (c->in_handled > 0) {  // the events viewing them were taken by the last pump
    c->in.erase(0, c->in_handled);
    c->in_handled = 0;
  }
  char buffer[64 * 1024];
  for (int turn = 0;; ++turn) {
    int n = 0;
    try {
      n = c->socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::TimeoutException&) {
      break;
    } catch (const Poco::Exception&) {
      return drop(id, true);
    }
    if (n == -2 && tls) {  // TLS must write before it can read on
      c->tls_read_waits_for_write = true;
      update_poll_mode(*c);
      break;
    }
    if (n < 0) break;                   // would block (TLS: the record layer wants more)
    if (n == 0) return drop(id, true);  // the peer closed
    c->in.append(buffer, static_cast<std::size_t>(n));
    // Bytes pile up while a request waits for its answer (a held poll):
    // a client may send the next request, not an unbounded stream. What
    // the reader takes goes first: a head refused for its body (413) is
    // answered, and the body behind it dropped, not held.
    if (!c->websocket && c->in.size() > options().max_header_bytes + options().core.max_http_buffer_size) {
      process_input(id, now);
      if (!(c = find(id))) return;
      if (!tls && input_unwanted(*c)) return discard_input(id);
      if (!c->websocket && c->in.size() > options().max_header_bytes + options().core.max_http_buffer_size) {
        return drop(id, true);
      }
    }
    // Handle what came before reading more, so a fast sender is bounded by
    // what one message may be rather than by how fast it sends.
    if (c->in.size() >= 256 * 1024) {
      process_input(id, now);
      pump(now);  // its events may view `in`, which is about to grow
      if (!(c = find(id))) return;
      if (!tls && input_unwanted(*c)) return discard_input(id);
      if (c->in_handled > 0) {
        c->in.erase(0, c->in_handled);
        c->in_handled = 0;
      }
    }
    // A short read drained the kernel buffer. TLS may still hold a decrypted
    // record no poll() would report, so it reads until told to wait; plain
    // sockets yield after 1 MiB so one connection cannot hold the loop
    // (the poll is level-triggered: the rest is reported again).
    if (!tls && (n < static_cast<int>(sizeof buffer) || turn == 15)) break;
  }
  process_input(id, now);
}

// Whether whatever the connection reads from now on can only be dropped:
// it closes after the answer it has (or waits for), and no body of that
// request is being read. Then reading it into `in` would only hold memory,
// and not reading it would leave the kernel to reset the connection on close.
bool event_loop::input_unwanted(const connection& c) const {
  return c.lingering || c.close_after_write ||
         (!c.keep_alive && c.awaiting_answer && !c.reading_post && c.websocket_key.empty());
}

// Reads and drops input nobody will read (lingering close): linger_bytes in
// all at most, then the connection closes anyway; the peer's end closes it
// too. Non-blocking, and one call reads no more than read_some would.
void event_loop::discard_input(connection_id id) {
  connection* c = find(id);
  if (!c) return;
  if (!c->lingering) {
    c->lingering = true;
    c->linger_left = options().linger_bytes;
    c->in.clear();
    c->in.shrink_to_fit();
    c->http.reset();
  }
  char buffer[64 * 1024];
  for (int turn = 0; turn < 16; ++turn) {
    int n = 0;
    try {
      n = c->socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::TimeoutException&) {
      return;
    } catch (const Poco::Exception&) {
      return drop(id, true);
    }
    if (n < 0) return;  // would block
    // The peer ended (nothing is left unread), or sent more than we drop.
    if (n == 0 || static_cast<std::size_t>(n) > c->linger_left) return drop(id, true);
    c->linger_left -= static_cast<std::size_t>(n);
    if (n < static_cast<int>(sizeof buffer)) return;
  }
}

// The connection's last bytes are written: shut its write side (the peer
// reads the end of the answer) and keep dropping its input until the peer
// ends, linger_timeout passes or linger_bytes came (RFC 9112 section 9.6),
// instead of closing over input still coming. Under TLS (a close_notify
// would have to be written and the records read on) it just closes.
void event_loop::linger(connection_id id) {
  connection* c = find(id);
  if (!c || c->write_shut) return;
  if (!shared.tls_context.isNull() || options().linger_timeout <= millis(0) || options().linger_bytes == 0) {
    return drop(id, true);
  }
  try {
    c->socket.shutdownSend();
  } catch (const Poco::Exception&) {
    return drop(id, true);
  }
  c->write_shut = true;
  c->linger_deadline = steady_now() + options().linger_timeout;
  c->lingering = true;
  c->linger_left = options().linger_bytes;  // afresh: what came while the answer waited was bounded on its own
  c->in.clear();
  c->in.shrink_to_fit();
  c->http.reset();
  update_poll_mode(*c);
}

void event_loop::process_input(connection_id id, millis now) {
  connection* c = find(id);
  while (c && !c->close_after_write) {
    if (c->websocket) {
      read_frames(*c, now);
      return;
    }
    if (c->awaiting_answer) return;  // one request at a time
    if (!c->http) {
      if (c->in.empty()) return;
      c->http = std::make_unique<http_reader>(
          http_reader_limits{options().max_header_bytes, options().max_header_count, options().core.max_http_buffer_size});
    }
    const bool had_head = c->http->has_head();
    const http_read_result read = c->http->feed(c->in);
    switch (read.event) {
      case http_read_event::need_more:
        c->in.clear();  // all consumed
        return;
      case http_read_event::error:
        c->in.erase(0, read.consumed);
        return reject_request(*c, read.error, !had_head && c->http->has_head(), now);
      case http_read_event::head:
        // start_request erases the head, unless it hands the connection over.
        if (!start_request(*c, std::move(c->http->head()), read.consumed, now)) return;
        break;
      case http_read_event::body_done:
        c->in.erase(0, read.consumed);
        if (c->reading_post) {
          c->reading_post = false;
          c->awaiting_answer = true;
          core.finish_post(c->id, std::move(c->http->body()), now);
        }
        c->http.reset();
        break;
    }
    c = find(id);
  }
}

// The reader refused the request. A body over the limit goes through the
// core when the core waits for it (413, and the session closes, as in the
// reference); a Content-Length over the limit, seen at the head, too (the
// core decides what to answer). A body that breaks off after its request was
// answered (read only to be dropped) ends the connection without a word;
// the rest gets its status here.
void event_loop::reject_request(connection& c, const http_reader_error& error, bool at_head, millis now) {
  c.keep_alive = false;
  if (error.status == 413 && c.reading_post) {
    c.reading_post = false;
    c.awaiting_answer = true;
    core.body_too_large(c.id, now);
    return;
  }
  if (error.status == 413 && at_head) {
    http_head head = std::move(c.http->head());
    if (route_elsewhere(c, head.request, 0)) return;
    return refuse_large_body(c.id, std::move(head), now);
  }
  if (!c.head_done && c.http->has_head()) {  // the answered request's dropped body: close, lingering
    c.close_after_write = true;
    return write_some(c.id);
  }
  if (c.head_done) core.http_closed(c.id, now);  // a body that broke off: the core forgets the exchange
  c.in.clear();
  respond_plain(c, error.status, error.reason);
}

// With several loops, a request naming a session of another loop goes to
// that loop as the bytes it came as: the head (`head_bytes` of it still lead
// c.in, the rest the reader holds) and whatever followed. Returns true when
// the connection left this loop.
bool event_loop::route_elsewhere(connection& c, const http_request& request, std::size_t head_bytes) {
  if (shared.loops.size() < 2) return false;
  const auto sid = request.query_param("sid");
  if (!sid) return false;
  const unsigned owner = shared.owner_of(*sid, index);
  if (owner == index) return false;
  std::string bytes(c.http->raw_head());
  bytes.append(c.in, head_bytes, std::string::npos);
  c.in = std::move(bytes);
  shared.loops[owner]->hand_over(detach(c.id));
  return true;
}

void event_loop::refuse_large_body(connection_id id, http_head head, millis now) {
  connection* c = find(id);
  if (!c) return;
  c->in.clear();  // the body is not read
  start_request(*c, std::move(head), 0, now);
  c = find(id);
  if (!c) return;
  c->keep_alive = false;
  if (c->reading_post) {
    c->reading_post = false;
    c->awaiting_answer = true;
    core.body_too_large(id, now);
  }
}

// Handles a parsed head whose `head_bytes` lead c.in (0: already gone);
// returns false when the connection got an answer instead, or went to the
// loop that owns the session it names.
bool event_loop::start_request(connection& c, http_head head, std::size_t head_bytes, millis now) {
  http_request& request = head.request;
  if (head_bytes > 0 && route_elsewhere(c, request, head_bytes)) return false;
  c.in.erase(0, head_bytes);
  c.head_done = true;
  c.request_started = now;
  c.keep_alive = head.keep_alive;
  try {
    request.remote_address = c.socket.peerAddress().toString();
  } catch (const Poco::Exception&) {
  }
  if (!head.expects_body) c.http.reset();  // read in full

  const std::string& path = options().core.path;
  const std::string_view bare_path = std::string_view(path).substr(0, path.size() - (path.size() > 1 && path.back() == '/'));
  if (request.path != path && request.path != bare_path) {
    if (head.expects_body) c.keep_alive = false;  // not worth reading a body for a 404
    respond_plain(c, 404, "Not Found");
    return true;  // the caller looks the connection up again: it may be gone
  }
  const auto upgrade = find_header(request.headers, "upgrade");
  if (upgrade && ascii_iequals(*upgrade, "websocket")) {
    if (const auto refusal = check_websocket_upgrade(request, head.expects_body)) {
      c.keep_alive = false;
      header_list headers{{"Content-Type", "text/plain; charset=UTF-8"}};
      if (refusal->name_our_version) headers.push_back({"Sec-WebSocket-Version", "13"});
      write_response(c, 400, headers, std::string(refusal->reason));
      finish_exchange(c);
      return false;
    }
    c.websocket_key = std::string(*request.header_value("sec-websocket-key"));
    c.offered_deflate.reset();
    if (options().per_message_deflate) {
      if (const auto extensions = find_header(request.headers, "sec-websocket-extensions")) {
        c.offered_deflate = negotiate_permessage_deflate(*extensions, permessage_deflate_config{});
      }
    }
    c.awaiting_answer = true;
    core.handle_websocket(c.id, request, now);
    return true;
  }
  if (request.method != "POST") {
    // A body on anything else is read and dropped after the answer.
    if (head.expects_body) c.http->discard_body();
    c.response_encoding = http_encoding::identity;
    if (options().http_compression && request.method == "GET") {
      if (const auto accepted = find_header(request.headers, "accept-encoding")) c.response_encoding = choose_encoding(*accepted);
    }
    c.awaiting_answer = true;
    core.handle_request(c.id, std::move(request), now);
    return true;
  }
  if (!core.begin_post(c.id, request, now)) {
    c.awaiting_answer = true;  // answered already; the body is skipped by closing after the answer
    c.keep_alive = false;
    return true;
  }
  c.reading_post = true;
  if (!head.expects_body) {  // an empty POST body is complete at once
    c.reading_post = false;
    c.awaiting_answer = true;
    core.finish_post(c.id, std::string(), now);
  }
  return true;
}

void event_loop::read_frames(connection& c, millis now) {
  std::size_t offset = c.in_handled;
  const connection_id id = c.id;
  bool answered_ping = false;
  for (;;) {
    websocket::frame_event frame;
    const std::size_t used = c.ws->reader.read_in_place(c.in.data() + offset, c.in.size() - offset, frame);
    offset += used;
    using kind = websocket::frame_event::kind;
    if (frame.what == kind::need_more) break;
    if (frame.what == kind::message && frame.compressed) {
      const inflate_result inflated =
          c.ws->deflate ? c.ws->deflate->decompress(frame.data, options().core.max_http_buffer_size, c.ws->inflated) : inflate_result::corrupt;
      if (inflated == inflate_result::ok &&
          (frame.message_kind == frame_kind::binary || utf8_valid_prefix(c.ws->inflated) == c.ws->inflated.size())) {
        core.websocket_message_owned(id, frame.message_kind, std::move(c.ws->inflated), now);  // handed over: reused next frame
        c.ws->inflated = std::string();
        continue;
      }
      frame.what = kind::error;  // closed below like any protocol error
      frame.close_code = inflated == inflate_result::too_big ? websocket::close_too_big : websocket::close_invalid_data;
      frame.reason = inflated == inflate_result::too_big ? "message too big" : inflated == inflate_result::corrupt ? "bad compressed data" : "invalid UTF-8";
    } else if (frame.what == kind::message) {
      // In place, the message stays in `in` until the events viewing it
      // were taken; one the reader assembled (fragments, or split across
      // reads) is handed over with the reader's buffer.
      if (frame.in_input) {
        core.websocket_message(id, frame.message_kind, frame.data, now);
      } else {
        core.websocket_message_owned(id, frame.message_kind, c.ws->reader.take_message(), now);
      }
      continue;
    }
    if (frame.what == kind::ping) {
      c.out.append_with([&](std::string& out) { websocket::append_frame(websocket::opcode::pong, frame.data, out); });
      answered_ping = true;
      continue;
    }
    if (frame.what == kind::pong) continue;
    // A close or a protocol error ends the connection: answer with a close
    // frame (RFC 6455 section 5.5.1), then tell the core.
    const bool error = frame.what == kind::error;
    c.out.append_with([&](std::string& out) {
      websocket::append_close_frame(error ? frame.close_code : websocket::close_normal, error ? frame.reason : "", out);
    });
    c.close_after_write = true;
    c.in_handled = c.in.size();  // nothing more is read; what came before may still be viewed
    c.websocket = false;
    core.websocket_closed(id, error ? connection_end::failed : connection_end::closed, now,
                          error ? std::string(frame.reason) + " (" + std::to_string(frame.close_code) + ")" : std::string());
    write_some(id);
    return;
  }
  c.in_handled = offset;  // erased at the next read, after the events viewing it were taken
  if (answered_ping) write_some(id);  // the pong goes now, not with the next message
}

void event_loop::respond_plain(connection& c, int status, std::string_view text) {
  write_response(c, status, {{"Content-Type", "text/plain; charset=UTF-8"}}, std::string(text));
  finish_exchange(c);
}

void event_loop::reply_and_close(connection& c, int status, std::string_view text) {
  c.keep_alive = false;
  respond_plain(c, status, text);
}

void event_loop::write_response(connection& c, int status, const header_list& headers, const std::string& body) {
  // Polling data as the reference compresses it: 200 answers to a GET that
  // accepts an encoding, from the threshold up.
  std::string compressed;
  const http_encoding encoding = c.response_encoding;
  c.response_encoding = http_encoding::identity;
  const bool compress = encoding != http_encoding::identity && status == 200 && body.size() >= options().compression_threshold &&
                        compress_body(encoding, body, compressed);
  const std::string& sent = compress ? compressed : body;
  c.out.append_with([&](std::string& out) {
    out += "HTTP/1.1 " + std::to_string(status) + " ";
    out += Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    out += "\r\n";
    for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
    if (compress) {
      out += "Content-Encoding: ";
      out += content_encoding_name(encoding);
      out += "\r\nVary: Accept-Encoding\r\n";
    }
    out += "Content-Length: " + std::to_string(sent.size()) + "\r\n";
    if (!c.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    out += sent;
  });
}

// The exchange is answered: the next request may come on this connection.
void event_loop::finish_exchange(connection& c) {
  c.awaiting_answer = false;
  c.head_done = false;
  if (!c.keep_alive) c.close_after_write = true;
  write_some(c.id);
}

void event_loop::apply(action& a, millis now) {
  if (auto* response = std::get_if<http_response>(&a)) {
    connection* c = find(response->connection);
    if (!c || c->websocket) return;
    if (c->websocket_key.size() && c->awaiting_answer) c->keep_alive = false;  // a refused upgrade ends the connection
    if (c->reading_post) {
      // Answered before its body came (the session closed meanwhile): the
      // body is not read, so the connection cannot carry another request.
      c->reading_post = false;
      c->keep_alive = false;
    }
    write_response(*c, response->status, response->headers, response->body);
    c->websocket_key.clear();
    finish_exchange(*c);
    if (connection* again = find(response->connection); again && !again->close_after_write) {
      process_input(again->id, now);  // a request that came behind this one
    }
  } else if (auto* accept = std::get_if<websocket_accept>(&a)) {
    connection* c = find(accept->connection);
    if (!c) return;
    c->ws = std::make_unique<connection::websocket_side>(connection::websocket_side{
        websocket::frame_reader(options().core.max_http_buffer_size, true, /*allow_compressed=*/c->offered_deflate.has_value(),
                                options().max_fragments_per_message),
        std::nullopt, std::string()});
    if (c->offered_deflate) c->ws->deflate.emplace(*c->offered_deflate);
    c->out.append_with([&](std::string& out) {
      out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
      out += "Sec-WebSocket-Accept: " + websocket_accept_value(c->websocket_key) + "\r\n";
      if (c->offered_deflate) out += "Sec-WebSocket-Extensions: " + c->offered_deflate->header_value() + "\r\n";
      for (const auto& h : accept->headers) out += h.name + ": " + h.value + "\r\n";
      out += "\r\n";
    });
    c->websocket = true;
    c->awaiting_answer = false;
    c->head_done = false;
    c->websocket_key.clear();
    write_some(c->id);
    if (connection* again = find(accept->connection); again && again->in.size() > again->in_handled) {
      process_input(again->id, now);  // frames that came with the handshake
    }
  } else if (auto* send = std::get_if<websocket_send>(&a)) {
    connection* c = find(send->connection);
    if (!c || !c->websocket) return;
    append_message(*c, send->kind, send->data, {}, send->shared_tail ? &send->shared_tail : nullptr);
  } else if (auto* close = std::get_if<websocket_close>(&a)) {
    connection* c = find(close->connection);
    if (!c) return;
    c->out.append_with([&](std::string& out) { websocket::append_close_frame(close->code, "", out); });
    c->websocket = false;  // the core has forgotten it already
    c->close_after_write = true;
    write_some(c->id);
  }
}

// One WebSocket message, `head` then `body` (or *shared), framed onto the
// connection's output: compressed when permessage-deflate was agreed, else
// with a shared body referenced, not copied (written by a gather write).
void event_loop::append_message(connection& c, frame_kind kind, std::string_view head, std::string_view body,
                                const shared_bytes* tail) {
  const auto op = kind == frame_kind::text ? websocket::opcode::text : websocket::opcode::binary;
  if (tail) body = **tail;
  if (c.ws->deflate) {
    message_scratch.assign(head);
    message_scratch += body;
    if (c.ws->deflate->compress(message_scratch, c.ws->inflated)) {
      c.out.append_with([&](std::string& out) {
        websocket::append_frame_header(op, true, c.ws->inflated.size(), out, /*compressed=*/true);
        out += c.ws->inflated;
      });
      return mark_unflushed(c);
    }
  }
  c.out.append_with([&](std::string& out) {
    websocket::append_frame_header(op, true, head.size() + body.size(), out);
    out += head;
    if (!tail) out += body;
  });
  if (tail) c.out.append_shared(*tail);
  mark_unflushed(c);
}

// Written once the core's outputs are all applied (pump), one send per connection.
void event_loop::mark_unflushed(connection& c) {
  if (c.flush_pending) return;
  c.flush_pending = true;
  unflushed.push_back(c.id);
}

void event_loop::write_message(connection_id id, frame_kind kind, std::string_view prefix, std::string_view body) {
  if (connection* c = find(id); c && c->websocket) append_message(*c, kind, prefix, body, nullptr);
}

void event_loop::write_shared_message(connection_id id, frame_kind kind, std::string_view prefix, const shared_bytes& body) {
  if (connection* c = find(id); c && c->websocket) append_message(*c, kind, prefix, {}, &body);
}

std::size_t event_loop::unsent_bytes(connection_id id) const noexcept {
  const auto found = connections.find(id);
  return found == connections.end() ? 0 : found->second->out.size();
}

// Runs the core's outputs until both queues are empty: actions to sockets,
// events to the application (which may queue more of both); then writes the
// WebSocket frames they appended, one send per connection.
void event_loop::pump(millis now) {
  for (;;) {
    bool any = false;
    while (auto a = core.next_action()) {
      any = true;
      apply(*a, now);
    }
    while (auto e = core.next_event()) {
      any = true;
      if (shared.handler) {
        loop_context ctx = context(now);
        guarded("the event handler", [&] { shared.handler(ctx, *e); });
      }
    }
    if (any) continue;
    if (unflushed.empty()) {
      retired.clear();  // every event that could view their buffers has been taken
      return;
    }
    // Write what the outputs appended; a write that fails drops its
    // connection, which may give the core more to say: go round again.
    flushing.swap(unflushed);
    for (const connection_id id : flushing) {
      if (connection* c = find(id)) {
        c->flush_pending = false;
        write_some(id);
      }
    }
    flushing.clear();
  }
}

void event_loop::write_some(connection_id id) {
  connection* c = find(id);
  if (!c) return;
  const bool tls = !shared.tls_context.isNull();
  while (!c->out.empty() && !c->tls_write_waits_for_read) {
    const int n = send_some(*c);
    if (n == -3) return drop(id, true);
    if (n == -1 && tls) c->tls_write_waits_for_read = true;  // read_some retries the write
    if (n < 0) break;  // would block: wait until writable
    c->out.consume(static_cast<std::size_t>(n));
  }
  // A peer that does not read: its bytes are not ours to keep forever.
  if (c->out.size() > options().max_output_bytes) return drop(id, true);
  if (c->out.empty() && c->close_after_write) return linger(id);
  update_poll_mode(*c);
}

// One write of what `c` has to send: bytes written, or -1 / -2 (TLS wants
// a read / would block: wait), or -3 (the connection failed). Plain sockets
// get a gather write of every piece (a shared broadcast message among
// them); TLS writes the first piece.
int event_loop::send_some(connection& c) {
  if (shared.tls_context.isNull()) {
    iovec pieces[64];
    msghdr message{};
    message.msg_iov = pieces;
    message.msg_iovlen = c.out.gather(pieces, 64);
    const ssize_t n = ::sendmsg(c.socket.impl()->sockfd(), &message, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -2 : -3;
  }
  const std::string_view front = c.out.front();
  try {
    return c.socket.sendBytes(front.data(), static_cast<int>(std::min<std::size_t>(front.size(), 1 << 20)));
  } catch (const Poco::TimeoutException&) {
    return -2;
  } catch (const Poco::Exception& e) {
    // Poco 1.11 throws for a full send buffer on a non-blocking socket
    // (receiveBytes returns -1 instead): that is "wait until writable".
    return e.code() == EAGAIN || e.code() == EWOULDBLOCK ? -2 : -3;
  }
}

// POLL_WRITE while there is something to write that waits for the socket
// (not for a TLS read), or while a TLS read waits for the socket to take a
// write.
void event_loop::update_poll_mode(connection& c) {
  const bool want_write = (!c.out.empty() && !c.tls_write_waits_for_read) || c.tls_read_waits_for_write;
  if (want_write == c.want_write) return;
  c.want_write = want_write;
  try {
    poll.update(c.socket, Poco::Net::PollSet::POLL_READ | (want_write ? Poco::Net::PollSet::POLL_WRITE : 0));
  } catch (const Poco::Exception&) {
    // A socket gone bad reports an error on the next poll, and is dropped then.
  }
}

// Slowloris: a request head or body that does not arrive in time gets 408.
void event_loop::sweep_slow_requests(millis now) {
  last_sweep = now;
  std::vector<connection_id> slow;
  std::vector<connection_id> stuck;
  for (const auto& [id, c] : connections) {
    if (c->write_shut) {  // lingering: its own deadline, nothing else
      if (now >= c->linger_deadline) stuck.push_back(id);
      continue;
    }
    if (c->close_after_write) {
      // Its last bytes wait for a peer that does not read: give it the body
      // timeout, then let the socket go.
      if (c->closing_since == millis{0}) {
        c->closing_since = now;
      } else if (now - c->closing_since > options().body_timeout) {
        stuck.push_back(id);
      }
      continue;
    }
    if (c->websocket || c->awaiting_answer) continue;
    const bool reading_head = !c->head_done;
    if (reading_head && c->in.empty() && (!c->http || c->http->buffered_head_bytes() == 0)) {
      // An idle keep-alive connection: allow it the body timeout.
      if (now - c->request_started > options().body_timeout) slow.push_back(id);
      continue;
    }
    if (now - c->request_started > (reading_head ? options().header_timeout : options().body_timeout)) slow.push_back(id);
  }
  for (const connection_id id : stuck) drop(id, true);
  for (const connection_id id : slow) {
    if (connection* c = find(id)) {
      const bool idle = !c->head_done && c->in.empty() && (!c->http || c->http->buffered_head_bytes() == 0);
      if (idle) {
        drop(id, true);
      } else {
        if (c->head_done) core.http_closed(id, now);
        reply_and_close(*c, 408, "Request Timeout");
      }
    }
  }
}

// A burst of traffic leaves the heap with free pages scattered between live
// blocks, which free() does not return (it only trims the top); an idle
// server would keep its peak RSS for good. Once a loop that had traffic has
// no session left and the whole server no connection, hand the free pages
// back: at most once per busy period of this loop. malloc_trim walks and
// locks every loop's arena, so it waits until no loop serves anybody.
void event_loop::release_memory_when_idle() {
  if (!busy_since_trim || !connections.empty() || core.session_count() != 0) return;
  if (shared.open_connections.load(std::memory_order_relaxed) != 0) return;
  busy_since_trim = false;
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

poco_server::poco_server(poco_server_options options, event_handler handler, loop_hooks hooks)
    : impl_(std::make_unique<impl>(*this, std::move(options), std::move(handler), std::move(hooks))) {}

poco_server::~poco_server() = default;

std::uint16_t poco_server::port() const noexcept { return impl_->port; }

unsigned poco_server::loop_count() const noexcept { return static_cast<unsigned>(impl_->loops.size()); }

bool poco_server::tls() const noexcept { return !impl_->tls_context.isNull(); }

void poco_server::run() { impl_->run(); }

void poco_server::stop() noexcept { impl_->stopping.store(true, std::memory_order_relaxed); }

bool poco_server::post(unsigned loop, task work) {
  if (loop >= impl_->loops.size()) return false;
  return impl_->loops[loop]->post(std::move(work));
}

bool poco_server::send(session_handle session, std::string data, frame_kind kind) {
  return post(session.loop, [session, data = std::move(data), kind](loop_context& context) {
    context.core.send(session.session, data, kind, context.now);
  });
}

bool poco_server::close(session_handle session) {
  return post(session.loop, [session](loop_context& context) { context.core.close(session.session, context.now); });
}

// Runs `work` on loop `loop`: at once when called on that loop's own
// thread (a handler broadcasting: its loop's share goes out in order with
// what it sends next), else through the loop's queue.
bool poco_server::run_on(unsigned loop, task work) {
  if (loop >= impl_->loops.size()) return false;
  event_loop& target = *impl_->loops[loop];
  if (detail::current_loop == &target) {
    loop_context context = target.context(steady_now());
    work(context);
    return true;
  }
  return target.post(std::move(work));
}

bool poco_server::broadcast(const std::vector<session_handle>& sessions, shared_bytes data, frame_kind kind) {
  std::vector<std::vector<session_ref>> per_loop(impl_->loops.size());
  for (const session_handle& h : sessions) {
    if (h.loop < per_loop.size()) per_loop[h.loop].push_back(h.session);
  }
  bool all = true;
  for (unsigned loop = 0; loop < per_loop.size(); ++loop) {
    if (per_loop[loop].empty()) continue;
    all &= run_on(loop, [refs = std::move(per_loop[loop]), data, kind](loop_context& context) {
      context.core.broadcast(refs, data, kind, context.now);
    });
  }
  return all;
}

bool poco_server::broadcast_all(shared_bytes data, frame_kind kind) {
  bool all = true;
  for (unsigned loop = 0; loop < impl_->loops.size(); ++loop) {
    all &= run_on(loop, [data, kind](loop_context& context) {
      std::vector<session_ref> refs;
      context.core.all_sessions(refs);
      context.core.broadcast(refs, data, kind, context.now);
    });
  }
  return all;
}

}  // namespace eio
