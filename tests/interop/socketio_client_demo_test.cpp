// Our Socket.IO client (eio::socketio::client::poco_manager) against the demo
// application of `eiotool serve --socketio` (tools/eiotool/socketio_demo_app.hpp),
// served by both servers that run it: the Node socket.io 4.8.3 reference
// (tests/interop/socketio_reference_server.mjs) and `eiotool serve --socketio`.
// Every test runs against both: namespaces and auth, middleware refusal,
// events and acks both ways with every JSON type and nested binary
// byte-identical, acks with timeout, rooms and broadcasts, a server restart
// with the reconnection's backoff, connection state recovery after a cut
// network (a proxy that severs the TCP connections), over polling only,
// WebSocket only and the upgrade.
//
// Every wait is bounded (a few seconds); ctest bounds the whole.
#include "socketio_client_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <tuple>

namespace eio::test {
namespace {

const std::vector<peer>& demo_peers() {
  static const std::vector<peer> all{
      {"node", EIO_NODE,
       [](int port, bool recovery) {
         std::vector<std::string> a{EIO_SIO_REFERENCE, "--port", std::to_string(port), "--quiet"};
         if (recovery) a.insert(a.end(), {"--state-recovery", "60000"});
         return a;
       }},
      {"eio", EIO_EIOTOOL,
       [](int port, bool recovery) {
         std::vector<std::string> a{"serve", "--socketio", "--port", std::to_string(port), "--threads", "1", "--quiet"};
         if (recovery) a.insert(a.end(), {"--state-recovery", "60000"});
         return a;
       }},
  };
  return all;
}

sc::socket_options with_auth(value auth) {
  sc::socket_options o;
  o.auth = std::move(auth);
  return o;
}

// ------------------------------------------------------------ transports

class demo_transports : public ::testing::TestWithParam<std::tuple<peer, std::vector<transport_kind>>> {};

TEST_P(demo_transports, events_and_acks_both_ways_byte_identical) {
  server_process server(std::get<0>(GetParam()), false);
  const std::vector<transport_kind> kinds = std::get<1>(GetParam());
  sc::poco_manager io(server.url, with_transports(kinds));
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.on("message-back", [&j](const value& args) { j.add("message-back " + args.dump()); });
  s.on("ask", [&j](const value& args, const sc::ack_responder& ack) {
    j.add("ask " + args.dump());
    ack(value::array({value::binary({9, 8, 7}), "ok"}));
  });
  s.on("ask-result", [&j](const value& args) { j.add("ask-result " + args.dump()); });
  s.on("echo", [&j](const value& a) { j.add("echo event " + a.dump()); });
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  ASSERT_TRUE(s.id());
  EXPECT_EQ(s.id()->size(), 20u);
  EXPECT_EQ(get(s.emit_with_ack("whoami", value::array()))[0]["sid"], *s.id());

  // Client -> server -> client, every type, binary nested: the same value
  // back, as an ack ...
  const value args = every_type();
  EXPECT_EQ(get(s.emit_with_ack("echo", args)), args);
  EXPECT_EQ(get(s.emit_with_ack("message-with-ack", args)), args);
  // ... and as an event the server emits.
  EXPECT_FALSE(s.emit("message", args));
  ASSERT_TRUE(j.wait_for("message-back " + args.dump()));
  // An emit without ack: the server emits "echo" back.
  EXPECT_FALSE(s.emit("echo", value::array({"plain", 2})));
  EXPECT_TRUE(j.wait_for(R"(echo event ["plain",2])"));

  // The server asks with an ack, our listener answers (binary), the server
  // reports the answer it got.
  EXPECT_FALSE(s.emit("ask", value::array({5000, "question", 1, "two"})));
  ASSERT_TRUE(j.wait_for(R"(ask ["question",1,"two"])"));
  ASSERT_TRUE(j.wait_for("ask-result " +
                         value::array({value{{"ok", true}, {"args", value::array({value::binary({9, 8, 7}), "ok"})}}}).dump()));

  // The transport the session ends on.
  const transport_kind expected = kinds.back();
  transport_kind seen = transport_kind::polling;
  for (int i = 0; i < 100; ++i) {
    seen = io.call([](sc::manager& m, millis) { return m.engine() ? m.engine()->transport() : transport_kind::polling; });
    if (seen == expected) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seen, expected);
}

INSTANTIATE_TEST_SUITE_P(interop, demo_transports,
                         ::testing::Combine(::testing::ValuesIn(demo_peers()),
                                            ::testing::ValuesIn(every_transport_choice())),
                         [](const auto& p) { return transports_name(std::get<0>(p.param), std::get<1>(p.param)); });

class demo_interop : public ::testing::TestWithParam<peer> {};

// ------------------------------------------------------------ namespaces, auth, refusals

TEST_P(demo_interop, namespaces_share_one_session_with_auth) {
  server_process server(GetParam(), false);
  sc::poco_manager io(server.url);
  journal j;
  sc::poco_socket root = watched(io, j, "/");
  sc::poco_socket custom = watched(io, j, "/custom", with_auth(value{{"token", "abc"}, {"n", 1}}));
  root.on("auth", [&j](const value& a) { j.add("auth / " + a.dump()); });
  custom.on("auth", [&j](const value& a) { j.add("auth /custom " + a.dump()); });
  root.connect();
  custom.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  ASSERT_TRUE(j.wait_for("connect /custom"));
  // The server's "auth" event carries each namespace's own auth.
  EXPECT_TRUE(j.wait_for(R"(auth /custom [{"n":1,"token":"abc"}])"));
  EXPECT_TRUE(j.wait_for("auth / [{}]"));
  const value a = get(root.emit_with_ack("whoami", value::array()))[0];
  const value b = get(custom.emit_with_ack("whoami", value::array()))[0];
  EXPECT_NE(a["sid"], b["sid"]);
  // Events go to their own namespace.
  journal events;
  custom.on("echo", [&events](const value& args) { events.add("custom " + args.dump()); });
  root.on("echo", [&events](const value& args) { events.add("root " + args.dump()); });
  EXPECT_FALSE(custom.emit("echo", value::array({"to custom"})));
  ASSERT_TRUE(events.wait_for(R"(custom ["to custom"])"));
  get(root.emit_with_ack("whoami", value::array()));  // root's echo would have come by now
  EXPECT_EQ(events.count("root"), 0u);
}

TEST_P(demo_interop, middleware_refusal_admission_and_dynamic_namespaces) {
  server_process server(GetParam(), false);
  journal j;
  sc::poco_manager refused(server.url);
  watched(refused, j, "/admin", with_auth(value{{"token", "wrong"}})).connect();
  ASSERT_TRUE(j.wait_for("connect_error /admin unauthorized refused"));
  sc::poco_manager unknown(server.url);
  watched(unknown, j, "/nope").connect();
  ASSERT_TRUE(j.wait_for("connect_error /nope Invalid namespace refused"));
  // No reconnection after a refusal.
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(j.count("connect"), 2u);  // the two connect_error lines

  sc::poco_manager admitted(server.url);
  sc::poco_socket admin = watched(admitted, j, "/admin", with_auth(value{{"token", "letmein"}}));
  admin.connect();
  ASSERT_TRUE(j.wait_for("connect /admin"));
  EXPECT_EQ(get(admin.emit_with_ack("whoami", value::array()))[0]["rooms"], value::array({"guarded"}));

  sc::poco_socket dyn = watched(admitted, j, "/dyn-room_1");
  sc::poco_socket slow = watched(admitted, j, "/slow");
  const auto t0 = std::chrono::steady_clock::now();
  dyn.connect();
  slow.connect();
  ASSERT_TRUE(j.wait_for("connect /dyn-room_1"));
  ASSERT_TRUE(j.wait_for("connect /slow"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 990ms);  // /slow admits after 1 s
}

TEST_P(demo_interop, server_disconnect_is_final) {
  server_process server(GetParam(), false);
  sc::poco_manager io(server.url);
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  // The socket's own room names it: the server disconnects it.
  EXPECT_FALSE(s.emit("disconnect-room", value::array({*s.id()})));
  ASSERT_TRUE(j.wait_for("disconnect / io server disconnect"));
  EXPECT_FALSE(s.active());
}

// ------------------------------------------------------------ acks

TEST_P(demo_interop, ack_timeout) {
  server_process server(GetParam(), false);
  sc::poco_manager io(server.url);
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  sc::emit_options quick;
  quick.timeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  // The demo answers no event it does not know.
  std::future<value> f = s.emit_with_ack("unknown-event", value::array({1}), quick);
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  const auto waited = std::chrono::steady_clock::now() - t0;
  try {
    f.get();
    ADD_FAILURE() << "no timeout";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), sc::errc::ack_timeout);
  }
  EXPECT_GE(waited, 290ms);  // whole milliseconds: up to one early
  EXPECT_LT(waited, 3s);
  // The socket goes on.
  EXPECT_EQ(get(s.emit_with_ack("echo", value::array({"after"}))), value::array({"after"}));
  // A reserved name is refused at once.
  try {
    s.emit_with_ack("connect", value::array()).get();
    ADD_FAILURE() << "a reserved name was sent";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), eio::socketio::errc::reserved_event_name);
  }
}

