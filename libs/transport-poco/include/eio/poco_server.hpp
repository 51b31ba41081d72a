// eio::poco_server: an Engine.IO server on Poco Net, event-driven.
//
// A fixed set of event loops (threads; one per core by default), each a
// Poco::Net::PollSet (epoll on Linux) over non-blocking sockets with its own
// eio::server core. No thread is held per session or per pending long-poll.
//
// Each session belongs to one loop for its whole life: the loop that answered
// its handshake. Its session ID carries the loop's index (a one-character
// prefix when there is more than one loop), so a later request naming that
// sid, on whatever connection it arrives, is handed to the owning loop. The
// application's handler runs on the owning loop's thread, with that loop's
// core; from any other thread, use post(), send() or close() here, which
// queue the work to the loop and wake it.
//
// TLS (https:// and wss://) comes from Poco NetSSL when a certificate and key
// are given. Polling responses of 1024 bytes or more are compressed (gzip or
// deflate, per Accept-Encoding) as the reference server does by default.
#pragma once

#include <eio/server.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eio {

struct poco_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;  // 0: any free port (see poco_server::port())
  server_options core;        // the Engine.IO core's options (path, timeouts, limits, CORS, ...)
  unsigned threads = 0;       // event loops; 0: one per core
  // Past it, new connections are refused: "503 Too many connections" and
  // closed (under TLS only closed: the refusal would need a handshake).
  std::size_t max_connections = 100'000;
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; past it: 431
  std::size_t max_header_count = 100;        // header fields; past it: 431
  // Frames one WebSocket message may come in (RFC 6455 section 5.4 sets no
  // bound; each costs a frame decode); past it: close 1009.
  std::size_t max_fragments_per_message = 1024;
  millis header_timeout{10'000};  // a request head must arrive within this (slowloris): 408
  millis body_timeout{30'000};    // and its body within this: 408
  millis drain_timeout{2'000};    // on stop, how long closing sessions may take to flush
  // Lingering close (RFC 9112 section 9.6; nginx's lingering_close). A
  // connection the server ends after an answer (a body over the limit: 413;
  // any other refusal; "Connection: close"; a WebSocket close frame) may
  // still have input coming; closing the socket over unread input makes the
  // kernel send a reset, which destroys the answer in flight. So its input
  // is read and dropped from the moment the answer is decided, its write
  // side is shut once the answer is written, and the socket is closed when
  // the peer ends, after linger_timeout (checked once a second), or past
  // linger_bytes dropped (while the answer waits, and as many again after
  // it is written). A lingering connection holds no session and no
  // buffer, only its socket (it still counts in max_connections), and never
  // blocks its loop (it reads at most 1 MiB a turn). Defaults: 2 s, as Apache
  // lingers: the answer's trip and the client's reaction take a few round
  // trips. 8 MiB: what a client may have sent before it can see the answer
  // is a TCP window plus its send buffer, several MiB on Linux by default
  // (on loopback a streaming client had 1.4 MB out before it read a 413; 1
  // MiB then reset it); dropped through a fixed buffer, it costs a few ms of
  // CPU, no memory, and the time bound holds it anyway. Either 0: close at
  // once. Under TLS the socket closes at once.
  millis linger_timeout{2'000};
  std::size_t linger_bytes = 8 * 1024 * 1024;
  // Bytes waiting to be written to one connection; past it the connection
  // is dropped (a peer that does not read). Bytes read and not yet handled
  // are bounded too: an HTTP connection may hold max_header_bytes +
  // core.max_http_buffer_size behind a request waiting for its answer
  // (past it: dropped without an answer), a WebSocket one message.
  std::size_t max_output_bytes = 64 * 1024 * 1024;

  // TLS: both set, PEM files, serves https:// and wss:// only.
  std::string tls_certificate_file;
  std::string tls_private_key_file;

  // HTTP compression of polling responses (the reference's httpCompression).
  bool http_compression = true;
  std::size_t compression_threshold = 1024;  // bytes; smaller bodies go as they are
  // permessage-deflate (RFC 7692) for WebSocket, off by default as in the
  // reference: it costs memory per connection and CPU per message.
  bool per_message_deflate = false;

  // Latency against CPU: before a loop sleeps in epoll_wait it polls without
  // waiting for up to this long (never past its next timer). A message that
  // comes meanwhile is served without the sleep and wake-up (most of a round
  // trip's time on an idle machine), at the price of each loop's core kept
  // busy while traffic flows (`threads` cores). 0 (the default): sleep at
  // once.
  std::chrono::microseconds busy_poll{0};
};

// A session anywhere in the server: its loop and its name in that loop's core.
struct session_handle {
  unsigned loop = 0;
  session_ref session;
};

class poco_server;
namespace detail {
struct event_loop;
}

// What the event handler gets: the loop it runs on and that loop's core.
struct loop_context {
  poco_server& owner;
  server& core;  // send()/close() of this loop's sessions, directly
  unsigned loop;
  millis now;  // the loop's clock, for core calls

  session_handle handle(session_ref s) const noexcept { return {loop, s}; }
};

// What an application (a layer above the core, such as Socket.IO) runs on
// each loop beside the core: timers of its own. Both are called on the
// loop's thread, every turn of the loop for next_deadline (keep it cheap).
struct loop_hooks {
  // When the application's next timer on this loop is due; nullopt: none.
  std::function<std::optional<millis>(loop_context& context)> next_deadline;
  // Called once that time has come (with the loop's `now`).
  std::function<void(loop_context& context)> on_timeout;
};

class poco_server {
public:
  // Called on a loop's thread for every event of that loop's core. With more
  // than one loop it is called from several threads at once: keep per-loop
  // state (indexed by context.loop) or synchronise. It should not throw: an
  // exception is reported on stderr and the loop goes on. The event is the
  // handler's: it may move from it (a message's data into send(), say, which
  // saves a copy per echo); a handler taking `const event&` fits as well.
  using event_handler = std::function<void(loop_context& context, event& e)>;
  using task = std::function<void(loop_context& context)>;

  // Binds and listens (throws Poco::Exception when it cannot, including a
  // TLS certificate or key that does not load).
  poco_server(poco_server_options options, event_handler handler, loop_hooks hooks = {});
  ~poco_server();
  poco_server(const poco_server&) = delete;
  poco_server& operator=(const poco_server&) = delete;

  // The port listened on (useful with port 0).
  std::uint16_t port() const noexcept;
  unsigned loop_count() const noexcept;
  bool tls() const noexcept;

  // Runs the loops (the first on the calling thread) until stop(); then each
  // closes its sessions (server_shutting_down), flushes what it can within
  // drain_timeout, and run() returns.
  void run();
  // Safe from any thread and from a signal handler: run() returns soon after.
  void stop() noexcept;

  // Safe from any thread: runs `work` on loop `loop` soon (in order of
  // posting). Returns false when there is no such loop, or when it has
  // stopped (the task is dropped). The tasks queued by one wake-up of the
  // loop run back to back and what they send is written after them, one
  // write per connection for the lot (up to 256 tasks): a burst of posted
  // sends costs a connection one system call, not one each.
  bool post(unsigned loop, task work);
  // Safe from any thread: queue a message to, or close, a session of any
  // loop. A session gone by then is skipped silently.
  bool send(session_handle session, std::string data, frame_kind kind = frame_kind::text);
  bool close(session_handle session);
  // Safe from any thread: one message for many sessions on any loops,
  // encoded once (every loop's core and every connection refer to `data`).
  // Each loop gets one task with its own sessions; called from a handler,
  // its own loop's share goes at once, in order with what it sends next.
  // Returns false when a loop has stopped. broadcast_all reaches every
  // session of every loop.
  bool broadcast(const std::vector<session_handle>& sessions, shared_bytes data, frame_kind kind = frame_kind::text);
  bool broadcast_all(shared_bytes data, frame_kind kind = frame_kind::text);

private:
  friend struct detail::event_loop;
  bool run_on(unsigned loop, task work);
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace eio
