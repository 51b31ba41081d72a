// eio::socketio server over two event loops, wired by the in-process
// cluster transport: broadcasts, rooms, fetch_sockets, sockets_join/leave,
// disconnect_sockets, server_side_emit with acks and broadcasts with acks
// reach the sockets of both loops.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

// Two loops, two clients on each, joined to "/" (and the sockets kept by id).
struct two_loops {
  explicit two_loops(server_options options = {}) : io(options) {
    io.on_connection([this](socket& s) {
      sockets.push_back(s.shared_from_this());
      s.data() = value{{"name", "client" + std::to_string(sockets.size())}};
    });
    io.of("/").on("hello", [this](namespace_runtime& nsp, const args_view& args, ack_handle ack) {
      heard.push_back(std::string(args.json()));
      if (answer) ack(value::array({"from " + std::to_string(&nsp.owner() == &h->rt(1) ? 1 : 0)}));
    });
    h = std::make_unique<sio_harness>(io, 2);
    for (unsigned k : {0u, 0u, 1u, 1u}) {
      const auto c = h->open(k);
      h->send(c, "0");
      h->take(c);
      clients.push_back(c);
    }
  }
  std::vector<std::string> texts(std::size_t i) { return h->texts(clients[i]); }

  server io;
  std::unique_ptr<sio_harness> h;
  std::vector<std::shared_ptr<socket>> sockets;  // in order of connection: loop 0, 0, 1, 1
  std::vector<sio_harness::client_id> clients;
  std::vector<std::string> heard;
  bool answer = true;
};

TEST(socketio_cluster, broadcast_reaches_every_loop_and_local_stays_home) {
  two_loops t;
  t.h->rt(0).of("/")->emit("all", value::array({1}));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(t.texts(i), (std::vector<std::string>{"2[\"all\",1]"})) << i;
  t.h->rt(1).of("/")->local().emit("here");
  EXPECT_TRUE(t.texts(0).empty());
  EXPECT_EQ(t.texts(2).size(), 1u);
  EXPECT_EQ(t.texts(3).size(), 1u);
}

TEST(socketio_cluster, rooms_and_except_across_loops_each_socket_once) {
  two_loops t;
  t.sockets[0]->join("r1");
  t.sockets[2]->join(std::vector<std::string>{"r1", "r2"});
  t.sockets[3]->join("r2");
  t.h->rt(0).of("/")->to("r1").to("r2").emit("u");
  EXPECT_EQ(t.texts(0).size(), 1u);
  EXPECT_TRUE(t.texts(1).empty());
  EXPECT_EQ(t.texts(2), (std::vector<std::string>{"2[\"u\"]"}));
  EXPECT_EQ(t.texts(3).size(), 1u);
  // From a socket on loop 1: its room on both loops, itself excluded.
  t.sockets[2]->to("r1").emit("from2");
  EXPECT_EQ(t.texts(0).size(), 1u);
  EXPECT_TRUE(t.texts(2).empty());
  t.sockets[0]->broadcast().except("r2").emit("x");
  EXPECT_TRUE(t.texts(0).empty());
  EXPECT_EQ(t.texts(1).size(), 1u);
  EXPECT_TRUE(t.texts(2).empty());
  EXPECT_TRUE(t.texts(3).empty());
  // Binary, encoded once on loop 0 and shared with loop 1.
  t.h->rt(0).of("/")->emit("bin", value::array({value::binary({1, 2})}));
  for (std::size_t i = 0; i < 4; ++i) {
    const auto frames = t.h->take(t.clients[i]);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].data, R"(51-["bin",{"_placeholder":true,"num":0}])");
    EXPECT_EQ(frames[1].data, std::string("\x01\x02"));
  }
}

