// eio::socketio server: connection state recovery (socket.io 4.6+): offsets
// on logged packets, sessions kept on recoverable disconnects, restored with
// the missed packets before the CONNECT answer; expiry, bounds, two loops.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

// The value of "key":"..." in a JSON text.
std::string field(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const auto at = json.find(needle);
  if (at == std::string::npos) return {};
  const auto start = at + needle.size();
  return json.substr(start, json.find('"', start) - start);
}

// The last argument of an EVENT (the offset), as text without quotes.
std::string last_string_arg(const std::string& text) {
  const auto end = text.rfind('"');
  const auto start = text.rfind('"', end - 1);
  return text.substr(start + 1, end - start - 1);
}

struct recovering {
  explicit recovering(unsigned loops = 1, recovery_options r = {}) : io(make_options(r)) {
    io.on_connection([this](socket& s) {
      sockets.push_back(s.shared_from_this());
      if (!s.recovered()) {
        s.join("r");
        s.data() = value{{"score", 7}};
      }
    });
    h = std::make_unique<sio_harness>(io, loops);
  }
  static server_options make_options(recovery_options r) {
    server_options o;
    o.connection_state_recovery = r;
    return o;
  }
  // Joins "/"; returns the client and its CONNECT answer.
  std::pair<sio_harness::client_id, std::string> join(unsigned loop = 0, const std::string& auth = {}) {
    const auto c = h->open(loop);
    h->send(c, "0" + auth);
    auto frames = h->texts(c);
    return {c, frames.empty() ? std::string() : frames.back()};
  }

  server io;
  std::unique_ptr<sio_harness> h;
  std::vector<std::shared_ptr<socket>> sockets;
};

TEST(socketio_recovery, missed_packets_replayed_in_order_before_the_answer_with_rooms_and_data) {
  recovering t;
  const auto [c, answer] = t.join();
  const std::string sid = field(answer, "sid");
  const std::string pid = field(answer, "pid");
  ASSERT_EQ(sid.size(), 20u);
  ASSERT_EQ(pid.size(), 20u);
  EXPECT_EQ(answer, "0{\"sid\":\"" + sid + "\",\"pid\":\"" + pid + "\"}");
  const std::shared_ptr<socket> first = t.sockets.back();  // a copy: the vector grows
  first->emit("hello", value::array({1}));  // unicast: logged too, with an offset
  const auto frames = t.h->texts(c);
  ASSERT_EQ(frames.size(), 1u);
  const std::string offset = last_string_arg(frames[0]);
  EXPECT_EQ(frames[0], "2[\"hello\",1,\"" + offset + "\"]");

  t.h->drop(c);  // transport close: recoverable
  namespace_runtime& nsp = *t.h->rt().of("/");
  nsp.to("r").emit("m1");
  nsp.emit("m2", value::array({value::binary({4, 2})}));
  nsp.to("other").emit("not-for-it");
  nsp.to(sid).emit("m3");
  nsp.volatile_().emit("volatile");       // not logged
  nsp.except("r").emit("excepted");       // not for it
  nsp.timeout(1s).emit_with_ack("acked", value::array(), [](const operation_error&, std::vector<wire_args>) {});

  const auto d = t.h->open();
  t.h->send(d, "0{\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}");
  const auto replay = t.h->take(d);
  ASSERT_EQ(replay.size(), 5u) << test::describe(replay);
  EXPECT_EQ(replay[0].data.substr(0, 8), "2[\"m1\",\"");
  EXPECT_EQ(replay[1].data.substr(0, 40), R"(51-["m2",{"_placeholder":true,"num":0},")");
  EXPECT_EQ(replay[2].data, std::string("\x04\x02"));
  EXPECT_EQ(replay[3].data.substr(0, 8), "2[\"m3\",\"");
  EXPECT_EQ(replay[4].data, "0{\"sid\":\"" + sid + "\",\"pid\":\"" + pid + "\"}");
  const std::shared_ptr<socket> restored = t.sockets.back();
  EXPECT_NE(restored, first);
  EXPECT_TRUE(restored->recovered());
  EXPECT_EQ(restored->id(), sid);
  EXPECT_EQ(restored->data(), (value{{"score", 7}}));
  auto rooms = restored->rooms();
  std::sort(rooms.begin(), rooms.end());
  std::vector<std::string> expected{"r", sid};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rooms, expected);
  // It receives what its rooms receive from now on.
  nsp.to("r").emit("after");
  EXPECT_EQ(t.h->texts(d).size(), 1u);
}

