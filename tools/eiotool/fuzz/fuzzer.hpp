// `eiotool fuzz`: the fuzzer itself, which sends a case's bytes on its
// connections, reads what came back (eio::wire's response reader, the one
// of every tool), and checks after each case that the server still works: a
// fresh handshake, and a control session that must echo and answer pings.
#pragma once

#include "../fuzz_cases.hpp"
#include "../fuzz_socketio.hpp"
#include "../plain_target.hpp"
#include "connection.hpp"

#include <eio/wire/response_reader.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eio::tool::fuzz {

struct fuzz_arguments {
  std::string url;
  double duration_s = 60;
  std::uint64_t seed = 1;
  double rate = 100;  // cases per second at most
  std::uint64_t count = 1'000'000;
  std::string cases_dir = "eio-fuzz-cases";
  std::string only;
  std::string replay;
  long timeout_ms = 2000;  // an answer the health check waits for
  long window_ms = 200;    // how long a case's answers are collected
  bool allow_remote = false;
  bool json = false;
  bool socketio = false;  // Socket.IO cases and control socket (fuzz_socketio.hpp)
};

struct http_answer {
  int status = 0;
  std::string body;
  std::size_t consumed = 0;  // bytes of the stream this answer took
};

enum class parse_result { complete, need_more, garbage };

// Reads one HTTP/1.1 response from the front of `in` (when the peer closed,
// `eof`: a body may run to the end). A 101's body is whatever follows:
// WebSocket frames, not read here.
inline parse_result parse_answer(std::string_view in, bool eof, http_answer& out) {
  thread_local wire::http_response_view view;
  const wire::response_read read = wire::read_response(in, eof, view);
  if (read.status == wire::response_status::need_more) return parse_result::need_more;
  if (read.status == wire::response_status::error) return parse_result::garbage;
  out.status = view.status;
  out.body.assign(view.body);
  out.consumed = read.consumed;
  return parse_result::complete;
}

// The sid in a handshake answer: the open packet's JSON, v4 or v3 framing.
inline std::string sid_of(std::string_view body) {
  constexpr std::string_view key = "\"sid\":\"";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return {};
  const auto end = body.find('"', at + key.size());
  if (end == std::string_view::npos) return {};
  return std::string(body.substr(at + key.size(), end - at - key.size()));
}

struct case_outcome {
  std::vector<std::string> statuses;  // "200", "101", "no answer", "closed"
  std::vector<std::string> sids;      // sessions the case opened, to close afterwards
  bool refused = false;
};

class fuzzer {
public:
  fuzzer(const fuzz_arguments& args, plain_target url) : args_(args), url_(std::move(url)) {
    info_.host_header = url_.host_header();
    info_.path = url_.path;
  }

  // Resolves the target and checks it is allowed: 0 or exit_usage.
  int resolve() {
    try {
      address_ = Poco::Net::SocketAddress(url_.host, url_.port);
    } catch (const Poco::Exception& e) {
      std::fprintf(stderr, "eiotool fuzz: cannot resolve %s: %s\n", url_.host.c_str(), e.displayText().c_str());
      return exit_usage;
    }
    if (!address_.host().isLoopback() && !args_.allow_remote) {
      std::fprintf(stderr,
                   "eiotool fuzz: %s is not a loopback address; fuzzing a remote server needs --allow-remote "
                   "(and its owner's permission)\n",
                   address_.host().toString().c_str());
      return exit_usage;
    }
    return 0;
  }

