// `eiotool serve --socketio`: the Socket.IO demo application
// (socketio_demo_app.hpp) on eio::poco_socketio_server.
#pragma once

#include "serve_log.hpp"

#include <eio/poco_server.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace eio::tool {

struct socketio_serve_settings {
  std::chrono::milliseconds connect_timeout{45'000};
  std::optional<std::chrono::milliseconds> state_recovery;  // off unless set
  std::size_t max_attachments = 10;
  std::string node_name;  // empty: host:port
  std::string redis_url;      // empty: no Redis (loops joined in process)
  std::string redis_adapter;  // classic, sharded or streams
  std::string redis_subscription_mode;  // sharded: dynamic, dynamic-private or static
  std::size_t redis_stream_count = 1;   // streams: streamCount
  log_level level = log_level::info;
};

// Listens, then runs until the server is stopped. `started` is called with
// the Engine.IO server once it listens (for the signal handler and the
// banner). Returns the process exit code.
int run_socketio_serve(poco_server_options options, const socketio_serve_settings& settings,
                       const std::function<void(poco_server&)>& started);

}  // namespace eio::tool
