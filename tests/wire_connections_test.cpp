// eio::wire::connections with its core and a connection_io in memory: what
// every adapter gets from it (answers, the upgrade and frames, timeouts,
// lingering close, routing to the loop that owns a session, the output
// bound), with no socket anywhere.
#include <eio/websocket_codec.hpp>
#include <eio/wire/connections.hpp>
#include <eio/wire/response_reader.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace eio::wire {
namespace {

struct fake_io final : connection_io {
  std::map<connection_id, std::string> written;
  std::map<connection_id, bool> wants_write;
  std::vector<connection_id> shut;
  std::vector<connection_id> closed;
  std::vector<std::pair<unsigned, handed_over_connection>> handed;
  bool blocked = false;  // every write would block

  long send(connection_id id, const iovec* pieces, std::size_t count) override {
    if (blocked) return would_block;
    long n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      written[id].append(static_cast<const char*>(pieces[i].iov_base), pieces[i].iov_len);
      n += static_cast<long>(pieces[i].iov_len);
    }
    return n;
  }
  void want_write(connection_id id, bool on) override { wants_write[id] = on; }
  bool shutdown_send(connection_id id) override {
    shut.push_back(id);
    return true;
  }
  void close(connection_id id) override { closed.push_back(id); }
  void hand_over(connection_id id, unsigned loop, handed_over_connection state) override {
    closed.push_back(id);
    handed.emplace_back(loop, std::move(state));
  }
};

// One loop: a core, its connections, an echoing handler.
struct loop {
  server core;
  fake_io io;
  std::vector<std::string> messages;  // every message the handler saw, copied
  connections wire;
  millis now{1'000'000};
  explicit loop(connection_options options = {}, server_options core_options = {})
      : core(core_options), wire(core, io, options, [this](server& c, event& e, millis at) {
          if (auto* m = std::get_if<message_event>(&e)) {
            messages.emplace_back(m->data);
            c.send(m->session, m->data, m->kind, at);
          }
        }) {}
  connection_id open() {
    const connection_id id = wire.open(now, "10.0.0.1:5");
    wire.start(id, now);
    return id;
  }
  void feed(connection_id id, std::string_view bytes) {
    wire.received(id, bytes, now);
    wire.input_done(id, now);
    wire.pump(now);
  }
  // The first response written on `id` since the last call.
  http_response_view response(connection_id id, std::string& keep) {
    keep = std::move(io.written[id]);
    io.written[id].clear();
    http_response_view r;
    const auto read = read_response(keep, false, r);
    EXPECT_EQ(read.status, response_status::complete) << keep;
    return r;
  }
};

std::string masked(websocket::opcode op, std::string_view payload) {
  std::string out;
  websocket::append_masked_frame(op, payload, 0x01020304u, out);
  return out;
}

const std::string upgrade_head =
    "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

TEST(wire_connections, a_polling_handshake_is_answered_and_the_connection_kept) {
  loop l;
  const connection_id id = l.open();
  l.feed(id, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string keep;
  const auto r = l.response(id, keep);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, 8), "0{\"sid\":");
  EXPECT_TRUE(l.wire.contains(id));
  EXPECT_TRUE(l.io.closed.empty());
  // A request for another path: 404, the connection stays.
  l.feed(id, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(l.response(id, keep).status, 404);
  EXPECT_TRUE(l.wire.contains(id));
}

