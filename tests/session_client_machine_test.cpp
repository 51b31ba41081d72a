// The client state machine, exhaustively (h11's test_state_machines; the
// client's twin of tests/session_machine_test.cpp): every reachable situation
// x every input, each pair on a fresh eio::client, checked against the table
// below. A pair without a table entry fails.
//
// An outcome is "<fate> | <tokens>".
//   fate    the client after the input: <state>[:poll|:ws][+upgrading][ [n]]
//           (n: packets buffered), or closed:<reason> when the input ended it
//   tokens  (sorted) what the input caused:
//     E:<event>             open, message, upgrading, upgrade, error (close is the fate)
//     GET, POST(<t>,...)    a new HTTP request; a POST with the packet types of its body
//     N:open                a new WebSocket
//     <role>:send(<t>,...)  frames sent on one WebSocket, in order ("2probe": a ping "probe")
//     <role>:close          a WebSocket closed
//     send:false            send() refused
// Roles: B the probe WebSocket, W the session's WebSocket, N a new one.
// "n/a": the input does not exist in that situation (no request of that kind
// in flight, no such WebSocket, or one not yet connected / already connected).
//
// The expected outcomes come from engine.io-protocol (v4 and v3), the Node
// client (engine.io-client 6, Socket and Polling; 3.x for the v3 heartbeat)
// and the contract in include/eio/client.hpp, not from what client.cpp does.
//
// After every input the world checks the client's contract with its adapter
// (settle(), check_invariants()); after every cell, close() and the server
// answering what is in flight must end the session, and nothing may come
// after the end (wind_down()).
#include <eio/client.hpp>
#include <eio/parser.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio {
namespace {

using namespace std::chrono_literals;

enum situation {
  idle,              // open() not called
  opening_poll,      // the handshake GET in flight
  opening_ws,        // websocket only: the WebSocket connecting
  opening_ws_ready,  // websocket only: connected, no open packet yet
  polling,           // open over polling (no upgrade offered): a GET in flight
  polling_post,      // ... and a POST in flight, one packet behind it
  probe_connecting,  // upgrade offered: the probe WebSocket connecting, a GET in flight
  probe_sent,        // the probe connected, "2probe" sent
  pausing,           // "3probe" received, the GET still in flight
  pausing_post,      // "3probe" received, the GET and a POST in flight, one packet behind them
  probe_dropped,     // the probe answered with something else and was closed; polling goes on
  upgraded,          // "5" sent: the probe is the session's WebSocket
  websocket,         // websocket only, open
  closing,           // close() with the POST in flight and a packet behind it: [b, 1] buffered
  closing_pausing,   // close() while pausing with a POST in flight: [b, 1] wait for the upgrade
  closed,            // closed by close(); a GET, the last POST and the probe still known to the adapter
  situation_count
};
constexpr const char* situation_names[] = {
    "idle",    "opening_poll", "opening_ws",    "opening_ws_ready", "polling",   "polling_post",
    "probe_connecting",        "probe_sent",    "pausing",          "pausing_post",
    "probe_dropped",           "upgraded",      "websocket",        "closing",   "closing_pausing",
    "closed"};
static_assert(sizeof situation_names / sizeof situation_names[0] == situation_count);

constexpr std::string_view handshake_upgrade =
    R"({"sid":"abc","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":500,"maxPayload":100})";
constexpr std::string_view handshake_plain =
    R"({"sid":"abc","upgrades":[],"pingInterval":1000,"pingTimeout":500,"maxPayload":100})";
// Every situation is reached at time 0: the v3 ping is due at pingInterval,
// the silence deadline at pingInterval + pingTimeout.
constexpr millis ping_due{1000};
constexpr millis silence_due{1500};
constexpr connection_id stranger = 1'000'000;  // an id the client never used

// ---------------------------------------------------------------- names that may change
// The close reason may become an enum shared with the server, and send()'s
// and the options' bools enums: each is read or written here only.

std::string reason_name(const client_close_event& e) { return std::string(to_string(e.reason)); }
bool send_text(client& c, std::string text, millis now) { return c.send(std::move(text), frame_kind::text, now); }
client_options options_for(protocol_version version, bool polling_allowed) {
  client_options o;
  o.version = version;
  o.polling = polling_allowed;  // websocket and upgrade stay on
  return o;
}

// ---------------------------------------------------------------- the world

struct connection_record {
  bool opened = false;            // websocket_opened reported
  bool closed_by_client = false;  // client_websocket_close seen
  bool gone = false;              // websocket_failed or websocket_closed reported
  bool carries_session = false;   // "5" sent on it, or the websocket-only session's own
};

// One client and what its adapter knows: requests in flight, WebSockets,
// every id used; `problems` collects breaches of the client's contract.
struct world {
  protocol_version version = protocol_version::v4;
  std::optional<client> c;
  millis now{0};
  std::optional<connection_id> get, post;  // requests in flight at the adapter (the client may have forgotten them)
  std::vector<connection_id> answered;     // requests already answered
  std::optional<connection_id> probe, ws;  // roles B and W
  std::map<connection_id, connection_record> connections;
  std::set<connection_id> ids;  // every id the client used
  bool paused = false;          // "upgrading" seen and the probe still up
  bool open_seen = false;
  bool close_seen = false;
  std::string problems;

