// eio::socketio server: joining namespaces. CONNECT and its answer, unknown
// namespaces, middlewares, dynamic namespaces, the connect timeout, the
// handshake a socket sees.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

// 20 characters of URL-safe base64.
const std::regex socket_id("[A-Za-z0-9_-]{20}");

std::string sid_of(const std::string& answer, std::string_view prefix = "0{\"sid\":\"") {
  if (answer.compare(0, prefix.size(), prefix) != 0) return {};
  return answer.substr(prefix.size(), 20);
}

TEST(socketio_connect, answer_is_exactly_the_sid_of_20_chars_not_the_engine_id) {
  server io;
  std::string seen_id;
  io.on_connection([&](socket& s) { seen_id = s.id(); });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0");
  const auto frames = h.texts(c);
  ASSERT_EQ(frames.size(), 1u);
  const std::string sid = sid_of(frames[0]);
  EXPECT_TRUE(std::regex_match(sid, socket_id)) << frames[0];
  EXPECT_EQ(frames[0], "0{\"sid\":\"" + sid + "\"}");  // no pid without recovery
  EXPECT_EQ(seen_id, sid);
  EXPECT_NE(sid, h.get(c).sid);
  EXPECT_EQ(h.rt().stats().sockets, 1u);
}

TEST(socketio_connect, namespace_without_comma_and_with_auth) {
  server io;
  value auth;
  io.of("/custom").on_connection([&](socket& s) { auth = s.handshake().auth; });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/custom,{\"token\":\"abc\"}");
  auto frames = h.texts(c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].substr(0, 16), "0/custom,{\"sid\":");
  EXPECT_EQ(auth, (value{{"token", "abc"}}));
  const auto d = h.open();
  h.send(d, "0/custom");  // the official test suite sends it without a comma
  frames = h.texts(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].substr(0, 16), "0/custom,{\"sid\":");
}

TEST(socketio_connect, unknown_namespace_is_refused_and_the_connection_stays) {
  server io;
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/random");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"4/random,{\"message\":\"Invalid namespace\"}"}));
  EXPECT_FALSE(h.closed(c));
  h.send(c, "0");
  EXPECT_EQ(h.texts(c).size(), 1u);
  EXPECT_EQ(h.rt().stats().joining, 0u);
}

TEST(socketio_connect, middleware_admits_later_from_a_timer) {
  server io;
  int connected = 0;
  io.of("/slow").use([](socket& s, next_function next) {
    s.owner().set_timer(1000ms, [next] { next(); });
  });
  io.of("/slow").on_connection([&](socket&) { ++connected; });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/slow,");
  EXPECT_TRUE(h.texts(c).empty());
  EXPECT_EQ(h.rt().stats().joining, 1u);
  h.advance(999ms);
  EXPECT_TRUE(h.texts(c).empty());
  h.advance(1ms);
  const auto frames = h.texts(c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].substr(0, 14), "0/slow,{\"sid\":");
  EXPECT_EQ(connected, 1);
  EXPECT_EQ(h.rt().stats().joining, 0u);
}

TEST(socketio_connect, middleware_refusal_sends_message_and_data_and_data_is_omitted_when_absent) {
  server io;
  io.of("/a").use([](socket&, next_function next) { next(middleware_error{"Not authorized", value{{"code", 7}}}); });
  io.of("/b").use([](socket&, next_function next) { next(middleware_error{"Not authorized", std::nullopt}); });
  int connected = 0;
  io.of("/a").on_connection([&](socket&) { ++connected; });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/a,");
  h.send(c, "0/b,");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"4/a,{\"data\":{\"code\":7},\"message\":\"Not authorized\"}",
                                                  "4/b,{\"message\":\"Not authorized\"}"}));
  EXPECT_EQ(connected, 0);
  EXPECT_FALSE(h.closed(c));
  EXPECT_EQ(h.rt().stats().joining, 0u);
  EXPECT_EQ(h.rt().stats().rooms, 0u);
}

