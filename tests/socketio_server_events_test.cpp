// eio::socketio server: events, binary, acks, rooms and broadcasts, flags,
// listeners and middlewares of sockets, disconnects and their reasons.
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

using test::sio_frame;
using test::sio_harness;
using namespace std::chrono_literals;

// Opens a client and joins "/" (or `nsp`); returns it, its CONNECT answer taken.
sio_harness::client_id joined(sio_harness& h, std::string_view nsp = "/", unsigned loop = 0) {
  const auto c = h.open(loop);
  h.send(c, nsp == "/" ? std::string("0") : "0" + std::string(nsp) + ",");
  h.take(c);
  return c;
}

std::string binary_of(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

TEST(socketio_events, every_json_type_arrives_as_text_and_as_values_and_relays_unchanged) {
  server io;
  std::string text;
  value values;
  std::size_t count = 0;
  io.on_connection([&](socket& s) {
    s.on("e", [&](socket& self, const args_view& args, ack_handle) {
      text = std::string(args.json());
      values = args.values();
      count = args.size();
      self.emit("echo", args);  // relayed as received
      self.emit("values", args.values());
    });
  });
  sio_harness h(io);
  const auto c = joined(h);
  const std::string args = R"(null,true,false,0,-1.5e10,"str\u00e9\"",{"a":[1,{}],"b":""},[],12345678901234567)";
  h.send(c, "2[\"e\"," + args + "]");
  EXPECT_EQ(text, args);
  EXPECT_EQ(count, 9u);
  ASSERT_TRUE(values.is_array());
  EXPECT_TRUE(values[0].is_null());
  EXPECT_EQ(values[1], true);
  EXPECT_EQ(values[4].get<double>(), -1.5e10);
  EXPECT_EQ(values[5], "str\xc3\xa9\"");
  EXPECT_EQ(values[6]["a"][0], 1);
  EXPECT_EQ(values[8].get<std::uint64_t>(), 12345678901234567u);
  const auto frames = h.texts(c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "2[\"echo\"," + args + "]");
  EXPECT_EQ(frames[1],
            "2[\"values\",null,true,false,0,-15000000000.0,\"str\xc3\xa9\\\"\",{\"a\":[1,{}],\"b\":\"\"},[],"
            "12345678901234567]");
}

TEST(socketio_events, numeric_event_names_and_events_nobody_listens_to) {
  server io;
  int heard = 0;
  io.on_connection([&](socket& s) { s.on("42", [&](socket&, const args_view&, ack_handle) { ++heard; }); });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[42,1]");
  h.send(c, "2[\"nobody\"]");
  EXPECT_EQ(heard, 1);
  EXPECT_FALSE(h.closed(c));
}

TEST(socketio_events, binary_nested_anywhere_both_ways_byte_identical) {
  server io;
  value received;
  io.on_connection([&](socket& s) {
    s.on("up", [&](socket& self, const args_view& args, ack_handle) {
      received = args.values();
      self.emit("relay", args);
      self.emit("built", value::array({value{{"deep", value::array({1, value::binary({0, 255, 10})})}},
                                       value::binary({})}));
    });
  });
  sio_harness h(io);
  const auto c = joined(h);
  const std::string data =
      R"(["up",{"b":{"_placeholder":true,"num":0},"a":[{"num":1,"_placeholder":true}]},"x"])";
  h.send(c, "52-" + data);
  EXPECT_TRUE(h.take(c).empty());
  h.send_binary(c, binary_of({1, 2, 3}));
  h.send_binary(c, std::string("\0\x80\xff", 3));
  ASSERT_TRUE(received.is_array());
  ASSERT_TRUE(received[0]["b"].is_binary());
  EXPECT_EQ(static_cast<const attachment&>(received[0]["b"].get_binary()), (attachment{1, 2, 3}));
  EXPECT_EQ(static_cast<const attachment&>(received[0]["a"][0].get_binary()), (attachment{0, 0x80, 0xff}));
  EXPECT_EQ(received[1], "x");
  const auto frames = h.take(c);
  const std::vector<sio_frame> expected{
      {false, R"(52-["relay",{"b":{"_placeholder":true,"num":0},"a":[{"num":1,"_placeholder":true}]},"x"])"},
      {true, binary_of({1, 2, 3})},
      {true, std::string("\0\x80\xff", 3)},
      {false, R"(52-["built",{"deep":[1,{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1}])"},
      {true, binary_of({0, 255, 10})},
      {true, ""},
  };
  EXPECT_EQ(frames, expected) << test::describe(frames);
}

