// eio::socketio::client (the sans-I/O Socket.IO client) with a fake clock:
// plain millis values the tests advance, and a scripted server that answers
// the manager's Engine.IO actions with exact bytes. Each test asserts the
// exact packets the client writes (rendered "WS-TEXT 42[...]", byte for
// byte as socket.io-parser writes them) and the exact listener calls, in
// order ("connect /", "disconnect / transport close", "reconnect_attempt 1").
//
// Most tests run the session on WebSocket only (one connection, every packet
// a frame); the polling tests check the same packets in POST bodies and the
// upgrade. The reconnection tests inject the jitter's random numbers; the
// expected delays were computed with socket.io-client 4.8.3's backo2.js
// (Math.random replaced by the same numbers).
#include <eio/socketio/client/manager.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio::test {
namespace {

using namespace std::chrono_literals;
namespace sio = eio::socketio;
namespace sc = eio::socketio::client;
using strings = std::vector<std::string>;
using sio::value;

std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

std::string bytes_of(const value& v) {
  const auto& b = v.get_binary();
  return std::string(b.begin(), b.end());
}

constexpr std::string_view handshake =
    R"({"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})";

// Drives one manager. Tracks the Engine.IO connections it opened so that a
// test says "the server accepts the WebSocket" rather than a number.
class sio_test : public ::testing::Test {
protected:
  sc::manager_options opts;
  std::optional<sc::manager> m;
  millis now{0};
  strings log;  // listener calls, in order

  std::optional<connection_id> ws_;    // the WebSocket of the current session
  std::optional<connection_id> get_;   // the polling GET in flight
  std::optional<connection_id> post_;  // the polling POST in flight
  std::vector<double> randoms_;        // the jitter's numbers, in turn
  std::size_t next_random_ = 0;

  sio_test() {
    opts.transports = {transport_kind::websocket};
    opts.randomization_factor = 0;  // tests that check the jitter set it
    opts.auto_connect = true;
  }

  sc::manager& make() {
    if (!randoms_.empty()) {
      opts.random = [this] { return randoms_[next_random_++ % randoms_.size()]; };
    }
    m.emplace(opts);
    m->on_open([this] { log.push_back("open"); });
    m->on_close([this](sc::disconnect_reason r, const std::string&) { log.push_back("close " + std::string(to_string(r))); });
    m->on_error([this](const sc::error_info& e) { log.push_back("error " + e.message); });
    m->on_reconnect_attempt([this](std::uint64_t n) { log.push_back("reconnect_attempt " + std::to_string(n)); });
    m->on_reconnect([this](std::uint64_t n) { log.push_back("reconnect " + std::to_string(n)); });
    m->on_reconnect_error([this](const sc::error_info& e) { log.push_back("reconnect_error " + e.message); });
    m->on_reconnect_failed([this] { log.push_back("reconnect_failed"); });
    return *m;
  }

  // A socket with listeners that log.
  sc::socket& watch(sc::socket& s) {
    const std::string nsp = s.nsp();
    s.on_connect([this, nsp] { log.push_back("connect " + nsp); });
    s.on_connect_error([this, nsp](const sc::error_info& e) {
      log.push_back("connect_error " + nsp + " " + e.message + (e.data ? " " + e.data->dump() : "") +
                    (e.refused ? " (refused)" : ""));
    });
    s.on_disconnect([this, nsp](sc::disconnect_reason r, const std::string&) {
      log.push_back("disconnect " + nsp + " " + std::string(to_string(r)));
    });
    s.on_any([this, nsp](const std::string& name, const value& args, const sc::ack_responder& ack) {
      log.push_back("event " + nsp + " " + name + " " + args.dump() + (ack.wanted() ? " (ack wanted)" : ""));
    });
    return s;
  }

  sc::socket& open_socket(const std::string& nsp = "/", sc::socket_options so = {}) {
    return watch(m->socket(nsp, std::move(so), now));
  }

  strings take_log() {
    strings out;
    out.swap(log);
    return out;
  }

  strings actions() {
    strings out;
    while (auto a = m->next_action()) {
      if (auto* r = std::get_if<client_http_request>(&*a)) {
        if (r->method == "GET") {
          get_ = r->request_id;
          out.push_back("GET " + r->target);
        } else {
          post_ = r->request_id;
          out.push_back("POST " + escaped(r->body));
        }
      } else if (auto* o = std::get_if<client_websocket_open>(&*a)) {
        ws_ = o->connection;
        out.push_back("WS-OPEN " + o->target);
      } else if (auto* s = std::get_if<client_websocket_send>(&*a)) {
        out.push_back(std::string(s->kind == frame_kind::text ? "WS-TEXT " : "WS-BINARY ") + escaped(s->data));
      } else if (auto* c = std::get_if<client_websocket_close>(&*a)) {
        out.push_back("WS-CLOSE");
        if (ws_ == c->connection) ws_.reset();
      }
    }
    return out;
  }

  // ---- the scripted server (WebSocket)

  // Accepts the WebSocket and sends the Engine.IO open packet.
  void accept(std::string_view hs = handshake) {
    ASSERT_TRUE(ws_);
    m->websocket_opened(*ws_, now);
    m->websocket_message(*ws_, frame_kind::text, "0" + std::string(hs), now);
  }
  void refuse() {
    ASSERT_TRUE(ws_);
    const connection_id id = *ws_;
    ws_.reset();
    m->websocket_failed(id, now);
  }
  // One Socket.IO packet (text), as an Engine.IO message.
  void says(std::string_view packet) {
    ASSERT_TRUE(ws_);
    m->websocket_message(*ws_, frame_kind::text, "4" + std::string(packet), now);
  }
  void says_binary(std::string_view bytes) {
    ASSERT_TRUE(ws_);
    m->websocket_message(*ws_, frame_kind::binary, bytes, now);
  }
  void drops() {
    ASSERT_TRUE(ws_);
    const connection_id id = *ws_;
    ws_.reset();
    m->websocket_closed(id, now);
  }

  // Advances the clock to now + d, firing every deadline on the way at its time.
  void advance(millis d) {
    const millis target = now + d;
    for (;;) {
      const auto due = m->next_deadline();
      if (!due || *due > target) break;
      if (*due > now) now = *due;
      m->on_timeout(now);
    }
    now = target;
  }

  // The usual start: a socket on "/", the session open, the namespace connected.
  sc::socket& connected(const std::string& nsp = "/", sc::socket_options so = {}) {
    if (!m) make();
    sc::socket& s = open_socket(nsp, std::move(so));
    actions();
    accept();
    actions();
    says((nsp == "/" ? std::string("0") : "0" + nsp + ",") + R"({"sid":"S1"})");
    take_log();
    return s;
  }
};

// ------------------------------------------------------------ packets, byte for byte