  void problem(const std::string& what) { problems += what + "; "; }
  bool live(connection_id id) const {
    const auto it = connections.find(id);
    return it != connections.end() && !it->second.closed_by_client && !it->second.gone;
  }
};

std::string payload_types(std::string_view body, protocol_version version) {
  payload_decoder decoder(version, payload_format::text);
  std::vector<packet> packets;
  if (decoder.decode(body, packets)) return "?";
  std::string out;
  for (const packet& p : packets) {
    if (!out.empty()) out += ',';
    out += std::to_string(static_cast<int>(p.type));
  }
  return out;
}

std::string frame_type(const client_websocket_send& s, protocol_version version) {
  packet p;
  std::string scratch;
  if (decode_frame(s.data, s.kind, version, p, scratch)) return "?";
  return std::to_string(static_cast<int>(p.type)) + (p.data == "probe" ? "probe" : "");
}

// A target of this client's: the path, the protocol, the transport, and the
// session's sid exactly when there is a session.
bool names(const std::string& target, std::string_view transport, bool with_sid) {
  const bool sid = target.find("&sid=abc") != std::string::npos;
  return target.rfind("/engine.io/?EIO=", 0) == 0 && target.find(transport) != std::string::npos && sid == with_sid;
}

void note_new_id(world& w, connection_id id) {
  if (!w.ids.insert(id).second) w.problem("id " + std::to_string(id) + " reused");
}

void check_invariants(world& w) {
  const client& c = *w.c;
  const client_state state = c.state();
  const bool live_session = state == client_state::open || state == client_state::closing;
  if ((state == client_state::closed) != w.close_seen) w.problem("state and close event disagree");
  // Timers: armed while open or closing, never already due; none otherwise.
  const std::optional<millis> deadline = c.next_deadline();
  if (live_session && !deadline) w.problem("no timer while open");
  if (live_session && deadline && *deadline <= w.now) w.problem("a timer already due");
  if (!live_session && deadline) w.problem("a timer while not open");
  if (state == client_state::closed) {
    if (c.buffered_packets() != 0) w.problem("packets buffered after close");
    for (const auto& [id, record] : w.connections) {
      if (!record.closed_by_client && !record.gone) {
        w.problem("websocket " + std::to_string(id) + " left open after close");
      }
    }
  }
  if (live_session && c.transport() == transport_kind::polling) {
    // One GET always in flight, except while paused for the upgrade; the
    // buffer waits only for the POST in flight or the pause.
    if (!w.paused && !w.get) w.problem("polling without a GET in flight");
    if (c.buffered_packets() > 0 && !w.post && !w.paused) w.problem("packets stuck in the buffer");
  }
  if (live_session && c.transport() == transport_kind::websocket) {
    if (!w.ws || !w.live(*w.ws) || !w.connections[*w.ws].opened) w.problem("websocket transport without a websocket");
    if (c.buffered_packets() > 0) w.problem("packets stuck behind an open websocket");
  }
}

struct settled {
  std::vector<std::string> tokens;       // sorted
  std::optional<std::string> closed_by;  // the reason, when the input closed the session
};

// Drains the client after one input: renders what it caused (roles as they
// were before the input), updates the bookkeeping, and notes every breach of
// the contract with the adapter.
settled settle(world& w) {
  const bool was_closed = w.close_seen;
  const bool was_paused = w.paused;
  std::vector<client_action> actions;
  std::vector<client_event> events;
  while (std::optional<client_action> a = w.c->next_action()) actions.push_back(std::move(*a));
  while (std::optional<client_event> e = w.c->next_event()) events.push_back(std::move(*e));

  settled out;
  std::vector<std::pair<std::string, std::vector<std::string>>> sends;  // per role, in order
  const auto role = [&](connection_id id) -> std::string {
    if (w.probe == id) return "B";
    if (w.ws == id) return "W";
    return "?" + std::to_string(id);
  };
  bool http = false;
  for (const client_action& a : actions) {
    if (const auto* r = std::get_if<client_http_request>(&a)) {
      note_new_id(w, r->request_id);
      http = true;
      if (!w.c->options().polling) w.problem("an HTTP request without polling");
      // Every request after the handshake names the session; the handshake's does not.
      if (!names(r->target, "transport=polling", w.c->handshake().has_value())) w.problem("HTTP target " + r->target);
      if (r->method == "GET") {
        if (w.get) w.problem("a second GET in flight");
        w.get = r->request_id;
        out.tokens.push_back("GET");
      } else {
        if (r->method != "POST") w.problem("method " + r->method);
        if (w.post) w.problem("a second POST in flight");
        w.post = r->request_id;
        out.tokens.push_back("POST(" + payload_types(r->body, w.version) + ")");
      }
    } else if (const auto* o = std::get_if<client_websocket_open>(&a)) {
      note_new_id(w, o->connection);
      // The session's own WebSocket when polling is not allowed, else the
      // probe, which names the session.
      const bool own = !w.c->options().polling;
      w.connections[o->connection] = {};
      w.connections[o->connection].carries_session = own;
      out.tokens.push_back("N:open");
      std::optional<connection_id>& slot = own ? w.ws : w.probe;
      if (slot && w.live(*slot)) w.problem("a second websocket in one role");
      slot = o->connection;
      if (!names(o->target, "transport=websocket", !own)) w.problem("WebSocket target " + o->target);
    } else if (const auto* s = std::get_if<client_websocket_send>(&a)) {
      const auto it = w.connections.find(s->connection);
      if (it == w.connections.end() || !it->second.opened || it->second.closed_by_client || it->second.gone) {
        w.problem("a frame on connection " + std::to_string(s->connection) + ", not open");
      }
      const std::string type = frame_type(*s, w.version);
      // The ordering argument (client.cpp): the probe carries "2probe" and
      // "5" only, and "5" leaves once neither a GET nor a POST is in flight.
      if (it != w.connections.end() && !it->second.carries_session) {
        if (type == "5") {
          if (w.get || w.post) w.problem("5 with a request in flight");
          it->second.carries_session = true;
        } else if (type != "2probe") {
          w.problem("packet " + type + " on the probe before 5");
        }
      }
      const std::string who = role(s->connection);
      auto found = std::find_if(sends.begin(), sends.end(), [&](const auto& p) { return p.first == who; });
      if (found == sends.end()) found = sends.insert(sends.end(), {who, {}});
      found->second.push_back(type);
    } else {
      const auto& cl = std::get<client_websocket_close>(a);
      const auto it = w.connections.find(cl.connection);
      if (it == w.connections.end()) {
        w.problem("closes unknown connection " + std::to_string(cl.connection));
      } else {
        if (it->second.closed_by_client) w.problem("closes a websocket twice");
        if (it->second.gone) w.problem("closes a websocket the adapter reported gone");
        it->second.closed_by_client = true;
      }
      out.tokens.push_back(role(cl.connection) + ":close");
    }
  }
  for (const auto& [r, frames] : sends) {
    std::string t = r + ":send(";
    for (std::size_t i = 0; i < frames.size(); ++i) t += (i ? "," : "") + frames[i];
    out.tokens.push_back(t + ")");
  }

  bool saw_upgrading = false, saw_upgrade = false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const client_event& e = events[i];
    if (std::holds_alternative<client_open_event>(e)) {
      if (w.open_seen) w.problem("a second open event");
      w.open_seen = true;
      if (!w.c->handshake()) w.problem("open without a handshake");
      out.tokens.push_back("E:open");
    } else if (std::holds_alternative<client_message_event>(e)) {
      if (!w.open_seen) w.problem("a message before open");
      out.tokens.push_back("E:message");
    } else if (std::holds_alternative<client_upgrading_event>(e)) {
      w.paused = saw_upgrading = true;
      out.tokens.push_back("E:upgrading");
    } else if (std::holds_alternative<client_upgrade_event>(e)) {
      if (!w.paused) w.problem("upgrade without upgrading");
      w.paused = false;
      saw_upgrade = true;
      w.ws = w.probe;
      w.probe.reset();
      out.tokens.push_back("E:upgrade");
    } else if (std::holds_alternative<client_error_event>(e)) {
      out.tokens.push_back("E:error");
    } else {
      const auto& cl = std::get<client_close_event>(e);
      if (w.close_seen) w.problem("a second close event");
      if (i + 1 != events.size()) w.problem("an event after close");
      w.close_seen = true;
      out.closed_by = reason_name(cl);
    }
  }
  if (was_closed && (!actions.empty() || !events.empty())) w.problem("output after close");
  // Polling.pause(): no new GET or POST from "3probe" until "5" or the probe's end.
  if (http && (was_paused || saw_upgrading) && (w.c->upgrading() || saw_upgrade)) w.problem("HTTP while paused");
  if (w.paused && !w.c->upgrading()) w.paused = false;  // the probe was dropped
  check_invariants(w);
  std::sort(out.tokens.begin(), out.tokens.end());
  return out;
}