TEST(socketio_events, binary_over_polling_leaves_in_one_response) {
  server io;
  io.on_connection([](socket& s) { s.emit("b", value::array({value::binary({7, 8})})); });
  sio_harness h(io);
  const auto c = h.open(0, test::client_transport::polling);
  h.send(c, "0");
  h.poll(c);
  const auto frames = h.take(c);
  ASSERT_EQ(frames.size(), 3u) << test::describe(frames);
  EXPECT_EQ(frames[1].data, R"(51-["b",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(frames[2], (sio_frame{true, binary_of({7, 8})}));
}

TEST(socketio_events, client_asks_for_an_ack_answered_once_even_later) {
  server io;
  ack_handle kept;
  io.on_connection([&](socket& s) {
    s.on("now", [](socket&, const args_view& args, ack_handle ack) {
      EXPECT_TRUE(ack.wanted());
      ack(value::array({"pong", args[0]}));
      ack(value::array({"again"}));  // callable once
      EXPECT_FALSE(ack.wanted());
    });
    s.on("later", [&](socket&, const args_view&, ack_handle ack) { kept = ack; });
    s.on("bin", [](socket&, const args_view&, ack_handle ack) { ack(value::array({value::binary({5})})); });
    s.on("none", [](socket&, const args_view&, ack_handle ack) { EXPECT_FALSE(ack.wanted()); });
  });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "27[\"now\",1]");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"37[\"pong\",1]"}));
  h.send(c, "28[\"later\"]");
  EXPECT_TRUE(h.take(c).empty());
  h.advance(10s);
  kept(value::array({}));
  kept();
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"38[]"}));
  h.send(c, "29[\"bin\"]");
  const auto frames = h.take(c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, R"(61-9[{"_placeholder":true,"num":0}])");
  EXPECT_EQ(frames[1], (sio_frame{true, binary_of({5})}));
  h.send(c, "2[\"none\"]");
}

TEST(socketio_events, server_asks_for_an_ack_with_and_without_timeout) {
  server io;
  std::shared_ptr<socket> kept;
  io.on_connection([&](socket& s) { kept = s.shared_from_this(); });
  sio_harness h(io);
  const auto c = joined(h);
  std::vector<std::string> answers;
  auto record = [&](const operation_error& error, const args_view& args) {
    answers.push_back(error ? *error : std::string(args.json()));
  };
  ASSERT_FALSE(kept->emit_with_ack("q", value::array({1}), record));
  ASSERT_FALSE(kept->timeout(500ms).emit_with_ack("t", value::array(), record));
  ASSERT_FALSE(kept->timeout(500ms).emit_with_ack("u", value::array(), record));
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"20[\"q\",1]", "21[\"t\"]", "22[\"u\"]"}));
  h.send(c, "30[\"a\",{\"b\":2}]");
  h.send(c, "30[\"again\"]");  // answered already: ignored
  h.send(c, "32[]");
  h.advance(500ms);
  EXPECT_EQ(answers, (std::vector<std::string>{"\"a\",{\"b\":2}", "", "operation has timed out"}));
  h.send(c, "31[\"late\"]");
  EXPECT_EQ(answers.size(), 3u);
  h.send(c, "3999[]");  // never asked: ignored
  EXPECT_FALSE(h.closed(c));
  EXPECT_EQ(h.rt().stats().pending_acks, 0u);
  // A binary ack.
  value got;
  kept->emit_with_ack("b", value::array(), [&](const operation_error&, const args_view& args) { got = args.values(); });
  h.take(c);
  h.send(c, R"(61-3[{"_placeholder":true,"num":0}])");
  h.send_binary(c, binary_of({9}));
  ASSERT_TRUE(got.is_array());
  EXPECT_EQ(static_cast<const attachment&>(got[0].get_binary()), (attachment{9}));
}

