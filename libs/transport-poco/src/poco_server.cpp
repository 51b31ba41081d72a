// The event loops of eio::poco_server: the I/O around eio::wire::connections
// (accept, read, write, poll, wake, TLS) on non-blocking Poco sockets in a
// PollSet; wire::connections reads the requests and frames and carries out
// what the eio::server core decides.
#include <eio/poco_server.hpp>
#include <eio/wire/clock.hpp>
#include <eio/wire/connections.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <openssl/ssl.h>

// The idle trim below is glibc's. Under a sanitizer that brings its own
// allocator (ASan, TSan) glibc's heap is never used, so there is nothing to
// trim, and the trim would be the first call into glibc's malloc: its lazy
// set-up marks itself done before it fills the bins, so two loops trimming at
// once could walk unset bins (an ASan CI run crashed in mtrim that way).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EIO_OWN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EIO_OWN_ALLOCATOR 1
#endif
#if defined(__GLIBC__) && !defined(EIO_OWN_ALLOCATOR)
#define EIO_TRIM_GLIBC_HEAP 1
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

using wire::steady_now;

}  // namespace

namespace detail {

// One event loop: its thread's PollSet and sockets, its core, and
// eio::wire::connections, which does everything but the I/O.
struct event_loop final : wire::connection_io {
  // A socket of this loop, and what only its I/O needs to know.
  struct socket_entry {
    Poco::Net::StreamSocket socket;  // a SecureStreamSocket under TLS
    bool want_write = false;         // wire::connections asked for writability
    bool poll_write = false;         // POLL_WRITE is armed
    // TLS may need the other direction first (a record to read before a
    // write can go on, or the reverse): wait for that readiness, not ours.
    bool tls_write_waits_for_read = false;
    bool tls_read_waits_for_write = false;
  };
  // A connection on its way to this loop: a new socket (state null) or one
  // another loop handed over with the start of a request for our session.
  struct arrival {
    Poco::Net::StreamSocket socket;
    wire::handed_over_connection state;
  };

  poco_server::impl& shared;
  const unsigned index;
  server core;
  wire::connections wire;
  Poco::Net::PollSet poll;
  // Wakes poll() from other threads: a datagram to ourselves (Poco 1.11's
  // PollSet has no wake-up of its own).
  Poco::Net::DatagramSocket wake_socket;
  std::atomic<bool> wake_pending{false};
  std::mutex inbox_mutex;
  std::vector<poco_server::task> tasks;  // guarded by inbox_mutex
  static constexpr std::size_t tasks_per_pump = 256;  // see run_inbox
  std::vector<arrival> arrivals;         // guarded by inbox_mutex
  bool stopped = false;                  // guarded by inbox_mutex: drained, takes no more
  std::unordered_map<connection_id, socket_entry> sockets;
  std::unordered_map<Poco::Net::SocketImpl*, connection_id> by_socket;  // keyed by the shared impl
  millis now{0};  // of the turn being served
  bool busy_since_trim = false;  // took a connection since memory was last handed back
  std::size_t next_accept_loop = 0;  // loop 0 only: round-robin of accepted sockets

  event_loop(poco_server::impl& owner, unsigned i);
  void run();

  // wire::connection_io: the sockets.
  long send(connection_id id, const iovec* pieces, std::size_t count) override;
  void want_write(connection_id id, bool on) override;
  bool shutdown_send(connection_id id) override;
  void close(connection_id id) override;
  void hand_over(connection_id id, unsigned loop, wire::handed_over_connection state) override;

  void wake();
  void arrive(arrival a);
  bool post(poco_server::task work);
  loop_context context(millis at);
  void pump(millis at) { wire.pump(at); }

private:
  const poco_server_options& options() const;
  bool tls() const;
  void run_inbox();
  std::optional<millis> next_deadline();
  void run_application_timers();
  template <typename F>
  void guarded(const char* what, F&& f);
  Poco::Net::PollSet::SocketModeMap wait_for_sockets(long wait_ms);
  void accept_all();
  void adopt(arrival a);
  void read_some(connection_id id);
  void update_poll_mode(connection_id id, socket_entry& s);
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
    options.threads = std::min(options.threads, wire::max_loops);
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