std::string fate(const world& w, const std::optional<std::string>& closed_by) {
  if (closed_by) return "closed:" + *closed_by;
  const client& c = *w.c;
  std::string f(to_string(c.state()));
  if (c.state() == client_state::idle || c.state() == client_state::closed) return f;
  f += c.transport() == transport_kind::websocket ? ":ws" : ":poll";
  if (c.upgrading()) f += "+upgrading";
  if (c.buffered_packets() > 0) f += " [" + std::to_string(c.buffered_packets()) + "]";
  return f;
}

// ---------------------------------------------------------------- adapter moves

// One ASCII packet as a payload: as is (v4), <length>:<packet> (v3).
std::string payload(protocol_version version, std::string_view packet_text) {
  if (version == protocol_version::v4) return std::string(packet_text);
  return std::to_string(packet_text.size()) + ":" + std::string(packet_text);
}
std::string open_packet(std::string_view json) { return "0" + std::string(json); }

bool answer_get(world& w, int status, std::string body) {
  if (!w.get) return false;
  const connection_id id = *w.get;
  w.get.reset();
  w.answered.push_back(id);
  w.c->http_response_received(id, status, {}, std::move(body), w.now);
  return true;
}
bool get_packet(world& w, std::string_view packet_text) { return answer_get(w, 200, payload(w.version, packet_text)); }
bool fail_get(world& w) {
  if (!w.get) return false;
  const connection_id id = *w.get;
  w.get.reset();
  w.answered.push_back(id);
  w.c->http_failed(id, w.now);
  return true;
}
bool answer_post(world& w, int status, std::string body) {
  if (!w.post) return false;
  const connection_id id = *w.post;
  w.post.reset();
  w.answered.push_back(id);
  w.c->http_response_received(id, status, {}, std::move(body), w.now);
  return true;
}
bool fail_post(world& w) {
  if (!w.post) return false;
  const connection_id id = *w.post;
  w.post.reset();
  w.answered.push_back(id);
  w.c->http_failed(id, w.now);
  return true;
}

// A WebSocket's inputs exist while the adapter may still report them: opened
// or failed while connecting, messages and closed once connected, until the
// adapter said it is gone (a close by the client does not stop them: the
// contract says they are ignored).
bool connecting(const world& w, std::optional<connection_id> id) {
  if (!id) return false;
  const auto& r = w.connections.at(*id);
  return !r.opened && !r.gone;
}
bool connected(const world& w, std::optional<connection_id> id) {
  if (!id) return false;
  const auto& r = w.connections.at(*id);
  return r.opened && !r.gone;
}
bool ws_opened(world& w, std::optional<connection_id> id) {
  if (!connecting(w, id)) return false;
  w.connections[*id].opened = true;
  w.c->websocket_opened(*id, w.now);
  return true;
}
bool ws_failed(world& w, std::optional<connection_id> id) {
  if (!connecting(w, id)) return false;
  w.connections[*id].gone = true;
  w.c->websocket_failed(*id, w.now);
  return true;
}
bool ws_closed(world& w, std::optional<connection_id> id) {
  if (!connected(w, id)) return false;
  w.connections[*id].gone = true;
  w.c->websocket_closed(*id, w.now);
  return true;
}
bool ws_frame(world& w, std::optional<connection_id> id, std::string_view frame, frame_kind kind = frame_kind::text) {
  if (!connected(w, id)) return false;
  w.c->websocket_message(*id, kind, frame, w.now);
  return true;
}
// A binary message frame: the bytes (v4), the type byte 4 and the bytes (v3).
bool ws_binary(world& w, std::optional<connection_id> id) {
  const std::string_view frame = w.version == protocol_version::v4 ? std::string_view("\x01", 1)
                                                                    : std::string_view("\x04\x01", 2);
  return ws_frame(w, id, frame, frame_kind::binary);
}

