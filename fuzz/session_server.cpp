// Fuzz target: eio::server, the sans-I/O Engine.IO server core.
//
// The input is a program: two option bytes, then up to max_operations
// operations on one server, each an opcode byte and its arguments (all read
// from the input; a short input reads as zeros). The program plays adapter,
// client and application at once: handshakes, polls, POSTs (whole or in two
// phases), WebSocket upgrades, frames, closed connections, send/close/
// shutdown and the clock. After every operation it drains next_action() and
// next_event() and checks them against a model of what it did.
//
// Option bytes:
//   byte 0  bits 0-1  ping_interval ms:        1, 10, 100, 25000
//           bits 2-3  ping_timeout ms:         1, 10, 100, 20000
//           bit 4     allow_eio3
//           bit 5     cors (origin https://a.example, credentials)
//           bit 6     cookie
//           bit 7     session IDs from a small pool, reused once a session is
//                     gone ("a", "__proto__", ...), else "s<n>"
//   byte 1  bits 0-1  max_http_buffer_size:    1e6, 16, 64, 512
//           bits 2-3  max_buffered_bytes:      16 MiB, 48, 256, 2048
//           bits 4-5  upgrade_timeout ms:      10000, 1, 5, 50
//           bit 6     initial_packet "init"
//           bit 7     max_packets_per_payload 3
//
// Invariants (abort on violation; beyond "no crash, no sanitizer report"):
//   1. Actions name only connections the program opened; an HTTP exchange is
//      answered at most once and never after http_closed; a WebSocket request
//      is accepted or refused exactly once, in the call that made it;
//      websocket_send/close only after an accept, never after websocket_close
//      or websocket_closed.
//   2. Events name only sessions announced by a connection_event (in the same
//      drain at the latest: the open packet's packet_create comes first), never
//      a session after its close_event; a session ID is never shared by two
//      open sessions; session_count() is the number of sessions open.
//   3. Messages in: a POST body or frame the server accepted delivers its
//      message packets (decoded here with the server's limits) to the session
//      it named, in order, exactly once, within that call, and nothing to any
//      other session; fewer only if the session closed in that call, and it
//      closes whenever the input held a close packet, a heartbeat in the wrong
//      direction or a decoding error.
//   4. Messages out: every 200 poll response (not JSONP) and every WebSocket
//      frame decodes, and the application's messages reach the client of each
//      session in the order sent, none skipped while the session lives.
//   5. send() succeeds exactly for open sessions the application did not
//      close; each sent_event answers one accepted notify_id, once.
//   6. Timers: next_deadline() is set iff session_count() > 0 (every open
//      session has its heartbeat timer armed, a closing one its close
//      timeout); on_timeout(t) returns and leaves next_deadline() empty or
//      later than t.
//   7. After shutdown(): session_count() == 0, no deadline, every HTTP
//      exchange answered and every accepted WebSocket closed (unless the
//      adapter saw it close first); and no old connection ID is still tracked:
//      inputs on every one of them, with a new session in a reused slot, cause
//      no action and no event.
#include "fuzz_support.hpp"

#include <eio/parser.hpp>
#include <eio/server.hpp>
#include <eio/utf8.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace eio;
using fuzz::reader;

constexpr std::size_t max_operations = 200;
constexpr std::size_t max_timer_steps = 64;            // on_timeout calls per clock advance
constexpr connection_id never_opened_base = 1u << 30;  // IDs the program never opens
constexpr std::string_view initial_packet_text = "init";

// ------------------------------------------------------------ input


server_options options_from(reader& in, std::uint64_t& id_counter) {
  const std::uint8_t b0 = in.byte();
  const std::uint8_t b1 = in.byte();
  static constexpr std::array<int, 4> intervals = {1, 10, 100, 25000};
  static constexpr std::array<int, 4> timeouts = {1, 10, 100, 20000};
  static constexpr std::array<std::size_t, 4> http_sizes = {1'000'000, 16, 64, 512};
  static constexpr std::array<std::size_t, 4> buffered = {16 * 1024 * 1024, 48, 256, 2048};
  static constexpr std::array<int, 4> upgrade_timeouts = {10000, 1, 5, 50};
  server_options o;
  o.ping_interval = millis(intervals[b0 & 3]);
  o.ping_timeout = millis(timeouts[(b0 >> 2) & 3]);
  o.allow_eio3 = (b0 & 0x10) != 0;
  if ((b0 & 0x20) != 0) {
    cors_options cors;
    cors.origins = {"https://a.example"};
    cors.credentials = true;
    o.cors = cors;
  }
  if ((b0 & 0x40) != 0) o.cookie = cookie_options{};
  const bool pool = (b0 & 0x80) != 0;
  // Deterministic IDs (the default reads std::random_device). The pool
  // repeats: the server must skip an ID still open and may reuse one whose
  // session is gone; every eighth ID is unique so its retry loop ends.
  o.generate_id = [pool, &id_counter]() -> std::string {
    static constexpr std::array<std::string_view, 4> names = {"a", "__proto__", "constructor", "b"};
    const std::uint64_t n = id_counter++;
    if (pool && n % 8 < names.size()) return std::string(names[n % 8]);
    return "s" + std::to_string(n);
  };
  o.max_http_buffer_size = http_sizes[b1 & 3];
  o.max_buffered_bytes = buffered[(b1 >> 2) & 3];
  o.upgrade_timeout = millis(upgrade_timeouts[(b1 >> 4) & 3]);
  if ((b1 & 0x40) != 0) o.initial_packet = std::string(initial_packet_text);
  if ((b1 & 0x80) != 0) o.max_packets_per_payload = 3;
  return o;
}

