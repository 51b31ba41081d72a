#include "emit_command.hpp"

#include <eio/socketio_redis/redis_emitter.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eio::tool {

namespace {

struct emit_arguments {
  std::string redis = "redis://127.0.0.1:6379";
  std::string key = "socket.io";
  std::string nsp = "/";
  std::vector<std::string> to;
  std::vector<std::string> except;
  bool is_volatile = false;
  std::string join;
  std::string leave;
  bool disconnect = false;
  bool close = false;
  bool server_side = false;
  std::string event;
  std::vector<std::string> args;
  long timeout = 2000;
};

const char* const emit_footer = R"text(Examples:
  eiotool emit --redis redis://127.0.0.1:6379 news '"hello"' '{"n":1}'
  eiotool emit --to room1 --except room2 --nsp /custom alert '[1,2]'
  eiotool emit --to room1 --join room2          # socketsJoin
  eiotool emit --to room1 --disconnect --close  # disconnectSockets(true)
  eiotool emit --server-side ping-sse '"x"'     # serverSideEmit, no acks

Each argument is JSON ('"text"', 1, '{"a":[true]}'); a "hex:0102ff" string
argument becomes binary. Messages follow @socket.io/redis-emitter 5 (uid
"emitter"): servers with the classic @socket.io/redis-adapter (Node, or
`eiotool serve --socketio --redis`) deliver them. Prints how many Redis
subscribers received each publish.)text";

int run_emit(const emit_arguments& a) {
  const auto endpoint = socketio_redis::parse_redis_url(a.redis);
  if (!endpoint) {
    std::fprintf(stderr, "error: --redis wants redis://[user[:password]@]host[:port][/db] (no rediss://: no TLS)\n");
    return exit_usage;
  }
  socketio::value args = socketio::value::array();
  for (const auto& text : a.args) {
    if (text.rfind("hex:", 0) == 0) {
      const std::string_view hex = std::string_view(text).substr(4);
      const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      std::vector<std::uint8_t> bytes;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = nibble(hex[i]);
        const int low = i + 1 < hex.size() ? nibble(hex[i + 1]) : -1;
        if (high < 0 || low < 0) {
          std::fprintf(stderr, "error: %s: hex: wants pairs of hex digits (byte %zu)\n", text.c_str(), 4 + i);
          return exit_usage;
        }
        bytes.push_back(static_cast<std::uint8_t>(high * 16 + low));
      }
      args.push_back(socketio::value::binary(std::move(bytes)));
      continue;
    }
    socketio::value v = socketio::value::parse(text, nullptr, false);
    if (v.is_discarded()) {
      std::fprintf(stderr, "error: argument is not JSON: %s\n", text.c_str());
      return exit_usage;
    }
    args.push_back(std::move(v));
  }
  socketio_redis::redis_client_options options;
  options.endpoint = *endpoint;
  options.backoff_max = std::chrono::milliseconds(500);
  socketio_redis::redis_emitter emitter(options, a.key);
  const std::chrono::milliseconds timeout(a.timeout);
  if (!emitter.wait_connected(timeout)) {
    // Host and port, not the URL: it may hold a password. Why it failed
    // (unreachable, authentication refused) is the client's log line above.
    std::fprintf(stderr, "error: cannot reach Redis at host %s, port %d\n", endpoint->host.c_str(), endpoint->port);
    return exit_failure;
  }
  socketio_redis::emit_target target;
  target.nsp = a.nsp;
  target.rooms = a.to;
  target.except = a.except;
  target.is_volatile = a.is_volatile;
  if (!a.join.empty()) {
    emitter.sockets_join(target, {a.join});
  } else if (!a.leave.empty()) {
    emitter.sockets_leave(target, {a.leave});
  } else if (a.disconnect) {
    emitter.disconnect_sockets(target, a.close);
  } else if (a.event.empty()) {
    std::fprintf(stderr, "error: name an event (or --join, --leave, --disconnect)\n");
    return exit_usage;
  } else if (a.server_side) {
    emitter.server_side_emit(a.nsp, a.event, args);
  } else if (const std::error_code ec = emitter.emit(target, a.event, args)) {
    std::fprintf(stderr, "error: %s\n", ec.message().c_str());
    return exit_usage;
  }
  if (!emitter.flush(timeout) || emitter.lost() > 0) {
    std::fprintf(stderr, "error: Redis did not take the message\n");
    return exit_failure;
  }
  std::printf("published to %llu subscriber(s)\n", static_cast<unsigned long long>(emitter.receivers()));
  return exit_ok;
}

}  // namespace

void add_emit_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<emit_arguments>();
  CLI::App* command = app.add_subcommand("emit", "Publish into a Socket.IO cluster on Redis, as @socket.io/redis-emitter");
  command->footer(emit_footer);
  command->add_option("--redis", args->redis, "Redis URL: redis://[user[:password]@]host[:port][/db]")->capture_default_str();
  command->add_option("--key", args->key, "The adapters' key (channel prefix)")->capture_default_str();
  command->add_option("--nsp", args->nsp, "Namespace")->capture_default_str();
  command->add_option("--to", args->to, "Room (repeat for several)")->allow_extra_args(false);
  command->add_option("--except", args->except, "Room to leave out (repeat)")->allow_extra_args(false);
  command->add_flag("--volatile", args->is_volatile, "The volatile flag");
  command->add_option("--join", args->join, "socketsJoin this room instead of emitting");
  command->add_option("--leave", args->leave, "socketsLeave this room instead of emitting");
  command->add_flag("--disconnect", args->disconnect, "disconnectSockets instead of emitting");
  command->add_flag("--close", args->close, "--disconnect: close the underlying connections too");
  command->add_flag("--server-side", args->server_side, "serverSideEmit instead of emitting to clients");
  command->add_option("--timeout", args->timeout, "Milliseconds to wait for Redis")->capture_default_str();
  command->add_option("event", args->event, "Event name");
  command->add_option("args", args->args, "Arguments, as JSON");
  command->callback([args, &action] { action = [args] { return run_emit(*args); }; });
}

}  // namespace eio::tool