// Moves the clock to `to` the way an adapter does, waking at every deadline
// on the way, then wakes once more at `to` (a timer may fire late or early).
void advance(world& w, millis to) {
  for (int guard = 0; guard < 16; ++guard) {
    const std::optional<millis> d = w.c->next_deadline();
    if (!d || *d > to) break;
    w.now = std::max(w.now, *d);
    w.c->on_timeout(w.now);
  }
  w.now = to;
  w.c->on_timeout(w.now);
}

// ---------------------------------------------------------------- situations

void step(world& w, bool possible) {
  if (!possible) w.problem("a setup step that does not exist");
  settle(w);
}

void enter(world& w, situation s, protocol_version version) {
  w.version = version;
  const bool websocket_only = s == opening_ws || s == opening_ws_ready || s == websocket;
  w.c.emplace(options_for(version, !websocket_only));
  if (s == idle) return;
  w.c->open(w.now);
  settle(w);
  const auto handshake = [&](std::string_view json) { step(w, get_packet(w, open_packet(json))); };
  const auto send_two = [&] {
    step(w, send_text(*w.c, "a", w.now));  // a POST
    step(w, send_text(*w.c, "b", w.now));  // behind it
  };
  const auto to_probe_sent = [&] {
    handshake(handshake_upgrade);
    step(w, ws_opened(w, w.probe));
  };
  switch (s) {
    case opening_ws_ready: step(w, ws_opened(w, w.ws)); break;
    case websocket:
      step(w, ws_opened(w, w.ws));
      step(w, ws_frame(w, w.ws, open_packet(handshake_plain)));
      break;
    case polling: handshake(handshake_plain); break;
    case polling_post:
      handshake(handshake_plain);
      send_two();
      break;
    case probe_connecting: handshake(handshake_upgrade); break;
    case probe_sent: to_probe_sent(); break;
    case pausing:
      to_probe_sent();
      step(w, ws_frame(w, w.probe, "3probe"));
      break;
    case pausing_post:
      to_probe_sent();
      send_two();
      step(w, ws_frame(w, w.probe, "3probe"));
      break;
    case probe_dropped:
      to_probe_sent();
      step(w, ws_frame(w, w.probe, "4x"));
      break;
    case upgraded:
      to_probe_sent();
      step(w, ws_frame(w, w.probe, "3probe"));
      step(w, get_packet(w, "6"));
      break;
    case closing:
      handshake(handshake_plain);
      send_two();
      w.c->close(w.now);
      settle(w);
      break;
    case closing_pausing:
      to_probe_sent();
      send_two();
      step(w, ws_frame(w, w.probe, "3probe"));
      w.c->close(w.now);
      settle(w);
      break;
    case closed:
      to_probe_sent();
      step(w, send_text(*w.c, "a", w.now));
      w.c->close(w.now);
      settle(w);
      step(w, answer_post(w, 200, "ok"));  // the close packet's POST follows
      break;
    default: break;
  }
}

// Whatever the input did, close() and the server answering what is in
// flight end the session; after the end, no input about anything the client
// ever used causes anything.
void wind_down(world& w) {
  w.c->close(w.now);
  settle(w);
  for (int i = 0; i < 8 && w.c->state() != client_state::closed; ++i) {
    if (!answer_post(w, 200, "ok") && !get_packet(w, "6")) break;
    settle(w);
  }
  if (w.c->state() != client_state::closed) w.problem("close() did not end the session");
  client& c = *w.c;
  for (const connection_id id : w.ids) {
    c.http_response_received(id, 200, {}, payload(w.version, "4late"), w.now);
    c.http_failed(id, w.now);
    c.websocket_opened(id, w.now);
    c.websocket_message(id, frame_kind::text, "3probe", w.now);
    c.websocket_message(id, frame_kind::text, "4late", w.now);
    c.websocket_closed(id, w.now);
    c.websocket_failed(id, w.now);
  }
  c.http_response_received(stranger, 200, {}, payload(w.version, "4late"), w.now);
  c.on_timeout(w.now + 1h);
  c.open(w.now);
  c.close(w.now);
  if (send_text(c, "late", w.now)) w.problem("send() accepted after close");
  if (c.next_action() || c.next_event()) w.problem("output after close");
  if (c.next_deadline()) w.problem("a timer after close");
}

// ---------------------------------------------------------------- inputs

struct input_def {
  const char* name;
  // Applies the input; returns false when it does not exist in this world.
  bool (*apply)(world&, std::vector<std::string>& extra_tokens);
};

#define INPUT(name, body) \
  input_def { name, [](world& w, std::vector<std::string>& extra) -> bool { (void)extra; body } }