TEST_F(sio_test, connect_packet_and_answer) {
  make();
  sc::socket& s = open_socket();
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  EXPECT_FALSE(s.connected());
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
  EXPECT_EQ(take_log(), (strings{"open"}));
  says(R"(0{"sid":"abcdefghijklmnopqrst"})");
  EXPECT_EQ(take_log(), (strings{"connect /"}));
  EXPECT_TRUE(s.connected());
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.id(), "abcdefghijklmnopqrst");
  EXPECT_FALSE(s.pid());
  EXPECT_FALSE(s.recovered());
}

TEST_F(sio_test, connect_packet_with_auth_and_namespace) {
  opts.path = "/custom/";
  opts.query = {{"token", "a b"}};
  make();
  sc::socket_options so;
  so.auth = value{{"token", "abc"}, {"n", 1}};
  open_socket("/admin", so);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /custom/?token=a%20b&EIO=4&transport=websocket"}));
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40/admin,{"n":1,"token":"abc"})"}));
  says(R"(0/admin,{"sid":"S1"})");
  EXPECT_EQ(take_log(), (strings{"open", "connect /admin"}));
}

TEST_F(sio_test, auth_provider_is_asked_for_each_connect) {
  make();
  int calls = 0;
  sc::socket_options so;
  so.auth_provider = [&calls] { return value{{"try", ++calls}}; };
  open_socket("/", so);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"try":1})"}));
  says(R"(0{"sid":"S1"})");
  drops();
  advance(1000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"try":2})"}));
}

TEST_F(sio_test, auth_that_is_not_an_object_is_not_sent) {
  make();
  sc::socket_options so;
  so.auth = value("a string");
  open_socket("/", so);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
}

TEST_F(sio_test, auth_with_binary_is_refused_locally) {
  make();
  sc::socket_options so;
  so.auth = value{{"key", value::binary({1, 2})}};
  open_socket("/", so);
  actions();
  accept();
  EXPECT_EQ(actions(), strings{});
  const strings got = take_log();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].rfind("connect_error / the auth cannot be sent", 0), 0u) << got[1];
}

TEST_F(sio_test, emit_every_json_type) {
  sc::socket& s = connected();
  EXPECT_FALSE(s.emit("chat", value::array({"hi", 1, -2.5, true, false, nullptr, value::array({1, "x"}),
                                            value{{"a", value::array({1.5})}, {"b", value::object()}}}),
                      now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["chat","hi",1,-2.5,true,false,null,[1,"x"],{"a":[1.5],"b":{}}])"}));
  // One argument that is not an array; no argument; unicode and escapes.
  EXPECT_FALSE(s.emit("one", "x", now));
  EXPECT_FALSE(s.emit("none", value::array(), now));
  EXPECT_FALSE(s.emit("ünï\"\n", value::array({"\x01"}), now));
  EXPECT_FALSE(s.send("hello", now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["one","x"])", R"(WS-TEXT 42["none"])",
                                R"(WS-TEXT 42["\xc3\xbcn\xc3\xaf\x5c"\x5cn","\x5cu0001"])", R"(WS-TEXT 42["message","hello"])"}));
}

TEST_F(sio_test, emit_on_a_namespace_and_reserved_names) {
  sc::socket& s = connected("/admin");
  EXPECT_FALSE(s.emit("x", value::array({1}), now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42/admin,["x",1])"}));
  for (const char* reserved : {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
    EXPECT_EQ(s.emit(reserved, value::array(), now), sio::errc::reserved_event_name) << reserved;
  }
  EXPECT_EQ(s.emit("bad\xff", value::array(), now), sio::errc::invalid_utf8);
  EXPECT_EQ(s.emit("ok", value::array({"bad\xff"}), now), sio::errc::invalid_utf8);
  EXPECT_EQ(actions(), strings{});
}

TEST_F(sio_test, emit_binary_anywhere) {
  sc::socket& s = connected("/admin");
  value args = value::array({value::binary({1, 2, 3}), value{{"f", value{{"deep", value::array({value::binary({0xff})})}}}}});
  EXPECT_FALSE(s.emit("upload", args, now));
  EXPECT_EQ(actions(), (strings{
                           R"(WS-TEXT 452-/admin,["upload",{"_placeholder":true,"num":0},{"f":{"deep":[{"_placeholder":true,"num":1}]}}])",
                           "WS-BINARY \\x01\\x02\\x03", "WS-BINARY \\xff"}));
}

TEST_F(sio_test, emit_with_ack_ids_count_from_zero) {
  sc::socket& s = connected();
  strings acks;
  const auto record = [&acks](std::error_code e, const value& args) {
    acks.push_back((e ? e.message() : "ok") + " " + args.dump());
  };
  EXPECT_FALSE(s.emit_with_ack("a", value::array({1}), record, now));
  EXPECT_FALSE(s.emit_with_ack("b", value::array(), record, now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 420["a",1])", R"(WS-TEXT 421["b"])"}));
  EXPECT_EQ(s.pending_acks(), 2u);
  says(R"(31["for b",{"x":null}])");
  says(R"(30[])");
  says(R"(37["unknown id"])");  // ignored
  says("30[\"again\"]");        // answered already: ignored
  EXPECT_EQ(acks, (strings{R"(ok ["for b",{"x":null}])", "ok []"}));
  EXPECT_EQ(s.pending_acks(), 0u);
}

TEST_F(sio_test, binary_ack_from_the_server) {
  sc::socket& s = connected("/admin");
  value got;
  EXPECT_FALSE(s.emit_with_ack("get", value::array(), [&got](std::error_code, const value& args) { got = args; }, now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42/admin,0["get"])"}));
  says(R"(62-/admin,0[{"_placeholder":true,"num":1},"s",[{"_placeholder":true,"num":0}]])");
  EXPECT_TRUE(got.is_null());  // waits for the attachments
  says_binary("first");
  says_binary(std::string("\x00\x01", 2));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(bytes_of(got[0]), std::string("\x00\x01", 2));
  EXPECT_EQ(got[1], "s");
  EXPECT_EQ(bytes_of(got[2][0]), "first");
}

TEST_F(sio_test, server_event_with_ack_and_the_answer) {
  sc::socket& s = connected();
  sc::ack_responder kept;
  s.on("question", [&](const value& args, const sc::ack_responder& ack) {
    log.push_back("question " + args.dump());
    EXPECT_TRUE(ack.wanted());
    kept = ack;
  });
  says(R"(212["question",{"q":1}])");
  EXPECT_EQ(take_log(), (strings{R"(event / question [{"q":1}] (ack wanted))", R"(question [{"q":1}])"}));
  EXPECT_EQ(actions(), strings{});
  // Answered later, with binary: a BINARY_ACK.
  EXPECT_FALSE(kept(value::array({"answer", value::binary({9})})));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 461-12["answer",{"_placeholder":true,"num":0}])", "WS-BINARY \\x09"}));
  EXPECT_FALSE(kept.wanted());
  EXPECT_FALSE(kept(value::array({"twice"})));
  EXPECT_EQ(actions(), strings{});
}

TEST_F(sio_test, ack_on_a_namespace_and_one_argument) {
  sc::socket& s = connected("/admin");
  s.on("q", [](const value&, const sc::ack_responder& ack) { ack("plain"); });
  says(R"(2/admin,7["q"])");
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 43/admin,7["plain"])"}));
}

TEST_F(sio_test, server_binary_event_nested) {
  sc::socket& s = connected();
  value got;
  s.on("file", [&got](const value& args) { got = args; });
  says(R"(52-["file",{"meta":{"parts":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]}},1])");
  says_binary("zero");
  EXPECT_TRUE(got.is_null());
  says_binary(std::string("\xff\x00one", 5));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(bytes_of(got[0]["meta"]["parts"][0]), std::string("\xff\x00one", 5));
  EXPECT_EQ(bytes_of(got[0]["meta"]["parts"][1]), "zero");
  EXPECT_EQ(got[1], 1);
}

TEST_F(sio_test, listeners_on_once_off_and_any_order) {
  sc::socket& s = connected();
  const sc::listener_id a = s.on("e", [this](const value& args) { log.push_back("a " + args.dump()); });
  s.once("e", [this](const value& args) { log.push_back("once " + args.dump()); });
  s.on("other", [this](const value&) { log.push_back("other"); });
  says(R"(2["e",1])");
  says(R"(2["e",2])");
  EXPECT_TRUE(s.off(a));
  EXPECT_FALSE(s.off(a));
  says(R"(2["e",3])");
  s.off("other");
  says(R"(2["other"])");
  s.off_any();
  says(R"(2["e",4])");
  EXPECT_EQ(take_log(), (strings{R"(event / e [1])", "a [1]", "once [1]", R"(event / e [2])", "a [2]",
                                 R"(event / e [3])", R"(event / other [])"}));
  s.off_all();
  drops();
  EXPECT_EQ(take_log(), (strings{"close transport close"}));
}

TEST_F(sio_test, disconnect_packets) {
  make();
  sc::socket& root = open_socket("/");
  sc::socket& admin = open_socket("/admin");
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));  // one session for both
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40", "WS-TEXT 40/admin,"}));
  says(R"(0{"sid":"R"})");
  says(R"(0/admin,{"sid":"A"})");
  take_log();
  admin.disconnect(now);
  EXPECT_EQ(actions(), (strings{"WS-TEXT 41/admin,"}));
  EXPECT_EQ(take_log(), (strings{"disconnect /admin io client disconnect"}));
  EXPECT_FALSE(admin.active());
  EXPECT_EQ(m->state(), sc::manager_state::open);  // "/" is still active
  // The last socket: DISCONNECT, then the session closes ("1") for good.
  root.disconnect(now);
  EXPECT_EQ(actions(), (strings{"WS-TEXT 41", "WS-TEXT 1", "WS-CLOSE"}));
  EXPECT_EQ(take_log(), (strings{"close forced close", "disconnect / io client disconnect"}));
  EXPECT_EQ(m->state(), sc::manager_state::closed);
  EXPECT_FALSE(m->next_deadline());
}

