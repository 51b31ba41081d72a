#include "serve_command.hpp"

#include "serve_log.hpp"
#include "serve_socketio.hpp"

#include <eio/poco_server.hpp>

#include <CLI/CLI.hpp>
#include <Poco/Exception.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <map>
#include <unordered_map>
#include <vector>

namespace eio::tool {
namespace {

struct serve_arguments {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;
  std::string path;  // default: /engine.io/, /socket.io/ with --socketio
  long ping_interval = 25000;
  long ping_timeout = 20000;
  long upgrade_timeout = 10000;
  std::size_t max_payload = 1'000'000;
  std::string transports = "polling,websocket";
  bool no_upgrades = false;
  bool allow_eio3 = false;
  std::vector<std::string> cors_origins;
  std::string cookie;
  std::string auth_token;
  unsigned threads = 0;  // 0: one per core
  std::string tls_cert;
  std::string tls_key;
  std::size_t max_connections = 100'000;
  bool per_message_deflate = false;
  unsigned busy_poll_us = 0;
  bool no_http_compression = false;
  std::string log_level = "info";
  bool quiet = false;
  // --socketio: the Socket.IO demo application instead of the echo.
  bool socketio = false;
  long connect_timeout = 45000;
  long state_recovery = 0;  // 0: off
  std::size_t max_attachments = 10;
  std::string node_name;
  // --redis: each loop a node of a cluster on Redis (eio::socketio_redis).
  std::string redis;
  std::string redis_adapter = "classic";
  std::string redis_subscription_mode = "dynamic";
  std::size_t redis_stream_count = 1;
};

const char* const serve_footer = R"text(Examples:
  eiotool serve                          # http://127.0.0.1:3000/engine.io/
  eiotool serve --port 8080 --allow-eio3 --cors-origin https://app.example
  eiotool serve --transports websocket --ping-interval 5000
  eiotool serve --socketio               # http://127.0.0.1:3000/socket.io/
  eiotool serve --socketio --state-recovery 120000 --node-name a
  eiotool serve --socketio --redis redis://127.0.0.1:6379 --redis-adapter sharded
  eiotool serve --socketio --redis redis://127.0.0.1:6379 --redis-adapter streams --state-recovery 120000

The built-in application echoes every message to its sender unchanged (text
stays text, binary stays binary); a text message "broadcast:<rest>" sends
<rest> to every open session instead. Each session's open and close (with its
reason) is logged to stderr. SIGINT or SIGTERM stops the server cleanly.

With --socketio it is the Socket.IO demo application instead (namespaces /,
/custom, /admin, /slow and /dyn-*; events message, echo, join, leave,
broadcast, to-room, ask, fetch-sockets, sse, stats and more: see the README);
each socket's connect and disconnect (with its reason) is logged. With
--threads N, each loop is a node of an in-process cluster: broadcasts and
fetch-sockets reach every loop, and sse lists the other loops. With --redis,
each loop is instead a node of a cluster on Redis, wire-compatible with
@socket.io/redis-adapter (classic: createAdapter, sharded: createShardedAdapter
on Redis 7) or @socket.io/redis-streams-adapter (streams, Redis 6.2: with
--state-recovery a client recovers its session on any node): Node socket.io
servers with that adapter are peers.)text";

// The running server, for the signal handler (stop() is async-signal-safe).
poco_server* running = nullptr;

extern "C" void on_stop_signal(int) {
  if (running) running->stop();
}

// The echo/broadcast application. Its handler runs on every loop's thread;
// each loop touches only its own slot of `loops_`.
class echo_application {
public:
  echo_application(unsigned loops, log_level level) : loops_(loops), level_(level) {}