TEST(socketio_cluster, fetch_sockets_from_both_loops_and_act_on_remote_sockets) {
  two_loops t;
  t.sockets[2]->join("r");
  t.sockets[1]->join("r");
  std::vector<remote_socket> found;
  std::optional<std::string> error;
  bool done = false;
  t.h->rt(0).of("/")->in("r").fetch_sockets([&](const operation_error& e, std::vector<remote_socket> s) {
    done = true;
    error = e;
    found = std::move(s);
  });
  EXPECT_FALSE(done);  // loop 1 answers through its task
  t.h->pump();
  ASSERT_TRUE(done);
  EXPECT_FALSE(error);
  ASSERT_EQ(found.size(), 2u);
  std::sort(found.begin(), found.end(), [&](const remote_socket& a, const remote_socket&) { return a.id() == t.sockets[1]->id(); });
  EXPECT_EQ(found[0].id(), t.sockets[1]->id());
  EXPECT_EQ(found[1].id(), t.sockets[2]->id());
  EXPECT_EQ(found[1].data(), (value{{"name", "client3"}}));
  EXPECT_EQ(found[1].handshake().address, "10.0.0.7");
  EXPECT_EQ(found[1].rooms().size(), 2u);
  // Acting on the remote one reaches loop 1.
  found[1].emit("direct", value::array({"hi"}));
  EXPECT_EQ(t.texts(2), (std::vector<std::string>{"2[\"direct\",\"hi\"]"}));
  found[1].join("extra");
  t.h->pump();
  EXPECT_EQ(t.sockets[2]->rooms().size(), 3u);
  found[1].leave("r");
  t.h->pump();
  EXPECT_EQ(t.sockets[2]->rooms().size(), 2u);
  found[1].disconnect();
  t.h->pump();
  EXPECT_FALSE(t.sockets[2]->connected());
  EXPECT_EQ(t.texts(2), (std::vector<std::string>{"1"}));
}

TEST(socketio_cluster, sockets_join_leave_and_disconnect_sockets_reach_both_loops) {
  two_loops t;
  t.h->rt(1).of("/")->sockets_join({"all"});
  t.h->pump();
  for (auto& s : t.sockets) EXPECT_EQ(s->rooms().size(), 2u);
  t.h->rt(0).of("/")->except(t.sockets[3]->id()).sockets_leave("all");
  t.h->pump();
  EXPECT_EQ(t.sockets[0]->rooms().size(), 1u);
  EXPECT_EQ(t.sockets[2]->rooms().size(), 1u);
  EXPECT_EQ(t.sockets[3]->rooms().size(), 2u);
  t.h->rt(0).of("/")->in("all").disconnect_sockets(true);
  t.h->pump();
  EXPECT_FALSE(t.sockets[3]->connected());
  EXPECT_TRUE(t.h->closed(t.clients[3]));
  EXPECT_FALSE(t.h->closed(t.clients[2]));
  t.h->rt(1).of("/")->disconnect_sockets();
  t.h->pump();
  for (auto& s : t.sockets) EXPECT_FALSE(s->connected());
  EXPECT_FALSE(t.h->closed(t.clients[0]));  // disconnected from "/", still connected
}