// ------------------------------------------------------------ namespaces

TEST_F(sio_test, namespaces_share_one_session) {
  make();
  sc::socket& root = open_socket("/");
  sc::socket& admin = open_socket("/admin", {});
  sc::socket& chat = open_socket("/chat", {});
  EXPECT_EQ(&m->socket("/admin", now), &admin);  // the same socket again
  EXPECT_EQ(m->find("/chat"), &chat);
  EXPECT_EQ(m->find("/none"), nullptr);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40", "WS-TEXT 40/admin,", "WS-TEXT 40/chat,"}));
  says(R"(0/chat,{"sid":"C"})");
  says(R"(0{"sid":"R"})");
  says(R"(4/admin,{"message":"Invalid namespace"})");
  says(R"(2/chat,["m",1])");
  says(R"(2["m",2])");
  says(R"(2/nobody,["m",3])");  // no socket there: ignored
  says(R"(2/admin,["m",4])");   // refused, inactive: ignored
  EXPECT_EQ(take_log(), (strings{"open", "connect /chat", "connect /", "connect_error /admin Invalid namespace (refused)",
                                 "event /chat m [1]", "event / m [2]"}));
  EXPECT_EQ(root.id(), "R");
  EXPECT_EQ(chat.id(), "C");
  EXPECT_FALSE(admin.active());
  EXPECT_EQ(m->state(), sc::manager_state::open);
}

TEST_F(sio_test, packets_are_handled_one_at_a_time) {
  // CONNECT and DISCONNECT in one poll: the connect listener sees the state
  // the CONNECT made (socket.io-client defers each packet with nextTick).
  opts.transports = {transport_kind::polling};
  make();
  sc::socket& s = open_socket();
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling"}));
  m->http_response_received(*get_, 200, {}, "0" + std::string(handshake), now);
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling&sid=eio1", "POST 40"}));
  std::optional<std::string> id_seen;
  s.on_connect([&] { id_seen = s.id(); });
  m->http_response_received(*post_, 200, {}, "ok", now);
  m->http_response_received(*get_, 200, {}, "40{\"sid\":\"S1\"}\x1e" "41", now);
  EXPECT_EQ(id_seen, "S1");
  EXPECT_EQ(take_log(), (strings{"open", "connect /", "close forced close", "disconnect / io server disconnect"}));
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling&sid=eio1", "POST 1"}));
}

// ------------------------------------------------------------ refusals

TEST_F(sio_test, refused_namespace_does_not_reconnect) {
  make();
  sc::socket& s = open_socket("/random");
  actions();
  accept();
  actions();
  says(R"(4/random,{"message":"Invalid namespace"})");
  EXPECT_EQ(take_log(), (strings{"open", "close forced close", "connect_error /random Invalid namespace (refused)"}));
  EXPECT_EQ(actions(), (strings{"WS-TEXT 1", "WS-CLOSE"}));
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(m->next_deadline());
  advance(60s);
  EXPECT_EQ(actions(), strings{});
}

TEST_F(sio_test, middleware_refusal_with_data) {
  make();
  open_socket("/admin");
  actions();
  accept();
  says(R"(4/admin,{"message":"not authorized","data":{"code":401,"why":["token"]}})");
  EXPECT_EQ(take_log(), (strings{"open", "close forced close",
                                 R"(connect_error /admin not authorized {"code":401,"why":["token"]} (refused))"}));
}

TEST_F(sio_test, a_refusal_then_connect_again) {
  sc::socket_options so;
  so.auth = value{{"token", "bad"}};
  make();
  sc::socket& s = open_socket("/admin", so);
  actions();
  accept();
  actions();
  says(R"(4/admin,{"message":"no"})");
  actions();
  take_log();
  s.set_auth(value{{"token", "good"}});
  s.connect(now);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40/admin,{"token":"good"})"}));
}

TEST_F(sio_test, server_disconnect_does_not_reconnect) {
  sc::socket& s = connected();
  says("1");
  EXPECT_EQ(take_log(), (strings{"close forced close", "disconnect / io server disconnect"}));
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.connected());
  EXPECT_FALSE(s.id());
  EXPECT_FALSE(m->next_deadline());
}