  void run() {
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops.size(); ++i) threads.emplace_back([this, i] { loops[i]->run(); });
    loops[0]->run();
    for (auto& t : threads) t.join();
  }
};

namespace {

wire::connection_options wire_options(const poco_server_options& o, unsigned loop, bool tls) {
  wire::connection_options w;
  w.max_header_bytes = o.max_header_bytes;
  w.max_header_count = o.max_header_count;
  w.max_fragments_per_message = o.max_fragments_per_message;
  w.header_timeout = o.header_timeout;
  w.body_timeout = o.body_timeout;
  w.linger_timeout = o.linger_timeout;
  w.linger_bytes = o.linger_bytes;
  // Under TLS a lingering close would have to write a close_notify and read
  // records on: the socket closes at once.
  w.lingering_close = !tls;
  w.max_output_bytes = o.max_output_bytes;
  w.http_compression = o.http_compression;
  w.compression_threshold = o.compression_threshold;
  w.per_message_deflate = o.per_message_deflate;
  w.loop = loop;
  w.loop_count = o.threads;
  return w;
}

server_options core_options(const poco_server_options& o, unsigned loop) {
  server_options core = o.core;
  wire::tag_session_ids(core, loop, o.threads);
  return core;
}

}  // namespace

event_loop::event_loop(poco_server::impl& owner, unsigned i)
    : shared(owner),
      index(i),
      core(core_options(owner.options, i)),
      wire(core, *this, wire_options(owner.options, i, !owner.tls_context.isNull()), [this](server&, event& e, millis at) {
        if (!shared.handler) return;
        loop_context ctx = context(at);
        guarded("the event handler", [&] { shared.handler(ctx, e); });
      }) {
  wake_socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0));
  wake_socket.connect(wake_socket.address());
  wake_socket.setBlocking(false);
  poll.add(wake_socket, Poco::Net::PollSet::POLL_READ);
}

const poco_server_options& event_loop::options() const { return shared.options; }

bool event_loop::tls() const { return !shared.tls_context.isNull(); }

loop_context event_loop::context(millis at) { return loop_context{shared.self, core, index, at}; }

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

void event_loop::arrive(arrival a) {
  bool taken = false;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    if (!stopped) {
      arrivals.push_back(std::move(a));
      taken = true;
    }
  }
  if (taken) return wake();
  // This loop has drained and closed its connections already.
  --shared.open_connections;
  try {
    a.socket.close();
  } catch (const Poco::Exception&) {
  }
}

void event_loop::run_inbox() {
  wake_pending.store(false);  // before taking the queue: a later post wakes again
  char drain[64];
  try {
    while (wake_socket.receiveBytes(drain, sizeof drain) > 0) {
    }
  } catch (const Poco::Exception&) {
  }
  std::vector<poco_server::task> work;
  std::vector<arrival> came;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    work.swap(tasks);
    came.swap(arrivals);
  }
  for (auto& a : came) adopt(std::move(a));
  // Every task that queued since the last turn runs, then one pump writes
  // what they all sent: a connection gets one write for the lot (under load
  // a burst of cluster broadcasts to the same sockets, one sendmsg each
  // instead of one per broadcast). The core keeps their actions in order.
  // A very long queue still pumps now and then, so its output stays bounded.
  std::size_t since_pump = 0;
  for (auto& w : work) {
    loop_context ctx = context(now);
    guarded("a posted task", [&] { w(ctx); });
    if (++since_pump == tasks_per_pump) {
      pump(now);
      since_pump = 0;
    }
  }
  if (since_pump != 0) pump(now);
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

// The earliest of the wire's timers (the core's, the sweep) and the
// application's (loop_hooks).
std::optional<millis> event_loop::next_deadline() {
  std::optional<millis> due = wire.next_deadline();
  if (shared.hooks.next_deadline) {
    loop_context ctx = context(now);
    std::optional<millis> application;
    guarded("loop_hooks::next_deadline", [&] { application = shared.hooks.next_deadline(ctx); });
    if (application && (!due || *application < *due)) due = application;
  }
  return due;
}