TEST(socketio_events, ack_timeout_still_reported_after_the_socket_left) {
  server io;
  std::shared_ptr<socket> kept;
  io.on_connection([&](socket& s) { kept = s.shared_from_this(); });
  sio_harness h(io);
  const auto c = joined(h);
  std::vector<std::string> answers;
  kept->timeout(1s).emit_with_ack("t", value::array(), [&](const operation_error& e, const args_view&) {
    answers.push_back(e.value_or("ok"));
  });
  kept->emit_with_ack("forever", value::array(), [&](const operation_error& e, const args_view&) {
    answers.push_back(e.value_or("ok"));
  });
  kept.reset();
  h.drop(c);
  h.advance(1s);
  EXPECT_EQ(answers, (std::vector<std::string>{"operation has timed out"}));
  EXPECT_EQ(h.rt().stats().timers, 0u);
}

TEST(socketio_events, rooms_unions_each_socket_once_and_except) {
  server io;
  std::vector<std::shared_ptr<socket>> sockets;
  io.on_connection([&](socket& s) { sockets.push_back(s.shared_from_this()); });
  sio_harness h(io);
  const auto a = joined(h);
  const auto b = joined(h);
  const auto c = joined(h);
  const auto d = joined(h);
  sockets[0]->join("r1");
  sockets[1]->join(std::vector<std::string>{"r1", "r2"});
  sockets[2]->join("r2");
  namespace_runtime& nsp = *h.rt().of("/");
  nsp.to("r1").to("r2").emit("both");
  EXPECT_EQ(h.texts(a), (std::vector<std::string>{"2[\"both\"]"}));
  EXPECT_EQ(h.texts(b), (std::vector<std::string>{"2[\"both\"]"}));  // once, though in both rooms
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"2[\"both\"]"}));
  EXPECT_TRUE(h.texts(d).empty());
  nsp.to("r1").except("r2").emit("r1-not-r2");
  EXPECT_EQ(h.texts(a).size(), 1u);
  EXPECT_TRUE(h.texts(b).empty());
  EXPECT_TRUE(h.texts(c).empty());
  nsp.except(std::string("r1")).except("r2").emit("neither");
  EXPECT_EQ(h.texts(d), (std::vector<std::string>{"2[\"neither\"]"}));
  EXPECT_TRUE(h.texts(a).empty());
  // Each socket is in the room of its own id.
  nsp.to(sockets[3]->id()).emit("you");
  EXPECT_EQ(h.texts(d), (std::vector<std::string>{"2[\"you\"]"}));
  // broadcast: all but the sender; to(room) from a socket: the room but the sender.
  sockets[1]->broadcast().emit("not-b");
  EXPECT_EQ(h.texts(a).size(), 1u);
  EXPECT_TRUE(h.texts(b).empty());
  EXPECT_EQ(h.texts(c).size(), 1u);
  EXPECT_EQ(h.texts(d).size(), 1u);
  sockets[1]->to("r2").emit("r2-not-b");
  EXPECT_TRUE(h.texts(a).empty());
  EXPECT_TRUE(h.texts(b).empty());
  EXPECT_EQ(h.texts(c).size(), 1u);
  sockets[2]->leave("r2");
  nsp.to("r2").emit("r2");
  EXPECT_EQ(h.texts(b).size(), 1u);
  EXPECT_TRUE(h.texts(c).empty());
  const auto members = nsp.adapter().rooms();
  ASSERT_EQ(members.count("r1"), 1u);
  std::vector<std::string> r1{sockets[0]->id(), sockets[1]->id()};
  std::sort(r1.begin(), r1.end());
  EXPECT_EQ(members.at("r1"), r1);
  EXPECT_EQ(members.at("r2"), std::vector<std::string>{sockets[1]->id()});
  EXPECT_EQ(members.size(), 6u);  // r1, r2 and the four sockets' own
  auto rooms = sockets[1]->rooms();
  std::sort(rooms.begin(), rooms.end());
  std::vector<std::string> expected{"r1", "r2", sockets[1]->id()};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rooms, expected);
  // compress is accepted (eio compresses per transport); local stays on this loop.
  sockets[0]->compress(false).emit("c");
  sockets[0]->local().emit("l");
  EXPECT_EQ(h.texts(a), (std::vector<std::string>{"2[\"c\"]"}));
  EXPECT_EQ(h.texts(b).size(), 1u);
  EXPECT_EQ(h.texts(c).size(), 1u);
  EXPECT_EQ(h.texts(d).size(), 1u);
  // A room nobody is in: nothing encoded, nothing sent.
  nsp.to("empty").emit("x");
  for (auto x : {a, b, c, d}) EXPECT_TRUE(h.texts(x).empty());
}