const std::vector<input_def>& inputs() {
  static const std::vector<input_def> all = {
      // The GET in flight answered.
      INPUT("get_open", return get_packet(w, open_packet(handshake_upgrade));),
      INPUT("get_open_bad", return get_packet(w, R"(0{"sid":)");),
      INPUT("get_close", return get_packet(w, "1");),
      INPUT("get_ping", return get_packet(w, "2");),
      INPUT("get_pong", return get_packet(w, "3");),
      INPUT("get_message", return get_packet(w, "4m");),
      INPUT("get_binary", return get_packet(w, w.version == protocol_version::v4 ? "bAQ==" : "b4AQ==");),
      INPUT("get_upgrade", return get_packet(w, "5");),
      INPUT("get_noop", return get_packet(w, "6");),
      INPUT("get_malformed", return get_packet(w, "9x");),
      INPUT("get_404", return answer_get(w, 404, "");),
      INPUT("get_failed", return fail_get(w);),
      // The POST in flight answered.
      INPUT("post_ok", return answer_post(w, 200, "ok");),
      INPUT("post_200_other", return answer_post(w, 200, payload(w.version, "4m"));),  // a 200's body is not read
      INPUT("post_500", return answer_post(w, 500, "");),
      INPUT("post_failed", return fail_post(w);),
      // The probe WebSocket.
      INPUT("probe_opened", return ws_opened(w, w.probe);),
      INPUT("probe_failed", return ws_failed(w, w.probe);),
      INPUT("probe_closed", return ws_closed(w, w.probe);),
      INPUT("probe_open", return ws_frame(w, w.probe, open_packet(handshake_plain));),
      INPUT("probe_close", return ws_frame(w, w.probe, "1");),
      INPUT("probe_ping", return ws_frame(w, w.probe, "2");),
      INPUT("probe_2probe", return ws_frame(w, w.probe, "2probe");),
      INPUT("probe_pong", return ws_frame(w, w.probe, "3");),
      INPUT("probe_3probe", return ws_frame(w, w.probe, "3probe");),
      INPUT("probe_message", return ws_frame(w, w.probe, "4m");),
      INPUT("probe_binary", return ws_binary(w, w.probe);),
      INPUT("probe_upgrade", return ws_frame(w, w.probe, "5");),
      INPUT("probe_noop", return ws_frame(w, w.probe, "6");),
      INPUT("probe_malformed", return ws_frame(w, w.probe, "9");),
      // The session's WebSocket.
      INPUT("ws_opened", return ws_opened(w, w.ws);),
      INPUT("ws_failed", return ws_failed(w, w.ws);),
      INPUT("ws_closed", return ws_closed(w, w.ws);),
      INPUT("ws_open", return ws_frame(w, w.ws, open_packet(handshake_upgrade));),
      INPUT("ws_open_bad", return ws_frame(w, w.ws, R"(0{"sid":)");),
      INPUT("ws_close", return ws_frame(w, w.ws, "1");),
      INPUT("ws_ping", return ws_frame(w, w.ws, "2");),
      INPUT("ws_2probe", return ws_frame(w, w.ws, "2probe");),
      INPUT("ws_pong", return ws_frame(w, w.ws, "3");),
      INPUT("ws_3probe", return ws_frame(w, w.ws, "3probe");),
      INPUT("ws_message", return ws_frame(w, w.ws, "4m");),
      INPUT("ws_binary", return ws_binary(w, w.ws);),
      INPUT("ws_upgrade", return ws_frame(w, w.ws, "5");),
      INPUT("ws_noop", return ws_frame(w, w.ws, "6");),
      INPUT("ws_malformed", return ws_frame(w, w.ws, "9");),
      // Ids the client never used, or is done with.
      INPUT("http_unknown",
            w.c->http_response_received(stranger, 200, {}, payload(w.version, "4m"), w.now); return true;),
      INPUT("http_failed_unknown", w.c->http_failed(stranger, w.now); return true;),
      INPUT("http_stale", if (w.answered.empty()) return false;
            w.c->http_response_received(w.answered.front(), 200, {}, payload(w.version, "4m"), w.now); return true;),
      INPUT("ws_unknown_opened", w.c->websocket_opened(stranger, w.now); return true;),
      INPUT("ws_unknown_failed", w.c->websocket_failed(stranger, w.now); return true;),
      INPUT("ws_unknown_message", w.c->websocket_message(stranger, frame_kind::text, "3probe", w.now); return true;),
      INPUT("ws_unknown_closed", w.c->websocket_closed(stranger, w.now); return true;),
      // The application.
      INPUT("app_open", w.c->open(w.now); return true;),
      INPUT("app_send", if (!send_text(*w.c, "m", w.now)) extra.push_back("send:false"); return true;),
      // Text with the v4 payload separator: refused while polling may carry it.
      INPUT("app_send_rs", if (!send_text(*w.c, "a\x1e" "b", w.now)) extra.push_back("send:false"); return true;),
      INPUT("app_close", w.c->close(w.now); return true;),
      // Timers.
      INPUT("timer_early", advance(w, ping_due - 1ms); return true;),
      INPUT("timer_ping", advance(w, ping_due); return true;),
      INPUT("timer_silence", advance(w, silence_due); return true;),
      INPUT("timer_late", w.now = 10s; w.c->on_timeout(w.now); return true;),  // one wake-up, long after both
  };
  return all;
}

// ---------------------------------------------------------------- the table

using row = std::array<const char*, situation_count>;
struct table_entry {
  const char* input;
  const char* versions;  // "34", "4" or "3"
  row outcomes;          // in situation order
};

constexpr const char* na = "n/a";

// A row that differs from `base` in one column.
row with(row base, situation s, const char* outcome) {
  base[s] = outcome;
  return base;
}

// Columns: idle, opening_poll, opening_ws, opening_ws_ready,
//          polling, polling_post, probe_connecting, probe_sent,
//          pausing, pausing_post, probe_dropped, upgraded,
//          websocket, closing, closing_pausing, closed.

// Nothing happens; also what each situation claims to be.
const row unchanged = {
    "idle |", "opening:poll |", "opening:ws |", "opening:ws |",
    "open:poll |", "open:poll [1] |", "open:poll+upgrading |", "open:poll+upgrading |",
    "open:poll+upgrading |", "open:poll+upgrading [1] |", "open:poll |", "open:ws |",
    "open:ws |", "closing:poll [2] |", "closing:poll+upgrading [2] |", "closed |"};