  void operator()(loop_context& context, event& e) {
    auto& sessions = loops_[context.loop].sessions;
    if (const auto* opened = std::get_if<connection_event>(&e)) {
      if (level_ >= log_level::info) {
        sessions.emplace(opened->session, opened->id);  // only the logs read it
        log_line("open %s %s v%d", opened->id.c_str(), std::string(to_string(opened->transport)).c_str(), static_cast<int>(opened->version));
      }
    } else if (auto* message = std::get_if<message_event>(&e)) {
      constexpr std::string_view broadcast = "broadcast:";
      if (message->kind == frame_kind::text && message->data.substr(0, broadcast.size()) == broadcast) {
        // Encoded once for every session of every loop: each loop's core
        // and each connection refer to the same bytes.
        context.owner.broadcast_all(std::make_shared<const std::string>(message->data.substr(broadcast.size())));
      } else {
        context.core.send(message->session, message->data, message->kind, context.now);
      }
    } else if (const auto* upgraded = std::get_if<upgrade_event>(&e)) {
      // The sid from our own map: one read may carry the upgrade and the
      // close, so the core may have forgotten the session by now.
      if (level_ >= log_level::debug) log_line("upgrade %s websocket", sid_of(sessions, upgraded->session));
    } else if (const auto* closed = std::get_if<close_event>(&e)) {
      if (level_ >= log_level::info) {
        log_line("close %s: %s%s%s", sid_of(sessions, closed->session), std::string(to_string(closed->reason)).c_str(),
            closed->description.empty() ? "" : " - ", closed->description.c_str());
      }
      sessions.erase(closed->session);
    } else if (const auto* refused = std::get_if<connection_error_event>(&e)) {
      if (level_ >= log_level::info) log_refused(*refused);
    }
  }

private:
  using sid_map = std::unordered_map<session_ref, std::string>;
  struct loop_state {
    sid_map sessions;  // -> sid, for the logs (empty without them)
  };

  static const char* sid_of(const sid_map& sessions, session_ref s) {
    const auto found = sessions.find(s);
    return found == sessions.end() ? "?" : found->second.c_str();
  }

  std::vector<loop_state> loops_;
  log_level level_;
};

poco_server_options server_options_of(const serve_arguments& args) {
  poco_server_options options;
  options.host = args.host;
  options.port = args.port;
  server_options& core = options.core;
  core.path = args.path;
  core.ping_interval = millis(args.ping_interval);
  core.ping_timeout = millis(args.ping_timeout);
  core.upgrade_timeout = millis(args.upgrade_timeout);
  core.max_http_buffer_size = args.max_payload;
  core.allow_polling = args.transports.find("polling") != std::string::npos;
  core.allow_websocket = args.transports.find("websocket") != std::string::npos;
  core.allow_upgrades = !args.no_upgrades;
  core.allow_eio3 = args.allow_eio3;
  if (!args.cors_origins.empty()) {
    cors_options cors;
    for (const auto& origin : args.cors_origins) {
      if (origin == "*") {
        cors.any_origin = true;
      } else {
        cors.origins.push_back(origin);
      }
    }
    cors.credentials = !cors.any_origin;
    core.cors = cors;
  }
  if (!args.auth_token.empty()) {
    // A shared secret on the handshake (query `token` or `Authorization:
    // Bearer`), refused with 403 "Forbidden" through allow_request.
    core.allow_request = [token = args.auth_token](const http_request& request) {
      if (request.query_param("sid")) return request_verdict::allow();  // the session proved it at its handshake
      if (request.query_param("token") == token) return request_verdict::allow();
      if (const auto authorization = request.header_value("authorization"); authorization && *authorization == "Bearer " + token) {
        return request_verdict::allow();
      }
      return request_verdict::deny();
    };
  }
  if (!args.cookie.empty()) {
    cookie_options cookie;
    cookie.name = args.cookie;
    core.cookie = cookie;
  }

  options.threads = args.threads;
  options.per_message_deflate = args.per_message_deflate;
  options.busy_poll = std::chrono::microseconds(args.busy_poll_us);
  options.http_compression = !args.no_http_compression;
  options.max_connections = args.max_connections;
  options.tls_certificate_file = args.tls_cert;
  options.tls_private_key_file = args.tls_key;
  return options;
}