// ------------------------------------------------------------ rooms

TEST_P(demo_interop, rooms_and_broadcasts_received_once) {
  server_process server(GetParam(), false);
  journal j;
  sc::poco_manager first(server.url);
  sc::poco_manager second(server.url);
  sc::poco_socket a = watched(first, j, "/");
  sc::poco_socket b = watched(second, j, "/");
  for (const auto& [s, who] : {std::pair<sc::poco_socket*, std::string>{&a, "a"}, {&b, "b"}}) {
    s->on("room-message", [&j, who = who](const value& args) { j.add(who + " room " + args.dump()); });
    s->on("broadcast", [&j, who = who](const value& args) { j.add(who + " broadcast " + args.dump()); });
  }
  a.connect();
  b.connect();
  get(a.emit_with_ack("join", value::array({"lobby"})));
  get(b.emit_with_ack("join", value::array({"lobby"})));
  EXPECT_EQ(get(a.emit_with_ack("whoami", value::array()))[0]["rooms"], value::array({"lobby"}));
  get(a.emit_with_ack("to-room", value::array({"lobby", 1, value::binary({1, 2})})));
  const std::string one = value::array({1, value::binary({1, 2})}).dump();
  ASSERT_TRUE(j.wait_for("a room " + one));
  ASSERT_TRUE(j.wait_for("b room " + one));
  get(b.emit_with_ack("leave", value::array({"lobby"})));
  get(a.emit_with_ack("to-room", value::array({"lobby", 2})));
  ASSERT_TRUE(j.wait_for("a room [2]"));
  get(b.emit_with_ack("broadcast", value::array({"all"})));
  ASSERT_TRUE(j.wait_for(R"(a broadcast ["all"])"));
  ASSERT_TRUE(j.wait_for(R"(b broadcast ["all"])"));
  // Anything more would have come before these answers.
  get(a.emit_with_ack("whoami", value::array()));
  get(b.emit_with_ack("whoami", value::array()));
  EXPECT_EQ(j.count("b room [2]"), 0u);
  EXPECT_EQ(j.count("a room "), 2u);
  EXPECT_EQ(j.count("b room "), 1u);
  EXPECT_EQ(j.count("a broadcast "), 1u);
  EXPECT_EQ(j.count("b broadcast "), 1u);
}

