#include "fuzz_command.hpp"

#include "fuzz_cases.hpp"
#include "fuzz_socketio.hpp"

#include <eio/base64.hpp>

#include <CLI/CLI.hpp>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

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
using clock_type = std::chrono::steady_clock;

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

// ------------------------------------------------------------ target

struct target_url {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/engine.io/";
};

bool parse_url(const std::string& url, target_url& out, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    error = url.rfind("https://", 0) == 0 ? "https:// targets are not supported (fuzz over plain http://)"
                                          : "the URL must start with http://";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/engine.io/" : rest.substr(slash);
  if (out.path.find_first_of("?#") != std::string::npos) {
    error = "the URL must not have a query or fragment";
    return false;
  }
  if (out.path.back() != '/') out.path += '/';
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:3000
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "bad IPv6 address in the URL";
      return false;
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "the URL has no host";
    return false;
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port_text) == 0 || std::stoul(port_text) > 65535) {
      error = "bad port in the URL";
      return false;
    }
    out.port = static_cast<std::uint16_t>(std::stoul(port_text));
  }
  return true;
}

// --socketio: a URL without a path means /socket.io/.
void default_socketio_path(target_url& url, const std::string& text) {
  if (url.path == "/" || (url.path == "/engine.io/" && text.find("/engine.io") == std::string::npos)) url.path = "/socket.io/";
}

std::string host_header(const target_url& t) {
  const bool v6 = t.host.find(':') != std::string::npos;
  return (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port);
}

// ------------------------------------------------------------ sockets

// One TCP connection of a case or a check. Closed with a reset (SO_LINGER 0)
// so thousands of cases leave no TIME_WAIT behind to exhaust local ports.
class connection {
public:
  bool open(const Poco::Net::SocketAddress& address, long timeout_ms, std::string& error) {
    try {
      socket_.connect(address, Poco::Timespan(timeout_ms * 1000));
      socket_.setNoDelay(true);
      socket_.setSendTimeout(Poco::Timespan(timeout_ms * 1000));
      open_ = true;
      return true;
    } catch (const Poco::Exception& e) {
      error = e.displayText();
      return false;
    }
  }
  ~connection() { close(); }

  void close() {
    if (!open_) return;
    open_ = false;
    try {
      socket_.setLinger(true, 0);
      socket_.close();
    } catch (const Poco::Exception&) {
    }
  }

  // Writes everything unless the peer stops reading or closes.
  bool write(std::string_view bytes) {
    if (!open_ || peer_closed_) return false;
    try {
      std::size_t at = 0;
      while (at < bytes.size()) {
        const int n = socket_.sendBytes(bytes.data() + at, static_cast<int>(std::min<std::size_t>(bytes.size() - at, 1 << 16)));
        if (n <= 0) return false;
        at += static_cast<std::size_t>(n);
      }
      return true;
    } catch (const Poco::Exception&) {
      return false;
    }
  }

  // Reads what arrives within `wait_ms`; false once the peer closed.
  bool read(long wait_ms) {
    if (!open_ || peer_closed_) return false;
    try {
      if (!socket_.poll(Poco::Timespan(wait_ms * 1000), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
        return true;
      }
      char buffer[16384];
      const int n = socket_.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) {
        peer_closed_ = true;
        return false;
      }
      received.append(buffer, static_cast<std::size_t>(n));
      last_arrival = clock_type::now();
      return true;
    } catch (const Poco::Exception&) {
      peer_closed_ = true;
      return false;
    }
  }

  bool is_open() const noexcept { return open_; }
  bool peer_closed() const noexcept { return peer_closed_; }

  std::string received;
  clock_type::time_point last_arrival{};

private:
  Poco::Net::StreamSocket socket_;
  bool open_ = false;
  bool peer_closed_ = false;
};

// ------------------------------------------------------------ HTTP answers

