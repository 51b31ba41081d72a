// eio::client against eio::server, in memory (tests/support/session_pair.hpp):
// handshake, heartbeat, close both ways, and the ordering sweep: thousands of
// messages each way with the polling -> WebSocket upgrade started at every
// point of the stream, and frozen at each stage of the probe while messages
// keep flowing.
#include <eio/client.hpp>
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "session_pair.hpp"

namespace eio::test {
namespace {

using namespace std::chrono_literals;

server_options server_opts(protocol_version version) {
  server_options o;
  o.allow_eio3 = version == protocol_version::v3;
  return o;
}

client_options client_opts(protocol_version version) {
  client_options o;
  o.version = version;
  return o;
}

std::string name_of(protocol_version v) { return v == protocol_version::v4 ? "v4" : "v3"; }

class pair_test : public ::testing::TestWithParam<protocol_version> {};

INSTANTIATE_TEST_SUITE_P(versions, pair_test, ::testing::Values(protocol_version::v4, protocol_version::v3),
                         [](const auto& param_info) { return name_of(param_info.param); });

// ------------------------------------------------------------ handshake

TEST_P(pair_test, handshake_over_polling_then_upgrade) {
  session_pair pair(server_opts(GetParam()), client_opts(GetParam()));
  pair.open();

  const auto* opened = pair.last_client_event<client_open_event>();
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(opened->transport, transport_kind::polling);
  EXPECT_EQ(opened->handshake.sid, "sid1");
  EXPECT_EQ(opened->handshake.upgrades, std::vector<std::string>{"websocket"});
  EXPECT_EQ(opened->handshake.ping_interval, 25000ms);
  EXPECT_EQ(opened->handshake.ping_timeout, 20000ms);
  EXPECT_EQ(opened->handshake.max_payload, 1'000'000u);
  ASSERT_TRUE(pair.session.has_value());
  EXPECT_EQ(pair.server.session_protocol(*pair.session), GetParam());

  // The upgrade ran to the end inside the same pump.
  EXPECT_EQ(pair.count_client_events<client_upgrading_event>(), 1u);
  EXPECT_EQ(pair.count_client_events<client_upgrade_event>(), 1u);
  EXPECT_EQ(pair.count_server_events<upgrade_event>(), 1u);
  EXPECT_EQ(pair.client.transport(), transport_kind::websocket);
  EXPECT_EQ(pair.server.session_transport(*pair.session), transport_kind::websocket);
  EXPECT_EQ(pair.client.state(), client_state::open);

  ASSERT_TRUE(pair.client_send("hello"));
  ASSERT_TRUE(pair.server_send("world"));
  pair.pump();
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "hello"}}));
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{false, "world"}}));
}

TEST_P(pair_test, handshake_polling_only_keeps_one_get_in_flight) {
  client_options co = client_opts(GetParam());
  co.upgrade = false;
  session_pair pair(server_opts(GetParam()), co);
  pair.open();
  ASSERT_NE(pair.last_client_event<client_open_event>(), nullptr);
  EXPECT_EQ(pair.client.transport(), transport_kind::polling);
  EXPECT_EQ(pair.count_client_events<client_upgrading_event>(), 0u);
  // Handshake GET + the GET the server now holds.
  EXPECT_EQ(pair.http_requests, 2u);

  ASSERT_TRUE(pair.server_send("s", false));
  ASSERT_TRUE(pair.server_send(std::string("\0\x01\xff", 3), true));
  ASSERT_TRUE(pair.client_send("c", false));
  ASSERT_TRUE(pair.client_send(std::string("\0\x02\xfe", 3), true));
  pair.pump();
  EXPECT_EQ(pair.client_received,
            (std::vector<received_message>{{false, "s"}, {true, std::string("\0\x01\xff", 3)}}));
  EXPECT_EQ(pair.server_received,
            (std::vector<received_message>{{false, "c"}, {true, std::string("\0\x02\xfe", 3)}}));
  EXPECT_EQ(pair.server.session_transport(*pair.session), transport_kind::polling);
}

