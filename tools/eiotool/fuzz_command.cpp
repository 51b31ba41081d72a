// `eiotool fuzz URL`: the command line, the run (cases from fuzz_cases.cpp
// through fuzz/fuzzer.hpp) and its summary, and --replay of a reproducer
// (fuzz/reproducer.hpp).
#include "fuzz_command.hpp"

#include "fuzz/fuzzer.hpp"
#include "fuzz/reproducer.hpp"
#include "plain_target.hpp"

#include <CLI/CLI.hpp>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eio::tool {
namespace {

using namespace eio::tool::fuzz;

const char* const fuzz_footer = R"text(Examples:
  eiotool serve --port 3000 &  eiotool fuzz http://127.0.0.1:3000/engine.io/ --duration 60 --seed 7
  eiotool fuzz http://127.0.0.1:3000/engine.io/ --only websocket --json
  eiotool fuzz http://127.0.0.1:3000/engine.io/ --replay eio-fuzz-cases/websocket-seed7-case42.json

Categories: handshake, http (framing, limits, slow senders), payload (v4 and
v3), sequence (double GET/POST, upgrade races, ...), websocket (frames),
mutation (of valid traffic). After every case a fresh handshake must succeed
and a control session opened at the start must still echo and answer pings
within --timeout; a case that breaks either is saved under --cases as a
reproducer (exact bytes and metadata) and the run stops.
With --socketio (the path defaults to /socket.io/) the cases are Socket.IO
packets (category socketio: packet types, attachment counts, placeholders,
namespaces, ack ids, JSON edge cases, binary frame order), and the health
check is a Socket.IO control socket: a fresh session must get its CONNECT
answered, and the control socket's emit of "echo" with an ack must be acked
with its argument (the demo application of eiotool serve --socketio).
  eiotool fuzz http://127.0.0.1:3000/socket.io/ --socketio --duration 60
Exit status: 0 no case broke the server, 1 one did, 2 bad usage or the target
is unreachable.)text";

// --socketio: a URL without a path means /socket.io/.
void default_socketio_path(plain_target& url, const std::string& text) {
  if (url.path == "/" || (url.path == "/engine.io/" && text.find("/engine.io") == std::string::npos)) url.path = "/socket.io/";
}

// ------------------------------------------------------------ commands

int run_replay(const fuzz_arguments& args) {
  reproducer r;
  std::string error;
  if (!load(args.replay, r, error)) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  const std::string url_text = args.url.empty() ? r.url : args.url;
  std::optional<plain_target> url = parse_plain_target(url_text, "fuzz", /*allow_query=*/false, error);
  if (!url) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  fuzz_arguments replay_args = args;
  replay_args.socketio = args.socketio || r.the_case.what == category::socketio;
  if (replay_args.socketio) default_socketio_path(*url, url_text);
  fuzzer f(replay_args, *url);
  if (const int status = f.resolve()) return status;
  if (!f.open_control(error)) {
    std::fprintf(stderr, "eiotool fuzz: %s is unreachable: %s\n", url_text.c_str(), error.c_str());
    return exit_usage;
  }
  f.probe_v3();
  std::string sid;
  const session_need session = f.usable(r.the_case.session);
  if (session != session_need::none) {
    sid = f.open_session(session, error);
    if (sid.empty()) {
      std::fprintf(stderr, "eiotool fuzz: the case's session could not be opened: %s\n", error.c_str());
      return exit_usage;
    }
    for (auto& part : r.the_case.chunks) replace_all(part.bytes, r.sid, sid);
  }
  std::printf("replaying %s case %s \"%s\" (%zu chunks) against %s\n", std::string(to_string(r.the_case.what)).c_str(),
              std::to_string(r.index).c_str(), r.the_case.name.c_str(), r.the_case.chunks.size(), url_text.c_str());
  const case_outcome outcome = f.run(r.the_case);
  std::string statuses;
  for (const auto& s : outcome.statuses) statuses += (statuses.empty() ? "" : ", ") + s;
  std::printf("answers: %s\n", statuses.empty() ? "none" : statuses.c_str());
  if (!f.healthy(error)) {
    std::printf("reproduced: %s\n", error.c_str());
    return exit_failure;
  }
  f.clean_up(outcome, session, sid);
  std::printf("not reproduced: the server still handshakes and the control session still echoes\n");
  return exit_ok;
}