// ---- the GET in flight answered

// With a packet that changes nothing once open (pong, upgrade, noop, a second
// open packet): polling goes on with a new GET, closing too (Polling.onData
// polls while the transport is open); paused, no new GET, and with no POST in
// flight either the pause is over: "5" on the probe, which becomes the
// session's WebSocket (Socket._probe). While opening, a handshake response
// without an open packet ends the session.
const row get_quiet = {
    na, "closed:transport error | E:error", na, na,
    "open:poll | GET", "open:poll [1] | GET", "open:poll+upgrading | GET", "open:poll+upgrading | GET",
    "open:ws | B:send(5) E:upgrade", "open:poll+upgrading [1] |", "open:poll | GET", na,
    na, "closing:poll [2] | GET", "closing:poll+upgrading [2] |", "closed |"};

// A message: delivered, else as get_quiet; before the open packet it counts
// for nothing.
const row get_message = {
    na, "closed:transport error | E:error", na, na,
    "open:poll | E:message GET", "open:poll [1] | E:message GET", "open:poll+upgrading | E:message GET",
    "open:poll+upgrading | E:message GET",
    "open:ws | B:send(5) E:message E:upgrade", "open:poll+upgrading [1] | E:message", "open:poll | E:message GET", na,
    na, "closing:poll [2] | E:message GET", "closing:poll+upgrading [2] | E:message", "closed |"};

// A ping (v4 "Heartbeat"; a v3 server never pings, answering costs nothing):
// the pong goes in a POST, or waits behind the POST in flight or the pause;
// a pause that ends here sends it on the WebSocket after "5". Before the open
// packet a ping counts for nothing; once closing, nothing follows the close
// packet (engine.io-client drops packets sent while closing).
const row get_ping = {
    na, "closed:transport error | E:error", na, na,
    "open:poll | GET POST(3)", "open:poll [2] | GET", "open:poll+upgrading | GET POST(3)",
    "open:poll+upgrading | GET POST(3)",
    "open:ws | B:send(5,3) E:upgrade", "open:poll+upgrading [2] |", "open:poll | GET POST(3)", na,
    na, "closing:poll [2] | GET", "closing:poll+upgrading [2] |", "closed |"};

// An answer that ends the session: the probe is closed; the requests in
// flight are forgotten. `plain`: the fate where there is no live probe.
row get_ends(const char* plain, const char* with_probe) {
  return {na,         plain,      na,    na, plain, plain,      with_probe, with_probe,
          with_probe, with_probe, plain, na, na,    plain, with_probe, "closed |"};
}

// ---- the POST in flight answered

const row post_ok = {
    na, na, na, na,
    na, "open:poll | POST(4)", na, na,
    // Paused: one of the two requests the pause waits for; the GET is the other.
    na, "open:poll+upgrading [1] |", na, na,
    // Closing: the rest of the buffer and the close packet in one POST, then closed.
    na, "closed:forced close | POST(4,1)", "closing:poll+upgrading [2] |", "closed |"};
row post_ends(const char* plain, const char* with_probe) {
  return {na, na, na, na, na, plain, na, na, na, with_probe, na, na, na, plain, with_probe, "closed |"};
}

// ---- the probe

// Opened and failed exist only while it connects.
row probe_connecting_only(const char* outcome) {
  row r;
  r.fill(na);
  r[probe_connecting] = outcome;
  return r;
}
// Anything but "3probe" after "2probe", and anything at all after "3probe"
// (the server sends nothing else on the probe before "5"): the probe is
// dropped ("probe error") and polling goes on, resumed if it was paused.
// Once dropped, or the session closed, the probe's inputs are ignored.
const row probe_unexpected = {
    na, na, na, na,
    na, na, na, "open:poll | B:close E:error",
    "open:poll | B:close E:error", "open:poll [1] | B:close E:error", "open:poll |", na,
    na, na, "closing:poll [2] | B:close E:error", "closed |"};
// The probe closed by the server: the same, with nothing left to close.
const row probe_closed = {
    na, na, na, na,
    na, na, na, "open:poll | E:error",
    "open:poll | E:error", "open:poll [1] | E:error", "open:poll |", na,
    na, na, "closing:poll [2] | E:error", "closed |"};

// ---- the session's WebSocket

// Opened and failed exist only while it connects (opening_ws); messages and
// closed once connected (opening_ws_ready, upgraded, websocket).
row ws_row(const char* connecting, const char* ready, const char* open) {
  row r;
  r.fill(na);
  r[opening_ws] = connecting;
  r[opening_ws_ready] = ready;
  r[upgraded] = open;
  r[websocket] = open;
  return r;
}

// ---- the application

// A message: buffered while opening, paused or behind a POST; else out at
// once. Refused once closing, and before open().
const row app_send = {
    "idle | send:false", "opening:poll [1] |", "opening:ws [1] |", "opening:ws [1] |",
    "open:poll | POST(4)", "open:poll [2] |", "open:poll+upgrading | POST(4)", "open:poll+upgrading | POST(4)",
    "open:poll+upgrading [1] |", "open:poll+upgrading [2] |", "open:poll | POST(4)", "open:ws | W:send(4)",
    "open:ws | W:send(4)", "closing:poll [2] | send:false", "closing:poll+upgrading [2] | send:false",
    "closed | send:false"};