TEST_P(pair_test, handshake_over_websocket_only) {
  client_options co = client_opts(GetParam());
  co.polling = false;
  session_pair pair(server_opts(GetParam()), co);
  pair.open();
  const auto* opened = pair.last_client_event<client_open_event>();
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(opened->transport, transport_kind::websocket);
  EXPECT_TRUE(opened->handshake.upgrades.empty());
  EXPECT_EQ(pair.http_requests, 0u);
  ASSERT_TRUE(pair.client_send("a"));
  ASSERT_TRUE(pair.server_send("b"));
  pair.pump();
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "a"}}));
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{false, "b"}}));
}

TEST_P(pair_test, messages_sent_while_opening_follow_the_handshake) {
  server_options so = server_opts(GetParam());
  so.initial_packet = "welcome";
  session_pair pair(so, client_opts(GetParam()));
  pair.client.open(pair.now);
  ASSERT_TRUE(pair.client_send("early 1"));
  ASSERT_TRUE(pair.client_send("early 2"));
  pair.pump();
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "early 1"}, {false, "early 2"}}));
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{false, "welcome"}}));
}

TEST(pair, v3_refused_without_allow_eio3) {
  session_pair pair(server_options{}, client_opts(protocol_version::v3));
  pair.open();
  ASSERT_TRUE(pair.client_closed.has_value());
  EXPECT_EQ(to_string(pair.client_closed->reason), "transport error");
  EXPECT_NE(pair.client_closed->description.find("400"), std::string::npos) << pair.client_closed->description;
  EXPECT_FALSE(pair.session.has_value());
}

TEST(pair, v3_b64_client_gets_text_only) {
  client_options co = client_opts(protocol_version::v3);
  co.b64 = true;
  co.upgrade = false;
  session_pair pair(server_opts(protocol_version::v3), co);
  bool saw_binary_payload = false;
  pair.hold_response = [&](const session_pair::exchange&, const http_response& r) {
    for (const header& h : r.headers) {
      if (h.value == "application/octet-stream") saw_binary_payload = true;
    }
    return false;
  };
  pair.open();
  ASSERT_TRUE(pair.server_send(std::string("\x00\x10", 2), true));
  pair.pump();
  EXPECT_FALSE(saw_binary_payload);
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{true, std::string("\x00\x10", 2)}}));
}

TEST(pair, client_post_respects_max_payload) {
  server_options so;
  so.max_http_buffer_size = 1000;
  client_options co;
  co.upgrade = false;
  session_pair pair(so, co);
  pair.open();
  // Hold POST answers so 100 messages pile up behind the first POST.
  bool hold_posts = true;
  std::size_t largest = 0, posts = 0;
  pair.hold_request = [&](const client_http_request& r) {
    if (r.method == "POST") {
      largest = std::max(largest, r.body.size());
      ++posts;
    }
    return false;
  };
  pair.hold_response = [&](const session_pair::exchange& x, const http_response&) {
    return hold_posts && x.method == "POST";
  };
  std::vector<received_message> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back({false, std::string(90, static_cast<char>('a' + i % 26))});
    ASSERT_TRUE(pair.client_send(sent.back().data));
  }
  pair.pump();
  hold_posts = false;
  pair.release_responses();
  pair.pump();
  EXPECT_EQ(pair.server_received, sent);
  EXPECT_LE(largest, 1000u);
  EXPECT_GE(posts, 10u);  // 9100 bytes in payloads of at most 1000
  EXPECT_FALSE(pair.server_closed.has_value());
}

// ------------------------------------------------------------ heartbeat

struct keepalive_case {
  protocol_version version;
  bool upgrade;
};

void PrintTo(const keepalive_case& c, std::ostream* os) {
  *os << name_of(c.version) << (c.upgrade ? " websocket" : " polling");
}

class keepalive_test : public ::testing::TestWithParam<keepalive_case> {};

INSTANTIATE_TEST_SUITE_P(cases, keepalive_test,
                         ::testing::Values(keepalive_case{protocol_version::v4, false},
                                           keepalive_case{protocol_version::v4, true},
                                           keepalive_case{protocol_version::v3, false},
                                           keepalive_case{protocol_version::v3, true}),
                         [](const auto& param_info) {
                           return name_of(param_info.param.version) + (param_info.param.upgrade ? "_websocket" : "_polling");
                         });