int run_fuzz(const fuzz_arguments& args) {
  if (!args.socketio && args.only == "socketio") {
    // Socket.IO cases need the Socket.IO path and health check.
    fuzz_arguments socketio = args;
    socketio.socketio = true;
    return run_fuzz(socketio);
  }
  if (!args.replay.empty()) return run_replay(args);
  if (args.url.empty()) {
    std::fprintf(stderr, "eiotool fuzz: a URL is needed (or --replay FILE)\n");
    return exit_usage;
  }
  std::string error;
  std::optional<plain_target> url = parse_plain_target(args.url, "fuzz", /*allow_query=*/false, error);
  if (!url) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  std::vector<category> categories(all_categories.begin(), all_categories.end());
  if (args.socketio) {
    categories = {category::socketio};
    default_socketio_path(*url, args.url);
  }
  if (!args.only.empty()) {
    category only{};
    if (!parse_category(args.only, only)) {
      std::fprintf(stderr, "eiotool fuzz: unknown category \"%s\" (handshake, http, payload, sequence, websocket, mutation)\n",
                   args.only.c_str());
      return exit_usage;
    }
    categories = {only};
  }

  fuzzer f(args, *url);
  if (const int status = f.resolve()) return status;
  if (!f.open_control(error)) {
    std::fprintf(stderr, "eiotool fuzz: %s is unreachable or not an Engine.IO server: %s\n", args.url.c_str(),
                 error.c_str());
    return exit_usage;
  }
  const bool v3 = !args.socketio && f.probe_v3();  // --socketio sends no v3 case

  std::map<std::string, std::uint64_t> per_category;
  for (category c : categories) per_category[std::string(to_string(c))] = 0;
  std::map<std::string, std::uint64_t> statuses;
  std::vector<std::pair<reproducer, std::string>> failures;  // and the file
  std::uint64_t cases = 0;
  std::uint64_t setup_failures = 0;
  const auto start = clock_type::now();
  const auto end = start + std::chrono::milliseconds(static_cast<long long>(args.duration_s * 1000));
  const auto spacing = args.rate > 0 ? std::chrono::duration<double>(1.0 / args.rate) : std::chrono::duration<double>(0);

  for (std::uint64_t index = 0; index < args.count && clock_type::now() < end; ++index) {
    const auto due = start + std::chrono::duration_cast<clock_type::duration>(spacing * static_cast<double>(index));
    if (due > clock_type::now()) std::this_thread::sleep_until(due);
    // Each case draws from its own generator, so case N is the same whatever
    // the duration or --only filter that came before it.
    rng random(args.seed ^ (index * 0x9e3779b97f4a7c15ull));
    const category what = categories[index % categories.size()];
    const session_need session = f.usable(session_for(what, random));
    std::string sid;
    if (session != session_need::none) {
      sid = f.open_session(session, error);
      if (sid.empty()) {
        ++setup_failures;  // counted; the health check below decides whether it matters
      }
    }
    fuzz_case the_case = make_case(what, random, f.info_, session, sid.empty() ? "unknown" : sid);
    the_case.session = sid.empty() ? session_need::none : session;
    const case_outcome outcome = f.run(the_case);
    ++cases;
    ++per_category[std::string(to_string(what))];
    for (const auto& s : outcome.statuses) ++statuses[s];
    if (!f.healthy(error)) {
      reproducer r{the_case, sid, args.url, args.seed, index, error};
      std::string file;
      try {
        file = save(r, args.cases_dir);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "eiotool fuzz: %s\n", e.what());
      }
      std::fprintf(stderr, "FAILURE case %llu (%s: %s): %s\n  reproducer: %s\n",
                   static_cast<unsigned long long>(index), std::string(to_string(what)).c_str(),
                   the_case.name.c_str(), error.c_str(), file.c_str());
      failures.emplace_back(std::move(r), file);
      break;  // the server is broken: every later case would fail too
    }
    f.clean_up(outcome, session, sid);
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();

  if (args.json) {
    Poco::JSON::Object root;
    root.set("target", args.url);
    root.set("seed", args.seed);
    root.set("seconds", seconds);
    root.set("cases", cases);
    root.set("cases_per_second", seconds > 0 ? static_cast<double>(cases) / seconds : 0.0);
    Poco::JSON::Object by_category;
    for (const auto& [name, n] : per_category) by_category.set(name, n);
    root.set("by_category", by_category);
    Poco::JSON::Object histogram;
    for (const auto& [name, n] : statuses) histogram.set(name, n);
    root.set("statuses", histogram);
    root.set("v3_accepted", v3);
    root.set("session_setup_failures", setup_failures);
    root.set("control_echoes", f.echoes_);
    root.set("control_pings_answered", f.pings_answered_);
    Poco::JSON::Array list;
    for (const auto& [r, file] : failures) {
      Poco::JSON::Object item;
      item.set("case", r.index);
      item.set("category", std::string(to_string(r.the_case.what)));
      item.set("name", r.the_case.name);
      item.set("failure", r.failure);
      item.set("reproducer", file);
      list.add(item);
    }
    root.set("failures", list);
    std::ostringstream out;
    root.stringify(out, 2);
    std::printf("%s\n", out.str().c_str());
  } else {
    std::printf("eiotool fuzz %s: seed %llu, %.1f s, %llu cases (%.1f/s)%s\n", args.url.c_str(),
                static_cast<unsigned long long>(args.seed), seconds, static_cast<unsigned long long>(cases),
                seconds > 0 ? static_cast<double>(cases) / seconds : 0.0, v3 || args.socketio ? "" : ", v3 refused: v3 cases ran as v4");
    std::printf("cases:");
    for (const auto& [name, n] : per_category) std::printf(" %s %llu", name.c_str(), static_cast<unsigned long long>(n));
    std::printf("\nanswers:");
    for (const auto& [name, n] : statuses) std::printf(" %s x%llu", name.c_str(), static_cast<unsigned long long>(n));
    std::printf("\ncontrol session: %llu echoes, %llu pings answered\n", static_cast<unsigned long long>(f.echoes_),
                static_cast<unsigned long long>(f.pings_answered_));
    std::printf("failures: %zu\n", failures.size());
    for (const auto& [r, file] : failures) {
      std::printf("  case %llu %s \"%s\": %s\n    replay: eiotool fuzz %s --replay %s\n",
                  static_cast<unsigned long long>(r.index), std::string(to_string(r.the_case.what)).c_str(),
                  r.the_case.name.c_str(), r.failure.c_str(), args.url.c_str(), file.c_str());
    }
  }
  return failures.empty() ? exit_ok : exit_failure;
}

}  // namespace

