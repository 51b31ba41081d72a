// The session state machine, exhaustively (h11's test_state_machines): every
// reachable situation x every input, each pair on a fresh server, checked
// against the table below. A pair without a table entry fails.
//
// An outcome is "<fate> | <tokens>": fate is alive:poll, alive:ws or
// closed:<reason>; tokens (sorted) name what the input caused:
//   E:<event>          message, upgrading, upgrade, heartbeat events
//   <role>:<status>(t) an HTTP response, with the packet types of a 200 payload
//   <role>:ok          the "ok" of a POST
//   <role>:accept / :close / :send(t)   WebSocket actions
//   send:false         send() refused
// Roles: H the held GET, N the input's own new connection, P the probe
// WebSocket, W the session's WebSocket. "n/a": the input does not exist in
// that situation (no probe, no WebSocket, no held GET).
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include "server_harness.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

namespace eio {
namespace {

using test::opened;
using test::server_harness;

enum situation { idle, held, probing, upgrading, upgraded, closing_buffered, closing_flushed, situation_count };
constexpr const char* situation_names[] = {"polling_idle", "polling_held",     "probing",        "upgrading",
                                           "websocket",    "closing_buffered", "closing_flushed"};

// The timers, far enough apart that each input below reaches the ones it names.
server_options machine_options() {
  server_options o;
  o.allow_eio3 = true;
  o.ping_interval = millis(40000);
  o.ping_timeout = millis(20000);
  o.upgrade_timeout = millis(10000);  // the closing fallback is a fixed 30000
  return o;
}

struct world {
  explicit world(test::output_path path) : h(machine_options(), millis(1000), path) {}
  server_harness h;
  opened o;
  std::optional<connection_id> held, probe, ws;
  bool setup_ok = true;
};

void enter(world& w, situation s, protocol_version version) {
  w.o = w.h.handshake(version);
  if (!w.o.ok()) {
    w.setup_ok = false;
    return;
  }
  switch (s) {
    case held: w.held = w.h.poll(w.o); break;
    case probing: w.probe = w.h.upgrade_request(w.o); break;
    case upgrading:
      w.probe = w.h.upgrade_request(w.o);
      w.h.message(*w.probe, "2probe");
      break;
    case upgraded: w.ws = w.h.upgrade(w.o); break;
    case closing_buffered:
      w.h.send(w.o.ref, "x");
      w.h.close(w.o.ref);
      break;
    case closing_flushed:
      w.h.send(w.o.ref, "x");
      w.h.close(w.o.ref);
      w.h.poll(w.o);
      break;
    default: break;
  }
  w.h.take();
  // The situation is what it claims to be.
  const bool on_ws = s == upgraded;
  if (w.h.srv().session_count() != 1 ||
      w.h.srv().session_transport(w.o.ref) != (on_ws ? transport_kind::websocket : transport_kind::polling)) {
    w.setup_ok = false;
  }
}

// ---------------------------------------------------------------- inputs

struct input_def {
  const char* name;
  // Applies the input; returns false when it does not exist in this world.
  bool (*apply)(world&, std::vector<std::string>& extra_tokens, connection_id& own);
};

bool post_payload(world& w, connection_id& own, const std::string& body) {
  own = w.h.post_body(w.o, body);
  return true;
}
std::string one(protocol_version v, packet_type t, std::string data = {}) {
  return test::payload_of({test::owned_packet{t, false, std::move(data)}}, v);
}
bool on_probe(world& w, std::string_view frame) {
  if (!w.probe) return false;
  w.h.message(*w.probe, frame);
  return true;
}
bool on_ws(world& w, std::string_view frame) {
  if (!w.ws) return false;
  w.h.message(*w.ws, frame);
  return true;
}

#define INPUT(name, body) \
  input_def { name, [](world& w, std::vector<std::string>& extra, connection_id& own) -> bool { (void)extra; (void)own; body } }

const std::vector<input_def>& inputs() {
  static const std::vector<input_def> all = {
      INPUT("get", own = w.h.poll(w.o); return true;),
      INPUT("post_message", return post_payload(w, own, one(w.o.version, packet_type::message, "m"));),
      INPUT("post_close", return post_payload(w, own, one(w.o.version, packet_type::close));),
      INPUT("post_ping", return post_payload(w, own, one(w.o.version, packet_type::ping));),
      INPUT("post_pong", return post_payload(w, own, one(w.o.version, packet_type::pong));),
      INPUT("post_open", return post_payload(w, own, one(w.o.version, packet_type::open));),
      INPUT("post_upgrade", return post_payload(w, own, one(w.o.version, packet_type::upgrade));),
      INPUT("post_noop", return post_payload(w, own, one(w.o.version, packet_type::noop));),
      INPUT("post_malformed", return post_payload(w, own, w.o.version == protocol_version::v4 ? "9x" : "2:9x");),
      INPUT("post_empty", return post_payload(w, own, "");),
      INPUT("websocket_request", own = w.h.upgrade_request(w.o); return true;),
      INPUT("probe_2probe", return on_probe(w, "2probe");),
      INPUT("probe_5", return on_probe(w, "5");),
      INPUT("probe_other", return on_probe(w, "4x");),
      INPUT("probe_malformed", return on_probe(w, "9");),
      INPUT("probe_closed", if (!w.probe) return false; w.h.ws_closed(*w.probe); return true;),
      INPUT("ws_message", return on_ws(w, "4m");),
      INPUT("ws_close", return on_ws(w, "1");),
      INPUT("ws_ping", return on_ws(w, "2");),
      INPUT("ws_pong", return on_ws(w, "3");),
      INPUT("ws_open", return on_ws(w, "0");),
      INPUT("ws_upgrade", return on_ws(w, "5");),
      INPUT("ws_noop", return on_ws(w, "6");),
      INPUT("ws_malformed", return on_ws(w, "9");),
      INPUT("ws_closed", if (!w.ws) return false; w.h.ws_closed(*w.ws); return true;),
      INPUT("ws_error", if (!w.ws) return false; w.h.ws_closed(*w.ws, connection_end::failed); return true;),
      INPUT("http_closed_held", if (!w.held) return false; w.h.http_closed(*w.held); return true;),
      INPUT("http_closed_answered", w.h.http_closed(w.o.connection); return true;),  // stale: ignored
      INPUT("timer_upgrade", w.h.advance(millis(10000)); return true;),
      INPUT("timer_closing", w.h.advance(millis(30000)); return true;),
      INPUT("timer_ping", w.h.advance(millis(40000)); return true;),
      INPUT("timer_heartbeat", w.h.advance(millis(60000)); return true;),
      INPUT("app_send", if (!w.h.send(w.o.ref, "m")) extra.push_back("send:false"); return true;),
      INPUT("app_close", w.h.close(w.o.ref); return true;),
      INPUT("app_close_discard", w.h.close(w.o.ref, close_mode::discard); return true;),
      INPUT("shutdown", w.h.shutdown(); return true;),
  };
  return all;
}

// ---------------------------------------------------------------- the table

using row = std::array<const char*, situation_count>;
struct table_entry {
  const char* input;
  const char* versions;  // "34", "4" or "3"
  row outcomes;          // idle, held, probing, upgrading, websocket, closing_buffered, closing_flushed
};

constexpr const char* na = "n/a";
// Closing sessions hear no packets (socket.ts onPacket) but a POST is still answered.
constexpr const char* closing_post = "alive:poll | N:ok";

const std::vector<table_entry> table = {
    {"get", "34",
     // Upgrading: the GET waits for the next 100 ms noop tick (session_upgrade tests).
     {"alive:poll |", "closed:transport error | H:200(1) N:400", "alive:poll |", "alive:poll |",
      "alive:ws | E:connection_error N:400", "alive:poll | N:200(4)", "closed:forced close | N:200(1)"}},
    {"post_message", "34",
     {"alive:poll | E:message N:ok", "alive:poll | E:message N:ok", "alive:poll | E:message N:ok",
      "alive:poll | E:message N:ok", "alive:ws | E:connection_error N:400", closing_post, closing_post}},
    // The client closed: a held GET gets a noop, not a close packet (the
    // protocol's test suite; node-reference-behaviour.md, "Polling", POST).
    {"post_close", "34",
     {"closed:transport close | N:ok", "closed:transport close | H:200(6) N:ok",
      "closed:transport close | N:ok P:close", "closed:transport close | N:ok P:close", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    {"post_ping", "4",
     {"closed:transport error | N:ok", "closed:transport error | H:200(1) N:ok",
      "closed:transport error | N:ok P:close", "closed:transport error | N:ok P:close", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    {"post_ping", "3",
     {"alive:poll | E:heartbeat N:ok", "alive:poll | E:heartbeat H:200(3) N:ok", "alive:poll | E:heartbeat N:ok",
      "alive:poll | E:heartbeat N:ok", "alive:ws | E:connection_error N:400", closing_post, closing_post}},
    {"post_pong", "4",
     {"alive:poll | E:heartbeat N:ok", "alive:poll | E:heartbeat N:ok", "alive:poll | E:heartbeat N:ok",
      "alive:poll | E:heartbeat N:ok", "alive:ws | E:connection_error N:400", closing_post, closing_post}},
    {"post_pong", "3",
     {"closed:transport error | N:ok", "closed:transport error | H:200(1) N:ok",
      "closed:transport error | N:ok P:close", "closed:transport error | N:ok P:close", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    {"post_open", "34",
     {"alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    {"post_upgrade", "34",
     {"alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    {"post_noop", "34",
     {"alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:poll | N:ok", "alive:ws | E:connection_error N:400",
      closing_post, closing_post}},
    // A payload that does not decode is refused: 400, never "ok".
    {"post_malformed", "34",
     {"closed:parse error | N:400", "closed:parse error | H:200(1) N:400", "closed:parse error | N:400 P:close",
      "closed:parse error | N:400 P:close", "alive:ws | E:connection_error N:400", "closed:parse error | N:400",
      "closed:parse error | N:400"}},
    {"post_empty", "34",
     {"closed:parse error | N:400", "closed:parse error | H:200(1) N:400", "closed:parse error | N:400 P:close",
      "closed:parse error | N:400 P:close", "alive:ws | E:connection_error N:400", "closed:parse error | N:400",
      "closed:parse error | N:400"}},
    {"websocket_request", "34",
     {"alive:poll | N:accept", "alive:poll | N:accept", "alive:poll | N:accept N:close",
      "alive:poll | N:accept N:close", "alive:ws | N:accept N:close", "alive:poll | N:accept N:close",
      "alive:poll | N:accept N:close"}},
    {"probe_2probe", "34", {na, na, "alive:poll | E:upgrading P:send(3)", "alive:poll | P:close", na, na, na}},
    {"probe_5", "34", {na, na, "alive:poll | P:close", "alive:ws | E:upgrade", na, na, na}},
    {"probe_other", "34", {na, na, "alive:poll | P:close", "alive:poll | P:close", na, na, na}},
    {"probe_malformed", "34", {na, na, "alive:poll | P:close", "alive:poll | P:close", na, na, na}},
    {"probe_closed", "34", {na, na, "alive:poll |", "alive:poll |", na, na, na}},
    {"ws_message", "34", {na, na, na, na, "alive:ws | E:message", na, na}},
    {"ws_close", "34", {na, na, na, na, "closed:transport close | W:close", na, na}},
    {"ws_ping", "4", {na, na, na, na, "closed:transport error | W:close", na, na}},
    {"ws_ping", "3", {na, na, na, na, "alive:ws | E:heartbeat W:send(3)", na, na}},
    {"ws_pong", "4", {na, na, na, na, "alive:ws | E:heartbeat", na, na}},
    {"ws_pong", "3", {na, na, na, na, "closed:transport error | W:close", na, na}},
    {"ws_open", "34", {na, na, na, na, "alive:ws |", na, na}},
    {"ws_upgrade", "34", {na, na, na, na, "alive:ws |", na, na}},
    {"ws_noop", "34", {na, na, na, na, "alive:ws |", na, na}},
    {"ws_malformed", "34", {na, na, na, na, "closed:parse error | W:close", na, na}},
    {"ws_closed", "34", {na, na, na, na, "closed:transport close |", na, na}},
    {"ws_error", "34", {na, na, na, na, "closed:transport error |", na, na}},
    {"http_closed_held", "34", {na, "closed:transport error |", na, na, na, na, na}},
    {"http_closed_answered", "34",
     {"alive:poll |", "alive:poll |", "alive:poll |", "alive:poll |", "alive:ws |", "alive:poll |", "alive:poll |"}},
    {"timer_upgrade", "34",
     {"alive:poll |", "alive:poll |", "alive:poll | P:close", "alive:poll | P:close", "alive:ws |", "alive:poll |",
      "alive:poll |"}},
    {"timer_closing", "34",
     {"alive:poll |", "alive:poll |", "alive:poll | P:close", "alive:poll | P:close", "alive:ws |",
      "closed:forced close |", "closed:forced close |"}},
    {"timer_ping", "4",
     {"alive:poll |", "alive:poll | H:200(2)", "alive:poll | P:close", "alive:poll | P:close",
      "alive:ws | W:send(2)", "closed:forced close |", "closed:forced close |"}},
    {"timer_ping", "3",
     {"alive:poll |", "alive:poll |", "alive:poll | P:close", "alive:poll | P:close", "alive:ws |",
      "closed:forced close |", "closed:forced close |"}},
    {"timer_heartbeat", "4",
     {"closed:ping timeout |", "closed:ping timeout | H:200(2)", "closed:ping timeout | P:close",
      "closed:ping timeout | P:close", "closed:ping timeout | W:close W:send(2)", "closed:forced close |",
      "closed:forced close |"}},
    {"timer_heartbeat", "3",
     {"closed:ping timeout |", "closed:ping timeout | H:200(1)", "closed:ping timeout | P:close",
      "closed:ping timeout | P:close", "closed:ping timeout | W:close", "closed:forced close |",
      "closed:forced close |"}},
    {"app_send", "34",
     {"alive:poll |", "alive:poll | H:200(4)", "alive:poll |", "alive:poll |", "alive:ws | W:send(4)",
      "alive:poll | send:false", "alive:poll | send:false"}},
    {"app_close", "34",
     {"alive:poll |", "closed:forced close | H:200(1)", "alive:poll | P:close", "alive:poll | P:close",
      "closed:forced close | W:close", "alive:poll |", "alive:poll |"}},
    {"app_close_discard", "34",
     {"alive:poll |", "closed:forced close | H:200(1)", "alive:poll | P:close", "alive:poll | P:close",
      "closed:forced close | W:close", "alive:poll |", "alive:poll |"}},
    {"shutdown", "34",
     {"closed:server shutting down |", "closed:server shutting down | H:200(1)",
      "closed:server shutting down | P:close", "closed:server shutting down | P:close",
      "closed:server shutting down | W:close", "closed:server shutting down |", "closed:server shutting down |"}},
};

std::optional<std::string> expected(const std::string& input, protocol_version version, situation s) {
  const char v = version == protocol_version::v4 ? '4' : '3';
  std::optional<std::string> found;
  for (const auto& e : table) {
    if (input == e.input && std::string(e.versions).find(v) != std::string::npos) {
      if (found) return std::string("<duplicate table entry>");
      found = e.outcomes[s];
    }
  }
  return found;
}

// ---------------------------------------------------------------- observing

std::string outcome(const world& w, const test::drained& out, connection_id own, std::vector<std::string> tokens) {
  const auto role = [&](connection_id c) -> std::string {
    if (c == own) return "N";
    if (w.held && c == *w.held) return "H";
    if (w.probe && c == *w.probe) return "P";
    if (w.ws && c == *w.ws) return "W";
    return "?" + std::to_string(c);
  };
  for (const auto& a : out.actions) {
    if (const auto* r = std::get_if<http_response>(&a)) {
      std::string t = role(r->connection) + ":";
      if (r->status == 200 && r->body == "ok") {
        t += "ok";
      } else {
        t += std::to_string(r->status);
        if (r->status == 200) {
          t += "(";
          for (const auto& p : test::decode_body(*r, w.o.version).value_or(std::vector<test::owned_packet>{})) {
            t += std::to_string(static_cast<int>(p.type));
          }
          t += ")";
        }
      }
      tokens.push_back(t);
    } else if (const auto* acc = std::get_if<websocket_accept>(&a)) {
      tokens.push_back(role(acc->connection) + ":accept");
    } else if (const auto* snd = std::get_if<websocket_send>(&a)) {
      const auto p = test::decode_send(*snd, w.o.version);
      tokens.push_back(role(snd->connection) + ":send(" + (p ? std::to_string(static_cast<int>(p->type)) : "?") + ")");
    } else if (const auto* cl = std::get_if<websocket_close>(&a)) {
      tokens.push_back(role(cl->connection) + ":close");
    }
  }
  for (const auto& e : out.events) {
    if (std::holds_alternative<message_event>(e)) tokens.push_back("E:message");
    if (std::holds_alternative<upgrading_event>(e)) tokens.push_back("E:upgrading");
    if (std::holds_alternative<upgrade_event>(e)) tokens.push_back("E:upgrade");
    if (std::holds_alternative<heartbeat_event>(e)) tokens.push_back("E:heartbeat");
    if (std::holds_alternative<connection_error_event>(e)) tokens.push_back("E:connection_error");
  }
  std::sort(tokens.begin(), tokens.end());

  std::string fate;
  const auto closes = test::all_of_kind<close_event>(out.events);
  if (!closes.empty()) {
    fate = "closed:" + std::string(to_string(closes[0].reason));
  } else if (const auto t = w.h.srv().session_transport(w.o.ref)) {
    fate = *t == transport_kind::websocket ? "alive:ws" : "alive:poll";
  } else {
    fate = "vanished";
  }
  std::string result = fate + " |";
  for (const auto& t : tokens) result += " " + t;
  return result;
}

// The table holds for both ways the core hands out WebSocket frames: as
// actions, and through an attached connection_output (the direct path).
class session_machine : public testing::TestWithParam<test::output_path> {};

TEST_P(session_machine, every_situation_times_every_input) {
  std::size_t cells = 0;
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
        world w(GetParam());
        enter(w, s, version);
        ASSERT_TRUE(w.setup_ok) << "could not reach the situation";
        std::vector<std::string> extra;
        connection_id own = 0;
        const bool exists = in.apply(w, extra, own);
        const auto out = w.h.take();
        const std::string got = exists ? outcome(w, out, own, extra) : std::string(na);
        EXPECT_EQ(got, *want);
        ++cells;

        // Invariants (the harness checks the rest after every input: actions
        // name opened connections, nothing answered twice, session_count
        // against the events, a timer while sessions live).
        EXPECT_EQ(w.h.problems(), "");
        const bool closed = !test::all_of_kind<close_event>(out.events).empty();
        EXPECT_EQ(w.h.srv().session_count(), closed ? 0u : 1u);
        EXPECT_EQ(w.h.srv().find_session(w.o.sid).has_value(), !closed);
        if (closed) {
          EXPECT_EQ(w.h.srv().next_deadline(), std::nullopt);
          EXPECT_FALSE(w.h.send(w.o.ref, "late"));
        } else {
          ASSERT_TRUE(w.h.srv().next_deadline());
          EXPECT_GT(*w.h.srv().next_deadline(), w.h.now());
        }
        // A second shutdown always ends what is left, cleanly.
        w.h.shutdown();
        EXPECT_EQ(w.h.srv().session_count(), 0u);
        EXPECT_EQ(w.h.srv().next_deadline(), std::nullopt);
        EXPECT_EQ(w.h.problems(), "");
      }
    }
  }
  EXPECT_EQ(cells, 2u * situation_count * inputs().size());
}

INSTANTIATE_TEST_SUITE_P(output, session_machine, testing::Values(test::output_path::actions, test::output_path::direct),
                         [](const testing::TestParamInfo<test::output_path>& param) {
                           return param.param == test::output_path::direct ? "direct" : "actions";
                         });

TEST(session_machine_table, has_no_entry_for_an_unknown_input) {
  for (const auto& e : table) {
    const bool known = std::any_of(inputs().begin(), inputs().end(),
                                   [&](const input_def& in) { return std::string(in.name) == e.input; });
    EXPECT_TRUE(known) << e.input;
  }
}

}  // namespace
}  // namespace eio