TEST(socketio_connect, middlewares_run_in_order_and_the_first_refusal_stops_them) {
  server io;
  std::vector<int> ran;
  io.use([&](socket&, next_function next) {
    ran.push_back(1);
    next();
  });
  io.use([&](socket& s, next_function next) {
    ran.push_back(2);
    if (s.handshake().auth.value("ok", false)) {
      next();
    } else {
      next(middleware_error{"no", std::nullopt});
    }
  });
  io.use([&](socket&, next_function next) {
    ran.push_back(3);
    next();
    next();  // a second call is ignored
  });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0{\"ok\":false}");
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"4{\"message\":\"no\"}"}));
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  h.send(c, "0{\"ok\":true}");
  EXPECT_EQ(h.texts(c).size(), 1u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 1, 2, 3}));
}

TEST(socketio_connect, middleware_answering_after_the_connection_closed_is_ignored) {
  server io;
  next_function kept;
  io.use([&](socket&, next_function next) { kept = next; });
  int connected = 0;
  io.on_connection([&](socket&) { ++connected; });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0");
  h.drop(c);
  EXPECT_EQ(h.rt().stats().connections, 0u);
  kept();
  EXPECT_EQ(connected, 0);
  EXPECT_EQ(h.rt().stats().sockets, 0u);
}

TEST(socketio_connect, dynamic_namespace_from_a_regex) {
  server io;
  std::vector<std::string> names;
  io.of(std::regex("/dyn-[0-9]+")).on_connection([&](socket& s) { names.push_back(s.nsp().name()); });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/dyn-1,");
  h.send(c, "0/dyn-x,");
  const auto frames = h.texts(c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].substr(0, 15), "0/dyn-1,{\"sid\":");
  EXPECT_EQ(frames[1], "4/dyn-x,{\"message\":\"Invalid namespace\"}");
  EXPECT_EQ(names, (std::vector<std::string>{"/dyn-1"}));
  ASSERT_NE(io.find("/dyn-1"), nullptr);
  EXPECT_EQ(io.namespace_names(), (std::vector<std::string>{"/", "/dyn-1"}));
  // A later of() of a matching name is that child (index.ts of()).
  EXPECT_EQ(&io.of("/dyn-1"), io.find("/dyn-1"));
}

TEST(socketio_connect, async_predicate_and_concurrent_first_connects_make_one_namespace) {
  server io;
  int checks = 0;
  std::vector<const namespace_runtime*> joined;
  io.of([&](runtime& rt, std::string_view name, const value&, std::function<void(bool)> answer) {
      ++checks;
      // The demo's check: it answers after 200 ms.
      const bool allow = name.substr(0, 6) == "/room-";
      rt.set_timer(200ms, [answer, allow] { answer(allow); });
    })
      .on_connection([&](socket& s) { joined.push_back(&s.nsp()); });
  sio_harness h(io, 2);
  const auto a = h.open(0);
  const auto b = h.open(0);
  const auto c = h.open(1);
  const auto d = h.open(0);
  h.send(a, "0/room-1,");
  h.send(b, "0/room-1,");
  h.send(c, "0/room-1,");
  h.send(d, "0/nope,");
  EXPECT_EQ(checks, 4);
  EXPECT_TRUE(h.texts(a).empty());
  h.advance(200ms);
  for (auto x : {a, b, c}) {
    const auto frames = h.texts(x);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].substr(0, 16), "0/room-1,{\"sid\":");
  }
  EXPECT_EQ(h.texts(d), (std::vector<std::string>{"4/nope,{\"message\":\"Invalid namespace\"}"}));
  // One namespace: one config, and on each loop one runtime namespace.
  ASSERT_EQ(joined.size(), 3u);
  EXPECT_EQ(joined[0], joined[1]);
  EXPECT_EQ(&joined[0]->config(), &joined[2]->config());
  EXPECT_EQ(h.rt(0).of("/room-1")->socket_count(), 2u);
  EXPECT_EQ(h.rt(1).of("/room-1")->socket_count(), 1u);
  // Known now: no check for the next one.
  const auto e = h.open(0);
  h.send(e, "0/room-1,");
  EXPECT_EQ(h.texts(e).size(), 1u);
  EXPECT_EQ(checks, 4);
}