TEST(socketio_events, namespaces_are_apart) {
  server io;
  io.of("/chat");
  sio_harness h(io);
  const auto a = joined(h);
  const auto b = joined(h, "/chat");
  h.rt().of("/chat")->emit("hi", value::array({1}));
  EXPECT_TRUE(h.texts(a).empty());
  EXPECT_EQ(h.texts(b), (std::vector<std::string>{"2/chat,[\"hi\",1]"}));
  EXPECT_EQ(h.rt().of("/nope"), nullptr);
}

TEST(socketio_events, volatile_is_dropped_when_the_client_cannot_take_it) {
  server io;
  std::shared_ptr<socket> kept;
  io.on_connection([&](socket& s) { kept = s.shared_from_this(); });
  sio_harness h(io);
  const auto c = h.open(0, test::client_transport::polling);
  h.send(c, "0");
  h.poll(c);
  h.take(c);
  // No GET held: volatile packets go nowhere, others wait.
  kept->volatile_().emit("v1");
  kept->emit("kept");
  h.rt().of("/")->volatile_().emit("v2");
  kept->volatile_().emit("v3", value::array({value::binary({1})}));
  EXPECT_EQ(h.core().volatile_dropped(), 3u);
  h.poll(c);
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"2[\"kept\"]"}));
  // With a GET held, a volatile packet goes out.
  h.poll(c);
  kept->volatile_().emit("v4");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"2[\"v4\"]"}));
}

TEST(socketio_events, reserved_names_cannot_be_emitted) {
  server io;
  std::shared_ptr<socket> kept;
  io.on_connection([&](socket& s) { kept = s.shared_from_this(); });
  sio_harness h(io);
  const auto c = joined(h);
  EXPECT_EQ(kept->emit("connect"), make_error_code(errc::reserved_event_name));
  EXPECT_EQ(kept->emit("disconnecting"), make_error_code(errc::reserved_event_name));
  EXPECT_EQ(h.rt().of("/")->emit("removeListener"), make_error_code(errc::reserved_event_name));
  EXPECT_EQ(h.rt().of("/")->server_side_emit("connection"), make_error_code(errc::reserved_event_name));
  EXPECT_TRUE(h.texts(c).empty());
}

