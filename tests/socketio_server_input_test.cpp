// eio::socketio server: the connection-level rules and bad input. Every
// violation closes its own connection, clearly (a reason for the logs), and
// nothing else: another client on the same loop goes on, and the runtime
// keeps nothing of the closed one.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

struct bad_input {
  std::string name;
  std::vector<std::string> texts;  // Socket.IO packets, in order
  std::vector<std::string> binaries;  // then attachments
  std::string reason;  // a part of the logged reason
};

class socketio_input : public ::testing::Test {
protected:
  socketio_input() {
    options.on_connection_error = [this](std::string_view, std::string_view why) { errors.emplace_back(why); };
  }

  // Runs `input` on a joined client, next to a bystander; checks that only
  // the first closed, for the expected reason.
  void check(const bad_input& input, server_options opts) {
    SCOPED_TRACE(input.name);
    errors.clear();
    opts.on_connection_error = options.on_connection_error;
    server io(opts);
    io.of("/joined");
    io.of("/slow").use([](socket&, next_function) {});  // never answers
    int events = 0;
    io.on_connection([&](socket& s) { s.on("ok", [&](socket&, const args_view&, ack_handle) { ++events; }); });
    // The Engine.IO core lets megabyte messages through, so that the
    // Socket.IO limits are the ones tested.
    eio::server_options core;
    core.max_http_buffer_size = 8'000'000;
    sio_harness h(io, 1, core);
    const auto bystander = h.open();
    h.send(bystander, "0");
    const auto c = h.open();
    h.send(c, "0");
    h.send(c, "0/joined,");
    h.take(c);
    for (const auto& t : input.texts) h.send(c, t);
    for (const auto& b : input.binaries) h.send_binary(c, b);
    EXPECT_TRUE(h.closed(c));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find(input.reason), std::string::npos) << errors[0];
    // The bystander is untouched.
    h.send(bystander, "2[\"ok\"]");
    EXPECT_EQ(events, 1);
    EXPECT_FALSE(h.closed(bystander));
    const runtime_stats st = h.rt().stats();
    EXPECT_EQ(st.connections, 1u);
    EXPECT_EQ(st.sockets, 1u);
    EXPECT_EQ(st.joining, 0u);
    EXPECT_EQ(st.pending_binary, 0u);
    EXPECT_EQ(st.rooms, 1u);  // the bystander's own room
  }

  server_options options;
  std::vector<std::string> errors;
};

TEST_F(socketio_input, connection_level_rules) {
  const std::vector<bad_input> inputs{
      {"second CONNECT to a joined namespace", {"0"}, {}, "second CONNECT to /"},
      {"second CONNECT, another namespace", {"0/joined,"}, {}, "second CONNECT to /joined"},
      {"a packet for a namespace not joined", {"2/other,[\"ok\"]"}, {}, "EVENT for a namespace not joined: /other"},
      {"an ack for a namespace not joined", {"3/other,1[]"}, {}, "ACK for a namespace not joined"},
      {"a DISCONNECT for a namespace not joined", {"1/other,"}, {}, "DISCONNECT for a namespace not joined"},
      {"a packet while the namespace is in middleware", {"0/slow,", "2/slow,[\"ok\"]"}, {}, "EVENT while joining /slow"},
      {"a CONNECT while the namespace is in middleware", {"0/slow,", "0/slow,"}, {}, "CONNECT while joining /slow"},
      {"CONNECT_ERROR from the client", {"4{\"message\":\"x\"}"}, {}, "CONNECT_ERROR from the client"},
      {"CONNECT_ERROR for a namespace not joined", {"4/nope,\"x\""}, {}, "CONNECT_ERROR from the client"},
  };
  for (const auto& input : inputs) check(input, {});
}

TEST_F(socketio_input, malformed_events) {
  const std::vector<bad_input> inputs{
      {"42[]", {"2[]"}, {}, "invalid_payload"},
      {"42{}", {"2{}"}, {}, "invalid_payload"},
      {"42[null]", {"2[null]"}, {}, "invalid_payload"},
      {"42[\"a\"", {"2[\"a\""}, {}, "invalid_json"},
      {"42[{\"toString\":\"x\"}]", {"2[{\"toString\":\"x\"}]"}, {}, "invalid_payload"},
      {"42 without data", {"2"}, {}, "invalid_payload"},
      {"42[\"connect\"]", {"2[\"connect\"]"}, {}, "reserved_event_name"},
      {"42[\"disconnect\"]", {"2[\"disconnect\"]"}, {}, "reserved_event_name"},
      {"42[\"disconnecting\"]", {"2[\"disconnecting\"]"}, {}, "reserved_event_name"},
      {"an unknown packet type", {"9"}, {}, "unknown_packet_type"},
      {"an empty Socket.IO packet", {""}, {}, "empty_packet"},
      {"data on DISCONNECT", {"1[1]"}, {}, "invalid_payload"},
      {"a string as CONNECT data", {"0/x,\"a\""}, {}, "invalid_payload"},
  };
  for (const auto& input : inputs) check(input, {});
}

