#include "serve_socketio.hpp"

#include "command.hpp"
#include "socketio_demo_app.hpp"

#include <eio/socketio_poco_server.hpp>
#include <eio/socketio_redis/redis_node.hpp>

#include <Poco/Exception.h>

#include <memory>

namespace eio::tool {

int run_socketio_serve(poco_server_options options, const socketio_serve_settings& settings,
                       const std::function<void(poco_server&)>& started) {
  const log_level level = settings.level;
  socketio::server_options sio;
  sio.connect_timeout = settings.connect_timeout;
  sio.limits.max_attachments = settings.max_attachments;
  if (settings.state_recovery) {
    socketio::recovery_options recovery;
    recovery.max_disconnection_duration = *settings.state_recovery;
    sio.connection_state_recovery = recovery;
  }
  if (level >= log_level::info) {
    sio.on_connection_error = [](std::string_view engine_id, std::string_view reason) {
      log_line("error %.*s: %.*s", static_cast<int>(engine_id.size()), engine_id.data(), static_cast<int>(reason.size()), reason.data());
    };
  }
  socketio::server io(std::move(sio));

  // --redis: each loop is a node of the Redis cluster (its own uid and
  // connections, counted by NUMSUB like a Node worker would be).
  cluster_node_factory nodes;
  if (!settings.redis_url.empty()) {
    const auto endpoint = socketio_redis::parse_redis_url(settings.redis_url);
    const auto kind = socketio_redis::parse_adapter_kind(settings.redis_adapter.empty() ? "classic" : settings.redis_adapter);
    if (!endpoint || !kind) {
      std::fprintf(stderr, "error: --redis wants redis://[user[:password]@]host[:port][/db] (no rediss://: no TLS) and --redis-adapter classic, sharded or streams\n");
      return exit_usage;
    }
    const auto mode = socketio_redis::parse_subscription_mode(
        settings.redis_subscription_mode.empty() ? "dynamic" : settings.redis_subscription_mode);
    if (!mode) {
      std::fprintf(stderr, "error: --redis-subscription-mode wants dynamic, dynamic-private or static\n");
      return exit_usage;
    }
    socketio_redis::redis_adapter_options redis;
    redis.kind = *kind;
    redis.mode = *mode;
    redis.stream_count = settings.redis_stream_count;
    redis.client.endpoint = *endpoint;
    redis.client.log = [](const std::string& line) { log_line("redis: %s", line.c_str()); };
    nodes = [redis](unsigned, std::function<void(socketio::loop_task)> post) {
      auto node = std::make_shared<socketio_redis::redis_node>(redis, std::move(post));
      loop_cluster_node out;
      out.make_adapter = [n = node.get()](socketio::namespace_runtime& nsp) { return n->make_adapter(nsp); };
      out.transport = std::move(node);
      return out;
    };
  }
  const std::string host = options.host;
  std::unique_ptr<poco_socketio_server> server;
  try {
    server = std::make_unique<poco_socketio_server>(io, std::move(options), [level](loop_context&, event& e) {
      if (const auto* refused = std::get_if<connection_error_event>(&e); refused && level >= log_level::info) log_refused(*refused);
    }, std::move(nodes));
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "error: cannot listen on %s: %s\n", host.c_str(), e.displayText().c_str());
    return exit_failure;
  }
  // The demo's handlers go in before the loops run (the runtimes are made at
  // their loops' first turn); its name needs the port, known by now.
  const std::string node_name = settings.node_name.empty() ? host + ":" + std::to_string(server->engine_io().port()) : settings.node_name;
  socketio_demo demo(io, node_name);
  if (level >= log_level::info) {
    demo.on_connect([](const socketio::socket& s) { log_line("connect %s %s", s.nsp().name().c_str(), s.id().c_str()); });
    demo.on_disconnect([](const socketio::socket& s, std::string_view reason) {
      log_line("disconnect %s %s: %.*s", s.nsp().name().c_str(), s.id().c_str(), static_cast<int>(reason.size()), reason.data());
    });
  }
  started(server->engine_io());
  server->run();
  return exit_ok;
}

}  // namespace eio::tool
