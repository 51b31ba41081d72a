// eio::socketio server: event middlewares (socket.use), disconnects with
// each of the reference's reasons, "disconnecting" before the rooms are
// left, disconnect(close).
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

sio_harness::client_id joined(sio_harness& h, std::string_view nsp = "/") {
  const auto c = h.open();
  h.send(c, nsp == "/" ? std::string("0") : "0" + std::string(nsp) + ",");
  h.take(c);
  return c;
}

TEST(socketio_lifecycle, event_middlewares_pass_refuse_and_answer_later) {
  server io;
  std::vector<std::string> log;
  next_function held;
  io.on_connection([&](socket& s) {
    s.use([&](socket&, std::string_view ev, const args_view& args, next_function next) {
      log.push_back("mw:" + std::string(ev) + ":" + std::string(args.json()));
      if (ev == "bad") return next(middleware_error{"refused", value{{"why", 1}}});
      if (ev == "slow") {
        held = next;
        return;
      }
      next();
    });
    s.on("good", [&](socket&, const args_view& args, ack_handle) { log.push_back("good:" + std::string(args.json())); });
    s.on("bad", [&](socket&, const args_view&, ack_handle) { log.push_back("bad"); });
    s.on("slow", [&](socket&, const args_view& args, ack_handle ack) {
      log.push_back("slow:" + std::string(args.json()));
      ack(value::array({"done"}));
    });
    s.on_error([&](socket&, const middleware_error& e) { log.push_back("error:" + e.message); });
  });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[\"good\",1]");
  h.send(c, "2[\"bad\"]");
  h.send(c, "24[\"slow\",{\"big\":[1,2,3]}]");
  EXPECT_EQ(log, (std::vector<std::string>{"mw:good:1", "good:1", "mw:bad:", "error:refused",
                                           "mw:slow:{\"big\":[1,2,3]}"}));
  // The event was kept: the views of its message are long gone.
  h.send(c, "2[\"good\",2]");
  h.advance(1s);
  held();
  EXPECT_EQ(log.back(), "slow:{\"big\":[1,2,3]}");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"34[\"done\"]"}));
}

TEST(socketio_lifecycle, event_held_by_a_middleware_is_dropped_when_the_socket_leaves) {
  server io;
  next_function held;
  int heard = 0;
  io.on_connection([&](socket& s) {
    s.use([&](socket&, std::string_view, const args_view&, next_function next) { held = next; });
    s.on("e", [&](socket&, const args_view&, ack_handle) { ++heard; });
  });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[\"e\"]");
  h.send(c, "1");
  held();
  EXPECT_EQ(heard, 0);
}

struct reasons {
  std::vector<std::string> log;
  void watch(server& io, std::string_view nsp = "/") {
    io.of(nsp).on_connection([this](socket& s) {
      s.join("room");
      s.on_disconnecting([this](socket& self, std::string_view why, std::string_view) {
        const auto rooms = self.rooms();
        const bool in_room = std::find(rooms.begin(), rooms.end(), "room") != rooms.end();
        log.push_back("disconnecting:" + std::string(why) + (in_room ? ":in room" : ":left"));
      });
      s.on_disconnect([this](socket& self, std::string_view why, std::string_view) {
        log.push_back("disconnect:" + std::string(why) + (self.rooms().empty() ? ":left" : ":in room"));
      });
    });
  }
  std::vector<std::string> expect(std::string_view why) const {
    return {"disconnecting:" + std::string(why) + ":in room", "disconnect:" + std::string(why) + ":left"};
  }
};

TEST(socketio_lifecycle, client_namespace_disconnect) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "1");
  EXPECT_EQ(r.log, r.expect("client namespace disconnect"));
  EXPECT_FALSE(h.closed(c));  // the connection stays; the namespace may be joined again
  h.send(c, "0");
  EXPECT_EQ(h.texts(c).size(), 1u);
  EXPECT_EQ(h.rt().stats().sockets, 1u);
}

TEST(socketio_lifecycle, server_namespace_disconnect) {
  server io;
  reasons r;
  r.watch(io);
  io.of("/").on_connection([](socket& s) { s.on("bye", [](socket& self, const args_view&, ack_handle) { self.disconnect(); }); });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[\"bye\"]");
  EXPECT_EQ(r.log, r.expect("server namespace disconnect"));
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"1"}));
  EXPECT_FALSE(h.closed(c));
  EXPECT_EQ(h.rt().stats().rooms, 0u);
}