TEST_F(socketio_input, bad_binary_packets) {
  const std::string placeholder = "{\"_placeholder\":true,\"num\":";
  const std::vector<bad_input> inputs{
      {"num out of range", {"51-[\"a\"," + placeholder + "1}]"}, {}, "placeholder_out_of_range"},
      {"num negative", {"51-[\"a\"," + placeholder + "-1}]"}, {}, "invalid_placeholder"},
      {"num fractional", {"51-[\"a\"," + placeholder + "0.5}]"}, {}, "invalid_placeholder"},
      {"num a string", {"51-[\"a\"," + placeholder + "\"0\"}]"}, {}, "invalid_placeholder"},
      {"num \"splice\"", {"51-[\"a\"," + placeholder + "\"splice\"}]"}, {}, "invalid_placeholder"},
      {"an attachment no placeholder names", {"52-[\"a\"," + placeholder + "0}]"}, {}, "missing_placeholder"},
      {"one attachment named twice", {"52-[\"a\"," + placeholder + "0}," + placeholder + "0}]"}, {},
       "duplicate_placeholder"},
      {"4511- (past the limit of 10)", {"511-[\"a\"]"}, {}, "too_many_attachments"},
      {"454294967296- (absurd)", {"54294967296-[\"a\"]"}, {}, "too_many_attachments"},
      {"a million-digit count", {"5" + std::string(1'000'000, '9') + "-[\"a\"]"}, {}, "too_many_attachments"},
      {"45 with no count", {"5"}, {}, "invalid_attachments"},
      {"45 with a count and no dash", {"51[\"a\"]"}, {}, "invalid_attachments"},
      {"a zero count", {"50-[\"a\"]"}, {}, "invalid_attachments"},
      {"a binary frame with no packet pending", {}, {"\x01\x02"}, "unexpected_binary"},
      {"text while attachments are pending", {"51-[\"a\"," + placeholder + "0}]", "2[\"ok\"]"}, {}, "unexpected_text"},
      {"a binary ack with a bad placeholder", {"61-1[" + placeholder + "true}]"}, {}, "invalid_placeholder"},
  };
  for (const auto& input : inputs) check(input, {});
}

TEST_F(socketio_input, ack_ids_and_namespaces_past_their_limits) {
  const std::vector<bad_input> inputs{
      {"ack id 2^53", {"29007199254740992[\"ok\"]"}, {}, "ack_id_too_large"},
      {"an ack id of a megabyte of digits", {"2" + std::string(1'000'000, '1') + "[\"ok\"]"}, {}, "ack_id_too_large"},
      {"a namespace of a megabyte", {"0/" + std::string(1'000'000, 'n') + ","}, {}, "namespace_too_long"},
  };
  for (const auto& input : inputs) check(input, {});
}

TEST_F(socketio_input, ack_id_at_the_limit_is_taken) {
  server io;
  bool wanted = false;
  io.on_connection([&](socket& s) { s.on("ok", [&](socket&, const args_view&, ack_handle ack) {
    wanted = ack.wanted();
    ack();
  }); });
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0");
  h.take(c);
  h.send(c, "29007199254740991[\"ok\"]");
  EXPECT_TRUE(wanted);
  EXPECT_EQ(h.texts(c), (std::vector<std::string>{"39007199254740991[]"}));
}

TEST_F(socketio_input, attachment_count_at_the_limit_and_past_it) {
  server_options opts;
  opts.limits.max_attachments = 3;
  std::string three = "53-[\"ok\"";
  for (int i = 0; i < 3; ++i) three += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
  three += "]";
  {
    server io(opts);
    int events = 0;
    io.on_connection([&](socket& s) { s.on("ok", [&](socket&, const args_view&, ack_handle) { ++events; }); });
    sio_harness h(io);
    const auto c = h.open();
    h.send(c, "0");
    h.send(c, three);
    for (int i = 0; i < 3; ++i) h.send_binary(c, "x");
    EXPECT_EQ(events, 1);
    EXPECT_FALSE(h.closed(c));
  }
  check({"4 attachments with a limit of 3", {"54-[\"ok\"]"}, {}, "too_many_attachments"}, opts);
}

TEST_F(socketio_input, attachment_bytes_at_the_limit_and_past_it) {
  server_options opts;
  opts.limits.max_attachment_bytes = 100;
  const std::string two = "52-[\"ok\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
  {
    server io(opts);
    int events = 0;
    io.on_connection([&](socket& s) { s.on("ok", [&](socket&, const args_view&, ack_handle) { ++events; }); });
    sio_harness h(io);
    const auto c = h.open();
    h.send(c, "0");
    h.send(c, two);
    h.send_binary(c, std::string(60, 'a'));
    h.send_binary(c, std::string(40, 'b'));
    EXPECT_EQ(events, 1);
    EXPECT_FALSE(h.closed(c));
  }
  check({"101 attachment bytes with a limit of 100", {two}, {std::string(60, 'a'), std::string(41, 'b')},
         "attachments_too_large"},
        opts);
}