void install_stop_signals(poco_server& server) {
  running = &server;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
}

void print_banner(const poco_server& server, const serve_arguments& args) {
  std::printf("eiotool serve: listening on %s://%s:%u%s (%u threads%s)\n", server.tls() ? "https" : "http", args.host.c_str(), server.port(),
              args.path.c_str(), server.loop_count(), args.socketio ? ", Socket.IO" : "");
  std::fflush(stdout);
}

int run_socketio(const serve_arguments& args, log_level level) {
  socketio_serve_settings settings;
  settings.connect_timeout = std::chrono::milliseconds(args.connect_timeout);
  if (args.state_recovery > 0) settings.state_recovery = std::chrono::milliseconds(args.state_recovery);
  settings.max_attachments = args.max_attachments;
  settings.node_name = args.node_name;
  settings.redis_url = args.redis;
  settings.redis_adapter = args.redis_adapter;
  settings.redis_subscription_mode = args.redis_subscription_mode;
  settings.redis_stream_count = args.redis_stream_count;
  settings.level = level;
  const int code = run_socketio_serve(server_options_of(args), settings, [&args](poco_server& server) {
    install_stop_signals(server);
    print_banner(server, args);
  });
  running = nullptr;
  if (code == exit_ok) std::printf("eiotool serve: stopped\n");
  return code;
}

int run_serve(serve_arguments args) {
  if (args.path.empty()) args.path = args.socketio ? "/socket.io/" : "/engine.io/";
  const log_level level = args.quiet ? log_level::warn : parse_log_level(args.log_level);
  if (args.socketio) return run_socketio(args, level);

  // The application needs the loop count, known once the server is built.
  auto application = std::make_shared<std::unique_ptr<echo_application>>();
  std::unique_ptr<poco_server> server_instance;
  try {
    server_instance =
        std::make_unique<poco_server>(server_options_of(args), [application](loop_context& context, event& e) { (**application)(context, e); });
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "error: cannot listen on %s:%u: %s\n", args.host.c_str(), args.port, e.displayText().c_str());
    return exit_failure;
  }
  *application = std::make_unique<echo_application>(server_instance->loop_count(), level);
  install_stop_signals(*server_instance);
  print_banner(*server_instance, args);
  server_instance->run();
  running = nullptr;
  std::printf("eiotool serve: stopped\n");
  return exit_ok;
}

}  // namespace