TEST_F(sio_test, a_v2_server_answer) {
  make();
  open_socket();
  actions();
  accept();
  says("0");
  const strings got = take_log();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[1].find("Socket.IO server in v2.x"), std::string::npos) << got[1];
}

// ------------------------------------------------------------ reconnection

TEST_F(sio_test, backoff_matches_backo2) {
  std::vector<double> r{0.25, 0.75, 0.05, 0.99, 0.25, 0.5, 0.1, 0.3333};
  std::size_t i = 0;
  const std::function<double()> random = [&] { return r[i++ % r.size()]; };
  sc::backoff b(1000ms, 5000ms, 0.5);
  std::vector<long> got;
  for (int k = 0; k < 8; ++k) got.push_back(static_cast<long>(b.duration(random).count()));
  EXPECT_EQ(got, (std::vector<long>{875, 2750, 3900, 5000, 5000, 5000, 5000, 5000}));
  EXPECT_EQ(b.attempts(), 8u);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  i = 0;
  sc::backoff full(100ms, 100000ms, 1.0);
  got.clear();
  for (int k = 0; k < 8; ++k) got.push_back(static_cast<long>(full.duration(random).count()));
  EXPECT_EQ(got, (std::vector<long>{75, 350, 380, 1592, 1200, 4800, 7040, 17066}));
  // No jitter: no random number is drawn.
  sc::backoff plain(1000ms, 5000ms, 0);
  got.clear();
  for (int k = 0; k < 5; ++k) got.push_back(static_cast<long>(plain.duration([]() -> double { throw 1; }).count()));
  EXPECT_EQ(got, (std::vector<long>{1000, 2000, 4000, 5000, 5000}));
  // A jitter outside (0, 1] is none; huge attempt counts stay at max.
  sc::backoff odd(1000ms, 5000ms, 1.5);
  EXPECT_EQ(odd.duration([]() -> double { throw 1; }), 1000ms);
  for (int k = 0; k < 2000; ++k) (void)odd.duration(random);
  EXPECT_EQ(odd.duration(random), 5000ms);
}

TEST_F(sio_test, reconnection_delays_with_injected_randomness) {
  randoms_ = {0.25, 0.75, 0.05, 0.99};
  opts.randomization_factor = 0.5;
  make();
  open_socket();
  actions();
  refuse();  // the first opening fails: reconnecting starts
  EXPECT_EQ(take_log(), (strings{"error websocket error", "connect_error / websocket error"}));
  std::vector<long> opened_at;
  for (int k = 0; k < 5; ++k) {
    // Step 1 ms at a time up to the next WS-OPEN.
    for (;;) {
      advance(1ms);
      if (!actions().empty()) break;
      ASSERT_LT(now, 60s);
    }
    opened_at.push_back(static_cast<long>(now.count()));
    refuse();
  }
  // 875, then +2750, +3900, +5000, +5000 (the same delays backo2.js gives).
  EXPECT_EQ(opened_at, (std::vector<long>{875, 3625, 7525, 12525, 17525}));
  const strings got = take_log();
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 4),
            (strings{"reconnect_attempt 1", "error websocket error", "connect_error / websocket error",
                     "reconnect_error websocket error"}));
  EXPECT_EQ(got[12], "reconnect_attempt 4");
  EXPECT_EQ(m->attempts(), 6u);  // the sixth is planned
}

TEST_F(sio_test, seeded_randomness_is_deterministic) {
  opts.randomization_factor = 0.5;
  opts.random_seed = 42;
  const auto delays = [this] {
    log.clear();
    now = 0ms;
    make();
    open_socket();
    actions();
    refuse();
    std::vector<long> at;
    for (int k = 0; k < 4; ++k) {
      for (;;) {
        advance(1ms);
        if (!actions().empty()) break;
      }
      at.push_back(static_cast<long>(now.count()));
      refuse();
    }
    return at;
  };
  const std::vector<long> first = delays();
  EXPECT_EQ(delays(), first);
  // Within backo2's bounds: [500,1500], then +[1000,3000], +[2000,5000], +[4000,5000].
  EXPECT_GE(first[0], 500);
  EXPECT_LE(first[0], 1500);
  EXPECT_GE(first[1] - first[0], 1000);
  EXPECT_LE(first[1] - first[0], 3000);
  EXPECT_GE(first[3] - first[2], 4000);
  EXPECT_LE(first[3] - first[2], 5000);
}