TEST(socketio_events, on_any_once_off_and_outgoing_listeners) {
  server io;
  std::vector<std::string> log;
  io.on_connection([&](socket& s) {
    s.on_any([&](socket&, std::string_view ev, const args_view& args, ack_handle) {
      log.push_back("any:" + std::string(ev) + ":" + std::string(args.json()));
    });
    s.once("o", [&](socket&, const args_view&, ack_handle) { log.push_back("once"); });
    const listener_id id = s.on("x", [&](socket&, const args_view&, ack_handle) { log.push_back("x1"); });
    s.on("x", [&, id](socket& self, const args_view&, ack_handle) {
      log.push_back("x2");
      self.off("x", id);
    });
    s.on_any_outgoing([&](socket&, std::string_view ev, const args_view& args) {
      log.push_back("out:" + std::string(ev) + ":" + std::string(args.json()));
    });
  });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[\"o\",1]");
  h.send(c, "2[\"o\",2]");
  h.send(c, "2[\"x\"]");
  h.send(c, "2[\"x\"]");
  h.rt().of("/")->emit("news", value::array({"n"}));
  EXPECT_EQ(log, (std::vector<std::string>{"any:o:1", "once", "any:o:2", "any:x:", "x1", "x2", "any:x:", "x2",
                                           "out:news:\"n\""}));
}

// The README's example, as written there (section "eio::socketio server").
TEST(socketio_readme, the_example_runs) {
  server_options options;
  options.connection_state_recovery = recovery_options{};
  server io(options);
  io.of("/chat").use([](socket& s, next_function next) {
    if (s.handshake().auth.value("token", "") == "secret") next();
    else next(middleware_error{"not authorized", value{{"code", 401}}});
  });
  std::vector<std::string> reasons;
  io.of("/chat").on_connection([&reasons](socket& s) {
    s.join("lobby");
    s.on("msg", [](socket& self, const args_view& args, ack_handle ack) {
      self.to("lobby").emit("msg", args);  // relayed as received: no JSON document built
      ack(value::array({"ok"}));
    });
    s.on("ask", [](socket& self, const args_view&, ack_handle) {
      self.timeout(5s).emit_with_ack("question", value::array({42}),
          [&nsp = self.nsp()](const operation_error& error, const args_view& args) {
            if (!error) nsp.emit("answered", value::array({args[0]}));  // else "operation has timed out"
          });
    });
    s.on_disconnect([&reasons](socket&, std::string_view reason, std::string_view) { reasons.emplace_back(reason); });
  });

  sio_harness h(io);
  const auto refused = h.open();
  h.send(refused, "0/chat,{\"token\":\"guess\"}");
  EXPECT_EQ(h.texts(refused),
            (std::vector<std::string>{"4/chat,{\"data\":{\"code\":401},\"message\":\"not authorized\"}"}));
  const auto a = h.open();
  const auto b = h.open();
  h.send(a, "0/chat,{\"token\":\"secret\"}");
  h.send(b, "0/chat,{\"token\":\"secret\"}");
  h.take(a);
  h.take(b);
  h.send(a, "2/chat,1[\"msg\",\"hi\"]");
  EXPECT_EQ(h.texts(a), (std::vector<std::string>{"3/chat,1[\"ok\"]"}));
  const auto relayed = h.texts(b);
  ASSERT_EQ(relayed.size(), 1u);
  EXPECT_EQ(relayed[0].substr(0, 19), "2/chat,[\"msg\",\"hi\",");  // and its offset (recovery is on)
  h.send(a, "2/chat,[\"ask\"]");
  const auto question = h.texts(a);
  ASSERT_EQ(question.size(), 1u);
  EXPECT_EQ(question[0], "2/chat,0[\"question\",42]");
  h.send(a, "3/chat,0[\"yes\"]");
  EXPECT_EQ(h.texts(b).at(0).substr(0, 25), "2/chat,[\"answered\",\"yes\",");
  h.drop(b);
  EXPECT_EQ(reasons, (std::vector<std::string>{"transport close"}));
}

}  // namespace
}  // namespace eio::socketio