std::string percent_encoded(std::string_view bytes) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : bytes) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// ------------------------------------------------------------ the model

struct session_key {
  std::uint32_t slot, generation;
  friend bool operator<(session_key a, session_key b) {
    return a.slot != b.slot ? a.slot < b.slot : a.generation < b.generation;
  }
};
session_key key_of(session_ref r) { return {r.slot, r.generation}; }

struct session_model {
  session_ref ref;
  std::string sid;
  protocol_version version = protocol_version::v4;
  bool closed = false;
  bool closing = false;  // the application called close()
  std::optional<connection_id> websocket;  // the connection in use, as the events tell
  std::uint64_t app_next = 0;      // tag of the next message the application sends
  std::uint64_t client_next = 0;   // tag of the next message the client must receive
  bool initial_seen = false;
  bool unseen_jsonp = false;  // a JSONP poll answered: its messages were not read
  std::vector<std::uint64_t> notify_ids;  // accepted, not yet reported sent
};

enum class conn_kind : std::uint8_t { http_get, http_post, http_other, websocket };

struct conn_model {
  conn_kind kind = conn_kind::http_other;
  bool answered = false;       // HTTP: a response; WebSocket: an accept or a refusal
  bool accepted = false;       // WebSocket
  bool server_closed = false;  // WebSocket: websocket_close seen
  bool peer_closed = false;    // the adapter reported it closed
  bool jsonp = false;
  std::optional<std::size_t> session;  // index in sessions, when known
};

// What the current operation fed one session, and what must come of it.
struct delivery {
  std::size_t session = 0;
  std::optional<connection_id> post;  // the POST whose 200 says the body was accepted
  bool accepted = false;              // frames: known at once
  bool refused = false;               // the body does not decode: its POST gets 400, never 200
  bool exact = true;                  // false: a body this oracle cannot decode (raw JSONP)
  std::vector<std::pair<bool, std::string>> messages;  // (binary, data)
  bool must_close = false;            // a close packet, wrong heartbeat or error among them
  bool closing = false;               // the application had closed the session already
};

class program {
public:
  program(const std::uint8_t* data, std::size_t size) : in_(data, size), server_(options_from(in_, id_counter_)) {}

  void run() {
    for (std::size_t i = 0; i < max_operations && !in_.empty(); ++i) step();
    finish();
  }

private:
  // ---------------------------------------------------------- operations

  void step() {
    const std::uint32_t op = in_.below(20);
    if (trace_) std::fprintf(stderr, "op %u at %lld ms\n", op, static_cast<long long>(now_.count()));
    switch (op) {
      case 0: return handshake(false);
      case 1: return handshake(true);
      case 2: return poll();
      case 3: return post(true, false);
      case 4: return post(false, false);
      case 5: return post(in_.flag(), true);
      case 6: return finish_post();
      case 7: return body_too_large();
      case 8: return upgrade_request();
      case 9: return frame(true);
      case 10: return frame(false);
      case 11: return websocket_closed();
      case 12: return http_closed();
      case 13: return app_send();
      case 14: return app_close();
      case 15: return app_shutdown();
      case 16: return advance(millis(in_.byte()));
      case 17: return advance(millis(std::uint32_t{in_.byte()} * 500));
      case 18: return junk_request();
      default: return preflight();
    }
  }

  connection_id open(conn_kind kind) {
    const connection_id c = next_connection_++;
    conns_[c].kind = kind;
    return c;
  }

  // A session ID as a client might send it: a known one (open or gone),
  // garbage, or names that trip naive maps.
  std::optional<std::string> pick_sid() {
    switch (in_.below(6)) {
      case 0:
      case 1:
      case 2:
        if (!sessions_.empty()) return sessions_[in_.below(static_cast<std::uint32_t>(sessions_.size()))].sid;
        return std::string("s0");
      case 3: return std::string("__proto__");
      case 4: return in_.bytes(8);
      default: return std::nullopt;
    }
  }

  http_request make_request(std::string method, std::optional<std::string> transport, std::optional<std::string> eio,
                            std::optional<std::string> sid) {
    http_request r;
    r.method = std::move(method);
    r.path = "/engine.io/";
    r.remote_address = "127.0.0.1";
    std::string q;
    const auto add = [&q](std::string_view name, std::string_view value) {
      if (!q.empty()) q += '&';
      q.append(name).append("=").append(percent_encoded(value));
    };
    const std::uint8_t extras = in_.byte();
    if ((extras & 0x01) != 0) q = in_.bytes(6);  // junk first: it may shadow what follows
    if (eio) add("EIO", *eio);
    if (transport) add("transport", *transport);
    if (sid) add("sid", *sid);
    if ((extras & 0x02) != 0) add("b64", "1");
    if ((extras & 0x04) != 0) add("j", std::string(1, static_cast<char>('0' + in_.below(10))));
    if ((extras & 0x08) != 0) add("t", in_.bytes(4));
    r.query = std::move(q);
    if ((extras & 0x10) != 0) r.headers.push_back({"Origin", "https://a.example"});
    if ((extras & 0x20) != 0) r.headers.push_back({"origin", in_.bytes(4)});
    return r;
  }