void event_loop::run_application_timers() {
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
    now = steady_now();
    long wait_ms = 100;  // also how soon stop() is noticed
    if (const auto due = next_deadline()) wait_ms = std::clamp<long>(static_cast<long>((*due - now).count()), 0, wait_ms);
    const Poco::Net::PollSet::SocketModeMap ready = wait_for_sockets(wait_ms);
    now = steady_now();
    for (const auto& [socket, mode] : ready) {
      if (socket == shared.listener) {
        accept_all();
        continue;
      }
      if (socket == wake_socket) continue;  // the inbox runs below, every turn
      const auto found = by_socket.find(socket.impl());
      if (found == by_socket.end()) continue;
      const connection_id id = found->second;
      bool read = mode & (Poco::Net::PollSet::POLL_READ | Poco::Net::PollSet::POLL_ERROR);
      if (mode & Poco::Net::PollSet::POLL_WRITE) {
        if (auto s = sockets.find(id); s != sockets.end() && s->second.tls_read_waits_for_write) {
          s->second.tls_read_waits_for_write = false;  // the write TLS needed can go now: read on
          update_poll_mode(id, s->second);
          read = true;
        }
        wire.writable(id, now);
      }
      if (read) read_some(id);
      pump(now);
    }
    run_inbox();
    if (wire.on_timeout(now)) release_memory_when_idle();
    run_application_timers();
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
  now = steady_now();
  {
    std::lock_guard<std::mutex> lock(inbox_mutex);
    stopped = true;  // from here, connections handed over are closed by the sender
  }
  run_inbox();  // what came before: the connections close with the rest
  wire.shutdown(now);
  // Flush what the sockets take within the bound, then close them all.
  const millis give_up = now + options().drain_timeout;
  while (steady_now() < give_up && wire.output_pending()) {
    poll.poll(Poco::Timespan(20 * 1000));
    wire.flush_all(steady_now());
  }
  wire.close_all(steady_now());
}

void event_loop::accept_all() {
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
      if (!tls()) {
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
    ++shared.open_connections;
    const std::size_t target = next_accept_loop++ % shared.loops.size();
    if (target == index) {
      adopt(arrival{socket, nullptr});
    } else {
      shared.loops[target]->arrive(arrival{socket, nullptr});
    }
  }
}

// Takes a socket in: a new one, or one another loop handed over with the
// start of a request for one of our sessions.
void event_loop::adopt(arrival a) {
  busy_since_trim = true;
  try {
    poll.add(a.socket, Poco::Net::PollSet::POLL_READ);
  } catch (const Poco::Exception&) {
    --shared.open_connections;  // the socket went bad in between: it closes with `a`
    return;
  }
  connection_id id = 0;
  if (a.state) {
    id = wire.adopt(now, std::move(a.state));
  } else {
    std::string address;
    try {
      address = a.socket.peerAddress().toString();
    } catch (const Poco::Exception&) {
    }
    id = wire.open(now, std::move(address));
  }
  by_socket[a.socket.impl()] = id;
  sockets.emplace(id, socket_entry{a.socket});
  wire.start(id, now);
}

void event_loop::read_some(connection_id id) {
  auto found = sockets.find(id);
  if (found == sockets.end()) return;
  if (found->second.tls_write_waits_for_read) {  // the record TLS wanted may be here now
    found->second.tls_write_waits_for_read = false;
    wire.flush(id, now);
    if ((found = sockets.find(id)) == sockets.end()) return;
  }
  socket_entry* s = &found->second;
  char buffer[64 * 1024];
  for (int turn = 0;; ++turn) {
    int n = 0;
    try {
      n = s->socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::TimeoutException&) {
      break;
    } catch (const Poco::Exception&) {
      return wire.peer_closed(id, now);
    }
    if (n == -2 && tls()) {  // TLS must write before it can read on
      s->tls_read_waits_for_write = true;
      update_poll_mode(id, *s);
      break;
    }
    if (n < 0) break;                            // would block (TLS: the record layer wants more)
    if (n == 0) return wire.peer_closed(id, now);  // the peer closed
    wire.received(id, std::string_view(buffer, static_cast<std::size_t>(n)), now);
    if ((found = sockets.find(id)) == sockets.end()) return;
    s = &found->second;
    // A short read drained the kernel buffer. TLS may still hold a decrypted
    // record no poll() would report, so it reads until told to wait; plain
    // sockets yield after 1 MiB so one connection cannot hold the loop
    // (the poll is level-triggered: the rest is reported again).
    if (!tls() && (n < static_cast<int>(sizeof buffer) || turn == 15)) break;
  }
  wire.input_done(id, now);
}