TEST_F(sio_test, attempts_exhausted_reconnect_failed) {
  opts.reconnection_attempts = 2;
  make();
  open_socket();
  actions();
  refuse();
  advance(1000ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  refuse();
  advance(2000ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  refuse();
  // socket.io-client plans (here: gives up) before it reports the attempt's error.
  EXPECT_EQ(take_log(), (strings{"error websocket error", "connect_error / websocket error", "reconnect_attempt 1",
                                 "error websocket error", "connect_error / websocket error",
                                 "reconnect_error websocket error", "reconnect_attempt 2", "error websocket error",
                                 "connect_error / websocket error", "reconnect_failed",
                                 "reconnect_error websocket error"}));
  EXPECT_FALSE(m->reconnecting());
  EXPECT_FALSE(m->next_deadline());
  advance(60s);
  EXPECT_EQ(actions(), strings{});
  // Zero attempts: reconnect_failed at the first failure.
  opts.reconnection_attempts = 0;
  make();
  open_socket();
  actions();
  refuse();
  EXPECT_EQ(take_log(), (strings{"error websocket error", "connect_error / websocket error", "reconnect_failed"}));
}

TEST_F(sio_test, success_resets_the_attempts) {
  make();
  sc::socket& s = open_socket();
  actions();
  refuse();
  advance(1000ms);
  actions();
  refuse();
  advance(2000ms);
  actions();
  EXPECT_EQ(m->attempts(), 2u);
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
  says(R"(0{"sid":"S1"})");
  EXPECT_EQ(m->attempts(), 0u);
  const strings got = take_log();
  EXPECT_EQ(std::vector<std::string>(got.end() - 4, got.end()),
            (strings{"reconnect_attempt 2", "open", "reconnect 2", "connect /"}));
  EXPECT_TRUE(s.connected());
  // The next drop starts again from the first delay.
  drops();
  EXPECT_EQ(take_log(), (strings{"close transport close", "disconnect / transport close"}));
  advance(999ms);
  EXPECT_EQ(actions(), strings{});
  advance(1ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
}

TEST_F(sio_test, transport_drop_reconnects_and_resends_connect) {
  sc::socket_options so;
  so.auth = value{{"t", 1}};
  sc::socket& s = connected("/admin", so);
  drops();
  EXPECT_EQ(take_log(), (strings{"close transport close", "disconnect /admin transport close"}));
  EXPECT_FALSE(s.connected());
  EXPECT_TRUE(s.active());
  EXPECT_TRUE(m->reconnecting());
  EXPECT_EQ(m->next_deadline(), now + 1000ms);
  advance(1000ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40/admin,{"t":1})"}));
  says(R"(0/admin,{"sid":"S2"})");
  EXPECT_EQ(take_log(), (strings{"reconnect_attempt 1", "open", "reconnect 1", "connect /admin"}));
  EXPECT_EQ(s.id(), "S2");
}

TEST_F(sio_test, ping_timeout_reconnects) {
  sc::socket& s = connected();
  advance(44999ms);
  EXPECT_TRUE(s.connected());
  advance(1ms);  // pingInterval + pingTimeout without a word
  EXPECT_EQ(take_log(), (strings{"close ping timeout", "disconnect / ping timeout"}));
  EXPECT_EQ(actions(), (strings{"WS-CLOSE"}));
  advance(1000ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
}

TEST_F(sio_test, parse_error_closes_and_reconnects) {
  sc::socket& s = connected();
  says(R"(2["ok"])");
  says("9garbage");
  says(R"(2["after"])");  // nothing after a bad packet counts
  EXPECT_EQ(take_log(), (strings{R"(event / ok [])", "close parse error", "disconnect / parse error"}));
  EXPECT_EQ(actions(), (strings{"WS-TEXT 1", "WS-CLOSE"}));
  EXPECT_FALSE(s.connected());
  EXPECT_TRUE(m->reconnecting());
}

TEST_F(sio_test, reconnection_off) {
  opts.reconnection = false;
  make();
  sc::socket& s = connected();
  drops();
  EXPECT_EQ(take_log(), (strings{"close transport close", "disconnect / transport close"}));
  EXPECT_FALSE(m->next_deadline());
  // Still active: connect() opens again.
  EXPECT_TRUE(s.active());
  s.connect(now);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
}

TEST_F(sio_test, close_while_waiting_to_reconnect) {
  connected();
  drops();
  take_log();
  m->close(now);
  EXPECT_EQ(take_log(), (strings{"close forced close", "disconnect / forced close"}));
  EXPECT_FALSE(m->next_deadline());
  advance(10s);
  EXPECT_EQ(actions(), strings{});
}

TEST_F(sio_test, answers_about_an_earlier_session_are_ignored) {
  connected();
  const connection_id old = *ws_;
  drops();
  advance(1000ms);
  actions();
  const connection_id fresh = *ws_;
  EXPECT_NE(old, fresh);
  m->websocket_message(old, frame_kind::text, R"(42["stale"])", now);
  m->websocket_opened(old, now);
  m->websocket_closed(old, now);
  take_log();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
  EXPECT_EQ(take_log(), (strings{"open", "reconnect 1"}));
}

// ------------------------------------------------------------ timeouts

TEST_F(sio_test, connect_timeout) {
  opts.timeout = 5000ms;
  make();
  open_socket();
  actions();
  advance(4999ms);
  EXPECT_EQ(take_log(), strings{});
  advance(1ms);
  EXPECT_EQ(take_log(), (strings{"error timeout", "connect_error / timeout"}));
  EXPECT_EQ(actions(), (strings{"WS-CLOSE"}));
  // Then the reconnection, each attempt with its own timeout.
  advance(1000ms);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  advance(5000ms);
  EXPECT_EQ(take_log(), (strings{"reconnect_attempt 1", "error timeout", "connect_error / timeout",
                                 "reconnect_error timeout"}));
  // An answer to the abandoned session is ignored.
  opts.timeout.reset();
  make();
  open_socket();
  actions();
  advance(10min);
  EXPECT_EQ(take_log(), strings{});  // no connect timeout at all
}

TEST_F(sio_test, connect_timeout_is_for_the_engine_open_only) {
  opts.timeout = 5000ms;
  make();
  sc::socket& s = open_socket();
  actions();
  advance(4000ms);
  accept();
  // The namespace's CONNECT answer may take its time (socket.io-client has
  // no timer for it either).
  advance(30s);
  says(R"(0{"sid":"late"})");
  EXPECT_TRUE(s.connected());
}

TEST_F(sio_test, ack_timeout_per_emit_and_per_socket) {
  sc::socket_options so;
  so.ack_timeout = 2000ms;
  sc::socket& s = connected("/", so);
  strings acks;
  const auto record = [&](const std::string& name) {
    return [&acks, name](std::error_code e, const value& args) {
      acks.push_back(name + " " + (e ? std::string(sc::errc_name(static_cast<sc::errc>(e.value()))) : "ok") + " " + args.dump());
    };
  };
  sc::emit_options quick;
  quick.timeout = 500ms;
  EXPECT_FALSE(s.emit_with_ack("a", value::array(), record("a"), now, quick));
  EXPECT_FALSE(s.emit_with_ack("b", value::array(), record("b"), now));
  EXPECT_EQ(m->next_deadline(), now + 500ms);
  advance(499ms);
  EXPECT_EQ(acks, strings{});
  advance(1ms);
  EXPECT_EQ(acks, (strings{"a ack_timeout []"}));
  says(R"(30["late"])");  // after the timeout: ignored
  advance(1499ms);
  EXPECT_EQ(acks.size(), 1u);
  advance(1ms);
  EXPECT_EQ(acks, (strings{"a ack_timeout []", "b ack_timeout []"}));
  EXPECT_EQ(s.pending_acks(), 0u);
  EXPECT_EQ(sc::make_error_code(sc::errc::ack_timeout).message(), "operation has timed out");
}

TEST_F(sio_test, acks_fail_on_disconnection_unless_buffered) {
  sc::socket& s = connected();
  strings acks;
  EXPECT_FALSE(s.emit_with_ack("sent", value::array(), [&](std::error_code e, const value&) {
    acks.push_back("sent " + e.message());
  }, now));
  drops();
  EXPECT_EQ(acks, (strings{"sent socket has been disconnected"}));
  // Emitted while disconnected: buffered, and kept across another drop.
  EXPECT_FALSE(s.emit_with_ack("buffered", value::array(), [&](std::error_code e, const value& args) {
    acks.push_back("buffered " + (e ? e.message() : args.dump()));
  }, now));
  advance(1000ms);
  actions();
  refuse();
  EXPECT_EQ(acks.size(), 1u);
  advance(2000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
  says(R"(0{"sid":"S2"})");
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 421["buffered"])"}));
  says(R"(31["done"])");
  EXPECT_EQ(acks, (strings{"sent socket has been disconnected", R"(buffered ["done"])"}));
}

TEST_F(sio_test, ack_timeout_removes_a_buffered_packet) {
  make();
  sc::socket& s = open_socket();
  actions();
  sc::emit_options o;
  o.timeout = 100ms;
  strings acks;
  EXPECT_FALSE(s.emit_with_ack("x", value::array(), [&](std::error_code e, const value&) { acks.push_back(e.message()); }, now, o));
  EXPECT_FALSE(s.emit("y", value::array(), now));
  EXPECT_EQ(s.buffered_packets(), 2u);
  advance(100ms);
  EXPECT_EQ(acks, (strings{"operation has timed out"}));
  EXPECT_EQ(s.buffered_packets(), 1u);
  accept();
  actions();
  says(R"(0{"sid":"S1"})");
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["y"])"}));
}

// ------------------------------------------------------------ buffering and volatile

TEST_F(sio_test, emits_while_disconnected_go_out_in_order_on_connect) {
  make();
  sc::socket& s = open_socket();
  EXPECT_FALSE(s.emit("one", value::array({1}), now));
  EXPECT_FALSE(s.emit("two", value::array({value::binary({2})}), now));
  EXPECT_EQ(s.buffered_packets(), 2u);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));  // not before the namespace answers
  strings order;
  s.on_connect([&] { order.push_back("connect, buffered " + std::to_string(s.buffered_packets())); });
  says(R"(0{"sid":"S1"})");
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["one",1])", R"(WS-TEXT 451-["two",{"_placeholder":true,"num":0}])",
                                "WS-BINARY \\x02"}));
  EXPECT_EQ(order, (strings{"connect, buffered 0"}));
}