struct http_answer {
  int status = 0;
  std::string body;
  std::size_t consumed = 0;  // bytes of the stream this answer took
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

enum class parse_result { complete, need_more, garbage };

// Reads one HTTP/1.1 response from the front of `in`: Content-Length,
// chunked, or (when the peer closed, `eof`) everything to the end. A 101's
// body is whatever follows: WebSocket frames, not read here.
parse_result parse_answer(std::string_view in, bool eof, http_answer& out) {
  const auto end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return in.size() > 65536 ? parse_result::garbage : parse_result::need_more;
  if (in.rfind("HTTP/1.", 0) != 0 || in.size() < 12) return parse_result::garbage;
  out.status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (in[i] < '0' || in[i] > '9') return parse_result::garbage;
    out.status = out.status * 10 + (in[i] - '0');
  }
  std::optional<std::size_t> length;
  bool chunked = false;
  std::size_t at = in.find("\r\n") + 2;
  while (at < end) {
    const auto line_end = in.find("\r\n", at);
    const std::string_view line = in.substr(at, line_end - at);
    if (iequals_prefix(line, "content-length:")) {
      length = static_cast<std::size_t>(std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10));
    } else if (iequals_prefix(line, "transfer-encoding:") && line.find("chunked") != std::string_view::npos) {
      chunked = true;
    }
    at = line_end + 2;
  }
  std::size_t body_at = end + 4;
  out.body.clear();
  if (out.status == 101 || out.status == 204 || out.status == 304) {
    out.consumed = body_at;
    return parse_result::complete;
  }
  if (chunked) {
    for (;;) {
      const auto size_end = in.find("\r\n", body_at);
      if (size_end == std::string_view::npos) return eof ? parse_result::garbage : parse_result::need_more;
      const std::size_t size = std::strtoull(std::string(in.substr(body_at, size_end - body_at)).c_str(), nullptr, 16);
      if (in.size() < size_end + 2 + size + 2) return eof ? parse_result::garbage : parse_result::need_more;
      if (size == 0) {
        out.consumed = size_end + 4;  // no trailers expected from an Engine.IO server
        return parse_result::complete;
      }
      out.body.append(in.substr(size_end + 2, size));
      body_at = size_end + 2 + size + 2;
    }
  }
  if (length) {
    if (in.size() - body_at < *length) return eof ? parse_result::garbage : parse_result::need_more;
    out.body = std::string(in.substr(body_at, *length));
    out.consumed = body_at + *length;
    return parse_result::complete;
  }
  if (!eof) return parse_result::need_more;
  out.body = std::string(in.substr(body_at));
  out.consumed = in.size();
  return parse_result::complete;
}

// The sid in a handshake answer: the open packet's JSON, v4 or v3 framing.
std::string sid_of(std::string_view body) {
  constexpr std::string_view key = "\"sid\":\"";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return {};
  const auto end = body.find('"', at + key.size());
  if (end == std::string_view::npos) return {};
  return std::string(body.substr(at + key.size(), end - at - key.size()));
}

// ------------------------------------------------------------ the fuzzer

struct case_outcome {
  std::vector<std::string> statuses;  // "200", "101", "no answer", "closed"
  std::vector<std::string> sids;      // sessions the case opened, to close afterwards
  bool refused = false;
};