  std::optional<std::string> pick_eio() {
    switch (in_.below(4)) {
      case 0:
      case 1: return std::string("4");
      case 2: return std::string("3");
      default: return in_.flag() ? std::optional<std::string>() : in_.bytes(2);
    }
  }

  std::optional<std::string> pick_transport(std::string_view usual) {
    switch (in_.below(8)) {
      case 0: return std::nullopt;
      case 1: return std::string("websocket") == usual ? std::string("polling") : std::string("websocket");
      case 2: return in_.bytes(4);
      default: return std::string(usual);
    }
  }

  void handshake(bool websocket) {
    // Arguments are read one statement at a time: the order in which a call
    // evaluates its arguments differs between compilers, and so would the program.
    auto transport = pick_transport(websocket ? "websocket" : "polling");
    auto eio = pick_eio();
    auto sid = in_.below(8) == 0 ? pick_sid() : std::nullopt;
    http_request r = make_request("GET", std::move(transport), std::move(eio), std::move(sid));
    const connection_id c = open(websocket ? conn_kind::websocket : conn_kind::http_get);
    begin(r, c);
    if (websocket) {
      server_.handle_websocket(c, r, now_);
    } else {
      server_.handle_request(c, r, now_);
    }
    end();
  }

  void poll() {
    std::string method = in_.below(8) == 0 ? "PUT" : "GET";
    auto transport = pick_transport("polling");
    auto eio = pick_eio();
    auto sid = pick_sid();
    http_request r = make_request(std::move(method), std::move(transport), std::move(eio), std::move(sid));
    const connection_id c = open(conn_kind::http_get);
    begin(r, c);
    server_.handle_request(c, std::move(r), now_);
    end();
  }

  void junk_request() {
    static constexpr std::array<std::string_view, 4> methods = {"GET", "POST", "DELETE", "OPTIONS"};
    http_request r;
    r.method = std::string(methods[in_.below(4)]);
    r.path = "/engine.io/";
    r.query = in_.bytes(24);
    for (std::uint32_t n = in_.below(3); n > 0; --n) r.headers.push_back({in_.bytes(8), in_.bytes(8)});
    r.body = in_.bytes(16);
    const bool websocket = in_.flag();
    const connection_id c =
        open(websocket ? conn_kind::websocket : r.method == "GET" ? conn_kind::http_get : conn_kind::http_post);
    // The oracle does not decode junk bodies: whatever they deliver goes unchecked.
    begin(r, c, false);
    if (websocket) {
      server_.handle_websocket(c, r, now_);
    } else {
      server_.handle_request(c, std::move(r), now_);
    }
    end();
  }

  void preflight() {
    http_request r = make_request("OPTIONS", std::string("polling"), std::string("4"), std::nullopt);
    r.headers.push_back({"Access-Control-Request-Headers", in_.bytes(6)});
    const connection_id c = open(conn_kind::http_other);
    begin(r, c);
    server_.handle_request(c, std::move(r), now_);
    end();
  }

