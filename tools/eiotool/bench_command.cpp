#include "bench_command.hpp"
#include "plain_target.hpp"

#include "bench/load.hpp"
#include "bench/socketio_load.hpp"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace eio::tool {
namespace {

struct bench_arguments {
  std::vector<std::string> urls;  // fanout: several (a cluster's nodes)
  std::string mode = "echo";
  std::string transport = "websocket";
  unsigned connections = 1;
  unsigned inflight = 1;
  std::size_t size = 32;
  bool binary = false;
  double duration = 5;
  double rate = 10;
  unsigned threads = 1;
  unsigned senders = 0;
  unsigned busy_poll_us = 0;
  std::string on_open;
  bool allow_remote = false;
  bool json = false;
  bool quiet = false;
  bool socketio = false;  // Socket.IO sockets on the sessions (bench/socketio_load.hpp)
  bool acks = false;      // --socketio echo: acks instead of echoed events
};

const char* const bench_footer = R"text(Modes:
  echo       C sessions each keep W messages of S bytes in flight against an
             echoing server (eiotool serve); every echo is checked byte for byte.
  idle       open C sessions and hold them for D seconds, answering pings; once
             all are open, "bench: all sessions open" goes to stderr and
             --on-open CMD runs (to read the server's memory, say).
  fanout     C WebSocket receivers and one sender of "broadcast:<seq>:<time>:..."
             R times a second; deliveries/s, lost deliveries, delivery latency.
             Several URLs (the nodes of a cluster, --socketio): the receivers
             are spread over them in turn, each has a sender (--senders N:
             the first N) and the senders take turns; every receiver must get
             every broadcast, each sender's in order.
  handshake  C polling clients, each opening a session and closing it (a "1"
             packet by POST) over and over on a keep-alive connection.

Examples:
  eiotool bench http://127.0.0.1:3000/engine.io/ --connections 100 --inflight 4
  eiotool bench http://127.0.0.1:3000/engine.io/ --transport polling --connections 50
  eiotool bench http://127.0.0.1:3000/engine.io/ --mode fanout --connections 1000 --rate 10
  eiotool bench http://127.0.0.1:3000/engine.io/ --mode idle --connections 10000 --on-open 'ps -o rss= -p 1234'

With --socketio (the path defaults to /socket.io/), each session is a
Socket.IO socket of the demo application (eiotool serve --socketio, the Node
reference tests/interop/socketio_reference_server.mjs): echo emits "echo"
and checks the echoed event (--acks: the ack) with S bytes of text (--binary:
one attachment of S bytes); fanout has the receivers join room "bench" and
the sender emit "to-room", checking every "room-message"; idle holds
connected sockets; handshake is the polling handshake, a CONNECT and a close
(connect rate). Every answer is decoded and checked with the Socket.IO codec.
  eiotool bench http://127.0.0.1:3000/ --socketio --connections 100 --inflight 4 --acks
  eiotool bench http://127.0.0.1:3001/ http://127.0.0.1:3002/ --socketio --mode fanout -c 1000 --rate 100

The figures cover the D measured seconds, after every session is open. A
progress line goes to stderr every second; --json prints one JSON object on
stdout. Exit status 1 when there was any error.)text";

bench::load_target parse_url(const std::string& url, bool allow_remote) {
  std::string error;
  const std::optional<plain_target> parsed = parse_plain_target(url, "bench", /*allow_query=*/true, error);
  if (!parsed) throw std::runtime_error(error);
  bench::load_target target;
  target.host = parsed->host;
  target.port = parsed->port;
  target.path = parsed->path;
  const std::string& host = target.host;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) throw std::runtime_error("cannot resolve " + host + " (IPv4)");
  target.address = *reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  freeaddrinfo(found);
  target.address.sin_port = htons(target.port);
  const bool loopback = (ntohl(target.address.sin_addr.s_addr) >> 24) == 127;
  if (!loopback && !allow_remote) {
    throw std::runtime_error(host + " is not a loopback address: pass --allow-remote to load another machine");
  }
  return target;
}