TEST_F(sio_test, send_buffer_bounds_at_the_limit_and_past_it) {
  make();
  sc::socket_options so;
  so.max_buffered_packets = 3;
  sc::socket& s = open_socket("/", so);
  actions();
  EXPECT_FALSE(s.emit("a", value::array(), now));
  EXPECT_FALSE(s.emit("b", value::array(), now));
  bool called = false;
  EXPECT_FALSE(s.emit_with_ack("c", value::array(), [&](std::error_code, const value&) { called = true; }, now));
  EXPECT_EQ(s.buffered_packets(), 3u);  // at the limit
  EXPECT_EQ(s.emit_with_ack("d", value::array(), [&](std::error_code, const value&) { called = true; }, now),
            sc::errc::send_buffer_full);  // one past it
  EXPECT_EQ(s.buffered_packets(), 3u);
  EXPECT_EQ(s.pending_acks(), 1u);  // d's callback is not kept

  // Bytes: each ["x",...] packet text counts, attachments too.
  sc::socket_options by_bytes;
  by_bytes.max_buffered_bytes = 20;
  sc::socket& t = open_socket("/bytes", by_bytes);
  EXPECT_EQ(t.emit("e", value::array({value::binary({1, 2, 3, 4})}), now),
            sc::errc::send_buffer_full);  // 35 bytes of text and 4 of attachment
  EXPECT_EQ(t.buffered_packets(), 0u);
  EXPECT_FALSE(t.emit("e", value::array({"123456789012"}), now));  // ["e","123456789012"]: 20 bytes, at the limit
  EXPECT_EQ(t.buffered_bytes(), 20u);
  EXPECT_EQ(t.emit("e", value::array(), now), sc::errc::send_buffer_full);  // one past it (5 bytes more)
  // Once connected, the buffer empties and the bound applies again only
  // while disconnected.
  accept();
  actions();
  says(R"(0{"sid":"S"})");
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["a"])", R"(WS-TEXT 42["b"])", R"(WS-TEXT 420["c"])"}));
  for (int k = 0; k < 10; ++k) EXPECT_FALSE(s.emit("more", value::array(), now));
  EXPECT_FALSE(called);
}

TEST_F(sio_test, send_buffer_byte_bound_with_attachments) {
  make();
  sc::socket_options so;
  so.max_buffered_bytes = 40;
  sc::socket& s = open_socket("/", so);
  // ["e",{"_placeholder":true,"num":0}] is 35 bytes; with 5 bytes of attachment, 40.
  EXPECT_FALSE(s.emit("e", value::array({value::binary({1, 2, 3, 4, 5})}), now));
  EXPECT_EQ(s.buffered_bytes(), 40u);
  sc::socket_options tight;
  tight.max_buffered_bytes = 39;
  sc::socket& t = open_socket("/t", tight);
  EXPECT_EQ(t.emit("e", value::array({value::binary({1, 2, 3, 4, 5})}), now), sc::errc::send_buffer_full);
}

TEST_F(sio_test, volatile_is_dropped_unless_writable) {
  make();
  sc::socket& s = open_socket();
  sc::emit_options v;
  v.is_volatile = true;
  EXPECT_EQ(s.emit("v", value::array(), now, v), sc::errc::volatile_dropped);  // not connected
  actions();
  accept();
  EXPECT_EQ(s.emit("v", value::array(), now, v), sc::errc::volatile_dropped);  // session open, namespace not yet
  says(R"(0{"sid":"S1"})");
  EXPECT_FALSE(s.emit("v", value::array({1}), now, v));
  bool called = false;
  EXPECT_FALSE(s.emit_with_ack("v", value::array({2}), [&](std::error_code, const value&) { called = true; }, now, v));
  // The ack id of a dropped emit is used up, as socket.io-client does.
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40", R"(WS-TEXT 42["v",1])", R"(WS-TEXT 420["v",2])"}));
  drops();
  EXPECT_EQ(s.emit("v", value::array(), now, v), sc::errc::volatile_dropped);
  EXPECT_EQ(s.buffered_packets(), 0u);
}

TEST_F(sio_test, volatile_over_polling_while_a_post_is_in_flight) {
  opts.transports = {transport_kind::polling};
  make();
  sc::socket& s = open_socket();
  actions();
  m->http_response_received(*get_, 200, {}, "0" + std::string(handshake), now);
  actions();  // GET, POST 40
  m->http_response_received(*post_, 200, {}, "ok", now);
  m->http_response_received(*get_, 200, {}, R"(40{"sid":"S1"})", now);
  actions();  // next GET
  sc::emit_options v;
  v.is_volatile = true;
  EXPECT_FALSE(s.emit("first", value::array(), now, v));  // goes out in a POST
  EXPECT_EQ(actions(), (strings{R"(POST 42["first"])"}));
  EXPECT_FALSE(s.emit("queued", value::array(), now));  // waits for the POST
  EXPECT_EQ(s.emit("second", value::array(), now, v), sc::errc::volatile_dropped);
  m->http_response_received(*post_, 200, {}, "ok", now);
  EXPECT_EQ(actions(), (strings{R"(POST 42["queued"])"}));
}

// ------------------------------------------------------------ connection state recovery

TEST_F(sio_test, recovery_sends_pid_and_offset_and_gets_missed_events) {
  make();
  sc::socket_options so;
  so.auth = value{{"token", "abc"}};
  sc::socket& s = open_socket("/", so);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"token":"abc"})"}));
  says(R"(0{"sid":"S1","pid":"P1"})");
  EXPECT_EQ(s.pid(), "P1");
  EXPECT_FALSE(s.recovered());
  EXPECT_FALSE(s.last_offset());
  says(R"(2["tick",1,"off-1"])");
  EXPECT_EQ(s.last_offset(), "off-1");
  says(R"(25["with ack","no-offset"])");  // an event with an ack carries no offset
  says(R"(2["bare"])");                    // the name is no offset
  says(R"(2["tick",2,{"not":"a string"}])");
  EXPECT_EQ(s.last_offset(), "off-1");
  drops();
  take_log();
  advance(1000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"pid":"P1","offset":"off-1","token":"abc"})"}));
  // The server replays what was missed before its CONNECT answer.
  says(R"(2["tick",3,"off-3"])");
  says(R"(2["tick",4,"off-4"])");
  EXPECT_EQ(take_log(), (strings{"reconnect_attempt 1", "open", "reconnect 1"}));  // held until connected
  s.on_connect([&] { log.push_back(std::string("connect, recovered ") + (s.recovered() ? "yes" : "no")); });
  says(R"(0{"sid":"S1","pid":"P1"})");
  EXPECT_EQ(take_log(), (strings{R"(event / tick [3,"off-3"])", R"(event / tick [4,"off-4"])", "connect /",
                                 "connect, recovered yes"}));
  EXPECT_TRUE(s.recovered());
  EXPECT_EQ(s.last_offset(), "off-4");
}