TEST(socketio_recovery, expired_session_gets_a_new_socket) {
  recovering t;
  const auto [c, answer] = t.join();
  const std::string pid = field(answer, "pid");
  t.sockets.back()->emit("x");
  const std::string offset = last_string_arg(t.h->texts(c).at(0));
  t.h->drop(c);
  t.h->advance(120'001ms);
  const auto [d, again] = t.join(0, "{\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}");
  EXPECT_NE(field(again, "sid"), field(answer, "sid"));
  EXPECT_NE(field(again, "pid"), pid);
  EXPECT_FALSE(t.sockets.back()->recovered());
}

TEST(socketio_recovery, within_the_duration_it_is_restored_once) {
  recovering t;
  const auto [c, answer] = t.join();
  const std::string pid = field(answer, "pid");
  t.sockets.back()->emit("x");
  const std::string offset = last_string_arg(t.h->texts(c).at(0));
  t.h->drop(c);
  t.h->advance(119'999ms);
  const std::string auth = "{\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}";
  const auto [d, again] = t.join(0, auth);
  EXPECT_EQ(field(again, "sid"), field(answer, "sid"));
  EXPECT_TRUE(t.sockets.back()->recovered());
  // The same pid and offset a second time (while the first is connected): a new socket.
  const auto [e, third] = t.join(0, auth);
  EXPECT_NE(field(third, "sid"), field(answer, "sid"));
  EXPECT_FALSE(t.sockets.back()->recovered());
}

TEST(socketio_recovery, unknown_offset_or_pid_and_unrecoverable_reasons) {
  recovering t;
  const auto [c, answer] = t.join();
  const std::string pid = field(answer, "pid");
  t.h->drop(c);
  const auto [d, a1] = t.join(0, "{\"pid\":\"" + pid + "\",\"offset\":\"eio-zzzz\"}");
  EXPECT_FALSE(t.sockets.back()->recovered());
  const auto [e, a2] = t.join(0, "{\"pid\":\"nobody\",\"offset\":\"x\"}");
  EXPECT_FALSE(t.sockets.back()->recovered());
  const auto [f, a3] = t.join(0, "{\"pid\":1,\"offset\":2}");  // not strings: not a restore
  EXPECT_FALSE(t.sockets.back()->recovered());
  // A client namespace disconnect is not recoverable: nothing kept.
  auto& store = static_cast<in_process_session_store&>(*t.io.store());
  const std::size_t kept = store.sessions("/");
  t.h->send(f, "1");
  EXPECT_EQ(store.sessions("/"), kept);
}

TEST(socketio_recovery, middlewares_skipped_for_a_recovered_socket_unless_asked) {
  for (const bool skip : {true, false}) {
    recovery_options r;
    r.skip_middlewares = skip;
    recovering t(1, r);
    int runs = 0;
    t.io.use([&](socket&, next_function next) {
      ++runs;
      next();
    });
    const auto [c, answer] = t.join();
    t.sockets.back()->emit("x");
    const std::string offset = last_string_arg(t.h->texts(c).at(0));
    t.h->drop(c);
    const auto [d, again] = t.join(0, "{\"pid\":\"" + field(answer, "pid") + "\",\"offset\":\"" + offset + "\"}");
    EXPECT_TRUE(t.sockets.back()->recovered());
    EXPECT_EQ(runs, skip ? 1 : 2);
  }
}

TEST(socketio_recovery, recovery_across_two_loops) {
  recovering t(2);
  const auto [c, answer] = t.join(0);
  const auto [other, other_answer] = t.join(1);
  t.sockets.front()->emit("x");
  const std::string offset = last_string_arg(t.h->texts(c).at(0));
  t.h->drop(c);
  // Broadcast from loop 1 while it is away; it comes back on loop 1.
  t.h->rt(1).of("/")->to("r").emit("from-loop-1");
  t.h->texts(other);
  const auto d = t.h->open(1);
  t.h->send(d, "0{\"pid\":\"" + field(answer, "pid") + "\",\"offset\":\"" + offset + "\"}");
  const auto frames = t.h->texts(d);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].substr(0, 18), "2[\"from-loop-1\",\"e");
  EXPECT_EQ(frames[1], answer);
  EXPECT_TRUE(t.sockets.back()->recovered());
  EXPECT_EQ(&t.sockets.back()->owner(), &t.h->rt(1));
  // Offsets come from one store: a broadcast over both loops carries the same one.
  t.h->rt(0).of("/")->emit("both");
  const auto a = t.h->texts(other);
  const auto b = t.h->texts(d);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a, b);
}

