// eio::poco_server in process, over real sockets: sessions spread over the
// loops, requests routed to the loop that owns their sid, and the
// thread-safe entry points (post/send/close from a foreign thread).
#include <eio/poco_server.hpp>

#include <eio/websocket_codec.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;

// A running server whose handler records every session with the thread it
// ran on; messages are echoed.
struct running_server {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, eio::session_handle> sessions;  // by sid
  std::map<unsigned, std::set<std::thread::id>> loop_threads;
  std::unique_ptr<eio::poco_server> server;
  std::thread thread;

  std::vector<eio::close_reason> closes;

  explicit running_server(unsigned threads, eio::poco_server_options options = {}) {
    options.port = 0;
    options.threads = threads;
    server = std::make_unique<eio::poco_server>(options, [this](eio::loop_context& loop, const eio::event& e) {
      std::lock_guard<std::mutex> lock(mutex);
      loop_threads[loop.loop].insert(std::this_thread::get_id());
      if (const auto* opened = std::get_if<eio::connection_event>(&e)) {
        sessions[std::string(loop.engine.session_id(opened->session))] = loop.handle(opened->session);
        changed.notify_all();
      } else if (const auto* message = std::get_if<eio::message_event>(&e)) {
        loop.engine.send(message->session, message->data, message->binary, loop.now);
      } else if (const auto* closed = std::get_if<eio::close_event>(&e)) {
        closes.push_back(closed->reason);
        changed.notify_all();
      }
    });
    thread = std::thread([this] { server->run(); });
  }
  ~running_server() {
    server->stop();
    thread.join();
  }