void add_serve_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<serve_arguments>();
  CLI::App* command = app.add_subcommand("serve", "Run an Engine.IO server (echo and broadcast) or, with --socketio, a Socket.IO one");
  command->footer(serve_footer);
  command->add_option("--host", args->host, "Address to listen on")->capture_default_str();
  command->add_option("--port", args->port, "Port to listen on (0: any free port)")->capture_default_str();
  command->add_option("--path", args->path, "Engine.IO path (default /engine.io/, /socket.io/ with --socketio)");
  command->add_option("--ping-interval", args->ping_interval, "Milliseconds between pings")->check(CLI::Range(1L, 86'400'000L))->capture_default_str();
  command->add_option("--ping-timeout", args->ping_timeout, "Milliseconds to wait for a pong")->check(CLI::Range(1L, 86'400'000L))->capture_default_str();
  command->add_option("--upgrade-timeout", args->upgrade_timeout, "Milliseconds an upgrade may take")->check(CLI::Range(1L, 86'400'000L))->capture_default_str();
  command->add_option("--max-payload", args->max_payload, "Largest POST body or WebSocket message, bytes")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))->capture_default_str();
  command->add_option("--transports", args->transports, "polling, websocket or both, comma-separated")
      ->check(CLI::IsMember({"polling", "websocket", "polling,websocket", "websocket,polling"}))
      ->capture_default_str();
  command->add_flag("--no-upgrades", args->no_upgrades, "Do not offer the polling -> websocket upgrade");
  command->add_flag("--allow-eio3", args->allow_eio3, "Accept protocol v3 clients (engine.io-client 3)");
  command->add_option("--cors-origin", args->cors_origins, "Allowed CORS origin (repeat; * for any)");
  command->add_option("--cookie", args->cookie, "Set a sticky-session cookie with this name on the handshake");
  command->add_option("--threads", args->threads, "Event-loop threads (0: one per core)")->check(CLI::Range(0u, 64u))->capture_default_str();
  command->add_option("--max-connections", args->max_connections, "Open connections past which new ones are closed at once")->capture_default_str();
  auto* cert = command->add_option("--tls-cert", args->tls_cert, "PEM certificate (chain): serve https:// and wss://")->check(CLI::ExistingFile);
  auto* key = command->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  command->add_flag("--per-message-deflate", args->per_message_deflate, "Compress WebSocket messages when the client offers it (RFC 7692)");
  command->add_option("--busy-poll", args->busy_poll_us,
                      "Microseconds a loop polls without sleeping before it waits: lower latency, a busy core while traffic flows")
      ->check(CLI::Range(0u, 1'000'000u))
      ->capture_default_str();
  command->add_flag("--no-http-compression", args->no_http_compression, "Do not gzip/deflate polling responses of 1 KiB or more");
  command->add_option("--auth-token", args->auth_token,
                      "Refuse handshakes (403) without ?token=TOKEN or 'Authorization: Bearer TOKEN' (a token in the query shows in proxy logs: prefer the header)");
  command->add_option("--log-level", args->log_level, "error, warn, info (sessions opened and closed, requests refused) or debug (also upgrades)")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
      ->capture_default_str();
  command->add_flag("--quiet", args->quiet, "Same as --log-level warn");
  command->add_flag("--socketio", args->socketio, "Serve the Socket.IO demo application (namespaces, events, acks, rooms, binary) instead of the echo");
  command->add_option("--connect-timeout", args->connect_timeout, "--socketio: milliseconds a connection may take to join a namespace")
      ->check(CLI::Range(1L, 86'400'000L))
      ->capture_default_str();
  command->add_option("--state-recovery", args->state_recovery,
                      "--socketio: connection state recovery, sessions kept this many milliseconds after a disconnection (0: off)")
      ->check(CLI::Range(0L, 86'400'000L))
      ->capture_default_str();
  command->add_option("--max-attachments", args->max_attachments, "--socketio: binary attachments per packet")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
      ->capture_default_str();
  command->add_option("--node-name", args->node_name, "--socketio: the name this server answers cluster pings (sse) with (default HOST:PORT)");
  command->add_option("--redis", args->redis, "--socketio: join the cluster on this Redis (redis://[user[:password]@]host[:port][/db]); each loop is a node");
  command->add_option("--redis-adapter", args->redis_adapter, "--socketio --redis: classic (@socket.io/redis-adapter createAdapter), sharded (createShardedAdapter, Redis 7) or streams (@socket.io/redis-streams-adapter, Redis 6.2)")
      ->check(CLI::IsMember({"classic", "sharded", "streams"}))
      ->capture_default_str();
  command->add_option("--redis-subscription-mode", args->redis_subscription_mode, "--redis-adapter sharded: the adapter's subscriptionMode, the same on every node: dynamic (a channel per public room), dynamic-private (per room, socket ids too) or static (one channel per namespace)")
      ->check(CLI::IsMember({"dynamic", "dynamic-private", "static"}))
      ->capture_default_str();
  command->add_option("--redis-stream-count", args->redis_stream_count, "--redis-adapter streams: the adapter's streamCount, the same on every node (namespaces spread over that many streams by hash)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command->callback([args, &action] { action = [args] { return run_serve(*args); }; });
}

}  // namespace eio::tool