void add_fuzz_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<fuzz_arguments>();
  auto* command = app.add_subcommand("fuzz", "Fuzz a live Engine.IO server over the network (loopback unless --allow-remote)");
  command->footer(fuzz_footer);
  command->add_option("url", args->url, "The server's Engine.IO URL, http://HOST:PORT/PATH/");
  command->add_option("--duration", args->duration_s, "Seconds to run at most")->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  command->add_option("--seed", args->seed, "Seed: the same seed sends the same cases")->capture_default_str();
  command->add_option("--rate", args->rate, "Cases per second at most (0: no limit)")->check(CLI::Range(0.0, 100000.0))->capture_default_str();
  command->add_option("--count", args->count, "Cases to send at most")->capture_default_str();
  command->add_option("--cases", args->cases_dir, "Directory for reproducer files")->capture_default_str();
  command->add_option("--only", args->only, "Run one category: handshake, http, payload, sequence, websocket, mutation");
  command->add_option("--replay", args->replay, "Replay one reproducer file (exit 1 if it breaks the server again)");
  command->add_option("--timeout", args->timeout_ms, "Milliseconds the health check waits for an answer")->check(CLI::Range(50L, 600000L))->capture_default_str();
  command->add_option("--window", args->window_ms, "Milliseconds a case's answers are collected")->check(CLI::Range(0L, 60000L))->capture_default_str();
  command->add_flag("--allow-remote", args->allow_remote, "Allow a target that is not a loopback address");
  command->add_flag("--json", args->json, "Print the summary as JSON");
  command->add_flag("--socketio", args->socketio, "Socket.IO cases and a Socket.IO control socket (path default /socket.io/)");
  command->callback([args, &action] { action = [args] { return run_fuzz(*args); }; });
}

}  // namespace eio::tool