TEST_P(keepalive_test, ping_pong_keeps_the_pair_alive_for_ten_minutes) {
  client_options co = client_opts(GetParam().version);
  co.upgrade = GetParam().upgrade;
  session_pair pair(server_opts(GetParam().version), co);
  pair.open();
  ASSERT_TRUE(pair.session.has_value());
  for (int second = 0; second < 600; ++second) pair.advance(1000ms);
  EXPECT_FALSE(pair.client_closed.has_value()) << to_string(pair.client_closed->reason);
  EXPECT_FALSE(pair.server_closed.has_value()) << to_string(pair.server_closed->reason);
  EXPECT_EQ(pair.client.state(), client_state::open);
  EXPECT_EQ(pair.server.session_count(), 1u);
  // One heartbeat per pingInterval (25 s) at least: 600 s / 25 s = 24, the
  // first one at 25 s.
  EXPECT_GE(pair.count_server_events<heartbeat_event>(), 23u);
  EXPECT_LE(pair.count_server_events<heartbeat_event>(), 25u);
  ASSERT_TRUE(pair.client_send("still here"));
  pair.pump();
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "still here"}}));
}

TEST_P(keepalive_test, client_closes_with_ping_timeout_when_the_server_goes_silent) {
  client_options co = client_opts(GetParam().version);
  co.upgrade = GetParam().upgrade;
  session_pair pair(server_opts(GetParam().version), co);
  pair.open();
  // From now on nothing from the server reaches the client.
  pair.hold_response = [](const auto&, const auto&) { return true; };
  pair.hold_server_frame = [](const auto&) { return true; };
  pair.advance(25000ms + 20000ms - 1ms);
  EXPECT_FALSE(pair.client_closed.has_value());
  pair.advance(1ms);
  ASSERT_TRUE(pair.client_closed.has_value());
  EXPECT_EQ(to_string(pair.client_closed->reason), "ping timeout");
}

TEST_P(keepalive_test, server_closes_with_ping_timeout_when_the_client_goes_silent) {
  client_options co = client_opts(GetParam().version);
  co.upgrade = GetParam().upgrade;
  session_pair pair(server_opts(GetParam().version), co);
  pair.open();
  pair.hold_request = [](const auto&) { return true; };
  pair.hold_client_frame = [](const auto&) { return true; };
  pair.advance(25000ms + 20000ms);
  ASSERT_TRUE(pair.server_closed.has_value());
  EXPECT_EQ(pair.server_closed->reason, close_reason::ping_timeout);
}

// ------------------------------------------------------------ close

TEST_P(keepalive_test, server_close_reaches_the_client) {
  client_options co = client_opts(GetParam().version);
  co.upgrade = GetParam().upgrade;
  session_pair pair(server_opts(GetParam().version), co);
  pair.open();
  ASSERT_TRUE(pair.server_send("last words"));
  pair.server.close(*pair.session, pair.now);
  pair.pump();
  ASSERT_TRUE(pair.server_closed.has_value());
  EXPECT_EQ(pair.server_closed->reason, close_reason::forced_close);
  ASSERT_TRUE(pair.client_closed.has_value());
  EXPECT_EQ(to_string(pair.client_closed->reason), "transport close");
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{false, "last words"}}));
  EXPECT_EQ(pair.client.state(), client_state::closed);
  EXPECT_EQ(pair.server.session_count(), 0u);
}

TEST_P(keepalive_test, client_close_reaches_the_server) {
  client_options co = client_opts(GetParam().version);
  co.upgrade = GetParam().upgrade;
  session_pair pair(server_opts(GetParam().version), co);
  pair.open();
  ASSERT_TRUE(pair.client_send("last words"));
  pair.client.close(pair.now);
  EXPECT_FALSE(pair.client_send("too late"));
  pair.pump();
  ASSERT_TRUE(pair.client_closed.has_value());
  EXPECT_EQ(to_string(pair.client_closed->reason), "forced close");
  ASSERT_TRUE(pair.server_closed.has_value());
  EXPECT_EQ(pair.server_closed->reason, close_reason::transport_close);
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "last words"}}));
  EXPECT_EQ(pair.server.session_count(), 0u);
}