// One write of what wire::connections has for `id`: a gather write of
// every piece on plain sockets (a shared broadcast message among them), the
// first piece under TLS.
long event_loop::send(connection_id id, const iovec* pieces, std::size_t count) {
  const auto found = sockets.find(id);
  if (found == sockets.end()) return failed;
  socket_entry& s = found->second;
  if (!tls()) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(pieces);
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(s.socket.impl()->sockfd(), &message, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<long>(n);
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? would_block : failed;
  }
  if (s.tls_write_waits_for_read || count == 0) return would_block;  // read_some retries the write
  try {
    const int n = s.socket.sendBytes(pieces[0].iov_base, static_cast<int>(std::min<std::size_t>(pieces[0].iov_len, 1 << 20)));
    if (n >= 0) return n;
    if (n == -1) s.tls_write_waits_for_read = true;  // TLS wants a read first
    update_poll_mode(id, s);
    return would_block;
  } catch (const Poco::TimeoutException&) {
    return would_block;
  } catch (const Poco::Exception& e) {
    // Poco 1.11 throws for a full send buffer on a non-blocking socket
    // (receiveBytes returns -1 instead): that is "wait until writable".
    return e.code() == EAGAIN || e.code() == EWOULDBLOCK ? would_block : failed;
  }
}

void event_loop::want_write(connection_id id, bool on) {
  const auto found = sockets.find(id);
  if (found == sockets.end()) return;
  found->second.want_write = on;
  update_poll_mode(id, found->second);
}

// POLL_WRITE while there is something to write that waits for the socket
// (not for a TLS read), or while a TLS read waits for the socket to take a
// write.
void event_loop::update_poll_mode(connection_id, socket_entry& s) {
  const bool poll_write = (s.want_write && !s.tls_write_waits_for_read) || s.tls_read_waits_for_write;
  if (poll_write == s.poll_write) return;
  s.poll_write = poll_write;
  try {
    poll.update(s.socket, Poco::Net::PollSet::POLL_READ | (poll_write ? Poco::Net::PollSet::POLL_WRITE : 0));
  } catch (const Poco::Exception&) {
    // A socket gone bad reports an error on the next poll, and is dropped then.
  }
}

bool event_loop::shutdown_send(connection_id id) {
  const auto found = sockets.find(id);
  if (found == sockets.end()) return false;
  try {
    found->second.socket.shutdownSend();
    return true;
  } catch (const Poco::Exception&) {
    return false;
  }
}

void event_loop::close(connection_id id) {
  const auto found = sockets.find(id);
  if (found == sockets.end()) return;
  Poco::Net::StreamSocket socket = found->second.socket;
  sockets.erase(found);
  by_socket.erase(socket.impl());
  --shared.open_connections;
  try {
    poll.remove(socket);
  } catch (const Poco::Exception&) {
  }
  try {
    socket.close();
  } catch (const Poco::Exception&) {
  }
}

void event_loop::hand_over(connection_id id, unsigned loop, wire::handed_over_connection state) {
  const auto found = sockets.find(id);
  if (found == sockets.end()) return;
  Poco::Net::StreamSocket socket = found->second.socket;
  sockets.erase(found);
  by_socket.erase(socket.impl());
  try {
    poll.remove(socket);
  } catch (const Poco::Exception&) {
  }
  shared.loops[loop]->arrive(arrival{socket, std::move(state)});
}

// A burst of traffic leaves the heap with free pages scattered between live
// blocks, which free() does not return (it only trims the top); an idle
// server would keep its peak RSS for good. Once a loop that had traffic has
// no session left and the whole server no connection, hand the free pages
// back: at most once per busy period of this loop. malloc_trim walks and
// locks every loop's arena, so it waits until no loop serves anybody.
void event_loop::release_memory_when_idle() {
  if (!busy_since_trim || wire.size() != 0 || core.session_count() != 0) return;
  if (shared.open_connections.load(std::memory_order_relaxed) != 0) return;
  busy_since_trim = false;
#ifdef EIO_TRIM_GLIBC_HEAP
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