double micros(std::uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

void print_json(const bench_arguments& args, const bench::load_result& r) {
  const double seconds = r.elapsed > 0 ? r.elapsed : 1;
  const auto& h = r.latency;
  std::printf("{\"mode\":\"%s\",\"transport\":\"%s\",\"connections\":%u,\"inflight\":%u,\"size\":%zu,\"binary\":%s,"
              "\"threads\":%u,\"rate\":%g,\"duration\":%.3f,\"open_seconds\":%.3f,"
              "\"sessions_opened\":%llu,\"sessions_alive\":%llu,\"sessions_failed\":%llu,"
              "\"messages\":%llu,\"messages_per_second\":%.1f,\"bytes\":%llu,\"bytes_per_second\":%.1f,"
              "\"broadcasts\":%llu,\"expected\":%llu,\"lost\":%llu,\"pings\":%llu,"
              "\"latency_us\":{\"count\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
              "\"errors\":%llu,\"mismatches\":%llu,\"client_cpu_seconds\":%.3f,\"first_error\":\"",
              args.mode.c_str(), args.transport.c_str(), args.connections, args.inflight, args.size, args.binary ? "true" : "false",
              args.threads, args.rate, r.elapsed, r.open_seconds, static_cast<unsigned long long>(r.sessions_opened),
              static_cast<unsigned long long>(r.sessions_alive), static_cast<unsigned long long>(r.sessions_failed),
              static_cast<unsigned long long>(r.messages), static_cast<double>(r.messages) / seconds,
              static_cast<unsigned long long>(r.bytes), static_cast<double>(r.bytes) / seconds,
              static_cast<unsigned long long>(r.broadcasts), static_cast<unsigned long long>(r.expected),
              static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.pings),
              static_cast<unsigned long long>(h.count()), h.mean() / 1000.0, micros(h.percentile(0.5)), micros(h.percentile(0.9)),
              micros(h.percentile(0.99)), micros(h.max()), static_cast<unsigned long long>(r.errors),
              static_cast<unsigned long long>(r.mismatches), r.client_cpu);
  for (const char ch : r.first_error) {
    if (ch == '"' || ch == '\\') {
      std::printf("\\%c", ch);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      std::printf("\\u%04x", ch);
    } else {
      std::putchar(ch);
    }
  }
  std::printf("\"}\n");
}

void print_table(const bench_arguments& args, const bench::load_result& r) {
  const double seconds = r.elapsed > 0 ? r.elapsed : 1;
  const auto& h = r.latency;
  auto row = [](const char* name, const std::string& value) { std::printf("  %-22s %s\n", name, value.c_str()); };
  auto num = [](double v, const char* unit) {
    char text[64];
    std::snprintf(text, sizeof text, "%.1f%s", v, unit);
    return std::string(text);
  };
  std::string urls;
  for (const std::string& url : args.urls) urls += (urls.empty() ? "" : " ") + url;
  std::printf("eiotool bench %s: %s over %s, %u connections", urls.c_str(), args.mode.c_str(), args.transport.c_str(), args.connections);
  if (args.mode == "echo") std::printf(", %u in flight, %zu B %s", args.inflight, args.size, args.binary ? "binary" : "text");
  if (args.mode == "fanout") std::printf(", %zu B, %g broadcasts/s", args.size, args.rate);
  std::printf(", %u thread%s\n", args.threads, args.threads == 1 ? "" : "s");
  row("measured", num(r.elapsed, " s"));
  row("sessions opened", std::to_string(r.sessions_opened) + " in " + num(r.open_seconds, " s") + " (" +
                              num(static_cast<double>(r.sessions_opened) / (r.open_seconds > 0 ? r.open_seconds : 1), "/s") + ")");
  if (args.mode != "handshake") row("sessions alive at end", std::to_string(r.sessions_alive));
  if (r.sessions_failed) row("sessions failed", std::to_string(r.sessions_failed));
  if (args.mode == "echo") {
    row("messages", std::to_string(r.messages) + " (" + num(static_cast<double>(r.messages) / seconds, "/s") + ")");
    row("bytes", num(static_cast<double>(r.bytes) / seconds / 1e6, " MB/s"));
  } else if (args.mode == "fanout") {
    row("broadcasts sent", std::to_string(r.broadcasts));
    row("deliveries", std::to_string(r.messages) + " of " + std::to_string(r.expected) + " (" +
                          num(static_cast<double>(r.messages) / seconds, "/s") + ")");
    row("lost", std::to_string(r.lost));
  } else if (args.mode == "handshake") {
    row("handshakes", std::to_string(r.messages) + " (" + num(static_cast<double>(r.messages) / seconds, "/s") + ")");
  }
  if (args.mode != "idle") {
    row("latency p50/p90/p99", num(micros(h.percentile(0.5)), "") + " / " + num(micros(h.percentile(0.9)), "") + " / " +
                                   num(micros(h.percentile(0.99)), " us"));
    row("latency max", num(micros(h.max()), " us"));
  }
  row("pings answered", std::to_string(r.pings));
  row("client CPU", num(100.0 * r.client_cpu / seconds, " %"));
  row("errors", std::to_string(r.errors) + (r.mismatches ? " (" + std::to_string(r.mismatches) + " mismatched echoes)" : ""));
  if (!r.first_error.empty()) row("first error", r.first_error);
}

