#include "serve_command.hpp"

#include <eio/poco_server.hpp>

#include <CLI/CLI.hpp>
#include <Poco/Exception.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>

namespace eio::tool {
namespace {

struct serve_arguments {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;
  std::string path = "/engine.io/";
  long ping_interval = 25000;
  long ping_timeout = 20000;
  long upgrade_timeout = 10000;
  std::size_t max_payload = 1'000'000;
  std::string transports = "polling,websocket";
  bool no_upgrades = false;
  bool allow_eio3 = false;
  std::vector<std::string> cors_origins;
  std::string cookie;
  bool quiet = false;
};

const char* const serve_footer = R"text(Examples:
  eiotool serve                          # http://127.0.0.1:3000/engine.io/
  eiotool serve --port 8080 --allow-eio3 --cors-origin https://app.example
  eiotool serve --transports websocket --ping-interval 5000

The built-in application echoes every message to its sender unchanged (text
stays text, binary stays binary); a text message "broadcast:<rest>" sends
<rest> to every open session instead. Each session's open and close (with its
reason) is logged to stderr. SIGINT or SIGTERM stops the server cleanly.)text";

// The running server, for the signal handler (stop() is async-signal-safe).
poco_server* running = nullptr;

extern "C" void on_stop_signal(int) {
  if (running) running->stop();
}

// The echo/broadcast application, on the server's loop thread.
class echo_application {
public:
  explicit echo_application(bool quiet) : quiet_(quiet) {}

  void operator()(server& engine, const event& e, millis now) {
    if (const auto* opened = std::get_if<connection_event>(&e)) {
      sessions_.insert(key(opened->session));
      log(engine, opened->session, "open");
    } else if (const auto* message = std::get_if<message_event>(&e)) {
      constexpr std::string_view broadcast = "broadcast:";
      if (!message->binary && std::string_view(message->data).substr(0, broadcast.size()) == broadcast) {
        const std::string rest = message->data.substr(broadcast.size());
        for (const auto& [slot, generation] : sessions_) engine.send(session_ref{slot, generation}, rest, false, now);
      } else {
        engine.send(message->session, message->data, message->binary, now);
      }
    } else if (const auto* closed = std::get_if<close_event>(&e)) {
      sessions_.erase(key(closed->session));
      if (!quiet_) {
        std::fprintf(stderr, "close %u.%u: %s%s%s\n", closed->session.slot, closed->session.generation,
                     std::string(to_string(closed->reason)).c_str(), closed->description.empty() ? "" : " - ",
                     closed->description.c_str());
      }
    } else if (const auto* refused = std::get_if<connection_error_event>(&e)) {
      if (!quiet_) {
        std::fprintf(stderr, "refused %s?%s: %d %s (%s)\n", refused->request.path.c_str(), refused->request.query.c_str(),
                     static_cast<int>(refused->code), refused->message.c_str(), refused->context.c_str());
      }
    }
  }

private:
  static std::pair<std::uint32_t, std::uint32_t> key(session_ref s) { return {s.slot, s.generation}; }

  void log(server& engine, session_ref s, const char* what) const {
    if (quiet_) return;
    const auto transport = engine.session_transport(s);
    const auto version = engine.session_protocol(s);
    std::fprintf(stderr, "%s %u.%u sid=%s %s v%d\n", what, s.slot, s.generation, std::string(engine.session_id(s)).c_str(),
                 transport ? std::string(to_string(*transport)).c_str() : "?",
                 version ? static_cast<int>(*version) : 0);
  }

  bool quiet_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> sessions_;
};

int run_serve(const serve_arguments& args) {
  poco_server_options options;
  options.host = args.host;
  options.port = args.port;
  server_options& engine = options.engine;
  engine.path = args.path;
  engine.ping_interval = millis(args.ping_interval);
  engine.ping_timeout = millis(args.ping_timeout);
  engine.upgrade_timeout = millis(args.upgrade_timeout);
  engine.max_http_buffer_size = args.max_payload;
  engine.allow_polling = args.transports.find("polling") != std::string::npos;
  engine.allow_websocket = args.transports.find("websocket") != std::string::npos;
  engine.allow_upgrades = !args.no_upgrades;
  engine.allow_eio3 = args.allow_eio3;
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
    engine.cors = cors;
  }
  if (!args.cookie.empty()) {
    cookie_options cookie;
    cookie.name = args.cookie;
    engine.cookie = cookie;
  }

  std::unique_ptr<poco_server> server_instance;
  try {
    server_instance = std::make_unique<poco_server>(options, echo_application(args.quiet));
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "error: cannot listen on %s:%u: %s\n", args.host.c_str(), args.port, e.displayText().c_str());
    return exit_failure;
  }
  running = server_instance.get();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("eiotool serve: listening on http://%s:%u%s\n", args.host.c_str(), server_instance->port(), args.path.c_str());
  std::fflush(stdout);
  server_instance->run();
  running = nullptr;
  std::printf("eiotool serve: stopped\n");
  return exit_ok;
}

}  // namespace

void add_serve_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<serve_arguments>();
  CLI::App* command = app.add_subcommand("serve", "Run an Engine.IO server (echo and broadcast)");
  command->footer(serve_footer);
  command->add_option("--host", args->host, "Address to listen on")->capture_default_str();
  command->add_option("--port", args->port, "Port to listen on (0: any free port)")->capture_default_str();
  command->add_option("--path", args->path, "Engine.IO path")->capture_default_str();
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
  command->add_flag("--quiet", args->quiet, "Do not log sessions");
  command->callback([args, &action] { action = [args] { return run_serve(*args); }; });
}

}  // namespace eio::tool