TEST_F(sio_test, recovery_not_granted) {
  make();
  sc::socket& s = open_socket();
  actions();
  accept();
  says(R"(0{"sid":"S1","pid":"P1"})");
  says(R"(2["e","o1"])");
  drops();
  advance(1000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"pid":"P1","offset":"o1"})"}));
  says(R"(0{"sid":"S2","pid":"P2"})");  // a new session: not recovered
  EXPECT_FALSE(s.recovered());
  EXPECT_EQ(s.pid(), "P2");
  // Without recovery on the server (no pid): none sent any more.
  drops();
  advance(1000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"pid":"P2","offset":"o1"})"}));
  says(R"(0{"sid":"S3"})");
  EXPECT_FALSE(s.pid());
  drops();
  advance(1000ms);
  actions();
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));
}

TEST_F(sio_test, recovery_pid_before_any_offset_and_auth_override) {
  make();
  sc::socket_options so;
  so.auth = value{{"offset", "mine"}, {"a", 1}};
  sc::socket& s = open_socket("/", so);
  actions();
  accept();
  says(R"(0{"sid":"S1","pid":"P1"})");
  drops();
  advance(1000ms);
  actions();
  accept();
  // Object.assign({pid, offset}, auth): the auth's "offset" replaces the value in place.
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 40{"pid":"P1","offset":"mine","a":1})"}));
  EXPECT_FALSE(s.connected());
}

// ------------------------------------------------------------ transports

TEST_F(sio_test, polling_then_upgrade) {
  opts.transports = {transport_kind::polling, transport_kind::websocket};
  opts.extra_headers = {{"Authorization", "Bearer x"}};
  make();
  sc::socket& s = open_socket();
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling"}));
  m->http_response_received(*get_, 200, {},
                            R"(0{"sid":"eio1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})",
                            now);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket&sid=eio1",
                                "GET /socket.io/?EIO=4&transport=polling&sid=eio1", "POST 40"}));
  m->http_response_received(*post_, 200, {}, "ok", now);
  m->http_response_received(*get_, 200, {}, R"(40{"sid":"S1"})", now);
  EXPECT_TRUE(s.connected());
  EXPECT_FALSE(s.emit("over polling", value::array({value::binary({7})}), now));
  // eio::client posts what it has at each send: the attachment (base64,
  // "b") follows in the next POST.
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling&sid=eio1",
                                R"(POST 451-["over polling",{"_placeholder":true,"num":0}])"}));
  m->http_response_received(*post_, 200, {}, "ok", now);
  EXPECT_EQ(actions(), (strings{"POST bBw=="}));
  m->http_response_received(*post_, 200, {}, "ok", now);
  // The probe, then the upgrade.
  m->websocket_opened(*ws_, now);
  EXPECT_EQ(actions(), (strings{"WS-TEXT 2probe"}));
  m->websocket_message(*ws_, frame_kind::text, "3probe", now);
  m->http_response_received(*get_, 200, {}, "6", now);
  EXPECT_EQ(actions(), (strings{"WS-TEXT 5"}));
  EXPECT_EQ(m->engine()->transport(), transport_kind::websocket);
  EXPECT_FALSE(s.emit("over websocket", value::array(), now));
  EXPECT_EQ(actions(), (strings{R"(WS-TEXT 42["over websocket"])"}));
}

TEST_F(sio_test, polling_only_and_websocket_first) {
  opts.transports = {transport_kind::polling};
  make();
  open_socket();
  actions();
  m->http_response_received(*get_, 200, {},
                            R"(0{"sid":"eio1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000})", now);
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling&sid=eio1", "POST 40"}));  // no probe
  opts.transports = {transport_kind::websocket, transport_kind::polling};
  make();
  open_socket();
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  opts.transports = {transport_kind::polling, transport_kind::websocket};
  opts.upgrade = false;
  make();
  open_socket();
  actions();
  m->http_response_received(*get_, 200, {},
                            R"(0{"sid":"eio1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000})", now);
  EXPECT_EQ(actions(), (strings{"GET /socket.io/?EIO=4&transport=polling&sid=eio1", "POST 40"}));
}

TEST_F(sio_test, failed_upgrade_probe_is_not_an_error) {
  opts.transports = {transport_kind::polling, transport_kind::websocket};
  make();
  sc::socket& s = open_socket();
  actions();
  m->http_response_received(*get_, 200, {},
                            R"(0{"sid":"eio1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000})", now);
  actions();
  m->http_response_received(*post_, 200, {}, "ok", now);
  m->http_response_received(*get_, 200, {}, R"(40{"sid":"S1"})", now);
  take_log();
  m->websocket_failed(*ws_, now);
  EXPECT_EQ(take_log(), strings{});
  EXPECT_TRUE(s.connected());
}

// ------------------------------------------------------------ listeners calling back

TEST_F(sio_test, listeners_may_call_back) {
  make();
  sc::socket& s = open_socket();
  s.on_connect([&] { EXPECT_FALSE(s.emit("hello from connect", value::array(), now)); });
  s.on("echo", [&](const value& args, const sc::ack_responder& ack) {
    EXPECT_FALSE(s.emit("echoed", args, now));
    ack(value::array({"acked"}));
  });
  s.on("bye", [&](const value&) { s.disconnect(now); });
  actions();
  accept();
  says(R"(0{"sid":"S1"})");
  says(R"(23["echo",1])");
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40", R"(WS-TEXT 42["hello from connect"])", R"(WS-TEXT 42["echoed",1])",
                                R"(WS-TEXT 433["acked"])"}));
  says(R"(2["bye"])");
  says(R"(2["after bye"])");  // inactive now: ignored
  EXPECT_EQ(actions(), (strings{"WS-TEXT 41", "WS-TEXT 1", "WS-CLOSE"}));
  const strings got = take_log();
  EXPECT_EQ(got.back(), "disconnect / io client disconnect");
  EXPECT_EQ(m->state(), sc::manager_state::closed);
}

TEST_F(sio_test, reconnect_attempt_listener_may_close) {
  connected();
  m->on_reconnect_attempt([&](std::uint64_t) { m->close(now); });
  drops();
  advance(1000ms);
  EXPECT_EQ(actions(), strings{});  // no attempt after all
  EXPECT_FALSE(m->next_deadline());
}

