// eio::poco_server: an Engine.IO server on Poco Net, event-driven.
//
// One thread runs an event loop over non-blocking sockets (Poco::Net::PollSet,
// epoll on Linux): it reads HTTP requests and WebSocket frames as they come,
// hands them to an eio::server (the sans-I/O core) and writes what the core
// decides. No thread is held per session or per pending long-poll. The
// application sees the core's events on the loop thread and answers through
// the eio::server it is given there.
#pragma once

#include <eio/server.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace eio {

struct poco_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;  // 0: any free port (see poco_server::port())
  server_options engine;      // the Engine.IO options (path, timeouts, limits, CORS, ...)
  std::size_t max_connections = 100'000;  // past it, new connections are closed at once
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; past it: 431
  millis header_timeout{10'000};  // a request head must arrive within this (slowloris): 408
  millis body_timeout{30'000};    // and its body within this: 408
};

class poco_server {
public:
  // Called on the loop thread for every event of the core; `engine` is the
  // core itself, for send() and close(); `now` is the loop's clock.
  using event_handler = std::function<void(server& engine, const event& e, millis now)>;

  // Binds and listens (throws Poco::Exception when it cannot).
  poco_server(poco_server_options options, event_handler handler);
  ~poco_server();
  poco_server(const poco_server&) = delete;
  poco_server& operator=(const poco_server&) = delete;

  // The port listened on (useful with port 0).
  std::uint16_t port() const noexcept;

  // Runs the event loop until stop(); then closes every session
  // (server_shutting_down), flushes what it can within `drain_timeout`, and
  // returns.
  void run();
  // Safe from any thread and from a signal handler: run() returns soon after.
  void stop() noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace eio
