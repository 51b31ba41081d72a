// `eiotool probe URL`: the command line; the probe itself is probe/probe.hpp.
#include "probe_command.hpp"

#include "probe/probe.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace eio::tool {
namespace {

using probing::probe;
using probing::probe_arguments;

const char* const probe_footer = R"text(Examples:
  eiotool probe http://127.0.0.1:3000/
  eiotool probe https://chat.example/socket.io/ --origin https://app.example
  eiotool probe ws://127.0.0.1:3000/ --transport websocket --send hi --expect-echo
  eiotool probe http://127.0.0.1:3000/ --eio 3 --listen 30 --json
  eiotool probe http://127.0.0.1:3000/ --socketio --namespace /admin --auth '{"token":"abc"}'
  eiotool probe https://chat.example/ --socketio --emit ping --args '["hello", 1]'

Steps: connect (TCP/TLS, certificate), handshake (status, sid, upgrades,
timings, CORS for --origin, Set-Cookie), same sid (a second request: a load
balancer without sticky sessions fails here), upgrade (polling -> websocket
and its probe), messages (--send, --expect-echo, --listen), heartbeat (the
first ping; waited for when pingInterval fits in --timeout or --listen).
With --socketio (the path defaults to /socket.io/): socketio (a CONNECT to
--namespace with --auth, answered with its sid, and its pid when the server
has connection state recovery on, or refused: the CONNECT_ERROR's message
and data), emit (--emit EVENT with --args, and its acknowledgement).
Exit status: 0 every step passed, 1 the endpoint answered but a step failed
(the verdict names it), 2 unreachable or bad usage.)text";

}  // namespace

void add_probe_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<probe_arguments>();
  CLI::App* command = app.add_subcommand("probe", "Check an Engine.IO endpoint step by step and say what is wrong");
  command->footer(probe_footer);
  command->add_option("URL", args->url, "http://, https://, ws:// or wss://host[:port][/path/] (path: /engine.io/)")
      ->required();
  command->add_option("--transport", args->transport, "polling, websocket, or upgrade (polling, then websocket)")
      ->check(CLI::IsMember({"polling", "websocket", "upgrade"}))
      ->capture_default_str();
  command->add_option("--eio", args->eio, "Protocol version")->check(CLI::IsMember({3, 4}))->capture_default_str();
  command->add_option("--header", args->headers, "Extra request header 'Name: value' (repeat)");
  command->add_option("--origin", args->origin, "Send this Origin and check the CORS answer");
  command->add_option("--send", args->sends, "Send this text message (repeat)");
  command->add_flag("--expect-echo", args->expect_echo, "Each --send must come back unchanged; time the round trip");
  command->add_option("--listen", args->listen, "Then print incoming messages for SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_option("--count", args->count, "Send the --send messages N times (with --listen alone: stop after N messages)")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  command->add_flag("--json", args->json, "Print one JSON object instead of the checklist");
  command->add_option("--timeout", args->timeout, "Milliseconds each step may take")
      ->check(CLI::Range(1L, 3'600'000L))
      ->capture_default_str();
  command->add_flag("--insecure", args->insecure, "TLS: accept any certificate and host name");
  command->add_flag("--socketio", args->socketio, "Then connect a Socket.IO namespace (path default /socket.io/)");
  command->add_option("--namespace", args->nsp, "--socketio: the namespace to connect")->capture_default_str();
  command->add_option("--auth", args->auth, "--socketio: the CONNECT's auth, a JSON object")->type_name("JSON");
  command->add_option("--emit", args->emit, "--socketio: emit EVENT with --args and wait for its acknowledgement")
      ->type_name("EVENT");
  command->add_option("--args", args->emit_args, "--socketio: the arguments of --emit, a JSON array")
      ->type_name("JSON")
      ->capture_default_str();
  command->callback([args, &action] {
    action = [args] { return probe(*args).run(); };
  });
}

}  // namespace eio::tool