TEST(socketio_lifecycle, transport_close_and_transport_error) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  h.drop(joined(h), connection_end::closed);
  EXPECT_EQ(r.log, r.expect("transport close"));
  r.log.clear();
  h.drop(joined(h), connection_end::failed);
  EXPECT_EQ(r.log, r.expect("transport error"));
  EXPECT_EQ(h.rt().stats().connections, 0u);
}

TEST(socketio_lifecycle, ping_timeout) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  const auto c = joined(h);
  h.mute(c);
  h.advance(45s);
  EXPECT_EQ(r.log, r.expect("ping timeout"));
}

TEST(socketio_lifecycle, forced_close_by_the_application_on_the_core) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  const auto c = joined(h);
  h.core().close(h.get(c).ref, h.now());
  h.pump();
  EXPECT_EQ(r.log, r.expect("forced close"));
}

TEST(socketio_lifecycle, parse_error_from_engine_io_and_from_socket_io) {
  server io;
  reasons r;
  r.watch(io);
  std::vector<std::string> errors;
  io.of("/").on_connection([&](socket& s) { s.on_error([&](socket&, const middleware_error& e) { errors.push_back(e.message); }); });
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "2[\"unterminated\"");
  EXPECT_EQ(r.log, r.expect("parse error"));
  EXPECT_EQ(errors, (std::vector<std::string>{"parse error: invalid_json at 1"}));
  EXPECT_TRUE(h.closed(c));
  r.log.clear();
  const auto d = joined(h);
  h.send_engine(d, "9");  // not an Engine.IO packet type: the core closes the session
  EXPECT_EQ(r.log, r.expect("parse error"));
}

TEST(socketio_lifecycle, server_shutting_down) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  joined(h);
  h.core().shutdown(h.now());
  h.pump();
  EXPECT_EQ(r.log, r.expect("server shutting down"));
  EXPECT_EQ(h.rt().stats().connections, 0u);
}

TEST(socketio_lifecycle, forced_server_close_on_an_invalid_state) {
  server io;
  reasons r;
  r.watch(io);
  sio_harness h(io);
  const auto c = joined(h);
  h.send(c, "0");  // a second CONNECT
  EXPECT_EQ(r.log, r.expect("forced server close"));
  EXPECT_TRUE(h.closed(c));
}

TEST(socketio_lifecycle, disconnect_with_close_leaves_every_namespace_then_closes) {
  server io;
  reasons r;
  r.watch(io);
  r.watch(io, "/b");
  io.of("/b").on_connection([](socket& s) {
    s.on("quit", [](socket& self, const args_view&, ack_handle) { self.disconnect(true); });
  });
  sio_harness h(io);
  const auto c = joined(h);
  const auto other = joined(h);
  h.send(c, "0/b,");
  h.take(c);
  h.send(c, "2/b,[\"quit\"]");
  EXPECT_EQ(r.log.size(), 4u);
  EXPECT_EQ(std::count(r.log.begin(), r.log.end(), "disconnect:server namespace disconnect:left"), 2);
  const auto frames = h.texts(c);
  EXPECT_EQ(frames, (std::vector<std::string>{"1", "1/b,"}));
  EXPECT_TRUE(h.closed(c));
  EXPECT_FALSE(h.closed(other));
}

TEST(socketio_lifecycle, disconnecting_handler_disconnecting_again_runs_once) {
  server io;
  int disconnects = 0;
  io.on_connection([&](socket& s) {
    s.on_disconnecting([](socket& self, std::string_view, std::string_view) { self.disconnect(); });
    s.on_disconnect([&](socket&, std::string_view, std::string_view) { ++disconnects; });
  });
  sio_harness h(io);
  h.send(joined(h), "1");
  EXPECT_EQ(disconnects, 1);
}

TEST(socketio_lifecycle, emit_after_disconnect_is_refused) {
  server io;
  std::shared_ptr<socket> kept;
  io.on_connection([&](socket& s) { kept = s.shared_from_this(); });
  sio_harness h(io);
  h.send(joined(h), "1");
  EXPECT_EQ(kept->emit("x"), std::make_error_code(std::errc::not_connected));
  EXPECT_FALSE(kept->connected());
}

}  // namespace
}  // namespace eio::socketio
