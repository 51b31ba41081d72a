// eio::poco_attached_server: Engine.IO inside an application that already runs
// Poco::Net::HTTPServer (thread per request).
//
// The application keeps its HTTPServer and its own routes; requests under the
// Engine.IO path (server_options::path, "/engine.io/" by default) go to a
// handler made by poco_attached_server, which hands them to one eio::server (the
// sans-I/O core) behind a mutex and writes what the core answers.
//
//   Poco::Net::HTTPServer  ->  poco_request_handler_factory  ->  the application's own factory
//                                      | Engine.IO path
//                                      v
//                              poco_attached_server (mutex + eio::server + timer thread)
//                                      | events, mutex held
//                                      v
//                              event_handler (the application)
//
// Threads, and why this path is limited. Poco's HTTPServer runs every request
// on one thread of its pool until the request is answered, so here:
//   - every pending long-poll GET holds one thread until the core answers it
//     (a message to send, the ping interval's ping, or the session closing);
//   - every WebSocket holds one thread for as long as it is open (its blocking
//     receive loop);
//   - an answer that ends its connection (a 413, "Connection: close", a
//     WebSocket close frame) holds its thread up to linger_timeout more, while
//     what the client still sends is read and dropped (lingering close).
// Size the HTTPServer for it: its Poco::ThreadPool capacity and
// HTTPServerParams::setMaxThreads() at least (expected sessions + concurrent
// ordinary requests), and setMaxQueued() for bursts; the default pool
// (Poco::ThreadPool::defaultPool(), 16 threads) serves at most about 16
// sessions, and a full pool queues or refuses new connections, the
// application's own routes included. For many sessions use eio::poco_server
// (poco_server.hpp), an event loop that holds no thread per session.
//
// Other limits:
//   - A held poll learns that its client went away by looking at its socket
//     every poco_attached_server_options::disconnect_check_interval (then the session
//     closes, "transport error", as in the reference); until then the thread
//     stays held.
//   - Outgoing WebSocket frames are written by whichever thread drained the
//     core's actions (a request thread, the timer thread, or the application's
//     thread in send()); a slow client can block that thread for up to
//     poco_attached_server_options::send_timeout, after which its connection is cut.
//   - A WebSocket's 101 is written here (RFC 6455's headers checked, the
//     core's own headers added); then the raw socket, with whatever Poco had
//     read past the request's head, is read through eio::websocket's
//     frame_reader: the same RFC 6455 reader as poco_server's, and the one the
//     fuzzers cover (no Poco::Net::WebSocket).
//   - This header includes Poco Net's: link Poco::Net yourself (an
//     application with an HTTPServer does already).
#pragma once

#include <eio/server.hpp>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace eio {

struct poco_attached_server_options {
  server_options core;  // the Engine.IO core's options (path, timeouts, limits, CORS, ...)
  // How often a held poll checks whether its client closed the connection.
  millis disconnect_check_interval{1000};
  // A WebSocket write that cannot complete within this cuts the connection.
  millis send_timeout{10'000};
  // Frames one WebSocket message may come in (RFC 6455 section 5.4 sets no
  // bound; each costs a frame read); past it: close 1009.
  std::size_t max_fragments_per_message = 1024;
  // shutdown(): how long WebSockets get to finish the close handshake before
  // their sockets are shut down under them.
  millis close_grace{2000};
  // Lingering close (RFC 9112 section 9.6; nginx's lingering_close), as in
  // poco_server_options: after an answer that ends its connection (a 413, any
  // refusal, "Connection: close", a WebSocket close frame), the write side is
  // shut and what the client still sends is read and dropped until it ends,
  // for linger_timeout and linger_bytes at most, so that input still coming
  // does not make the kernel reset the connection under the answer. It holds
  // that request's HTTPServer thread, nothing else. Either 0: close at once.
  // Under TLS the socket closes at once.
  millis linger_timeout{2'000};
  std::size_t linger_bytes = 8 * 1024 * 1024;
};

// What an application (a layer above the core, such as Socket.IO) runs
// beside the core: timers of its own. The timer thread asks next_deadline
// whenever it looks at the core's, and runs on_timeout once that time has
// come, both with the server's mutex held.
struct timer_hooks {
  std::function<std::optional<millis>(server& core)> next_deadline;
  std::function<void(server& core, millis now)> on_timeout;
};

// One eio::server shared by the threads of a Poco::Net::HTTPServer, plus one
// timer thread that runs its timers. Every member is safe from any thread.
class poco_attached_server {
public:
  // Called for every event of the core, on whichever thread fed the core the
  // input that caused it, with the server's mutex held: do not block in it,
  // and answer through `core` (the core itself: core.send(), .close(),
  // with the `now` given). Calling this poco_attached_server's send()/close() from
  // inside the handler is allowed too (they notice and skip the lock).
  using event_handler = std::function<void(server& core, event& e, millis now)>;

  // Starts the timer thread.
  explicit poco_attached_server(poco_attached_server_options options = {}, event_handler handler = {},
                                timer_hooks hooks = {});
  poco_attached_server(server_options options, event_handler handler);
  // shutdown(), then stops the timer thread. Handlers still running on the
  // HTTPServer's threads keep what they need alive and end soon after.
  ~poco_attached_server();
  poco_attached_server(const poco_attached_server&) = delete;
  poco_attached_server& operator=(const poco_attached_server&) = delete;

  // Whether `request` is for Engine.IO: its path (without the query) is
  // options().core.path, with or without the trailing '/'.
  bool handles(const Poco::Net::HTTPServerRequest& request) const;
  // A handler for one Engine.IO request, for an application's own
  // HTTPRequestHandlerFactory to return (Poco deletes it).
  Poco::Net::HTTPRequestHandler* create_handler();

  // The server's clock: milliseconds of std::chrono::steady_clock. The `now`
  // of every call into the core.
  static millis now() noexcept;

  // server::send under the lock. Returns false when the session is gone or
  // closing, or for text it cannot carry (see server::send), and after shutdown().
  bool send(session_ref session, std::string_view data, frame_kind kind = frame_kind::text, send_options how = {});
  // server::close under the lock.
  void close(session_ref session, close_mode mode = close_mode::flush);
  // Runs `f` with the core under the lock (inspection, or several calls at
  // once), then carries out what it queued. `f` must not block.
  void with_server(const std::function<void(server& core, millis now)>& f);

  // Closes every session (close_reason::server_shutting_down): held polls
  // are answered, WebSockets get a close frame and close_grace to answer it.
  // Afterwards requests on the Engine.IO path get 503. Idempotent; returns
  // when the WebSockets have ended or close_grace has passed (at once when
  // called from inside the event handler).
  void shutdown();

  const poco_attached_server_options& options() const noexcept;

  struct impl;  // opaque: src/poco_attached_server.cpp

private:
  friend class poco_request_handler_factory;
  std::shared_ptr<impl> impl_;
};

// An HTTPRequestHandlerFactory for Poco::Net::HTTPServer: requests on the
// Engine.IO path go to `engine`, every other request to `fallback` (the
// application's own factory; without one they get 404). Keeps what it needs
// of `server` alive, so the two may be destroyed in either order.
class poco_request_handler_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  explicit poco_request_handler_factory(poco_attached_server& server,
                                        Poco::Net::HTTPRequestHandlerFactory::Ptr fallback = nullptr);
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
  std::shared_ptr<poco_attached_server::impl> server_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr fallback_;
};

}  // namespace eio
