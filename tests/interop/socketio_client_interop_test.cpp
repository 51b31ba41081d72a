// Our Socket.IO client (eio::socketio::client::poco_manager) against the real
// Node socket.io 4.8.3 server (tests/interop/socketio_server.mjs, started and
// stopped by each test on a free 127.0.0.1 port), for what its application
// shows and the demo application's does not: what the server saw of every
// argument (describe), the query and extra headers, a refusal with data, a
// drop the server makes (recovery), over polling only, WebSocket only and the
// upgrade. Acks with timeout, rooms, a restart with the reconnection's
// backoff and the rest run against both servers in socketio_client_demo_test.cpp.
//
// Every wait is bounded (a few seconds); ctest bounds the whole.
#include "socketio_client_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

namespace eio::test {
namespace {

// The application of socketio_server.mjs (its handlers and namespaces),
// served by the Node socket.io 4.8.3 server. The demo application of
// `eiotool serve --socketio` is the other suite (socketio_client_demo_test.cpp),
// against both servers.
const std::vector<peer>& peers() {
  static const std::vector<peer> all{
      {"node", EIO_NODE,
       [](int port, bool recovery) {
         std::vector<std::string> a{EIO_SIO_SERVER, "--port", std::to_string(port)};
         if (recovery) a.push_back("--recovery");
         return a;
       }},
  };
  return all;
}

// The arguments as socketio_server.mjs's describe() shows them.
value described(const value& v) {
  if (v.is_binary()) {
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t b : v.get_binary()) {
      text += hex[b >> 4];
      text += hex[b & 15];
    }
    return value{{"$binary", text}};
  }
  if (v.is_array()) {
    value out = value::array();
    for (const auto& e : v) out.push_back(described(e));
    return out;
  }
  if (v.is_object()) {
    value out = value::object();
    for (const auto& [k, e] : v.items()) out[k] = described(e);
    return out;
  }
  return v;
}

// ------------------------------------------------------------ transports

class transports : public ::testing::TestWithParam<std::tuple<peer, std::vector<transport_kind>>> {};

TEST_P(transports, events_and_acks_both_ways_byte_identical) {
  server_process server(std::get<0>(GetParam()), false);
  const std::vector<transport_kind> kinds = std::get<1>(GetParam());
  sc::poco_manager io(server.url, with_transports(kinds));
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.on("binary", [&j](const value& args) { j.add("binary " + args.dump()); });
  s.on("question", [&j](const value& args, const sc::ack_responder& ack) {
    j.add("question " + args.dump());
    ack(value::array({value::binary({9, 8, 7}), "ok"}));
  });
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  EXPECT_TRUE(s.connected());
  ASSERT_TRUE(s.id());
  EXPECT_EQ(s.id()->size(), 20u);

  // Client -> server -> client, every type: the same value back.
  const value args = every_type();
  EXPECT_EQ(get(s.emit_with_ack("echo", args)), args);
  // And what the server saw, binary byte for byte.
  EXPECT_EQ(get(s.emit_with_ack("describe", args)), value::array({described(args)}));

  // Server -> client binary, nested.
  get(s.emit_with_ack("send-binary", value::array()));
  ASSERT_TRUE(j.wait_for(
      "binary " + value::array({value::binary({0, 1, 0xfe, 0xff}),
                                value{{"nested", value::array({value::binary({'h', 'e', 'l', 'l', 'o'}),
                                                               value{{"deep", value::binary({})}}})}}})
                      .dump()));

  // The server asks, our listener answers (binary), the server reports what it got.
  const value report = get(s.emit_with_ack("ask-client", value::array({"question", 1, "two"})));
  EXPECT_EQ(report, value::array({value{{"ok", true}, {"answer", value::array({value{{"$binary", "090807"}}})}}}));
  EXPECT_TRUE(j.wait_for(R"(question [1,"two"])"));

  // An emit without ack: the server emits "echo" back.
  s.on("echo", [&j](const value& a) { j.add("echo event " + a.dump()); });
  EXPECT_FALSE(s.emit("echo", value::array({"plain", 2})));
  EXPECT_TRUE(j.wait_for(R"(echo event ["plain",2])"));

  // The transport the server sees.
  const std::string expected = kinds == std::vector<transport_kind>{transport_kind::polling} ? "polling" : "websocket";
  std::string seen;
  for (int i = 0; i < 100 && seen != expected; ++i) {
    seen = get(s.emit_with_ack("info", value::array()))[0]["transport"].get<std::string>();
    if (seen != expected) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seen, expected);
}

INSTANTIATE_TEST_SUITE_P(interop, transports,
                         ::testing::Combine(::testing::ValuesIn(peers()),
                                            ::testing::ValuesIn(every_transport_choice())),
                         [](const auto& p) { return transports_name(std::get<0>(p.param), std::get<1>(p.param)); });

class socketio_interop : public ::testing::TestWithParam<peer> {};

// ------------------------------------------------------------ namespaces, auth, refusals

TEST_P(socketio_interop, namespaces_share_one_session_with_auth_query_and_headers) {
  server_process server(GetParam(), false);
  sc::poco_manager_options o;
  o.core.extra_headers = {{"X-Test", "yes"}};
  sc::poco_manager io(server.url + "/?room=5", o);
  journal j;
  sc::poco_socket root = watched(io, j, "/");
  sc::socket_options auth;
  auth.auth = value{{"token", "secret"}, {"n", 1}};
  sc::poco_socket admin = watched(io, j, "/admin", auth);
  root.connect();
  admin.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  ASSERT_TRUE(j.wait_for("connect /admin"));
  const value a = get(root.emit_with_ack("info", value::array()))[0];
  const value b = get(admin.emit_with_ack("info", value::array()))[0];
  EXPECT_EQ(a["engine"], b["engine"]);  // one Engine.IO session
  EXPECT_NE(a["id"], b["id"]);
  EXPECT_EQ(b["auth"], (value{{"token", "secret"}, {"n", 1}}));
  EXPECT_EQ(a["auth"], value::object());
  EXPECT_EQ(a["query"]["room"], "5");
  EXPECT_EQ(a["header"], "yes");
  // Events go to their own namespace.
  journal events;
  admin.on("echo", [&events](const value& args) { events.add("admin " + args.dump()); });
  root.on("echo", [&events](const value& args) { events.add("root " + args.dump()); });
  EXPECT_FALSE(admin.emit("echo", value::array({"to admin"})));
  ASSERT_TRUE(events.wait_for(R"(admin ["to admin"])"));
  EXPECT_EQ(events.count("root"), 0u);
}

TEST_P(socketio_interop, middleware_refusal_with_message_and_data) {
  server_process server(GetParam(), false);
  sc::poco_manager io(server.url);
  journal j;
  sc::socket_options bad;
  bad.auth = value{{"token", "wrong"}};
  sc::poco_socket admin = watched(io, j, "/admin", bad);
  admin.connect();
  ASSERT_TRUE(j.wait_for(R"(connect_error /admin not authorized {"code":401,"hint":"send auth.token"} refused)"));
  EXPECT_FALSE(admin.active());
  EXPECT_FALSE(admin.connected());
  // No reconnection after a refusal.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(j.count("connect"), 1u);
}

TEST_P(socketio_interop, refusal_without_data_and_unknown_namespace) {
  server_process server(GetParam(), false);
  journal j;
  sc::poco_manager a(server.url);
  watched(a, j, "/refuse-plain").connect();
  ASSERT_TRUE(j.wait_for("connect_error /refuse-plain plain refusal refused"));
  sc::poco_manager b(server.url);
  watched(b, j, "/nope").connect();
  ASSERT_TRUE(j.wait_for("connect_error /nope Invalid namespace refused"));
}

TEST_P(socketio_interop, server_disconnect_is_final) {
  server_process server(GetParam(), false);
  sc::poco_manager io(server.url);
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  EXPECT_FALSE(s.emit("disconnect-me", value::array()));
  ASSERT_TRUE(j.wait_for("disconnect / io server disconnect"));
  EXPECT_FALSE(s.active());
}

TEST_P(socketio_interop, connection_state_recovery_with_missed_events_in_order) {
  server_process server(GetParam(), true);
  sc::poco_manager_options o;
  o.core.reconnection_delay = 600ms;
  o.core.randomization_factor = 0;
  sc::poco_manager io(server.url, o);
  journal j;
  sc::poco_socket s = watched(io, j, "/");
  s.on("missed", [&j](const value& args) { j.add("missed " + args[0].dump() + " " + args[1].dump()); });
  s.on("warmup", [&j](const value&) { j.add("warmup"); });
  s.connect();
  ASSERT_TRUE(j.wait_for("connect /"));
  ASSERT_TRUE(s.pid());
  EXPECT_FALSE(s.recovered());
  const std::optional<std::string> id = s.id();
  get(s.emit_with_ack("join", value::array({"r"})));
  // A first event gives the client an offset (none before: nothing to recover from).
  get(s.emit_with_ack("to-room", value::array({"r", "warmup"})));
  ASSERT_TRUE(j.wait_for("warmup"));
  // Events for the room 200 ms from now, while the transport is down.
  EXPECT_FALSE(s.emit("emit-later", value::array({"r", 3, 200})));
  get(s.emit_with_ack("drop", value::array()));
  ASSERT_TRUE(j.wait_for("disconnect / transport close"));
  ASSERT_TRUE(j.wait_count("connect /", 2, 10s));
  EXPECT_TRUE(s.recovered());
  EXPECT_EQ(s.id(), id);
  // The missed events, in order, delivered before "connect".
  std::vector<std::string> tail;
  const auto lines = j.lines();
  for (auto it = std::find(lines.begin(), lines.end(), "disconnect / transport close"); it != lines.end(); ++it) {
    tail.push_back(*it);
  }
  EXPECT_EQ(tail, (std::vector<std::string>{"disconnect / transport close", R"(missed 0 "text-0")", R"(missed 1 "text-1")",
                                            R"(missed 2 "text-2")", "connect /"}));
  // The room survived.
  EXPECT_EQ(get(s.emit_with_ack("info", value::array()))[0]["rooms"], value::array({"r"}));
  EXPECT_EQ(get(s.emit_with_ack("info", value::array()))[0]["recovered"], true);
}

INSTANTIATE_TEST_SUITE_P(interop, socketio_interop, ::testing::ValuesIn(peers()),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace eio::test