int run_bench(const bench_arguments& args) {
  bench::load_options options;
  // Only a cluster carries one node's broadcast to the others' sockets.
  if (args.urls.size() > 1 && (args.mode != "fanout" || !args.socketio)) {
    throw std::runtime_error("several URLs (the nodes of a cluster) are for --socketio --mode fanout only");
  }
  if (args.senders > args.urls.size()) {
    throw std::runtime_error("--senders " + std::to_string(args.senders) + " is more than the " + std::to_string(args.urls.size()) +
                             " URL(s) given: one sender per URL at most");
  }
  for (const std::string& url : args.urls) options.targets.push_back(parse_url(url, args.allow_remote));
  options.mode = args.mode == "idle" ? bench::load_mode::idle
                 : args.mode == "fanout" ? bench::load_mode::fanout
                 : args.mode == "handshake" ? bench::load_mode::handshake
                                            : bench::load_mode::echo;
  options.transport = args.transport == "polling" ? bench::load_transport::polling : bench::load_transport::websocket;
  if (options.mode == bench::load_mode::handshake) options.transport = bench::load_transport::polling;
  if (options.mode == bench::load_mode::fanout) options.transport = bench::load_transport::websocket;
  options.connections = args.connections;
  options.inflight = args.inflight;
  options.size = args.size;
  options.binary = args.binary;
  options.duration = args.duration;
  options.rate = args.rate;
  options.threads = args.threads;
  options.senders = args.senders;
  options.busy_poll_us = args.busy_poll_us;
  options.on_open = args.on_open;
  options.progress = !args.quiet;
  bench::load_result result;
  if (args.socketio) {
    // A URL without a path means the Socket.IO default.
    for (std::size_t i = 0; i < args.urls.size(); ++i) {
      if (options.targets[i].path == "/engine.io/" && args.urls[i].find("/engine.io") == std::string::npos) options.targets[i].path = "/socket.io/";
    }
    bench::socketio_load_options sio;
    sio.load = options;
    sio.acks = args.acks;
    result = bench::run_socketio_load(sio);
  } else {
    result = bench::run_load(options);
  }
  bench_arguments shown = args;
  if (args.socketio && !args.json) shown.transport += args.acks ? " (Socket.IO, acks)" : " (Socket.IO)";
  if (options.mode == bench::load_mode::handshake) shown.transport = "polling";
  if (options.mode == bench::load_mode::fanout) shown.transport = "websocket";
  if (args.json) {
    print_json(shown, result);
  } else {
    print_table(shown, result);
  }
  return result.errors == 0 && result.lost == 0 ? exit_ok : exit_failure;
}

}  // namespace

void add_bench_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<bench_arguments>();
  CLI::App* command = app.add_subcommand("bench", "Load an Engine.IO server: echo, idle, fanout or handshake");
  command->footer(bench_footer);
  command->add_option("url", args->urls, "Server URL, e.g. http://127.0.0.1:3000/engine.io/ (fanout: one or more)")->required();
  command->add_option("--mode", args->mode, "echo, idle, fanout or handshake")
      ->check(CLI::IsMember({"echo", "idle", "fanout", "handshake"}))
      ->capture_default_str();
  command->add_option("--transport", args->transport, "websocket (straight, ?transport=websocket) or polling (echo, idle)")
      ->check(CLI::IsMember({"websocket", "polling"}))
      ->capture_default_str();
  command->add_option("--connections,-c", args->connections, "Sessions (fanout: receivers; handshake: in parallel)")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  command->add_option("--inflight,-w", args->inflight, "echo: messages in flight per session")->check(CLI::Range(1u, 65536u))->capture_default_str();
  command->add_option("--size,-s", args->size, "Bytes of data per message")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))->capture_default_str();
  command->add_flag("--binary", args->binary, "echo: binary messages (base64 'b' packets over polling)");
  command->add_option("--duration,-d", args->duration, "Seconds to measure, after every session is open")->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  command->add_option("--rate,-r", args->rate, "fanout: broadcasts per second")->check(CLI::Range(0.1, 1e6))->capture_default_str();
  command->add_option("--senders", args->senders, "fanout with several URLs: senders on the first N only (default: one on each)")
      ->check(CLI::Range(1u, 1024u));
  command->add_option("--threads,-t", args->threads, "Client threads, each with its own epoll loop")->check(CLI::Range(1u, 64u))->capture_default_str();
  command->add_option("--busy-poll", args->busy_poll_us,
                      "Microseconds each thread polls without sleeping before it waits (sharper latency, a busy core)")
      ->check(CLI::Range(0u, 1'000'000u))
      ->capture_default_str();
  command->add_option("--on-open", args->on_open, "idle: shell command to run once every session is open");
  command->add_flag("--allow-remote", args->allow_remote, "Allow a server that is not on a loopback address");
  command->add_flag("--socketio", args->socketio, "Socket.IO sockets of the demo application on the sessions (path default /socket.io/)");
  command->add_flag("--acks", args->acks, "--socketio echo: emit with an ack and check the ack instead of an echoed event");
  command->add_flag("--json", args->json, "Print the figures as one JSON object");
  command->add_flag("--quiet,-q", args->quiet, "No progress line on stderr");
  command->callback([args, &action] { action = [args] { return run_bench(*args); }; });
}

}  // namespace eio::tool