  // GET or POST on the Engine.IO path; returns the body.
  std::string request(const std::string& method, const std::string& query, const std::string& body = {},
                      int* status = nullptr) {
    Poco::Net::HTTPClientSession http("127.0.0.1", server->port());
    http.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest req(method, "/engine.io/?EIO=4&transport=polling" + query, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    http.sendRequest(req) << body;
    Poco::Net::HTTPResponse res;
    std::string text;
    Poco::StreamCopier::copyToString(http.receiveResponse(res), text);
    if (status) *status = res.getStatus();
    return text;
  }

  std::string handshake() {
    const std::string open = request("GET", "");
    const auto start = open.find("\"sid\":\"") + 7;
    return open.substr(start, open.find('"', start) - start);
  }

  eio::session_handle handle_of(const std::string& sid) {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait_for(lock, 5s, [&] { return sessions.count(sid) > 0; });
    return sessions.at(sid);
  }
};

TEST(poco_server, sessions_spread_over_the_loops_and_keep_their_loop) {
  running_server s(2);
  ASSERT_EQ(s.server->loop_count(), 2u);
  std::set<unsigned> loops;
  for (int i = 0; i < 8; ++i) {
    const std::string sid = s.handshake();
    ASSERT_EQ(sid.size(), 20u) << sid;
    const eio::session_handle handle = s.handle_of(sid);
    EXPECT_EQ(std::string(1, "01"[handle.loop]), sid.substr(0, 1)) << "the sid names its loop";
    loops.insert(handle.loop);
    // Each request opens a new connection, accepted round-robin by either
    // loop: the one that does not own the sid must hand it over.
    for (int k = 0; k < 2; ++k) {
      int status = 0;
      EXPECT_EQ(s.request("POST", "&sid=" + sid, "4ping " + std::to_string(k), &status), "ok");
      EXPECT_EQ(status, 200);
      EXPECT_EQ(s.request("GET", "&sid=" + sid), "4ping " + std::to_string(k));
    }
  }
  EXPECT_EQ(loops, (std::set<unsigned>{0, 1}));
  std::lock_guard<std::mutex> lock(s.mutex);
  ASSERT_EQ(s.loop_threads.size(), 2u);
  EXPECT_EQ(s.loop_threads[0].size(), 1u) << "one thread per loop";
  EXPECT_EQ(s.loop_threads[1].size(), 1u);
  EXPECT_NE(*s.loop_threads[0].begin(), *s.loop_threads[1].begin());
}

TEST(poco_server, send_and_close_from_a_foreign_thread_reach_a_held_poll) {
  running_server s(2);
  const std::string sid = s.handshake();
  const eio::session_handle handle = s.handle_of(sid);

  auto held = std::async(std::launch::async, [&] { return s.request("GET", "&sid=" + sid); });
  std::this_thread::sleep_for(100ms);  // the poll is held by now
  EXPECT_EQ(held.wait_for(0ms), std::future_status::timeout);
  EXPECT_TRUE(s.server->send(handle, "from afar", false));
  EXPECT_EQ(held.get(), "4from afar");

  auto closing = std::async(std::launch::async, [&] { return s.request("GET", "&sid=" + sid); });
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(s.server->close(handle));
  EXPECT_EQ(closing.get(), "1");  // the close packet
  int status = 0;
  s.request("GET", "&sid=" + sid, {}, &status);
  EXPECT_EQ(status, 400) << "the session is gone";
}

TEST(poco_server, post_runs_on_the_named_loop_in_order) {
  running_server s(2);
  EXPECT_FALSE(s.server->post(2, [](eio::loop_context&) {}));
  std::promise<std::vector<int>> done;
  auto order = std::make_shared<std::vector<int>>();
  std::thread::id ran_on;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(s.server->post(1, [&, order, i](eio::loop_context& loop) {
      EXPECT_EQ(loop.loop, 1u);
      ran_on = std::this_thread::get_id();
      order->push_back(i);
      if (i == 99) done.set_value(*order);
    }));
  }
  auto result = done.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(result.get(), expected);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

// A raw connection to the server, for bytes no HTTP client would send.
struct raw_connection {
  Poco::Net::StreamSocket socket;
  explicit raw_connection(std::uint16_t port) : socket(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket.setNoDelay(true);
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
  }
  void send(std::string_view bytes) { socket.sendBytes(bytes.data(), static_cast<int>(bytes.size())); }
  // Reads until `until` is in what came, or the peer closes, or 5 s pass.
  std::string read_until(std::string_view until) {
    std::string got;
    char buffer[4096];
    while (got.find(until) == std::string::npos) {
      int n = 0;
      try {
        n = socket.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::Exception&) {
        break;
      }
      if (n <= 0) break;
      got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  }
  // True when the peer closed within 5 s (bytes before the close are skipped).
  bool closed_by_peer() {
    char buffer[65536];
    for (;;) {
      int n = 0;
      try {
        n = socket.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::TimeoutException&) {
        return false;
      } catch (const Poco::Exception&) {
        return true;  // reset
      }
      if (n <= 0) return true;
    }
  }
};

TEST(poco_server, a_request_whose_head_comes_in_pieces_reaches_the_loop_of_its_session) {
  running_server s(2);
  // Several sessions, so both loops own some; each request on a new
  // connection (accepted by either loop), its head cut at every 7th byte
  // and sent in two reads: the loop that does not own the sid hands the
  // request over with every byte of it.
  for (int i = 0; i < 6; ++i) {
    const std::string sid = s.handshake();
    const std::string post = "POST /engine.io/?EIO=4&transport=polling&sid=" + sid +
                             " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n4hello";
    for (std::size_t cut = 1; cut < post.size() - 6; cut += 7) {
      raw_connection c(s.server->port());
      c.send(post.substr(0, cut));
      std::this_thread::sleep_for(5ms);  // a read of its own
      c.send(post.substr(cut));
      const std::string answer = c.read_until("\r\n\r\nok");
      ASSERT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << "cut " << cut << ": " << answer;
      EXPECT_EQ(s.request("GET", "&sid=" + sid), "4hello") << "cut " << cut;
    }
  }
}

TEST(poco_server, a_body_over_the_limit_after_the_answer_ends_the_connection_once) {
  eio::poco_server_options options;
  options.engine.max_http_buffer_size = 100;
  running_server s(2, options);
  raw_connection c(s.server->port());
  // A handshake GET is answered at its head; its chunked body then goes over
  // the limit. One answer, then the connection ends; no second request is
  // made of it.
  c.send("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string answer = c.read_until("\"maxPayload\":100}");
  ASSERT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
  c.send("c8\r\n" + std::string(200, 'x') + "\r\n0\r\n\r\n");
  std::string rest;
  char buffer[4096];
  for (;;) {
    int n = 0;
    try {
      n = c.socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      break;
    }
    if (n <= 0) break;
    rest.append(buffer, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(rest, "") << "nothing after the one answer";
  std::lock_guard<std::mutex> lock(s.mutex);
  EXPECT_EQ(s.sessions.size(), 1u) << "the GET reached the core once";
}

std::string websocket_upgrade(const std::string& sid = {}) {
  return "GET /engine.io/?EIO=4&transport=websocket" + (sid.empty() ? std::string() : "&sid=" + sid) +
         " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

TEST(poco_server, a_websocket_ping_is_answered_at_once) {
  running_server s(1);
  raw_connection c(s.server->port());
  c.send(websocket_upgrade());
  ASSERT_NE(c.read_until("\"maxPayload\":1000000}").find("101 Switching Protocols"), std::string::npos);
  std::string ping;
  eio::websocket::append_masked_frame(eio::websocket::opcode::ping, "are you there", 0x11223344u, ping);
  c.send(ping);
  // A pong frame (0x8A) with the same payload, without waiting for any
  // other traffic (the next Engine.IO ping is 25 s away).
  const std::string got = c.read_until("are you there");
  ASSERT_GE(got.size(), 2u + 13u);
  EXPECT_EQ(static_cast<unsigned char>(got[got.size() - 15]), 0x8Au);
}

TEST(poco_server, a_peer_that_does_not_read_is_dropped_past_max_output_bytes) {
  eio::poco_server_options options;
  options.max_output_bytes = 256 * 1024;
  running_server s(1, options);
  raw_connection c(s.server->port());
  c.socket.setReceiveBufferSize(4096);
  c.send(websocket_upgrade());
  ASSERT_NE(c.read_until("\"maxPayload\":1000000}").find("101 Switching Protocols"), std::string::npos);
  // Echoes pile up on the server while we do not read.
  std::string message;
  eio::websocket::append_masked_frame(eio::websocket::opcode::text, "4" + std::string(60000, 'e'), 0x01020304u, message);
  for (int i = 0; i < 300; ++i) {
    try {
      c.send(message);
    } catch (const Poco::Exception&) {
      break;  // dropped already
    }
  }
  std::unique_lock<std::mutex> lock(s.mutex);
  s.changed.wait_for(lock, 10s, [&] { return !s.closes.empty(); });
  ASSERT_EQ(s.closes.size(), 1u) << "the session ended";
  EXPECT_EQ(s.closes[0], eio::close_reason::transport_close) << static_cast<int>(s.closes[0]);
  lock.unlock();
  EXPECT_TRUE(c.closed_by_peer());
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(poco_server, a_closed_connection_whose_peer_does_not_read_is_let_go_after_the_body_timeout) {
  eio::poco_server_options options;
  options.body_timeout = 1000ms;
  running_server s(1, options);
  raw_connection c(s.server->port());
  c.socket.setReceiveBufferSize(4096);
  c.send(websocket_upgrade());
  const std::string open = c.read_until("\"maxPayload\":1000000}");
  ASSERT_NE(open.find("101 Switching Protocols"), std::string::npos);
  const auto start = open.find("\"sid\":\"") + 7;
  const eio::session_handle handle = s.handle_of(open.substr(start, open.find('"', start) - start));
  // Fill the server's socket buffer and some of its own with echoes.
  std::string message;
  eio::websocket::append_masked_frame(eio::websocket::opcode::text, "4" + std::string(60000, 'e'), 0x01020304u, message);
  for (int i = 0; i < 100; ++i) c.send(message);
  std::this_thread::sleep_for(300ms);
  const std::size_t before = open_descriptors();
  EXPECT_TRUE(s.server->close(handle));  // its close frame queues behind the echoes nobody reads
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (open_descriptors() == before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(open_descriptors(), before - 1) << "the server's side of the connection is closed";
}

}  // namespace