TEST(pair, client_close_during_the_upgrade_pause_goes_out_after_the_switch) {
  session_pair pair(server_options{}, client_options{});
  bool hold_gets = true;
  pair.hold_response = [&](const session_pair::exchange& x, const http_response&) {
    return hold_gets && x.method == "GET" && x.target.find("sid=") != std::string::npos;
  };
  pair.open();
  // 3probe arrived; the client waits for its held GET.
  ASSERT_EQ(pair.count_client_events<client_upgrading_event>(), 1u);
  ASSERT_EQ(pair.count_client_events<client_upgrade_event>(), 0u);
  ASSERT_TRUE(pair.client_send("before close"));
  pair.client.close(pair.now);
  pair.pump();
  EXPECT_FALSE(pair.client_closed.has_value());
  hold_gets = false;
  pair.release_responses();
  pair.pump();
  ASSERT_TRUE(pair.client_closed.has_value());
  EXPECT_EQ(to_string(pair.client_closed->reason), "forced close");
  ASSERT_TRUE(pair.server_closed.has_value());
  EXPECT_EQ(pair.server_closed->reason, close_reason::transport_close);
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "before close"}}));
}

TEST(pair, failed_probe_leaves_polling_working) {
  session_pair pair(server_options{}, client_options{});
  // The server's probe answer never comes; the server's upgrade timeout
  // closes the probe, and polling goes on.
  pair.hold_server_frame = [](const session_pair::ws_item& item) { return item.frame.has_value(); };
  // While the server is upgrading it answers every GET at once with a noop
  // (the reference: every 100 ms); a client that has not seen "3probe" polls
  // again at once, so without "3probe" the two would spin. Hold the polls
  // (not the handshake) at the server's door to keep the test finite.
  pair.hold_request = [](const client_http_request& r) {
    return r.method == "GET" && r.target.find("sid=") != std::string::npos;
  };
  pair.open();
  ASSERT_EQ(pair.held_server_frames(), 1u);  // "3probe"
  pair.hold_request = nullptr;
  pair.advance(10000ms);  // the server's upgrade_timeout
  pair.hold_server_frame = nullptr;
  pair.release_server_frames();  // 3probe, then the close, reach a probe the server gave up
  pair.release_requests();
  pair.pump();
  EXPECT_GE(pair.count_client_events<client_error_event>(), 1u);
  EXPECT_EQ(pair.client.transport(), transport_kind::polling);
  EXPECT_EQ(pair.client.state(), client_state::open);
  ASSERT_TRUE(pair.client_send("after"));
  ASSERT_TRUE(pair.server_send("after"));
  pair.pump();
  EXPECT_EQ(pair.server_received, (std::vector<received_message>{{false, "after"}}));
  EXPECT_EQ(pair.client_received, (std::vector<received_message>{{false, "after"}}));
}

// ------------------------------------------------------------ the ordering sweep

constexpr int sweep_messages = 10'000;

received_message message_of(char side, int i) {
  received_message m;
  if (i % 10 == 3) {
    m.binary = true;
    m.data = std::string{static_cast<char>(i & 0xff), '\0', static_cast<char>(0xff), static_cast<char>((i >> 8) & 0xff)};
    m.data += side;
    m.data += std::to_string(i);
  } else {
    m.data = std::string(1, side) + std::to_string(i);
    // Non-ASCII now and then: v3 payload lengths count UTF-16 units.
    if (i % 50 == 7) m.data += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  }
  return m;
}

const std::vector<received_message>& expected(char side) {
  static const std::vector<received_message> c = [] {
    std::vector<received_message> v;
    for (int i = 0; i < sweep_messages; ++i) v.push_back(message_of('c', i));
    return v;
  }();
  static const std::vector<received_message> s = [] {
    std::vector<received_message> v;
    for (int i = 0; i < sweep_messages; ++i) v.push_back(message_of('s', i));
    return v;
  }();
  return side == 'c' ? c : s;
}

// How the upgrade is frozen while messages flow, starting at message k.
enum class probe_window {
  none,      // the upgrade runs to its end in the pump after k
  stages,    // 2probe held 3 messages; then 3probe (and GET answers) held 3; then the pause waits 3 on its GET
  post_get,  // 3probe held 4 messages (GETs and POSTs held at the server's door); then the pause waits
             // on the GET 4 more messages, then on the POST 4 more
};

std::string describe(const std::vector<received_message>& got, const std::vector<received_message>& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  std::string out = "got " + std::to_string(got.size()) + " of " + std::to_string(want.size()) +
                    " messages; first difference at index " + std::to_string(i);
  if (i < got.size()) out += ", got \"" + got[i].data + "\"";
  if (i < want.size()) out += ", want \"" + want[i].data + "\"";
  return out;
}