TEST(socketio_cluster, server_side_emit_with_acks_collects_the_other_loops) {
  two_loops t;
  std::vector<std::string> answers;
  std::optional<std::string> error;
  t.h->rt(0).of("/")->server_side_emit("hello", value::array({1, "two"}));
  t.h->pump();
  EXPECT_EQ(t.heard, (std::vector<std::string>{"1,\"two\""}));  // the other loop only
  ASSERT_FALSE(t.h->rt(0).of("/")->server_side_emit_with_ack(
      "hello", value::array({3}), [&](const operation_error& e, std::vector<wire_args> r) {
        error = e;
        for (auto& a : r) answers.push_back(a.json);
      }));
  t.h->pump();
  EXPECT_FALSE(error);
  EXPECT_EQ(answers, (std::vector<std::string>{"\"from 1\""}));
  // No answer: the partial result at the timeout.
  t.answer = false;
  answers.clear();
  bool done = false;
  t.h->rt(1).of("/")->server_side_emit_with_ack("hello", value::array(), [&](const operation_error& e, std::vector<wire_args> r) {
    done = true;
    error = e;
    EXPECT_TRUE(r.empty());
  });
  t.h->advance(4'999ms);
  EXPECT_FALSE(done);
  t.h->advance(1ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(error, std::optional<std::string>("timeout reached: only 0 responses received out of 1"));
}

TEST(socketio_cluster, fetch_sockets_times_out_with_what_came) {
  two_loops t;
  t.h->cut_off(1);
  std::optional<std::string> error;
  std::size_t count = 0;
  t.h->rt(0).of("/")->timeout(2s).fetch_sockets([&](const operation_error& e, std::vector<remote_socket> s) {
    error = e;
    count = s.size();
  });
  t.h->advance(2s);
  EXPECT_EQ(error, std::optional<std::string>("timeout reached: only 0 responses received out of 1"));
  EXPECT_EQ(count, 2u);  // this loop's own
}

// The id of an EVENT with an ack ("2<id>[...]").
std::string ack_id(const std::string& text) {
  std::size_t i = 1;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return text.substr(1, i - 1);
}

TEST(socketio_cluster, broadcast_with_acks_collects_every_client_of_every_loop) {
  two_loops t;
  std::optional<std::string> error;
  std::vector<std::string> responses;
  bool done = false;
  auto collect = [&](const operation_error& e, std::vector<wire_args> r) {
    done = true;
    error = e;
    responses.clear();
    for (auto& a : r) responses.push_back(a.json);
    std::sort(responses.begin(), responses.end());
  };
  ASSERT_FALSE(t.h->rt(0).of("/")->timeout(1s).emit_with_ack("q", value::array({1}), collect));
  for (std::size_t i = 0; i < 4; ++i) {
    const auto frames = t.texts(i);
    ASSERT_EQ(frames.size(), 1u);
    t.h->send(t.clients[i], "3" + ack_id(frames[0]) + "[" + std::to_string(i) + ",\"ignored\"]");
  }
  EXPECT_TRUE(done);
  EXPECT_FALSE(error);
  EXPECT_EQ(responses, (std::vector<std::string>{"0", "1", "2", "3"}));  // each client's first argument

  // One client does not answer: "operation has timed out" with the three that did.
  done = false;
  ASSERT_FALSE(t.h->rt(1).of("/")->timeout(1s).emit_with_ack("q", value::array(), collect));
  for (std::size_t i = 0; i < 3; ++i) {
    const auto frames = t.texts(i);
    ASSERT_EQ(frames.size(), 1u);
    t.h->send(t.clients[i], "3" + ack_id(frames[0]) + "[\"r" + std::to_string(i) + "\"]");
  }
  EXPECT_FALSE(done);
  t.h->advance(1s);
  EXPECT_TRUE(done);
  EXPECT_EQ(error, std::optional<std::string>("operation has timed out"));
  EXPECT_EQ(responses, (std::vector<std::string>{"\"r0\"", "\"r1\"", "\"r2\""}));
  // The late answer is ignored, and nothing waits any more.
  t.h->send(t.clients[3], "3" + ack_id(t.texts(3).at(0)) + "[]");
  EXPECT_EQ(t.h->rt(0).stats().pending_acks + t.h->rt(1).stats().pending_acks, 0u);
}

TEST(socketio_cluster, remote_socket_emit_with_ack_answers_like_a_socket) {
  two_loops t;
  std::vector<remote_socket> found;
  t.h->rt(0).of("/")->in(t.sockets[3]->id()).fetch_sockets([&](const operation_error&, std::vector<remote_socket> s) {
    found = std::move(s);
  });
  t.h->pump();
  ASSERT_EQ(found.size(), 1u);
  std::string answer;
  found[0].emit_with_ack("q", value::array(), 1s, [&](const operation_error& e, const args_view& args) {
    answer = e ? *e : std::string(args.json());
  });
  const auto frames = t.texts(3);
  ASSERT_EQ(frames.size(), 1u);
  t.h->send(t.clients[3], "3" + ack_id(frames[0]) + "[{\"ok\":1}]");
  EXPECT_EQ(answer, "{\"ok\":1}");
}

TEST(socketio_cluster, messages_for_a_namespace_a_loop_never_saw_are_answered) {
  two_loops t;
  t.io.of("/late");
  std::optional<std::string> error;
  bool done = false;
  // Loop 1 has no runtime namespace for /late yet: it makes one and answers.
  t.h->rt(0).of("/late")->fetch_sockets([&](const operation_error& e, std::vector<remote_socket> s) {
    done = true;
    error = e;
    EXPECT_TRUE(s.empty());
  });
  t.h->pump();
  EXPECT_TRUE(done);
  EXPECT_FALSE(error);
}

}  // namespace
}  // namespace eio::socketio