// v4 text holding '\x1e': refused while polling may still carry it (polling
// allowed and not yet on the WebSocket: paused, it may resume).
const row app_send_rs_v4 = {
    "idle | send:false", "opening:poll | send:false", "opening:ws [1] |", "opening:ws [1] |",
    "open:poll | send:false", "open:poll [1] | send:false", "open:poll+upgrading | send:false",
    "open:poll+upgrading | send:false",
    "open:poll+upgrading | send:false", "open:poll+upgrading [1] | send:false", "open:poll | send:false",
    "open:ws | W:send(4)",
    "open:ws | W:send(4)", "closing:poll [2] | send:false", "closing:poll+upgrading [2] | send:false",
    "closed | send:false"};
// Closing: at once while opening (and before open()); else the buffer and the
// close packet go out, then "forced close", every WebSocket closed. Behind a
// POST in flight or a pause, the session waits in closing (engine.io-client
// waits for "drain" and for the upgrade).
const row app_close = {
    "closed:forced close |", "closed:forced close |", "closed:forced close | W:close",
    "closed:forced close | W:close",
    "closed:forced close | POST(1)", "closing:poll [2] |", "closed:forced close | B:close POST(1)",
    "closed:forced close | B:close POST(1)",
    "closing:poll+upgrading [1] |", "closing:poll+upgrading [2] |", "closed:forced close | POST(1)",
    "closed:forced close | W:close W:send(1)",
    "closed:forced close | W:close W:send(1)", "closing:poll [2] |", "closing:poll+upgrading [2] |", "closed |"};

// ---- timers (none while opening: nothing to time out on)

// v3: the client pings pingInterval after the handshake (engine.io-client 3
// setPing); the ping goes like any packet. None once closing.
const row ping_v3 = {
    "idle |", "opening:poll |", "opening:ws |", "opening:ws |",
    "open:poll | POST(2)", "open:poll [2] |", "open:poll+upgrading | POST(2)", "open:poll+upgrading | POST(2)",
    "open:poll+upgrading [1] |", "open:poll+upgrading [2] |", "open:poll | POST(2)", "open:ws | W:send(2)",
    "open:ws | W:send(2)", "closing:poll [2] |", "closing:poll+upgrading [2] |", "closed |"};
// Nothing heard for pingInterval + pingTimeout: "ping timeout".
const row silence = {
    "idle |", "opening:poll |", "opening:ws |", "opening:ws |",
    "closed:ping timeout |", "closed:ping timeout |", "closed:ping timeout | B:close", "closed:ping timeout | B:close",
    "closed:ping timeout | B:close", "closed:ping timeout | B:close", "closed:ping timeout |",
    "closed:ping timeout | W:close",
    "closed:ping timeout | W:close", "closed:ping timeout |", "closed:ping timeout | B:close", "closed |"};
// v3, the clock moved through the ping first: the ping, then the timeout.
const row silence_v3 = {
    "idle |", "opening:poll |", "opening:ws |", "opening:ws |",
    "closed:ping timeout | POST(2)", "closed:ping timeout |", "closed:ping timeout | B:close POST(2)",
    "closed:ping timeout | B:close POST(2)",
    "closed:ping timeout | B:close", "closed:ping timeout | B:close", "closed:ping timeout | POST(2)",
    "closed:ping timeout | W:close W:send(2)",
    "closed:ping timeout | W:close W:send(2)", "closed:ping timeout |", "closed:ping timeout | B:close", "closed |"};