// One run: sweep_messages each way, the upgrade started before message k
// (k == sweep_messages: after the last). Returns "" or what went wrong.
std::string run_stream(protocol_version version, int k, probe_window window) {
  server_options so = server_opts(version);
  // Short heartbeat, 1 ms per step: pings and pongs interleave with the stream and the upgrade.
  so.ping_interval = 500ms;
  so.ping_timeout = 400ms;
  session_pair pair(so, client_opts(version));

  struct {
    bool opens = true, client_frames = false, server_frames = false;
    bool get_requests = false, get_responses = false, post_requests = false;
  } hold;
  pair.hold_websocket_open = [&](const auto&) { return hold.opens; };
  pair.hold_client_frame = [&](const auto&) { return hold.client_frames; };
  pair.hold_server_frame = [&](const auto&) { return hold.server_frames; };
  pair.hold_request = [&](const client_http_request& r) {
    return (hold.get_requests && r.method == "GET") || (hold.post_requests && r.method == "POST");
  };
  pair.hold_response = [&](const session_pair::exchange& x, const http_response&) {
    return hold.get_responses && x.method == "GET";
  };

  pair.open();
  if (!pair.session) return "no session";
  if (pair.held_websocket_opens() != 1) return "the client did not try to upgrade";

  // Stage changes, at message indices relative to k.
  bool window_empty = false;  // a probe window that should hold traffic held none
  auto at = [&](int i) {
    const int d = i - k;
    switch (window) {
      case probe_window::none:
        if (d == 0) {
          hold.opens = false;
          pair.release_websocket_opens();
        }
        return;
      case probe_window::stages:
        if (d == 0) {  // the WebSocket opens; "2probe" waits on its way to the server
          hold.opens = false;
          hold.client_frames = true;
          pair.release_websocket_opens();
        } else if (d == 3) {  // the server is upgrading; "3probe" and the GET's noop wait
          hold.client_frames = false;
          hold.server_frames = true;
          hold.get_responses = true;
          pair.release_client_frames();
        } else if (d == 6) {  // the client pauses, waiting for its GET
          hold.server_frames = false;
          pair.release_server_frames();
        } else if (d == 9) {  // the GET ends: "5"
          // The window really was open: paused, with application packets waiting.
          if (!pair.client.upgrading() || pair.client.buffered_packets() == 0) window_empty = true;
          hold.get_responses = false;
          pair.release_responses();
        }
        return;
      case probe_window::post_get:
        if (d == 0) {
          hold.opens = false;
          hold.server_frames = true;
          hold.get_requests = true;  // with "3probe" held, a server that is upgrading answers GETs at once
          hold.post_requests = true;  // the server sees no POST until d == 12
          pair.release_websocket_opens();
        } else if (d == 4) {  // "3probe": the client pauses (a GET request and a POST answer outstanding)
          hold.server_frames = false;
          pair.release_server_frames();
        } else if (d == 8) {  // the GET reaches the server (answered at once: noop)
          hold.get_requests = false;
          pair.release_requests("GET");
        } else if (d == 12) {  // the POST reaches the server, its answer comes back: "5"
          if (!pair.client.upgrading() || pair.client.buffered_packets() == 0) window_empty = true;
          hold.post_requests = false;
          pair.release_requests();
        }
        return;
    }
  };

  const auto& want_c = expected('c');
  const auto& want_s = expected('s');
  for (int i = 0; i < sweep_messages; ++i) {
    at(i);
    // Alternate who sends first; pump after most messages, not all, so
    // payloads carry one to three packets.
    if (i % 2 == 0) {
      if (!pair.client_send(want_c[i].data, want_c[i].binary)) return "client refused message " + std::to_string(i);
      if (!pair.server_send(want_s[i].data, want_s[i].binary)) return "server refused message " + std::to_string(i);
    } else {
      if (!pair.server_send(want_s[i].data, want_s[i].binary)) return "server refused message " + std::to_string(i);
      if (!pair.client_send(want_c[i].data, want_c[i].binary)) return "client refused message " + std::to_string(i);
    }
    if (i % 5 != 1 && i % 5 != 2) pair.advance(1ms);
    if (pair.client_closed) return "client closed at message " + std::to_string(i) + ": " + std::string(to_string(pair.client_closed->reason));
    if (pair.server_closed) {
      return "server closed at message " + std::to_string(i) + ": " +
             std::string(to_string(pair.server_closed->reason)) + " " + pair.server_closed->description;
    }
  }
  for (int i = sweep_messages; i <= k + 13; ++i) at(i);  // stages past the end of the stream
  hold = {};
  hold.opens = false;
  pair.release_all();
  // Long enough for the server's 100 ms noop tick to end a GET the paused
  // client still waits for.
  pair.advance(200ms);

  std::string failure;
  if (window_empty && k + 13 < sweep_messages) failure += "the probe window held no traffic; ";
  if (pair.server_received != want_c) failure += "server: " + describe(pair.server_received, want_c) + "; ";
  if (pair.client_received != want_s) failure += "client: " + describe(pair.client_received, want_s) + "; ";
  if (pair.client_closed) failure += "client closed: " + std::string(to_string(pair.client_closed->reason)) + "; ";
  if (pair.server_closed) failure += "server closed: " + std::string(to_string(pair.server_closed->reason)) + "; ";
  if (pair.client.transport() != transport_kind::websocket ||
      pair.server.session_transport(*pair.session) != transport_kind::websocket ||
      pair.count_client_events<client_upgrade_event>() != 1 || pair.count_server_events<upgrade_event>() != 1) {
    failure += "the upgrade did not complete once; ";
  }
  return failure;
}