// ------------------------------------------------------------ restart and reconnection

TEST_P(demo_interop, server_restart_reconnects_with_backoff) {
  server_process server(GetParam(), false);
  sc::poco_manager_options o;
  o.core.reconnection_delay = 100ms;
  o.core.reconnection_delay_max = 400ms;
  o.core.randomization_factor = 0;
  o.core.transports = {transport_kind::websocket};
  sc::poco_manager io(server.url, o);
  journal j;
  std::mutex attempts_mutex;
  std::vector<std::chrono::steady_clock::time_point> attempts;
  io.on_reconnect_attempt([&](std::uint64_t n) {
    std::lock_guard<std::mutex> lock(attempts_mutex);
    attempts.push_back(std::chrono::steady_clock::now());
    j.add("reconnect_attempt " + std::to_string(n));
  });
  io.on_reconnect([&j](std::uint64_t n) { j.add("reconnect after " + std::to_string(n)); });
  sc::poco_socket s = watched(io, j, "/");
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  const std::optional<std::string> first_id = s.id();

  const int port = server.port;
  const auto killed_at = std::chrono::steady_clock::now();
  server.kill();
  ASSERT_TRUE(j.wait_for("disconnect / transport close"));
  // Emitted while the server is down: buffered, sent after the reconnection.
  std::future<value> later = s.emit_with_ack("echo", value::array({"buffered"}));
  ASSERT_TRUE(j.wait_for("reconnect_attempt 4", 10s));
  {
    // Delays 100, 200, 400, 400 (ms) between the attempts, each failing at once.
    std::lock_guard<std::mutex> lock(attempts_mutex);
    ASSERT_GE(attempts.size(), 4u);
    EXPECT_GE(attempts[0] - killed_at, 90ms);
    EXPECT_GE(attempts[1] - attempts[0], 190ms);
    EXPECT_GE(attempts[2] - attempts[1], 390ms);
    EXPECT_GE(attempts[3] - attempts[2], 390ms);
    EXPECT_LT(attempts[3] - attempts[2], 1500ms);
  }
  server.start(port);
  ASSERT_TRUE(j.wait_count("reconnect after ", 1, 10s));
  EXPECT_EQ(get(std::move(later)), value::array({"buffered"}));
  EXPECT_EQ(j.count("connect /"), 2u);
  EXPECT_TRUE(s.connected());
  EXPECT_NE(s.id(), first_id);
  EXPECT_FALSE(s.recovered());
}