TEST(socketio_recovery, the_log_is_bounded_in_bytes_at_the_limit_and_past_it) {
  recovery_options r;
  recovering probe(1, r);
  // One logged packet's size, as the store counts it.
  probe.join();
  probe.h->rt().of("/")->emit("p");
  auto& probe_store = static_cast<in_process_session_store&>(*probe.io.store());
  const std::size_t one = probe_store.logged_bytes("/");
  ASSERT_GT(one, 0u);

  r.max_log_bytes = 3 * one;
  recovering t(1, r);
  auto& store = static_cast<in_process_session_store&>(*t.io.store());
  t.join();
  for (int i = 0; i < 3; ++i) t.h->rt().of("/")->emit("p");
  EXPECT_EQ(store.logged_packets("/"), 3u);
  EXPECT_EQ(store.logged_bytes("/"), 3 * one);
  t.h->rt().of("/")->emit("p");
  EXPECT_EQ(store.logged_packets("/"), 3u);
  EXPECT_LE(store.logged_bytes("/"), 3 * one);
}

TEST(socketio_recovery, sessions_are_bounded_at_the_limit_and_past_it) {
  recovery_options r;
  r.max_sessions = 2;
  recovering t(1, r);
  auto& store = static_cast<in_process_session_store&>(*t.io.store());
  for (int i = 0; i < 2; ++i) t.h->drop(t.join().first);
  EXPECT_EQ(store.sessions("/"), 2u);
  t.h->drop(t.join().first);
  EXPECT_EQ(store.sessions("/"), 2u);
}

TEST(socketio_recovery, old_packets_and_sessions_are_purged_by_age) {
  recovering t;
  auto& store = static_cast<in_process_session_store&>(*t.io.store());
  const auto [c, answer] = t.join();
  t.h->rt().of("/")->emit("old");
  t.h->drop(c);
  EXPECT_EQ(store.logged_packets("/"), 1u);
  EXPECT_EQ(store.sessions("/"), 1u);
  t.h->advance(120'001ms);
  t.join();
  t.h->rt().of("/")->emit("new");
  EXPECT_EQ(store.logged_packets("/"), 1u);
  EXPECT_EQ(store.sessions("/"), 0u);
}

// The store is shared by the loops' threads: appends, persists and
// restores from several at once keep every offset distinct and every
// session restorable once.
TEST(socketio_recovery, the_store_is_safe_from_several_threads) {
  in_process_session_store store;
  constexpr int threads = 4;
  constexpr int rounds = 500;
  std::vector<std::vector<std::string>> offsets(threads);
  std::vector<int> restored(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        event_packet p{"[\"e\"," + std::to_string(i) + "]", {}};
        broadcast_options opts;
        offsets[t].push_back(store.append("/", opts, p, std::chrono::milliseconds(i)));
        const std::string pid = std::to_string(t) + "-" + std::to_string(i);
        store.persist("/", session_to_persist{"sid" + pid, pid, {"r"}, value::object()}, std::chrono::milliseconds(i));
        if (store.restore("/", pid, offsets[t].back(), std::chrono::milliseconds(i))) ++restored[t];
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<std::string> all;
  for (const auto& list : offsets) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  for (int t = 0; t < threads; ++t) EXPECT_EQ(restored[t], rounds);
  EXPECT_EQ(store.sessions("/"), 0u);
  EXPECT_EQ(store.logged_packets("/"), static_cast<std::size_t>(threads * rounds));
}

}  // namespace
}  // namespace eio::socketio