const std::vector<table_entry>& table() {
  static const std::vector<table_entry> all = {
      // The handshake: the open event, the probe (the server offers "websocket"), the next poll.
      {"get_open", "34", with(get_quiet, opening_poll, "open:poll+upgrading | E:open GET N:open")},
      // A handshake that does not parse ends the session; a later open packet is not read.
      {"get_open_bad", "34", with(get_quiet, opening_poll, "closed:parse error | E:error")},
      // The server's close packet (engine.io-protocol "close"): "transport close".
      {"get_close", "34", get_ends("closed:transport close |", "closed:transport close | B:close")},
      {"get_ping", "34", get_ping},
      // v3: a pong arms the next ping (no output).
      {"get_pong", "34", get_quiet},
      {"get_message", "34", get_message},
      {"get_binary", "34", get_message},
      {"get_upgrade", "34", get_quiet},
      {"get_noop", "34", get_quiet},
      {"get_malformed", "34", get_ends("closed:parse error | E:error", "closed:parse error | B:close E:error")},
      // A refused or failed poll: the Node client's "xhr poll error", then "transport error".
      {"get_404", "34", get_ends("closed:transport error | E:error", "closed:transport error | B:close E:error")},
      {"get_failed", "34", get_ends("closed:transport error | E:error", "closed:transport error | B:close E:error")},

      {"post_ok", "34", post_ok},
      {"post_200_other", "34", post_ok},
      {"post_500", "34", post_ends("closed:transport error | E:error", "closed:transport error | B:close E:error")},
      {"post_failed", "34", post_ends("closed:transport error | E:error", "closed:transport error | B:close E:error")},

      // engine.io-protocol "Upgrade": the probe proves the WebSocket both ways.
      {"probe_opened", "34", probe_connecting_only("open:poll+upgrading | B:send(2probe)")},
      // Never connected: nothing to close; polling goes on.
      {"probe_failed", "34", probe_connecting_only("open:poll | E:error")},
      {"probe_closed", "34", probe_closed},
      {"probe_open", "34", probe_unexpected},
      {"probe_close", "34", probe_unexpected},
      {"probe_ping", "34", probe_unexpected},
      {"probe_2probe", "34", probe_unexpected},
      {"probe_pong", "34", probe_unexpected},
      // The answer: polling pauses (no new GET or POST; the GET in flight is awaited).
      {"probe_3probe", "34", with(probe_unexpected, probe_sent, "open:poll+upgrading | E:upgrading")},
      {"probe_message", "34", probe_unexpected},
      {"probe_binary", "34", probe_unexpected},
      {"probe_upgrade", "34", probe_unexpected},
      {"probe_noop", "34", probe_unexpected},
      {"probe_malformed", "34", probe_unexpected},

      // Connected: the server speaks first (the open packet).
      {"ws_opened", "34", ws_row("opening:ws |", na, na)},
      {"ws_failed", "34", ws_row("closed:transport error | E:error", na, na)},
      {"ws_closed", "34", ws_row(na, "closed:transport close |", "closed:transport close |")},
      // The handshake over the WebSocket: no probe (already on it).
      {"ws_open", "34", ws_row(na, "open:ws | E:open", "open:ws |")},
      {"ws_open_bad", "34", ws_row(na, "closed:parse error | E:error W:close", "open:ws |")},
      {"ws_close", "34", ws_row(na, "closed:transport close | W:close", "closed:transport close | W:close")},
      // Before the open packet nothing counts; after it a ping is answered, data echoed.
      {"ws_ping", "34", ws_row(na, "opening:ws |", "open:ws | W:send(3)")},
      {"ws_2probe", "34", ws_row(na, "opening:ws |", "open:ws | W:send(3probe)")},
      {"ws_pong", "34", ws_row(na, "opening:ws |", "open:ws |")},
      {"ws_3probe", "34", ws_row(na, "opening:ws |", "open:ws |")},
      {"ws_message", "34", ws_row(na, "opening:ws |", "open:ws | E:message")},
      {"ws_binary", "34", ws_row(na, "opening:ws |", "open:ws | E:message")},
      {"ws_upgrade", "34", ws_row(na, "opening:ws |", "open:ws |")},
      {"ws_noop", "34", ws_row(na, "opening:ws |", "open:ws |")},
      {"ws_malformed", "34",
       ws_row(na, "closed:parse error | E:error W:close", "closed:parse error | E:error W:close")},

      // Ids the client never used or no longer cares about: ignored.
      {"http_unknown", "34", unchanged},
      {"http_failed_unknown", "34", unchanged},
      // (n/a until a request was answered.)
      {"http_stale", "34",
       with(with(with(with(with(unchanged, idle, na), opening_poll, na), opening_ws, na), opening_ws_ready, na),
            websocket, na)},
      {"ws_unknown_opened", "34", unchanged},
      {"ws_unknown_failed", "34", unchanged},
      {"ws_unknown_message", "34", unchanged},
      {"ws_unknown_closed", "34", unchanged},

      // open(): idle only; polling first when allowed.
      {"app_open", "34", with(unchanged, idle, "opening:poll | GET")},
      {"app_send", "34", app_send},
      {"app_send_rs", "4", app_send_rs_v4},
      {"app_send_rs", "3", app_send},  // v3 payloads are length-prefixed: no separator
      {"app_close", "34", app_close},

      {"timer_early", "34", unchanged},
      {"timer_ping", "4", unchanged},  // v4: the server pings, the client only listens
      {"timer_ping", "3", ping_v3},
      {"timer_silence", "4", silence},
      {"timer_silence", "3", silence_v3},
      {"timer_late", "34", silence},  // the silence is checked first: no ping goes out
  };
  return all;
}

std::optional<std::string> expected(const std::string& input, protocol_version version, situation s) {
  const char v = version == protocol_version::v4 ? '4' : '3';
  std::optional<std::string> found;
  for (const auto& e : table()) {
    if (input == e.input && std::string(e.versions).find(v) != std::string::npos) {
      if (found) return std::string("<duplicate table entry>");
      found = e.outcomes[s];
    }
  }
  return found;
}

std::string render(const std::string& fate_text, std::vector<std::string> tokens) {
  std::sort(tokens.begin(), tokens.end());
  std::string out = fate_text + " |";
  for (const auto& t : tokens) out += " " + t;
  return out;
}

TEST(session_client_machine, every_situation_times_every_input) {
  std::size_t cells = 0, applicable = 0;
  for (const protocol_version version : {protocol_version::v4, protocol_version::v3}) {
    for (int si = 0; si < situation_count; ++si) {
      const auto s = static_cast<situation>(si);
      for (const auto& in : inputs()) {
        SCOPED_TRACE(std::string(situation_names[s]) + " x " + in.name + " (v" +
                     std::to_string(static_cast<int>(version)) + ")");
        const auto want = expected(in.name, version, s);
        if (!want) {
          ADD_FAILURE() << "no table entry";
          continue;
        }
        world w;
        enter(w, s, version);
        // The situation is what it claims to be (a cell that cannot be
        // reached fails alone: the other cells still run).
        if (!w.problems.empty() || fate(w, std::nullopt) + " |" != unchanged[s]) {
          ADD_FAILURE() << "could not reach the situation: " << fate(w, std::nullopt) << "; " << w.problems;
          continue;
        }
        std::vector<std::string> extra;
        const bool exists = in.apply(w, extra);
        const settled out = settle(w);
        if (exists) {
          ++applicable;
          extra.insert(extra.end(), out.tokens.begin(), out.tokens.end());
          EXPECT_EQ(render(fate(w, out.closed_by), extra), *want);
        } else {
          EXPECT_EQ(std::string(na), *want);
        }
        ++cells;
        EXPECT_EQ(w.problems, "");
        wind_down(w);
        EXPECT_EQ(w.problems, "") << "winding down";
      }
    }
  }
  EXPECT_EQ(cells, 2u * situation_count * inputs().size());
  RecordProperty("cells", static_cast<int>(cells));
  RecordProperty("applicable", static_cast<int>(applicable));
}

TEST(session_client_machine, table_has_no_entry_for_an_unknown_input) {
  for (const auto& e : table()) {
    const bool known = std::any_of(inputs().begin(), inputs().end(),
                                   [&](const input_def& in) { return std::string(in.name) == e.input; });
    EXPECT_TRUE(known) << e.input;
  }
}

}  // namespace
}  // namespace eio