TEST_F(socketio_input, withheld_attachments_close_at_the_completion_timeout) {
  server_options opts = options;
  opts.limits.attachment_timeout = 60'000ms;
  server io(opts);
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0");
  h.send(c, "52-[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
  h.send_binary(c, std::string(1000, 'a'));
  EXPECT_EQ(h.rt().stats().pending_binary, 1u);
  h.advance(59'999ms);
  EXPECT_FALSE(h.closed(c));
  h.advance(1ms);
  EXPECT_TRUE(h.closed(c));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("attachment_timeout"), std::string::npos);
  EXPECT_EQ(h.rt().stats().pending_binary, 0u);
  EXPECT_EQ(h.rt().stats().connections, 0u);
  EXPECT_EQ(h.rt().stats().timers, 0u);
}

TEST_F(socketio_input, a_binary_packet_completed_in_time_leaves_no_timer) {
  server io;
  sio_harness h(io);
  const auto c = h.open();
  h.send(c, "0");
  EXPECT_EQ(h.rt().stats().timers, 0u);  // the connect timeout went with the CONNECT
  h.send(c, "51-[\"a\",{\"_placeholder\":true,\"num\":0}]");
  EXPECT_EQ(h.rt().stats().timers, 1u);
  h.send_binary(c, "z");
  EXPECT_EQ(h.rt().stats().timers, 0u);
  EXPECT_FALSE(h.closed(c));
}

// The connection-level table, walked: every namespace state on a connection
// against every packet type (connection.cpp `rules`).
TEST(socketio_input_table, every_state_against_every_packet_type) {
  enum class state { not_joined, checking, joining, joined };
  enum class expect { answered, closed, dispatched };
  struct input {
    const char* name;
    std::string text;          // for namespace "<nsp>"
    bool attachment = false;   // followed by one binary message
  };
  const std::vector<input> inputs{
      {"CONNECT", "0<nsp>,"},
      {"CONNECT_ERROR", "4<nsp>,{\"message\":\"x\"}"},
      {"EVENT", "2<nsp>,[\"e\"]"},
      {"BINARY_EVENT", "51-<nsp>,[\"e\",{\"_placeholder\":true,\"num\":0}]", true},
      {"ACK", "3<nsp>,0[]"},
      {"BINARY_ACK", "61-<nsp>,0[{\"_placeholder\":true,\"num\":0}]", true},
      {"DISCONNECT", "1<nsp>,"},
  };
  auto expected = [](state st, const std::string& type) {
    switch (st) {
      case state::not_joined: return type == "CONNECT" ? expect::answered : expect::closed;
      case state::checking:
      case state::joining: return expect::closed;
      case state::joined:
        return type == "CONNECT" || type == "CONNECT_ERROR" ? expect::closed : expect::dispatched;
    }
    return expect::closed;
  };
  for (const state st : {state::not_joined, state::checking, state::joining, state::joined}) {
    for (const auto& in : inputs) {
      SCOPED_TRACE(std::string(in.name) + " in state " + std::to_string(static_cast<int>(st)));
      server io;
      io.of("/m").use([](socket&, next_function) {});  // never answers: joining
      io.of([](runtime&, std::string_view, const value&, std::function<void(bool)>) {});  // never answers: checking
      int events = 0;
      io.of("/j").on_connection([&](socket& s) {
        s.on("e", [&](socket&, const args_view&, ack_handle) { ++events; });
      });
      sio_harness h(io);
      const auto c = h.open();
      std::string nsp = "/j";
      if (st == state::checking) {
        nsp = "/p-1";
        h.send(c, "0/p-1,");
      } else if (st == state::joining) {
        nsp = "/m";
        h.send(c, "0/m,");
      } else if (st == state::joined) {
        h.send(c, "0/j,");
      }
      h.take(c);
      std::string text = in.text;
      text.replace(text.find("<nsp>"), 5, nsp);
      h.send(c, text);
      if (in.attachment) h.send_binary(c, "z");
      const auto frames = h.texts(c);
      switch (expected(st, in.name)) {
        case expect::answered:
          EXPECT_FALSE(h.closed(c));
          ASSERT_EQ(frames.size(), 1u);
          EXPECT_EQ(frames[0].substr(0, 11), "0/j,{\"sid\":");
          break;
        case expect::closed:
          EXPECT_TRUE(h.closed(c));
          EXPECT_EQ(h.rt().stats().connections, 0u);
          break;
        case expect::dispatched:
          EXPECT_FALSE(h.closed(c));
          if (std::string(in.name).find("EVENT") != std::string::npos) {
            EXPECT_EQ(events, 1);
          }
          if (std::string(in.name) == "DISCONNECT") {
            EXPECT_EQ(h.rt().stats().sockets, 0u);
          }
          break;
      }
    }
  }
}

}  // namespace
}  // namespace eio::socketio