TEST_F(sio_test, open_after_close_reuses_sockets) {
  sc::socket& s = connected();
  m->close(now);
  actions();
  take_log();
  m->open(now);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  accept();
  EXPECT_EQ(actions(), (strings{"WS-TEXT 40"}));  // still subscribed: forced close keeps it active
  says(R"(0{"sid":"S9"})");
  EXPECT_EQ(s.id(), "S9");
}

TEST_F(sio_test, auto_connect_off) {
  opts.auto_connect = false;
  make();
  sc::socket& s = open_socket();
  EXPECT_EQ(actions(), strings{});
  EXPECT_FALSE(s.active());
  s.connect(now);
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
}

TEST_F(sio_test, responder_after_the_manager_is_gone) {
  sc::socket& s = connected();
  sc::ack_responder kept;
  s.on("q", [&](const value&, const sc::ack_responder& ack) { kept = ack; });
  says(R"(21["q"])");
  EXPECT_TRUE(kept.wanted());
  m.reset();
  EXPECT_FALSE(kept.wanted());
  EXPECT_FALSE(kept(value::array()));
}


TEST_F(sio_test, attachments_that_never_come) {
  opts.limits.attachment_timeout = 100ms;
  make();
  connected();
  says(R"(51-["file",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(m->next_deadline(), now + 100ms);
  advance(99ms);
  EXPECT_EQ(take_log(), strings{});
  advance(1ms);
  EXPECT_EQ(take_log(), (strings{"close parse error", "disconnect / parse error"}));
  EXPECT_TRUE(m->reconnecting());
}

TEST_F(sio_test, too_many_attachments_is_a_parse_error) {
  opts.limits.max_attachments = 2;
  make();
  connected();
  says(R"(53-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}])");
  EXPECT_EQ(take_log(), (strings{"close parse error", "disconnect / parse error"}));
}

TEST_F(sio_test, connect_error_for_a_connected_socket_is_ignored) {
  sc::socket& s = connected();
  says(R"(4{"message":"late"})");
  EXPECT_EQ(take_log(), strings{});
  EXPECT_TRUE(s.connected());
  EXPECT_TRUE(s.active());
}

TEST_F(sio_test, emit_after_an_overdue_heartbeat_is_buffered) {
  // socket.io-client's isConnected: !engine._hasPingExpired(). The adapter
  // is late with on_timeout; the emit sees the session dead and buffers.
  sc::socket& s = connected();
  now += 45001ms;
  EXPECT_FALSE(s.emit("late", value::array(), now));
  EXPECT_EQ(take_log(), (strings{"close ping timeout", "disconnect / ping timeout"}));
  EXPECT_EQ(s.buffered_packets(), 1u);
  EXPECT_EQ(actions(), (strings{"WS-CLOSE"}));
}

TEST_F(sio_test, open_while_waiting_to_reconnect_attempts_now) {
  connected();
  drops();
  take_log();
  m->open(now);
  EXPECT_EQ(take_log(), (strings{"reconnect_attempt 1"}));
  EXPECT_EQ(actions(), (strings{"WS-OPEN /socket.io/?EIO=4&transport=websocket"}));
  accept();
  says(R"(0{"sid":"S2"})");
  EXPECT_EQ(take_log(), (strings{"open", "reconnect 1", "connect /"}));
  EXPECT_FALSE(m->reconnecting());
  drops();  // and it reconnects again after a later drop
  EXPECT_TRUE(m->reconnecting());
}

// Every situation x input pair of the manager (manager.cpp's table): the
// state it leaves, whether it waits to reconnect, and that nothing breaks.
TEST_F(sio_test, every_situation_and_input) {
  enum situation { fresh, opening, open, waiting, closed_for_good };
  enum input_kind { open_call, close_call, engine_opens, engine_fails, connect_answer, reconnect_timer, connect_timeout,
                    socket_connect, socket_disconnect };
  const char* situations[] = {"fresh", "opening", "open", "waiting", "closed_for_good"};
  const char* inputs[] = {"open()", "close()", "engine opens", "engine fails", "CONNECT answer", "1 s", "20 s",
                          "socket connect()", "socket disconnect()"};
  using sc::manager_state;
  struct outcome {
    manager_state state;
    bool reconnecting;
  };
  const manager_state c = manager_state::closed, o = manager_state::opening, p = manager_state::open;
  const outcome expected[5][9] = {
      // open()   close()   opens     fails     CONNECT   1 s       20 s      connect   disconnect
      {{o, false}, {c, false}, {c, false}, {c, false}, {c, false}, {c, false}, {c, false}, {o, false}, {c, false}},  // fresh
      {{o, false}, {c, false}, {p, false}, {c, true}, {o, false}, {o, false}, {c, true}, {o, false}, {c, false}},    // opening
      {{p, false}, {c, false}, {p, false}, {c, true}, {p, false}, {p, false}, {p, false}, {p, false}, {c, false}},   // open
      {{o, true}, {c, false}, {c, true}, {c, true}, {c, true}, {o, true}, {o, true}, {c, true}, {c, false}},         // waiting
      {{o, false}, {c, false}, {c, false}, {c, false}, {c, false}, {c, false}, {c, false}, {o, false}, {c, false}},  // closed for good
  };
  opts.auto_connect = false;
  for (int si = 0; si < 5; ++si) {
    for (int ii = 0; ii < 9; ++ii) {
      SCOPED_TRACE(std::string(situations[si]) + " x " + inputs[ii]);
      now = 0ms;
      ws_.reset();
      make();
      sc::socket& s = open_socket();
      switch (si) {
        case fresh: break;
        case opening: s.connect(now); break;
        case open:
          s.connect(now);
          actions();
          accept();
          says(R"(0{"sid":"S1"})");
          break;
        case waiting:
          s.connect(now);
          actions();
          accept();
          says(R"(0{"sid":"S1"})");
          drops();
          break;
        case closed_for_good:
          s.connect(now);
          actions();
          accept();
          m->close(now);
          break;
      }
      actions();
      switch (ii) {
        case open_call: m->open(now); break;
        case close_call: m->close(now); break;
        case engine_opens:
          if (ws_) accept();
          break;
        case engine_fails:
          if (ws_) refuse();
          break;
        case connect_answer:
          if (ws_) says(R"(0{"sid":"S9"})");
          break;
        case reconnect_timer: advance(1000ms); break;
        case connect_timeout: advance(20000ms); break;
        case socket_connect: s.connect(now); break;
        case socket_disconnect: s.disconnect(now); break;
      }
      actions();
      EXPECT_EQ(to_string(m->state()), to_string(expected[si][ii].state));
      EXPECT_EQ(m->reconnecting(), expected[si][ii].reconnecting);
      if (s.connected()) {
        EXPECT_TRUE(s.active() && s.id());
      }
      if (!m->reconnecting() && m->state() == manager_state::closed) {
        EXPECT_FALSE(m->next_deadline()) << "a closed manager not reconnecting has no timer";
      }
    }
  }
}

}  // namespace
}  // namespace eio::test