  // The packets a client might post or frame: mostly messages.
  std::vector<std::pair<packet_type, std::pair<bool, std::string>>> pick_packets(std::size_t max) {
    std::vector<std::pair<packet_type, std::pair<bool, std::string>>> out;
    const std::size_t n = 1 + in_.below(static_cast<std::uint32_t>(max));
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t t = in_.byte();
      const packet_type type = t < 160 ? packet_type::message : static_cast<packet_type>(t % 7);
      const bool binary = type == packet_type::message && (t & 1) != 0;
      out.push_back({type, {binary, binary ? in_.bytes(12) : in_.text(12)}});
    }
    return out;
  }

  std::string pick_body(protocol_version version, bool valid, bool& binary_format) {
    binary_format = false;
    if (!valid) return in_.bytes(48);
    const auto chosen = pick_packets(8);
    std::vector<packet> packets;
    for (const auto& [type, content] : chosen) packets.push_back(packet{type, content.first, content.second});
    std::string body;
    binary_format = encode_payload(packets, version, in_.flag(), body) == payload_format::binary;
    return body;
  }

  void post(bool valid, bool two_phase) {
    auto sid = pick_sid();
    auto transport = pick_transport("polling");
    auto eio = pick_eio();
    http_request r = make_request("POST", std::move(transport), std::move(eio), std::move(sid));
    // The session the query names in the end (junk in front may shadow the sid).
    const session_model* target = alive(r.query_param("sid"));
    const protocol_version version = target ? target->version : protocol_version::v4;
    bool binary_format = false;
    std::string payload = pick_body(version, valid, binary_format);
    if (binary_format || in_.below(16) == 0) r.headers.push_back({"Content-Type", "application/octet-stream"});
    const bool jsonp = target && r.query_param("j").has_value();  // any version, as the reference
    bool exact = true;
    if (jsonp) {
      // A form body; the server turns "\\n" into a newline, so only payloads
      // without backslashes decode to what was posted.
      exact = valid && payload.find('\\') == std::string::npos;
      r.body = exact ? "d=" + percent_encoded(payload) : payload;
    } else {
      r.body = payload;
    }
    const connection_id c = open(conn_kind::http_post);
    conns_[c].jsonp = jsonp;
    begin(r, c);
    if (!two_phase) {
      expect_body(c, r, payload, exact);
      server_.handle_request(c, std::move(r), now_);
      return end();
    }
    const std::string body = std::move(r.body);
    r.body.clear();
    const bool read_body = server_.begin_post(c, r, now_);
    end();
    if (read_body) {
      EIO_FUZZ_CHECK(conns_[c].session.has_value() && !conns_[c].answered);
      pending_posts_.push_back({c, pending_post{r, body, payload, exact}});
    }
  }

  void finish_post() {
    if (pending_posts_.empty() || in_.below(8) == 0) {
      // Misuse: a connection that is no POST in progress - unless the pick
      // lands on one that is, which then gets this body for real.
      const connection_id c = pick_connection();
      std::string body = in_.bytes(8);
      const auto pending = std::find_if(pending_posts_.begin(), pending_posts_.end(),
                                        [c](const auto& p) { return p.first == c; });
      begin_plain();
      if (pending != pending_posts_.end()) {
        expect_body(c, pending->second.head, body, !conns_[c].jsonp);
        pending_posts_.erase(pending);
      }
      server_.finish_post(c, std::move(body), now_);
      return end();
    }
    const std::size_t i = in_.below(static_cast<std::uint32_t>(pending_posts_.size()));
    auto [c, pending] = pending_posts_[i];
    pending_posts_.erase(pending_posts_.begin() + static_cast<std::ptrdiff_t>(i));
    begin_plain();
    if (in_.below(4) == 0) {  // another body than the head promised
      pending.body = in_.bytes(32);
      pending.payload = pending.body;
      pending.exact = !conns_[c].jsonp;
    }
    expect_body(c, pending.head, pending.payload, pending.exact);
    server_.finish_post(c, pending.body, now_);
    end();
  }

  void body_too_large() {
    connection_id c;
    if (!pending_posts_.empty() && in_.below(4) != 0) {
      const std::size_t i = in_.below(static_cast<std::uint32_t>(pending_posts_.size()));
      c = pending_posts_[i].first;
      pending_posts_.erase(pending_posts_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      c = pick_connection();
    }
    begin_plain();
    server_.body_too_large(c, now_);
    end();
  }

  void upgrade_request() {
    auto transport = pick_transport("websocket");
    auto eio = pick_eio();
    auto sid = pick_sid();
    http_request r = make_request("GET", std::move(transport), std::move(eio), std::move(sid));
    const connection_id c = open(conn_kind::websocket);
    begin(r, c);
    if (const auto target = alive(r.query_param("sid"))) conns_[c].session = index_of(*target);
    server_.handle_websocket(c, r, now_);
    end();
  }

  void frame(bool valid) {
    const connection_id c = pick_websocket();
    const auto found = conns_.find(c);
    std::optional<std::size_t> session;
    if (found != conns_.end() && found->second.session && !sessions_[*found->second.session].closed) {
      session = found->second.session;
    }
    const protocol_version version = session ? sessions_[*session].version : protocol_version::v4;
    frame_kind kind = frame_kind::text;
    std::string data;
    if (valid) {
      std::pair<packet_type, std::pair<bool, std::string>> p;
      switch (in_.below(4)) {
        case 0: p = {packet_type::ping, {false, "probe"}}; break;
        case 1: p = {packet_type::upgrade, {false, ""}}; break;
        default: p = pick_packets(1).front(); break;
      }
      kind = encode_frame(packet{p.first, p.second.first, p.second.second}, version, in_.flag(), data);
    } else {
      kind = in_.flag() ? frame_kind::binary : frame_kind::text;
      data = in_.bytes(24);
    }
    begin_plain();
    // Only the session's own WebSocket delivers; a probe or a stranger does not.
    if (session && sessions_[*session].websocket == c && !conns_[c].peer_closed && !conns_[c].server_closed) {
      delivery d;
      d.session = *session;
      d.closing = sessions_[*session].closing;
      d.accepted = true;
      decode_options limits;
      limits.max_payload_bytes = server_.options().max_http_buffer_size;
      packet p;
      std::string scratch;
      if (decode_frame(data, kind, version, p, scratch, limits)) {
        d.must_close = true;
      } else {
        collect(p, version, d);
      }
      delivery_ = std::move(d);
    }
    upgrade_candidate_ = c;
    server_.websocket_message(c, kind, data, now_);
    end();
  }

  void websocket_closed() {
    const connection_id c = pick_websocket();
    begin_plain();
    const auto found = conns_.find(c);
    if (found != conns_.end() && found->second.kind == conn_kind::websocket && found->second.accepted &&
        !found->second.server_closed) {
      found->second.peer_closed = true;
    }
    server_.websocket_closed(c, in_.flag() ? connection_end::failed : connection_end::closed, now_);
    end();
  }

  void http_closed() {
    const connection_id c = pick_connection();
    begin_plain();
    const auto found = conns_.find(c);
    if (found != conns_.end() && found->second.kind != conn_kind::websocket && !found->second.answered) {
      found->second.peer_closed = true;
      pending_posts_.erase(std::remove_if(pending_posts_.begin(), pending_posts_.end(),
                                          [c](const auto& p) { return p.first == c; }),
                           pending_posts_.end());
    }
    server_.http_closed(c, now_);
    end();
  }

  session_ref pick_ref() {
    if (sessions_.empty() || in_.below(8) == 0) return session_ref{in_.byte(), in_.byte()};
    return sessions_[in_.below(static_cast<std::uint32_t>(sessions_.size()))].ref;
  }

  void app_send() {
    const session_ref ref = pick_ref();
    const std::uint8_t how = in_.byte();
    const bool binary = (how & 1) != 0;
    std::optional<std::uint64_t> notify;
    if ((how & 2) != 0) notify = next_notify_++;
    session_model* s = model_of(ref);
    const std::uint64_t tag = s ? s->app_next : 0;
    std::string data = std::to_string(tag) + ":" + (binary ? in_.bytes(16) : in_.text(16));
    if ((how & 4) != 0) data.append(300, 'x');  // past the small buffer limits
    begin_plain();
    // Text the client could not decode is refused (server.hpp, send()).
    const bool carriable =
        binary || (utf8_valid_prefix(data) == data.size() &&
                   !(s && s->version == protocol_version::v4 &&
                     server_.session_transport(ref) != transport_kind::websocket &&
                     data.find('\x1e') != std::string::npos));
    const bool expected = s && !s->closed && !s->closing && carriable;
    const bool sent = server_.send(ref, data, binary ? frame_kind::binary : frame_kind::text, now_, send_options{false, notify});
    EIO_FUZZ_CHECK(sent == expected);
    if (sent) {
      ++s->app_next;
      if (notify) s->notify_ids.push_back(*notify);
    }
    end();
  }

  void app_close() {
    const session_ref ref = pick_ref();
    const bool discard = in_.flag();
    begin_plain();
    server_.close(ref, now_, discard ? close_mode::discard : close_mode::flush);
    if (session_model* s = model_of(ref)) s->closing = true;
    end();
  }

  void app_shutdown() {
    begin_plain();
    server_.shutdown(now_);
    end();
    check_shut_down();
  }

  // The clock moves; timers run as an adapter would run them: at each
  // deadline in turn (bounded), then at the new time.
  void advance(millis delta) {
    const millis target = now_ + delta;
    for (std::size_t i = 0; i < max_timer_steps; ++i) {
      const std::optional<millis> due = server_.next_deadline();
      if (!due || *due > target) break;
      run_timers(std::max(*due, now_));
    }
    run_timers(target);
  }

  void run_timers(millis at) {
    now_ = at;
    begin_plain();
    server_.on_timeout(now_);
    const std::optional<millis> due = server_.next_deadline();
    EIO_FUZZ_CHECK(!due || *due > now_);
    end();
  }

  // ---------------------------------------------------------- choosing

  connection_id pick_connection() {
    if (next_connection_ == 1 || in_.below(8) == 0) return never_opened_base + in_.byte();
    return 1 + in_.below(static_cast<std::uint32_t>(next_connection_ - 1));
  }

  connection_id pick_websocket() {
    std::vector<connection_id> candidates;
    for (const auto& [c, m] : conns_) {
      if (m.kind == conn_kind::websocket) candidates.push_back(c);
    }
    // Mostly the newest: that is where a probe or a session lives.
    const std::uint32_t choice = in_.byte();
    if (candidates.empty() || choice >= 240) return pick_connection();
    if (choice < 128) return candidates.back();
    return candidates[choice % candidates.size()];
  }

  session_model* model_of(session_ref ref) {
    const auto found = by_ref_.find(key_of(ref));
    return found == by_ref_.end() ? nullptr : &sessions_[found->second];
  }

  const session_model* alive(const std::optional<std::string>& sid) const {
    if (!sid) return nullptr;
    for (const auto& s : sessions_) {
      if (!s.closed && s.sid == *sid) return &s;
    }
    return nullptr;
  }

  std::size_t index_of(const session_model& s) const { return static_cast<std::size_t>(&s - sessions_.data()); }

  // ---------------------------------------------------------- expectations

  // Before a request: which session it names (if any is open under that ID),
  // and whether a handshake may come of it.
  void begin(const http_request& r, connection_id c, bool exact_messages = true) {
    begin_plain();
    handshake_conn_ = c;
    request_conn_ = c;
    handshake_version_ = r.query_param("EIO") == "4" ? protocol_version::v4 : protocol_version::v3;
    auto& m = conns_[c];
    const std::optional<std::string> sid = r.query_param("sid");
    if (const session_model* s = alive(sid)) {
      m.session = index_of(*s);
      if (r.query_param("j")) m.jsonp = true;
    } else if (!sid && r.query_param("j")) {
      m.jsonp = true;
    }
    if (!exact_messages) unchecked_messages_ = true;
  }

  void begin_plain() {
    handshake_conn_.reset();
    request_conn_ = 0;
    upgrade_candidate_.reset();
    delivery_.reset();
    unchecked_messages_ = false;
  }

  void collect(const packet& p, protocol_version version, delivery& d) {
    if (d.must_close) return;  // nothing after the packet that closes the session
    switch (p.type) {
      case packet_type::message: d.messages.push_back({p.binary, std::string(p.data)}); return;
      case packet_type::close: d.must_close = true; return;
      case packet_type::ping: d.must_close = version == protocol_version::v4; return;
      case packet_type::pong: d.must_close = version == protocol_version::v3; return;
      default: return;
    }
  }

  // A POST body the server may accept: decode it as the server will.
  // `payload` is the body itself, or for JSONP the payload inside its d field.
  void expect_body(connection_id c, const http_request& r, std::string_view payload, bool exact) {
    const auto& m = conns_[c];
    if (!m.session) return;
    const session_model& s = sessions_[*m.session];
    delivery d;
    d.session = *m.session;
    d.closing = s.closing;
    d.post = c;
    d.exact = exact;
    if (!exact) {
      delivery_ = std::move(d);
      return;
    }
    const auto content_type = r.header_value("content-type");
    const bool binary = s.version == protocol_version::v3 && content_type && *content_type == "application/octet-stream";
    decode_options limits;
    limits.max_payload_bytes = server_.options().max_http_buffer_size;
    limits.max_packets = server_.options().max_packets_per_payload;
    payload_decoder decoder(s.version, binary ? payload_format::binary : payload_format::text, limits);
    std::vector<packet> packets;
    const decode_error error = decoder.decode(payload, packets);
    for (const packet& p : packets) collect(p, s.version, d);
    if (error) {
      d.must_close = true;
      d.refused = true;
    }
    delivery_ = std::move(d);
  }

  // ---------------------------------------------------------- checking

  void end() {
    std::vector<event> events;
    std::deque<std::string> message_bytes;  // a message_event's view lasts only until the next next_event()
    while (auto e = server_.next_event()) {
      if (auto* m = std::get_if<message_event>(&*e)) {
        message_bytes.emplace_back(m->data);
        m->data = message_bytes.back();
      }
      events.push_back(std::move(*e));
    }
    std::vector<action> actions;
    while (auto a = server_.next_action()) actions.push_back(std::move(*a));

    std::map<session_key, std::vector<std::pair<bool, std::string>>> messages;
    std::vector<session_key> closed_now;
    refused_answer_ = false;
    if (trace_) print(events, actions);
    check_events(events, messages, closed_now);
    bool post_accepted = false;
    for (const action& a : actions) check_action(a, post_accepted);
    check_messages(messages, closed_now, post_accepted);

    std::size_t open = 0;
    for (const auto& s : sessions_) open += s.closed ? 0 : 1;
    EIO_FUZZ_CHECK(server_.session_count() == open);
    EIO_FUZZ_CHECK(server_.next_deadline().has_value() == (server_.session_count() > 0));
    for (const auto& s : sessions_) {
      if (s.closed) continue;
      const std::optional<session_ref> found = server_.find_session(s.sid);
      EIO_FUZZ_CHECK(found && *found == s.ref);
    }
    begin_plain();
  }

  // EIO_FUZZ_TRACE=1: what each call did, to see what an input exercises.
  static void print(const std::vector<event>& events, const std::vector<action>& actions) {
    static constexpr std::array<const char*, std::variant_size_v<event>> event_names = {
        "connection", "connection_error", "message", "packet",         "packet_create",       "heartbeat", "flush",
        "drain",      "sent",             "upgrading", "upgrade",      "high_watermark", "low_watermark",  "close"};
    for (const event& e : events) {
      std::fprintf(stderr, "  event %s", event_names[e.index()]);
      if (const auto* m = std::get_if<message_event>(&e)) std::fprintf(stderr, " \"%s\"", std::string(m->data).c_str());
      if (const auto* c = std::get_if<close_event>(&e)) {
        std::fprintf(stderr, " %s %s", std::string(to_string(c->reason)).c_str(), c->description.c_str());
      }
      std::fprintf(stderr, "\n");
    }
    for (const action& a : actions) {
      const connection_id c = std::visit([](const auto& x) { return x.connection; }, a);
      if (const auto* r = std::get_if<http_response>(&a)) {
        std::fprintf(stderr, "  action http_response #%llu %d \"%s\"\n", static_cast<unsigned long long>(c), r->status,
                     r->body.substr(0, 80).c_str());
      } else if (const auto* w = std::get_if<websocket_send>(&a)) {
        std::fprintf(stderr, "  action websocket_send #%llu \"%s\"\n", static_cast<unsigned long long>(c),
                     w->data.substr(0, 80).c_str());
      } else {
        std::fprintf(stderr, "  action %s #%llu\n",
                     std::holds_alternative<websocket_accept>(a) ? "websocket_accept" : "websocket_close",
                     static_cast<unsigned long long>(c));
      }
    }
  }

  void check_events(const std::vector<event>& events, std::map<session_key, std::vector<std::pair<bool, std::string>>>& messages,
                    std::vector<session_key>& closed_now) {
    // The open packet is created before the connection_event that announces
    // its session, and a handshake whose open packet alone overflows
    // max_buffered_bytes closes the session before announcing it: a session
    // may be named (even closed) before its connection_event, but only in
    // the drain that announces it. Sessions are made here, first.
    for (const event& e : events) {
      const auto* c = std::get_if<connection_event>(&e);
      if (!c) continue;
      EIO_FUZZ_CHECK(model_of(c->session) == nullptr);  // announced once
      EIO_FUZZ_CHECK(handshake_conn_.has_value());     // only a handshake makes a session, one per call
      session_model s;
      s.ref = c->session;
      s.sid = std::string(server_.session_id(c->session));
      s.version = handshake_version_;
      if (!s.sid.empty()) {  // still open
        EIO_FUZZ_CHECK(alive(s.sid) == nullptr);
        EIO_FUZZ_CHECK(server_.session_protocol(c->session) == handshake_version_);
      }
      auto& conn = conns_[*handshake_conn_];
      if (conn.kind == conn_kind::websocket) s.websocket = *handshake_conn_;
      conn.session = sessions_.size();
      by_ref_[key_of(s.ref)] = sessions_.size();
      sessions_.push_back(std::move(s));
      handshake_conn_.reset();
    }
    for (const event& e : events) {
      if (const auto* c = std::get_if<connection_event>(&e)) {
        session_model* s = model_of(c->session);
        // Open, or closed in this very call (the handshake's own flush).
        EIO_FUZZ_CHECK(!s->closed || s->sid.empty());
        continue;
      }
      if (std::holds_alternative<connection_error_event>(e)) continue;
      const session_ref ref = std::visit(
          [](const auto& x) -> session_ref {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, connection_error_event>) {
              return {};
            } else {
              return x.session;
            }
          },
          e);
      session_model* s = model_of(ref);
      EIO_FUZZ_CHECK(s != nullptr && !s->closed);  // announced, and never named after its close
      if (const auto* m = std::get_if<message_event>(&e)) {
        messages[key_of(ref)].push_back({m->kind == frame_kind::binary, std::string(m->data)});
      } else if (const auto* u = std::get_if<upgrade_event>(&e)) {
        (void)u;
        EIO_FUZZ_CHECK(s && upgrade_candidate_.has_value());
        s->websocket = *upgrade_candidate_;
      } else if (const auto* sent = std::get_if<sent_event>(&e)) {
        EIO_FUZZ_CHECK(s != nullptr);
        auto& ids = s->notify_ids;
        const auto found = std::find(ids.begin(), ids.end(), sent->notify_id);
        EIO_FUZZ_CHECK(found == ids.begin());  // written out in the order sent
        ids.erase(found);
      } else if (std::holds_alternative<close_event>(e)) {
        EIO_FUZZ_CHECK(s != nullptr);
        s->closed = true;
        closed_now.push_back(key_of(ref));
        EIO_FUZZ_CHECK(server_.session_id(ref).empty());
      }
    }
  }

  void check_action(const action& a, bool& post_accepted) {
    const connection_id c = std::visit([](const auto& x) { return x.connection; }, a);
    const auto found = conns_.find(c);
    EIO_FUZZ_CHECK(found != conns_.end());  // only connections the program opened
    conn_model& m = found->second;
    EIO_FUZZ_CHECK(!m.peer_closed);
    if (const auto* r = std::get_if<http_response>(&a)) {
      EIO_FUZZ_CHECK(!m.answered);  // answered once
      m.answered = true;
      if (m.kind == conn_kind::websocket) {
        EIO_FUZZ_CHECK(c == request_conn_);  // refused in the call that asked
        return;
      }
      if (delivery_ && delivery_->post == c) {
        // A body that was read is answered "ok", or 400 with code 3 when it
        // does not decode (its packets before the error delivered all the
        // same, and the session closed with "parse error").
        EIO_FUZZ_CHECK(!(delivery_->refused && r->status == 200));
        if (r->status == 200) post_accepted = true;
        if (delivery_->refused && r->status == 400 && r->body == "{\"code\":3,\"message\":\"Bad request\"}") {
          refused_answer_ = true;  // read and refused, if its session closed in this call (check_messages)
        }
      }
      if (m.kind == conn_kind::http_get && r->status == 200 && m.session) {
        if (m.jsonp) {
          sessions_[*m.session].unseen_jsonp = true;
          sessions_[*m.session].initial_seen = true;
        } else {
          check_poll_body(sessions_[*m.session], *r);
        }
      }
      return;
    }
    EIO_FUZZ_CHECK(m.kind == conn_kind::websocket);
    if (std::holds_alternative<websocket_accept>(a)) {
      EIO_FUZZ_CHECK(!m.answered && c == request_conn_);
      m.answered = true;
      m.accepted = true;
      return;
    }
    EIO_FUZZ_CHECK(m.accepted && !m.server_closed);
    if (std::holds_alternative<websocket_close>(a)) {
      m.server_closed = true;
      return;
    }
    const auto& send = std::get<websocket_send>(a);
    if (!m.session) return;  // a handshake that closed before it was announced
    session_model& s = sessions_[*m.session];
    packet p;
    std::string scratch;
    decode_options unlimited;
    unlimited.max_payload_bytes = std::numeric_limits<std::size_t>::max();
    EIO_FUZZ_CHECK(!decode_frame(send.data, send.kind, s.version, p, scratch, unlimited));
    if (p.type == packet_type::message) receive_app_message(s, p.data);
  }

  void check_poll_body(session_model& s, const http_response& r) {
    const auto content_type = find_header(r.headers, "content-type");
    EIO_FUZZ_CHECK(content_type.has_value());
    const payload_format format =
        *content_type == "application/octet-stream" ? payload_format::binary : payload_format::text;
    decode_options unlimited;
    unlimited.max_payload_bytes = std::numeric_limits<std::size_t>::max();
    unlimited.max_packets = std::numeric_limits<std::size_t>::max();
    payload_decoder decoder(s.version, format, unlimited);
    std::vector<packet> packets;
    EIO_FUZZ_CHECK(!decoder.decode(r.body, packets));
    for (const packet& p : packets) {
      if (p.type == packet_type::message) receive_app_message(s, p.data);
    }
  }

  // Messages reach the client in the order the application sent them.
  void receive_app_message(session_model& s, std::string_view data) {
    // The initial packet comes first, though not always in the handshake
    // response (a small max_http_buffer_size pushes it to the next poll, and
    // a JSONP poll is not decoded here).
    if (data == initial_packet_text && server_.options().initial_packet && (!s.initial_seen || s.unseen_jsonp) &&
        s.client_next == 0) {
      s.initial_seen = true;
      return;
    }
    const std::size_t colon = data.find(':');
    EIO_FUZZ_CHECK(colon != std::string_view::npos && colon > 0 && colon <= 19);
    std::uint64_t tag = 0;
    for (const char c : data.substr(0, colon)) {
      EIO_FUZZ_CHECK(c >= '0' && c <= '9');
      tag = tag * 10 + static_cast<std::uint64_t>(c - '0');
    }
    // After a JSONP poll (not decoded here) messages may have gone unseen.
    EIO_FUZZ_CHECK(s.unseen_jsonp ? tag >= s.client_next : tag == s.client_next);
    s.unseen_jsonp = false;
    s.client_next = tag + 1;
    EIO_FUZZ_CHECK(s.client_next <= s.app_next);
  }

  void check_messages(const std::map<session_key, std::vector<std::pair<bool, std::string>>>& messages,
                      const std::vector<session_key>& closed_now, bool post_accepted) {
    const auto closed_in_call = [&](session_key k) {
      return std::find_if(closed_now.begin(), closed_now.end(), [&](session_key x) {
               return x.slot == k.slot && x.generation == k.generation;
             }) != closed_now.end();
    };
    if (delivery_) {
      const delivery& d = *delivery_;
      const session_key k = key_of(sessions_[d.session].ref);
      // A closing session hears nothing more (the reference's socket.ts onPacket).
      const bool read = post_accepted || (refused_answer_ && closed_in_call(k));
      const bool accepted = (d.accepted || read) && !d.closing;
      const auto found = messages.find(k);
      const std::size_t got = found == messages.end() ? 0 : found->second.size();
      if (!accepted) {
        EIO_FUZZ_CHECK(got == 0);
      } else if (d.exact) {
        EIO_FUZZ_CHECK(got <= d.messages.size());
        for (std::size_t i = 0; i < got; ++i) EIO_FUZZ_CHECK(found->second[i] == d.messages[i]);
        if (got < d.messages.size() || d.must_close) EIO_FUZZ_CHECK(closed_in_call(k));
      }
    }
    for (const auto& [k, list] : messages) {
      if (list.empty() || unchecked_messages_) continue;
      EIO_FUZZ_CHECK(delivery_ && key_of(sessions_[delivery_->session].ref).slot == k.slot &&
                     key_of(sessions_[delivery_->session].ref).generation == k.generation);
    }
  }

  void check_shut_down() {
    EIO_FUZZ_CHECK(server_.session_count() == 0);
    EIO_FUZZ_CHECK(!server_.next_deadline().has_value());
    for (const auto& s : sessions_) EIO_FUZZ_CHECK(s.closed);
    for (const auto& [c, m] : conns_) {
      if (m.peer_closed) continue;
      EIO_FUZZ_CHECK(m.answered);  // every exchange answered, every WebSocket accepted or refused
      if (m.kind == conn_kind::websocket && m.accepted) EIO_FUZZ_CHECK(m.server_closed);
    }
    pending_posts_.clear();
  }

  void finish() {
    app_shutdown();
    // A new session, likely in a reused slot: an old connection ID the
    // server still tracked would now reach it.
    http_request r;
    r.method = "GET";
    r.path = "/engine.io/";
    r.query = "EIO=4&transport=polling";
    const connection_id fresh = open(conn_kind::http_get);
    begin(r, fresh);
    server_.handle_request(fresh, r, now_);
    end();
    for (connection_id c = 1; c < fresh; ++c) {
      begin_plain();
      server_.websocket_message(c, frame_kind::text, "4stale", now_);
      server_.websocket_message(c, frame_kind::text, "5", now_);
      server_.finish_post(c, "4stale", now_);
      server_.body_too_large(c, now_);
      server_.http_closed(c, now_);
      server_.websocket_closed(c, connection_end::failed, now_);
      EIO_FUZZ_CHECK(!server_.next_action().has_value());
      EIO_FUZZ_CHECK(!server_.next_event().has_value());
    }
    app_shutdown();
  }

  const bool trace_ = std::getenv("EIO_FUZZ_TRACE") != nullptr;
  bool refused_answer_ = false;  // the POST of this call was answered 400 for its body
  reader in_;
  std::uint64_t id_counter_ = 0;  // before server_: its generate_id refers to it
  server server_;
  millis now_{0};
  connection_id next_connection_ = 1;
  std::uint64_t next_notify_ = 1;
  std::vector<session_model> sessions_;
  std::map<session_key, std::size_t> by_ref_;
  std::map<connection_id, conn_model> conns_;
  struct pending_post {
    http_request head;
    std::string body;
    std::string payload;  // what the body carries, as expect_body wants it
    bool exact = true;
  };
  std::vector<std::pair<connection_id, pending_post>> pending_posts_;

  // The current call.
  std::optional<connection_id> handshake_conn_;  // a request that may make a session
  connection_id request_conn_ = 0;  // the connection the call opened
  protocol_version handshake_version_ = protocol_version::v4;
  std::optional<connection_id> upgrade_candidate_;  // the WebSocket a frame came on
  std::optional<delivery> delivery_;
  bool unchecked_messages_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  program(data, size).run();
  return 0;
}