// ------------------------------------------------------------ connection state recovery

// Over WebSocket: a cut WebSocket is seen at once on both sides. (A cut
// polling request is not, by the server: it learns of the loss at the ping
// timeout, and a CONNECT with the pid before that finds the old socket
// still connected, on Node as on ours.)
TEST_P(demo_interop, recovery_brings_back_missed_events_in_order_rooms_and_data_after_a_cut_network) {
  server_process server(GetParam(), true);
  cutting_proxy proxy(server.port);
  sc::poco_manager_options o = with_transports({transport_kind::websocket});
  o.core.reconnection_delay = 300ms;
  o.core.randomization_factor = 0;
  sc::poco_manager io(proxy.url(), o);  // through the proxy
  sc::poco_manager other(server.url);   // directly
  journal j;
  journal sender_journal;
  sc::poco_socket s = watched(io, j, "/");
  sc::poco_socket sender = watched(other, sender_journal, "/");
  s.on("room-message", [&j](const value& args) {
    // With recovery on, the offset comes as the last argument.
    j.add("missed " + args[0].dump() + (args.size() == 2 && args[1].is_string() ? " with offset" : " without offset"));
  });
  s.connect();
  sender.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  ASSERT_TRUE(sender_journal.wait_for("connect /"));
  ASSERT_TRUE(s.pid());
  EXPECT_FALSE(s.recovered());
  const std::optional<std::string> id = s.id();
  get(s.emit_with_ack("join", value::array({"r"})));
  get(s.emit_with_ack("set-data", value::array({value{{"level", 3}}})));
  // A first event gives the client an offset (none before: nothing to recover from).
  get(sender.emit_with_ack("to-room", value::array({"r", 0})));
  ASSERT_TRUE(j.wait_for("missed 0 with offset"));

  proxy.cut();
  const std::string dropped = "disconnect / transport close";
  ASSERT_TRUE(j.wait_for(dropped)) << testing::PrintToString(j.lines());
  for (int i = 1; i <= 3; ++i) get(sender.emit_with_ack("to-room", value::array({"r", i})));
  ASSERT_TRUE(j.wait_count("connect /", 2, 10s));
  EXPECT_TRUE(s.recovered());
  EXPECT_EQ(s.id(), id);
  // The missed events, in order, delivered before "connect".
  std::vector<std::string> tail;
  const auto lines = j.lines();
  for (auto it = std::find(lines.begin(), lines.end(), dropped); it != lines.end(); ++it) tail.push_back(*it);
  EXPECT_EQ(tail, (std::vector<std::string>{dropped, "missed 1 with offset", "missed 2 with offset",
                                            "missed 3 with offset", "connect /"}));
  // Rooms and data came back.
  const value me = get(s.emit_with_ack("whoami", value::array()))[0];
  EXPECT_EQ(me["rooms"], value::array({"r"}));
  EXPECT_EQ(me["data"], (value{{"level", 3}}));
  EXPECT_EQ(me["recovered"], true);
}

// The README's ten lines, as they are there (but for the URL and the
// printing), against the server.
TEST_P(demo_interop, readme_example) {
  server_process server(GetParam(), false);
  std::ostringstream out;
  {
    namespace sio = eio::socketio::client;
    sio::poco_manager io(server.url);
    auto socket = io.socket("/", eio::socketio::value{{"token", "abc"}});  // with this auth
    socket.on("room-message", [&out](const eio::socketio::value& args) { out << args[0] << "\n"; });
    socket.on_connect([socket]() mutable { socket.emit("join", {"lobby"}); });
    socket.on_disconnect([&out](sio::disconnect_reason r, auto&) { out << to_string(r) << "\n"; });
    socket.connect();
    eio::socketio::value reply = socket.emit_with_ack("echo", {1, 2}).get();  // [1,2], or std::system_error
    EXPECT_EQ(reply, value::array({1, 2}));
    EXPECT_EQ(get(socket.emit_with_ack("whoami", value::array()))[0]["rooms"], value::array({"lobby"}));
    get(socket.emit_with_ack("to-room", value::array({"lobby", "hi"})));
    for (int i = 0; i < 200 && io.call([&out](sio::manager&, millis) { return out.str(); }).empty(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(io.call([&out](sio::manager&, millis) { return out.str(); }), "\"hi\"\n");
  }
}

INSTANTIATE_TEST_SUITE_P(interop, demo_interop, ::testing::ValuesIn(demo_peers()), [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace eio::test