TEST(socketio_connect, predicate_answer_after_the_client_left_is_ignored) {
  server io;
  std::function<void(bool)> kept;
  io.of([&](runtime&, std::string_view, const value&, std::function<void(bool)> answer) { kept = answer; });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/later,");
  EXPECT_EQ(h.rt().stats().joining, 1u);
  h.drop(c);
  kept(true);
  EXPECT_EQ(h.rt().stats().sockets, 0u);
  EXPECT_EQ(h.rt().stats().connections, 0u);
}

TEST(socketio_connect, connect_timeout_closes_a_client_that_joins_nothing) {
  server_options options;
  options.connect_timeout = 45'000ms;
  std::vector<std::string> errors;
  options.on_connection_error = [&](std::string_view, std::string_view why) { errors.emplace_back(why); };
  server io(options);
  sio_harness h(io);
  const auto idle = h.open();
  const auto joined = h.open();
  h.send(joined, "0");
  h.advance(44'999ms);
  EXPECT_FALSE(h.closed(idle));
  h.advance(1ms);
  EXPECT_TRUE(h.closed(idle));
  EXPECT_FALSE(h.closed(joined));
  EXPECT_EQ(errors, (std::vector<std::string>{"connect timeout"}));
  EXPECT_EQ(h.rt().stats().connections, 1u);
}

TEST(socketio_connect, handshake_describes_the_engine_io_request) {
  server io;
  handshake seen;
  io.on_connection([&](socket& s) { seen = s.handshake(); });
  runtime_options ro;
  ro.wall_clock_offset = std::chrono::milliseconds(1'700'000'000'000) - std::chrono::milliseconds(1'000'000);
  ro.secure = true;
  sio_harness h(io, 1, {}, ro);
  const auto c = h.open(0, test::client_transport::websocket, protocol_version::v4, "token=a%20b&x=1",
                        {{"Origin", "https://app.example"}, {"X-Custom", "1"}});
  h.send(c, "0{\"k\":[1,2]}");
  EXPECT_EQ(seen.issued, 1'700'000'000'000);
  EXPECT_EQ(seen.time, "Tue Nov 14 2023 22:13:20 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(seen.address, "10.0.0.7");
  EXPECT_TRUE(seen.xdomain);
  EXPECT_TRUE(seen.secure);
  EXPECT_EQ(seen.url, "/engine.io/?EIO=4&transport=websocket&token=a%20b&x=1");
  const std::vector<std::pair<std::string, std::string>> query{
      {"EIO", "4"}, {"transport", "websocket"}, {"token", "a b"}, {"x", "1"}};
  EXPECT_EQ(seen.query, query);
  EXPECT_EQ(seen.auth, (value{{"k", {1, 2}}}));
  bool has_custom = false;
  for (const auto& [name, val] : seen.headers) has_custom = has_custom || (name == "X-Custom" && val == "1");
  EXPECT_TRUE(has_custom);
}

TEST(socketio_connect, javascript_date_strings) {
  EXPECT_EQ(javascript_date_string(0), "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(javascript_date_string(951782400000), "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(javascript_date_string(-1), "Wed Dec 31 1969 23:59:59 GMT+0000 (Coordinated Universal Time)");
}

TEST(socketio_connect, max_namespaces_per_connection_at_the_limit_and_past_it) {
  server_options options;
  options.max_namespaces_per_connection = 3;
  server io(options);
  for (const char* n : {"/a", "/b", "/c", "/d"}) io.of(n);
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0/a,");
  h.send(c, "0/b,");
  h.send(c, "0/c,");
  EXPECT_EQ(h.texts(c).size(), 3u);
  EXPECT_FALSE(h.closed(c));
  h.send(c, "0/d,");
  EXPECT_TRUE(h.closed(c));
}

}  // namespace
}  // namespace eio::socketio