  // A GET or POST on its own connection, answer within --timeout.
  std::optional<http_answer> exchange(const std::string& method, const std::string& target, std::string_view body,
                                      std::string& error) {
    connection c;
    if (!c.open(address_, args_.timeout_ms, error)) return std::nullopt;
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + info_.host_header + "\r\n";
    if (method == "POST") {
      request += "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n";
    request.append(body);
    if (!c.write(request)) {
      error = "the request could not be written";
      return std::nullopt;
    }
    const auto deadline = clock_type::now() + std::chrono::milliseconds(args_.timeout_ms);
    http_answer answer;
    for (;;) {
      const bool alive = c.read(10);
      switch (parse_answer(c.received, !alive, answer)) {
        case parse_result::complete: return answer;
        case parse_result::garbage:
          error = c.received.empty() ? "connection closed without an answer" : "malformed answer";
          return std::nullopt;
        case parse_result::need_more: break;
      }
      if (!alive) {
        error = "connection closed without an answer";
        return std::nullopt;
      }
      if (clock_type::now() > deadline) {
        error = "no answer within " + std::to_string(args_.timeout_ms) + " ms";
        return std::nullopt;
      }
    }
  }

  std::string handshake_target(session_need version) const {
    return url_.path + "?EIO=" + (version == session_need::v3 ? "3" : "4") + "&transport=polling";
  }
  std::string session_target(session_need version, const std::string& sid) const {
    return handshake_target(version) + "&sid=" + sid;
  }

  // A polling handshake; the sid, or empty with `error` set.
  std::string open_session(session_need version, std::string& error) {
    auto answer = exchange("GET", handshake_target(version), {}, error);
    if (!answer) return {};
    std::string sid = answer->status == 200 ? sid_of(answer->body) : std::string();
    if (sid.empty()) error = "handshake answered " + std::to_string(answer->status) + " " + answer->body.substr(0, 80);
    return sid;
  }

  void close_session(session_need version, const std::string& sid) {
    std::string ignored;
    exchange("POST", session_target(version, sid), version == session_need::v3 ? "1:1" : "1", ignored);
  }

  // The control session: opened once, must echo and answer pings after every case.
  bool open_control(std::string& error) {
    if (args_.socketio) return socketio_control_.open(error);
    control_sid_ = open_session(session_need::v4, error);
    return !control_sid_.empty();
  }

  bool check_control(std::string& error) {
    const std::string text = "ctl-" + std::to_string(++control_serial_);
    const std::string target = session_target(session_need::v4, control_sid_);
    auto posted = exchange("POST", target, "4" + text, error);
    if (!posted) {
      error = "control session: echo POST: " + error;
      return false;
    }
    if (posted->status != 200) {
      error = "control session: echo POST answered " + std::to_string(posted->status) + " " + posted->body.substr(0, 80);
      return false;
    }
    for (int poll = 0; poll < 4; ++poll) {
      auto answer = exchange("GET", target, {}, error);
      if (!answer) {
        error = "control session: poll: " + error;
        return false;
      }
      if (answer->status != 200) {
        error = "control session: poll answered " + std::to_string(answer->status) + " " + answer->body.substr(0, 80);
        return false;
      }
      bool echoed = false;
      std::size_t at = 0;
      const std::string& body = answer->body;
      while (at <= body.size()) {
        const auto end = std::min(body.find('\x1e', at), body.size());
        const std::string_view packet(body.data() + at, end - at);
        if (packet == "2") {  // the server's ping: answer it as a client must
          auto pong = exchange("POST", target, "3", error);
          if (!pong || pong->status != 200) {
            error = "control session: pong refused" + (pong ? " (" + std::to_string(pong->status) + ")" : ": " + error);
            return false;
          }
          ++pings_answered_;
        } else if (packet == "1") {
          error = "control session: closed by the server";
          return false;
        } else if (packet == "4" + text) {
          echoed = true;
        }
        at = end + 1;
      }
      if (echoed) {
        ++echoes_;
        return true;
      }
    }
    error = "control session: no echo of " + text;
    return false;
  }

  // The health check after every case. The fresh handshake gets one retry
  // (200 ms later) so that a momentary refusal is not reported; the control
  // session gets none: losing it is not momentary.
  bool healthy(std::string& error) {
    if (args_.socketio) return socketio_healthy(error);
    std::string sid;
    for (int attempt = 0; attempt < 2 && sid.empty(); ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      sid = open_session(session_need::v4, error);
    }
    if (sid.empty()) {
      error = "fresh handshake: " + error;
      return false;
    }
    close_session(session_need::v4, sid);
    return check_control(error);
  }

  // The Socket.IO health check: a fresh CONNECT (one retry, as above),
  // then the control socket's ack round trip.
  bool socketio_healthy(std::string& error) {
    bool connected = false;
    for (int attempt = 0; attempt < 2 && !connected; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      error.clear();
      connected = socketio_control_.fresh_connect(error);
    }
    if (!connected) {
      error = "fresh session: " + error;
      return false;
    }
    error.clear();
    if (!socketio_control_.check(error)) return false;
    echoes_ = socketio_control_.acks();
    pings_answered_ = socketio_control_.pings();
    return true;
  }

  case_outcome run(const fuzz_case& c) {
    case_outcome outcome;
    std::vector<std::unique_ptr<connection>> connections;
    for (const chunk& part : c.chunks) {
      if (part.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(part.delay_ms));
      while (connections.size() <= part.connection) connections.push_back(nullptr);
      auto& conn = connections[part.connection];
      if (!conn) {
        conn = std::make_unique<connection>();
        std::string error;
        if (!conn->open(address_, args_.timeout_ms, error)) outcome.refused = true;
      }
      conn->write(part.bytes);
      for (auto& other : connections) {
        if (other) other->read(0);
      }
    }
    // Collect answers: a connection is settled once the peer closed it or
    // it answered and then stayed quiet for 10 ms; held polls are not, and
    // wait out the window.
    const auto deadline = clock_type::now() + std::chrono::milliseconds(args_.window_ms);
    for (;;) {
      bool settled = true;
      for (auto& conn : connections) {
        if (!conn || !conn->is_open() || conn->peer_closed()) continue;
        conn->read(1);
        const bool quiet = !conn->received.empty() && clock_type::now() - conn->last_arrival > std::chrono::milliseconds(10);
        if (!conn->peer_closed() && !quiet) settled = false;
      }
      if (settled || clock_type::now() > deadline) break;
    }
    for (auto& conn : connections) {
      if (!conn || !conn->is_open()) continue;
      std::string_view rest = conn->received;
      if (rest.empty()) outcome.statuses.push_back(conn->peer_closed() ? "closed" : "no answer");
      while (!rest.empty()) {
        http_answer answer;
        const auto result = parse_answer(rest, conn->peer_closed(), answer);
        if (result != parse_result::complete) {
          if (result == parse_result::garbage) outcome.statuses.push_back("malformed");
          break;
        }
        outcome.statuses.push_back(std::to_string(answer.status));
        if (answer.status == 200) {
          std::string sid = sid_of(answer.body);
          if (!sid.empty()) outcome.sids.push_back(std::move(sid));
        }
        if (answer.status == 101) break;  // the rest is WebSocket frames
        rest.remove_prefix(answer.consumed);
      }
      conn->close();
    }
    return outcome;
  }

  // Closes what a case left open, so a long run does not pile up sessions
  // until their ping timeout.
  void clean_up(const case_outcome& outcome, session_need session, const std::string& sid) {
    if (!sid.empty()) close_session(session, sid);
    for (const auto& opened : outcome.sids) {
      if (opened != sid && opened != control_sid_) {
        close_session(session_need::v4, opened);
        close_session(session_need::v3, opened);
      }
    }
  }

  session_need usable(session_need wanted) const {
    return wanted == session_need::v3 && !v3_supported_ ? session_need::v4 : wanted;
  }

  bool probe_v3() {
    std::string error;
    const std::string sid = open_session(session_need::v3, error);
    v3_supported_ = !sid.empty();
    if (v3_supported_) close_session(session_need::v3, sid);
    return v3_supported_;
  }

  const fuzz_arguments& args_;
  plain_target url_;
  target_info info_;
  Poco::Net::SocketAddress address_;
  std::string control_sid_;
  std::uint64_t control_serial_ = 0;
  std::uint64_t pings_answered_ = 0;
  std::uint64_t echoes_ = 0;
  bool v3_supported_ = false;
  socketio_control socketio_control_{url_.path, [this](const std::string& method, const std::string& target,
                                                       std::string_view body, int& status, std::string& answer,
                                                       std::string& error) {
    auto got = exchange(method, target, body, error);
    if (!got) return false;
    status = got->status;
    answer = std::move(got->body);
    return true;
  }};
};

}  // namespace eio::tool::fuzz