// Upgrade start points. All 10,001 take about 2 minutes per case, so by
// default: every point in the first 250 messages (the stream's start, 50
// batching periods), around the first server ping (the clock moves 3 ms per
// 5 messages, so the 500 ms ping falls near message 833), the last 50 (and
// k == sweep_messages: after the stream), and every 61st elsewhere (61 is
// prime to the batching period 5, so the phases rotate). EIO_FULL_SWEEP=1
// in the environment runs every point.
std::vector<int> sweep_points() {
  const char* full = std::getenv("EIO_FULL_SWEEP");
  const bool all = full && std::string(full) == "1";
  // EIO_SWEEP_SPARSE=1 (the sanitizer build): the stream's start, the first ping, the end,
  // and every 211th point.
  const char* sparse_env = std::getenv("EIO_SWEEP_SPARSE");
  const bool sparse = !all && sparse_env && std::string(sparse_env) == "1";
  std::vector<int> points;
  for (int k = 0; k <= sweep_messages; ++k) {
    const bool dense = sparse ? (k < 30 || (k >= 825 && k < 845) || k >= sweep_messages - 10)
                              : (k < 250 || (k >= 800 && k < 880) || k >= sweep_messages - 50);
    if (all || dense || k % (sparse ? 211 : 61) == 0) points.push_back(k);
  }
  return points;
}

struct sweep_case {
  protocol_version version;
  probe_window window;
};

std::string window_name(probe_window w);
void PrintTo(const sweep_case& c, std::ostream* os) { *os << name_of(c.version) << " " << window_name(c.window); }

class ordering_sweep : public ::testing::TestWithParam<sweep_case> {};

std::string window_name(probe_window w) {
  switch (w) {
    case probe_window::none: return "instant";
    case probe_window::stages: return "probe_stages";
    case probe_window::post_get: return "pause_on_get_and_post";
  }
  return "?";
}

INSTANTIATE_TEST_SUITE_P(cases, ordering_sweep,
                         ::testing::Values(sweep_case{protocol_version::v4, probe_window::none},
                                           sweep_case{protocol_version::v4, probe_window::stages},
                                           sweep_case{protocol_version::v4, probe_window::post_get},
                                           sweep_case{protocol_version::v3, probe_window::none},
                                           sweep_case{protocol_version::v3, probe_window::stages},
                                           sweep_case{protocol_version::v3, probe_window::post_get}),
                         [](const auto& param_info) { return name_of(param_info.param.version) + "_" + window_name(param_info.param.window); });

TEST_P(ordering_sweep, every_message_once_and_in_order_whenever_the_upgrade_starts) {
  int failures = 0;
  const std::vector<int> points = sweep_points();
  for (const int k : points) {
    const std::string failure = run_stream(GetParam().version, k, GetParam().window);
    if (!failure.empty()) {
      ADD_FAILURE() << "upgrade started at message " << k << ": " << failure;
      if (++failures >= 5) break;
    }
  }
  RecordProperty("upgrade_start_points", static_cast<int>(points.size()));
}

}  // namespace
}  // namespace eio::test