TEST(wire_connections, the_upgrade_and_frames_read_in_place_echo_through_the_core) {
  loop l;
  const connection_id id = l.open();
  // The handshake and the first frames in one read.
  l.feed(id, upgrade_head + masked(websocket::opcode::text, "4hello") + masked(websocket::opcode::ping, "p"));
  const std::string& out = l.io.written[id];
  ASSERT_EQ(out.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_NE(out.find("\x81\x06" "4hello"), std::string::npos) << "the echo";
  EXPECT_NE(out.find(std::string("\x8a\x01p", 3)), std::string::npos) << "the pong";
  // A bad frame: close 1002, the core told, a lingering close after it.
  l.feed(id, std::string("\x81\x03" "4hi", 5));  // unmasked
  EXPECT_NE(out.find("\x88"), std::string::npos);
  EXPECT_EQ(l.io.shut, std::vector<connection_id>{id});
  EXPECT_EQ(l.core.session_count(), 0u);
  // Lingering: input dropped, closed at the deadline by the sweep.
  l.feed(id, "more");
  EXPECT_TRUE(l.io.closed.empty());
  l.now += millis(2'500);
  l.wire.on_timeout(l.now);
  EXPECT_EQ(l.io.closed, std::vector<connection_id>{id});
}

// The close frame's answer is written at once and the connection lingers,
// letting its read buffer go: not before the message event that views it has
// been taken (found by the wire_connections fuzz target; under ASan a use
// after free otherwise).
TEST(wire_connections, a_message_and_a_close_frame_in_one_read_are_both_handled) {
  loop l;
  const connection_id id = l.open();
  l.feed(id, upgrade_head);
  l.wire.received(id, masked(websocket::opcode::text, "4" + std::string(300, 'm')) +
                          masked(websocket::opcode::close, std::string("\x03\xe8", 2)), l.now);
  l.wire.input_done(id, l.now);
  EXPECT_EQ(l.io.shut, std::vector<connection_id>{id});  // lingering already
  l.wire.pump(l.now);  // the message event, viewing the read buffer, is taken here
  EXPECT_EQ(l.core.session_count(), 0u);
  ASSERT_EQ(l.messages.size(), 1u);
  EXPECT_EQ(l.messages[0], std::string(300, 'm'));
}

TEST(wire_connections, a_slow_head_gets_408_and_an_idle_connection_goes) {
  loop l;
  const connection_id slow = l.open();
  const connection_id idle = l.open();
  l.feed(slow, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n");
  ASSERT_TRUE(l.wire.next_deadline());
  l.now += millis(10'001);
  l.wire.on_timeout(l.now);
  std::string keep;
  EXPECT_EQ(l.response(slow, keep).status, 408);
  EXPECT_TRUE(l.wire.contains(idle));  // an idle keep-alive connection gets the body timeout
  l.now += millis(30'001);
  l.wire.on_timeout(l.now);
  EXPECT_FALSE(l.wire.contains(idle));
}

TEST(wire_connections, connection_close_lingers_then_closes_when_the_peer_ends) {
  loop l;
  const connection_id id = l.open();
  l.feed(id, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string keep;
  const auto r = l.response(id, keep);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(l.io.shut, std::vector<connection_id>{id});
  EXPECT_TRUE(l.io.closed.empty());
  l.wire.peer_closed(id, l.now);
  EXPECT_EQ(l.io.closed, std::vector<connection_id>{id});
}

TEST(wire_connections, without_lingering_close_the_socket_closes_after_the_answer) {
  connection_options options;
  options.lingering_close = false;  // as under TLS
  loop l(options);
  const connection_id id = l.open();
  l.feed(id, "GET /x HTTP/1.1\r\n\r\n");  // no Host: 400 and close
  std::string keep;
  EXPECT_EQ(l.response(id, keep).status, 400);
  EXPECT_TRUE(l.io.shut.empty());
  EXPECT_EQ(l.io.closed, std::vector<connection_id>{id});
}

TEST(wire_connections, a_request_for_another_loops_session_is_handed_to_that_loop) {
  connection_options first;
  first.loop_count = 2;
  connection_options second = first;
  second.loop = 1;
  server_options core_options;
  tag_session_ids(core_options, 1, 2);
  loop owner(second, core_options);
  loop other(first);
  // A session of loop 1.
  const connection_id at_owner = owner.open();
  owner.feed(at_owner, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string keep;
  const auto handshake = owner.response(at_owner, keep);
  const std::string sid(handshake.body.substr(9, 20));
  EXPECT_EQ(owner_loop(sid, 2, 0), 1u);
  // Its POST arrives at loop 0, body split from the head.
  const connection_id id = other.open();
  other.feed(id, "POST /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4h");
  ASSERT_EQ(other.io.handed.size(), 1u);
  EXPECT_EQ(other.io.handed[0].first, 1u);
  EXPECT_FALSE(other.wire.contains(id));
  const connection_id adopted = owner.wire.adopt(owner.now, std::move(other.io.handed[0].second));
  owner.wire.start(adopted, owner.now);
  owner.feed(adopted, "ello");
  const auto posted = owner.response(adopted, keep);
  EXPECT_EQ(posted.status, 200);
  EXPECT_EQ(posted.body, "ok");
  // The echo waits in the session for its next poll.
  owner.feed(at_owner, "GET /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(owner.response(at_owner, keep).body, "4hello");
}

TEST(wire_connections, a_peer_that_does_not_read_is_dropped_past_max_output_bytes) {
  connection_options options;
  options.max_output_bytes = 64 * 1024;
  loop l(options);
  const connection_id id = l.open();
  l.feed(id, upgrade_head);
  l.io.blocked = true;
  for (int i = 0; i < 200 && l.wire.contains(id); ++i) l.feed(id, masked(websocket::opcode::text, "4" + std::string(1000, 'x')));
  EXPECT_FALSE(l.wire.contains(id));
  EXPECT_EQ(l.io.closed, std::vector<connection_id>{id});
  EXPECT_TRUE(l.io.wants_write[id]);
}

}  // namespace
}  // namespace eio::wire