class fuzzer {
public:
  fuzzer(const fuzz_arguments& args, target_url url) : args_(args), url_(std::move(url)) {
    info_.host_header = host_header(url_);
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
  target_url url_;
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

// ------------------------------------------------------------ reproducers

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\\') out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

struct reproducer {
  fuzz_case the_case;
  std::string sid;
  std::string url;
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  std::string failure;
};

std::string save(const reproducer& r, const std::string& dir) {
  Poco::JSON::Object root;
  root.set("format", "eiotool-fuzz-reproducer/1");
  root.set("target", r.url);
  root.set("seed", r.seed);
  root.set("case", r.index);
  root.set("category", std::string(to_string(r.the_case.what)));
  root.set("name", r.the_case.name);
  root.set("session", std::string(to_string(r.the_case.session)));
  root.set("sid", r.sid);  // replaced by a fresh session's sid on replay
  root.set("failure", r.failure);
  Poco::JSON::Array chunks;
  for (const auto& part : r.the_case.chunks) {
    Poco::JSON::Object c;
    c.set("connection", part.connection);
    c.set("delay_ms", part.delay_ms);
    std::string encoded;
    base64_encode(part.bytes, encoded);
    c.set("base64", encoded);                           // the exact bytes
    c.set("preview", printable(part.bytes, 400));        // for people
    chunks.add(c);
  }
  root.set("chunks", chunks);
  std::filesystem::create_directories(dir);
  const std::string path = (std::filesystem::path(dir) / (std::string(to_string(r.the_case.what)) + "-seed" +
                                                           std::to_string(r.seed) + "-case" + std::to_string(r.index) +
                                                           ".json")).string();
  std::ofstream out(path, std::ios::binary);
  root.stringify(out, 2);
  out << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

bool load(const std::string& path, reproducer& r, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  try {
    Poco::JSON::Parser parser;
    const auto root = parser.parse(in).extract<Poco::JSON::Object::Ptr>();
    if (root->optValue<std::string>("format", "") != "eiotool-fuzz-reproducer/1") {
      error = path + ": not an eiotool fuzz reproducer";
      return false;
    }
    r.url = root->optValue<std::string>("target", "");
    r.seed = root->optValue<std::uint64_t>("seed", 0);
    r.index = root->optValue<std::uint64_t>("case", 0);
    if (!parse_category(root->getValue<std::string>("category"), r.the_case.what)) {
      error = path + ": unknown category";
      return false;
    }
    r.the_case.name = root->optValue<std::string>("name", "");
    const std::string session = root->optValue<std::string>("session", "none");
    r.the_case.session = session == "v4" ? session_need::v4 : session == "v3" ? session_need::v3 : session_need::none;
    r.sid = root->optValue<std::string>("sid", "");
    r.failure = root->optValue<std::string>("failure", "");
    const auto chunks = root->getArray("chunks");
    if (!chunks) {
      error = path + ": no chunks";
      return false;
    }
    for (std::size_t i = 0; i < chunks->size(); ++i) {
      const auto c = chunks->getObject(static_cast<unsigned>(i));
      chunk part;
      part.connection = c->getValue<unsigned>("connection");
      part.delay_ms = c->optValue<unsigned>("delay_ms", 0);
      std::size_t bad = 0;
      if (part.connection > 64 || !base64_decode(c->getValue<std::string>("base64"), part.bytes, bad)) {
        error = path + ": bad chunk " + std::to_string(i);
        return false;
      }
      r.the_case.chunks.push_back(std::move(part));
    }
  } catch (const Poco::Exception& e) {
    error = path + ": " + e.displayText();
    return false;
  }
  return true;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// ------------------------------------------------------------ commands

int run_replay(const fuzz_arguments& args) {
  reproducer r;
  std::string error;
  if (!load(args.replay, r, error)) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  target_url url;
  const std::string url_text = args.url.empty() ? r.url : args.url;
  if (!parse_url(url_text, url, error)) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  fuzz_arguments replay_args = args;
  replay_args.socketio = args.socketio || r.the_case.what == category::socketio;
  if (replay_args.socketio) default_socketio_path(url, url_text);
  fuzzer f(replay_args, url);
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
  target_url url;
  std::string error;
  if (!parse_url(args.url, url, error)) {
    std::fprintf(stderr, "eiotool fuzz: %s\n", error.c_str());
    return exit_usage;
  }
  std::vector<category> categories(all_categories.begin(), all_categories.end());
  if (args.socketio) {
    categories = {category::socketio};
    default_socketio_path(url, args.url);
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

  fuzzer f(args, url);
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
