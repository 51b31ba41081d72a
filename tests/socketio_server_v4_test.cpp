// eio::socketio server: protocol v4 (socket.io-client 2.x) over Engine.IO v3
// sessions: "/" joined unasked, auth in the namespace's query, bare CONNECT
// answers, errors as a JSON string, socket ids from the Engine.IO id.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::client_transport;
using test::sio_frame;
using test::sio_harness;

eio::server_options eio3() {
  eio::server_options o;
  o.allow_eio3 = true;
  return o;
}

TEST(socketio_v4, main_namespace_joined_unasked_with_the_engine_id) {
  server io;
  std::vector<std::shared_ptr<socket>> sockets;
  io.on_connection([&](socket& s) { sockets.push_back(s.shared_from_this()); });
  sio_harness h(io, 1, eio3());
  const auto c = h.open(0, client_transport::websocket, protocol_version::v3);
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"0"}));
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_EQ(sockets[0]->id(), h.get(c).sid);
  EXPECT_EQ(sockets[0]->protocol(), protocol_version::v3);
  // Events as in v5.
  sockets[0]->emit("hi", value::array({1}));
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"2[\"hi\",1]"}));
}

TEST(socketio_v4, auth_in_the_namespace_query_and_a_bare_answer) {
  server io;
  std::vector<std::shared_ptr<socket>> sockets;
  io.of("/admin").on_connection([&](socket& s) { sockets.push_back(s.shared_from_this()); });
  sio_harness h(io, 1, eio3());
  const auto c = h.open(0, client_transport::websocket, protocol_version::v3);
  h.take(c);
  h.send(c, "0/admin?token=1&name=a%20b,");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"0/admin,"}));
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_EQ(sockets[0]->id(), "/admin#" + h.get(c).sid);
  EXPECT_EQ(sockets[0]->handshake().auth, (value{{"token", "1"}, {"name", "a b"}}));
  // Later packets name the namespace with or without the query.
  int heard = 0;
  sockets[0]->on("e", [&](socket&, const args_view&, ack_handle) { ++heard; });
  h.send(c, "2/admin,[\"e\"]");
  h.send(c, "2/admin?token=1,[\"e\"]");
  EXPECT_EQ(heard, 2);
  sockets[0]->emit("x");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"2/admin,[\"x\"]"}));
}

TEST(socketio_v4, refusals_are_a_json_string_or_the_data) {
  server io;
  io.of("/a").use([](socket&, next_function next) { next(middleware_error{"Not authorized", std::nullopt}); });
  io.of("/b").use([](socket&, next_function next) { next(middleware_error{"Not authorized", value{{"code", 1}}}); });
  io.of("/c").use([](socket&, next_function next) { next(middleware_error{"Not authorized", value("")}); });
  sio_harness h(io, 1, eio3());
  const auto c = h.open(0, client_transport::websocket, protocol_version::v3);
  h.take(c);
  h.send(c, "0/a,");
  h.send(c, "0/b,");
  h.send(c, "0/c,");  // data not truthy: the message
  h.send(c, "0/unknown,");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"4/a,\"Not authorized\"", "4/b,{\"code\":1}", "4/c,\"Not authorized\"",
                                                  "4/unknown,{\"message\":\"Invalid namespace\"}"}));
  EXPECT_FALSE(h.closed(c));
}

TEST(socketio_v4, binary_both_ways_over_engine_io_v3) {
  server io;
  io.on_connection([](socket& s) {
    s.on("up", [](socket& self, const args_view& args, ack_handle) { self.emit("down", args); });
  });
  sio_harness h(io, 1, eio3());
  const auto c = h.open(0, client_transport::websocket, protocol_version::v3);
  h.take(c);
  h.send(c, R"(51-["up",{"_placeholder":true,"num":0}])");
  h.send_binary(c, std::string("\x01\x02\x03"));
  const auto frames = h.take(c);
  const std::vector<sio_frame> expected{{false, R"(51-["down",{"_placeholder":true,"num":0}])"},
                                        {true, std::string("\x01\x02\x03")}};
  EXPECT_EQ(frames, expected) << test::describe(frames);
}

TEST(socketio_v4, no_pid_for_a_v4_client_even_with_recovery) {
  server_options options;
  options.connection_state_recovery = recovery_options{};
  server io(options);
  sio_harness h(io, 1, eio3());
  const auto c = h.open(0, client_transport::websocket, protocol_version::v3);
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"0"}));
  h.drop(c);
  EXPECT_EQ(static_cast<in_process_session_store&>(*io.store()).sessions("/"), 0u);
}

}  // namespace
}  // namespace eio::socketio
