// eio::poco_attached_server on a real Poco::Net::HTTPServer (thread per request),
// driven by Poco's own HTTP and WebSocket clients: polling and WebSocket
// sessions, the probe upgrade, held polls answered from another thread,
// limits, a client going away, the timer thread, and shutdown.
#include <eio/poco_attached_server.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::WebSocket;

// The application's own routes: /hello, and 404 for the rest.
class app_handler : public Poco::Net::HTTPRequestHandler {
public:
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    if (request.getURI() == "/hello") {
      response.setContentType("text/plain");
      response.sendBuffer("hello from the app", 18);
      return;
    }
    response.setStatusAndReason(HTTPResponse::HTTP_NOT_FOUND);
    response.sendBuffer("", 0);
  }
};
class app_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new app_handler;
  }
};

struct reply {
  int status = 0;
  std::string body;
};

struct frame {
  int flags = 0;
  std::string data;
  int opcode() const { return flags & WebSocket::FRAME_OP_BITMASK; }
};

class poco_attached_server_test : public ::testing::Test {
protected:
  // The application: echoes every message, and records sessions and closes.
  void start(eio::server_options options = {}) {
    eio::poco_attached_server_options attached_options;
    attached_options.core = std::move(options);
    attached_options.disconnect_check_interval = 100ms;
    attached_options.close_grace = 1000ms;
    attached = std::make_unique<eio::poco_attached_server>(
        attached_options, [this](eio::server& core, eio::event& e, eio::millis now) {
          if (const auto* message = std::get_if<eio::message_event>(&e)) {
            core.send(message->session, message->data, message->kind, now);
            return;
          }
          std::lock_guard<std::mutex> lock(mutex);
          if (const auto* connection = std::get_if<eio::connection_event>(&e)) sessions.push_back(connection->session);
          if (const auto* close = std::get_if<eio::close_event>(&e)) closes.push_back(close->reason);
          changed.notify_all();
        });
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(32);  // every held poll and WebSocket holds one
    params->setMaxQueued(64);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = socket.address().port();
    http = std::make_unique<Poco::Net::HTTPServer>(new eio::poco_request_handler_factory(*attached, new app_factory),
                                                   pool, socket, params);
    http->start();
  }

  void TearDown() override {
    if (attached) attached->shutdown();
    if (http) http->stopAll(true);
    http.reset();
    attached.reset();
    pool.joinAll();
  }

  reply request(const std::string& method, const std::string& uri, const std::string& body = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    HTTPRequest req(method, uri, HTTPRequest::HTTP_1_1);
    if (method == HTTPRequest::HTTP_POST) {
      req.setContentType("text/plain;charset=UTF-8");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
    HTTPResponse res;
    std::istream& in = session.receiveResponse(res);
    reply out;
    out.status = res.getStatus();
    Poco::StreamCopier::copyToString(in, out.body);
    return out;
  }

  // A polling handshake; returns the sid.
  std::string handshake() {
    const reply open = request("GET", "/engine.io/?EIO=4&transport=polling");
    EXPECT_EQ(open.status, 200);
    EXPECT_EQ(open.body.substr(0, 9), "0{\"sid\":\"") << open.body;
    const std::size_t end = open.body.find('"', 9);
    return open.body.substr(9, end - 9);
  }

  std::string poll_uri(const std::string& sid) { return "/engine.io/?EIO=4&transport=polling&sid=" + sid; }

  // Sends `bytes` on a new connection and reads until the server closes it
  // (or 5 s pass): bytes no HTTP client would send.
  struct raw_reply {
    std::string data;
    bool closed = false;
  };
  raw_reply raw_exchange(const std::string& bytes) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    raw_reply reply;
    char buffer[4096];
    for (;;) {
      int n = 0;
      try {
        n = socket.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::Exception&) {
        break;  // a timeout (still open) or a reset
      }
      if (n <= 0) {
        reply.closed = true;
        break;
      }
      reply.data.append(buffer, static_cast<std::size_t>(n));
    }
    return reply;
  }

  // Sends `pieces` one after the other, `gap` apart, then reads the answer:
  // a client that sends its whole request before it reads (as many do),
  // through a small send buffer (as on a slow link: the body cannot all wait
  // in buffers, the server has to read it). Returns what came and the error
  // that ended it before the answer was whole ("" when it came whole).
  struct sent_reply {
    std::string data;
    std::string error;
  };
  sent_reply send_then_read(const std::vector<std::string>& pieces, std::chrono::milliseconds gap = 0ms) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setNoDelay(true);
    socket.setSendBufferSize(16 * 1024);
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    socket.setSendTimeout(Poco::Timespan(5, 0));
    sent_reply reply;
    try {
      for (const std::string& piece : pieces) {
        socket.sendBytes(piece.data(), static_cast<int>(piece.size()));
        if (gap.count() > 0) std::this_thread::sleep_for(gap);
      }
      char buffer[4096];
      for (;;) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) {
          reply.error = "closed before the answer was whole";
          break;
        }
        reply.data.append(buffer, static_cast<std::size_t>(n));
        const std::size_t end = reply.data.find("\r\n\r\n");
        const std::size_t length = reply.data.find("\r\nContent-Length: ");
        if (end != std::string::npos && length != std::string::npos && length < end &&
            reply.data.size() >= end + 4 + std::stoul(reply.data.substr(length + 18))) {
          break;
        }
      }
    } catch (const Poco::Exception& e) {
      reply.error = e.displayText();
    }
    return reply;
  }

  std::unique_ptr<WebSocket> connect_websocket(const std::string& query) {
    client_sessions.push_back(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port));
    HTTPRequest req(HTTPRequest::HTTP_GET, "/engine.io/?" + query, HTTPRequest::HTTP_1_1);
    HTTPResponse res;
    auto ws = std::make_unique<WebSocket>(*client_sessions.back(), req, res);
    EXPECT_EQ(res.getStatus(), HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
    ws->setReceiveTimeout(Poco::Timespan(5, 0));
    return ws;
  }

  static void send_text(WebSocket& ws, const std::string& text, int flags = WebSocket::FRAME_TEXT) {
    ws.sendFrame(text.data(), static_cast<int>(text.size()), flags);
  }

  static frame receive(WebSocket& ws) {
    Poco::Buffer<char> buffer(0);
    frame f;
    const int n = ws.receiveFrame(buffer, f.flags);
    f.data.assign(buffer.begin(), static_cast<std::size_t>(n));
    return f;
  }

  // Waits until `pred` holds (under the test's mutex) or 5 seconds pass.
  template <class Pred>
  bool wait_for(Pred pred) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, 5s, pred);
  }

  Poco::ThreadPool pool{2, 32};
  std::unique_ptr<eio::poco_attached_server> attached;
  std::unique_ptr<Poco::Net::HTTPServer> http;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> client_sessions;
  std::uint16_t port = 0;

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<eio::session_ref> sessions;
  std::vector<eio::close_reason> closes;
};

TEST_F(poco_attached_server_test, polling_handshake_message_and_echo) {
  start();
  const std::string sid = handshake();
  EXPECT_EQ(request("POST", poll_uri(sid), "4hello").body, "ok");
  const reply echo = request("GET", poll_uri(sid));
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "4hello");
}

TEST_F(poco_attached_server_test, other_routes_go_to_the_application) {
  start();
  EXPECT_EQ(request("GET", "/hello").body, "hello from the app");
  EXPECT_EQ(request("GET", "/elsewhere").status, 404);
  EXPECT_EQ(request("GET", "/engine.io?EIO=4&transport=polling").status, 200);  // without the trailing '/'
  EXPECT_EQ(request("GET", "/engine.io/?EIO=4&transport=carrier-pigeon").status, 400);
}

TEST_F(poco_attached_server_test, websocket_probe_upgrade_then_echo) {
  start();
  const std::string sid = handshake();
  // The client keeps a poll open while it probes; the upgrade answers it with a noop.
  auto held = std::async(std::launch::async, [&] { return request("GET", poll_uri(sid)); });
  std::this_thread::sleep_for(200ms);
  auto ws = connect_websocket("EIO=4&transport=websocket&sid=" + sid);
  send_text(*ws, "2probe");
  EXPECT_EQ(receive(*ws).data, "3probe");
  EXPECT_EQ(held.get().body, "6");
  send_text(*ws, "5");
  send_text(*ws, "4over websocket");
  const frame echo = receive(*ws);
  EXPECT_EQ(echo.opcode(), WebSocket::FRAME_OP_TEXT);
  EXPECT_EQ(echo.data, "4over websocket");
}

TEST_F(poco_attached_server_test, websocket_only_session_fragments_and_binary) {
  start();
  auto ws = connect_websocket("EIO=4&transport=websocket");
  EXPECT_EQ(receive(*ws).data.substr(0, 8), "0{\"sid\":");
  send_text(*ws, "4frag", WebSocket::FRAME_OP_TEXT);  // no FIN
  const std::string ping = "are you there";
  ws->sendFrame(ping.data(), static_cast<int>(ping.size()), WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PING);
  send_text(*ws, "mented", WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_CONT);
  const frame pong = receive(*ws);
  EXPECT_EQ(pong.opcode(), WebSocket::FRAME_OP_PONG);
  EXPECT_EQ(pong.data, ping);
  EXPECT_EQ(receive(*ws).data, "4fragmented");
  const std::string bytes("\x00\xff\x01", 3);
  ws->sendFrame(bytes.data(), 3, WebSocket::FRAME_BINARY);
  const frame echo = receive(*ws);
  EXPECT_EQ(echo.opcode(), WebSocket::FRAME_OP_BINARY);
  EXPECT_EQ(echo.data, bytes);
}

TEST_F(poco_attached_server_test, the_websocket_101_carries_the_cores_headers) {
  eio::server_options options;
  options.initial_headers = [](const eio::http_request&, eio::header_list& headers) {
    headers.push_back({"X-Initial", "1"});
  };
  options.headers = [](const eio::http_request&, eio::header_list& headers) { headers.push_back({"X-Hook", "yes"}); };
  start(options);
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  HTTPRequest req(HTTPRequest::HTTP_GET, "/engine.io/?EIO=4&transport=websocket", HTTPRequest::HTTP_1_1);
  HTTPResponse res;
  WebSocket ws(session, req, res);  // checks Sec-WebSocket-Accept
  EXPECT_EQ(res.getStatus(), HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
  EXPECT_EQ(res.get("X-Initial", ""), "1");
  EXPECT_EQ(res.get("X-Hook", ""), "yes");
}

TEST_F(poco_attached_server_test, a_refused_upgrade_is_an_http_answer) {
  start();
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  HTTPRequest req(HTTPRequest::HTTP_GET, "/engine.io/?EIO=4&transport=websocket&sid=nope", HTTPRequest::HTTP_1_1);
  HTTPResponse res;
  try {
    WebSocket ws(session, req, res);
    ADD_FAILURE() << "the upgrade was accepted";
  } catch (const Poco::Net::WebSocketException&) {
  }
  EXPECT_EQ(res.getStatus(), HTTPResponse::HTTP_BAD_REQUEST);
}

TEST_F(poco_attached_server_test, websocket_text_that_is_not_utf8_closes_with_1007) {
  start();
  auto ws = connect_websocket("EIO=4&transport=websocket");
  receive(*ws);  // open
  send_text(*ws, "4\xff");
  const frame close = receive(*ws);
  ASSERT_EQ(close.opcode(), WebSocket::FRAME_OP_CLOSE);
  ASSERT_GE(close.data.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(close.data[0]) << 8) | static_cast<unsigned char>(close.data[1]), 1007);
  EXPECT_TRUE(wait_for([&] { return closes.size() == 1; }));
  EXPECT_EQ(closes.at(0), eio::close_reason::transport_error);
}

TEST_F(poco_attached_server_test, a_websocket_message_past_the_limit_closes_with_1009) {
  eio::server_options options;
  options.max_http_buffer_size = 100;
  start(options);
  auto ws = connect_websocket("EIO=4&transport=websocket");
  receive(*ws);  // open
  send_text(*ws, "4" + std::string(99, 'a'));
  EXPECT_EQ(receive(*ws).data, "4" + std::string(99, 'a'));
  send_text(*ws, "4" + std::string(50, 'a'), WebSocket::FRAME_OP_TEXT);  // fragments: 101 bytes in all
  send_text(*ws, std::string(50, 'a'), WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_CONT);
  const frame close = receive(*ws);
  ASSERT_EQ(close.opcode(), WebSocket::FRAME_OP_CLOSE);
  ASSERT_GE(close.data.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(close.data[0]) << 8) | static_cast<unsigned char>(close.data[1]), 1009);
}

// RFC 9112 section 3.2: 400 and close for an HTTP/1.1 request without Host
// and for any request with two; HTTP/1.0 may go without.
TEST_F(poco_attached_server_test, a_request_without_host_or_with_two_gets_400_and_the_connection_closes) {
  start();
  const struct {
    const char* name;
    std::string bytes;
    const char* reason;
  } bad[] = {
      {"HTTP/1.1 without Host", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
       "HTTP/1.1 request without a Host header"},
      {"two Host fields", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
       "more than one Host header"},
      {"two Host fields, HTTP/1.0", "GET /engine.io/?EIO=4&transport=polling HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
       "more than one Host header"},
      {"WebSocket without Host",
       "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 request without a Host header"},
  };
  for (const auto& b : bad) {
    const raw_reply reply = raw_exchange(b.bytes);
    EXPECT_EQ(reply.data.substr(0, 7) + reply.data.substr(8, 5), "HTTP/1. 400 ") << b.name << ": " << reply.data;
    EXPECT_NE(reply.data.find(std::string("\r\n\r\n") + b.reason), std::string::npos) << b.name << ": " << reply.data;
    EXPECT_TRUE(reply.closed) << b.name;
  }
  EXPECT_TRUE(sessions.empty()) << "no session was opened";
  const raw_reply old = raw_exchange("GET /engine.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.data.rfind("HTTP/1.0 200 ", 0), 0u) << old.data;
  EXPECT_NE(old.data.find("\r\n\r\n0{\"sid\":"), std::string::npos) << old.data;
}

// Each fragment costs a frame read: 1,024 of them (the default limit) make
// a message; one more closes the connection with 1009.
TEST_F(poco_attached_server_test, a_websocket_message_in_more_than_1024_fragments_closes_with_1009) {
  start();
  auto ws = connect_websocket("EIO=4&transport=websocket");
  receive(*ws);  // open
  auto send_fragmented = [&](int fragments) {
    send_text(*ws, "4", WebSocket::FRAME_OP_TEXT);  // no FIN
    for (int i = 1; i < fragments; ++i) {
      const int last = i + 1 == fragments ? WebSocket::FRAME_FLAG_FIN : 0;
      send_text(*ws, "x", last | WebSocket::FRAME_OP_CONT);
    }
  };
  send_fragmented(1024);
  EXPECT_EQ(receive(*ws).data, "4" + std::string(1023, 'x'));
  send_fragmented(1025);
  const frame close = receive(*ws);
  ASSERT_EQ(close.opcode(), WebSocket::FRAME_OP_CLOSE) << close.data.size();
  ASSERT_GE(close.data.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(close.data[0]) << 8) | static_cast<unsigned char>(close.data[1]), 1009);
  EXPECT_EQ(close.data.substr(2), "message in more than 1024 fragments");
  EXPECT_TRUE(wait_for([&] { return closes.size() == 1; }));
  EXPECT_EQ(closes.at(0), eio::close_reason::transport_error);
}

TEST_F(poco_attached_server_test, held_poll_is_answered_by_a_send_from_another_thread) {
  start();
  const std::string sid = handshake();
  ASSERT_TRUE(wait_for([&] { return sessions.size() == 1; }));
  auto held = std::async(std::launch::async, [&] { return request("GET", poll_uri(sid)); });
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);  // held: nothing to send yet
  std::thread sender([&] { EXPECT_TRUE(attached->send(sessions.at(0), "from elsewhere")); });
  sender.join();
  EXPECT_EQ(held.get().body, "4from elsewhere");
}

TEST_F(poco_attached_server_test, post_body_at_and_past_the_limit) {
  eio::server_options options;
  options.max_http_buffer_size = 100;
  start(options);
  const std::string sid = handshake();
  EXPECT_EQ(request("POST", poll_uri(sid), "4" + std::string(99, 'a')).body, "ok");
  EXPECT_EQ(request("GET", poll_uri(sid)).body, "4" + std::string(99, 'a'));
  EXPECT_EQ(request("POST", poll_uri(sid), "4" + std::string(100, 'a')).status, 413);
  EXPECT_TRUE(wait_for([&] { return closes.size() == 1; }));
}

// RFC 9112 section 9.6 and nginx's lingering_close: answering 413 and
// closing while the client still sends must not close with unread input (the
// kernel answers it with a reset that destroys the answer in flight).
TEST_F(poco_attached_server_test, a_post_body_over_the_limit_gets_a_whole_413_not_a_reset) {
  eio::server_options options;
  options.max_http_buffer_size = 1000;
  start(options);
  auto head = [&](const std::string& fields) {
    return "POST " + poll_uri(handshake()) + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n" +
           fields + "\r\n";
  };
  auto expect_413 = [](const sent_reply& reply, const char* name) {
    EXPECT_EQ(reply.error, "") << name << ", after: " << reply.data.substr(0, 60);
    EXPECT_EQ(reply.data.rfind("HTTP/1.1 413 ", 0), 0u) << name << ": " << reply.data;
  };
  // (a) a 100 MB body announced, 768 KiB of it sent with the head in one
  // write (the server answers at the head and reads no body).
  expect_413(send_then_read({head("Content-Length: 100000000\r\n") + std::string(768 * 1024, 'a')}), "at once");
  // (b) chunked, 12 chunks of 64 KiB in one write: over the limit within the first.
  std::string chunks;
  for (int i = 0; i < 12; ++i) chunks += "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
  expect_413(send_then_read({head("Transfer-Encoding: chunked\r\n") + chunks}), "chunked");
  // (c) 200 one-byte segments a millisecond apart after the head.
  std::vector<std::string> trickle{head("Content-Length: 100000000\r\n")};
  trickle.resize(201, "a");
  expect_413(send_then_read(trickle, 1ms), "trickled");
  EXPECT_TRUE(wait_for([&] { return closes.size() == 3; })) << "each session closed (payload too large)";
}

TEST_F(poco_attached_server_test, a_held_poll_whose_client_goes_away_closes_the_session) {
  start();
  const std::string sid = handshake();
  {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    HTTPRequest req(HTTPRequest::HTTP_GET, poll_uri(sid), HTTPRequest::HTTP_1_1);
    session.sendRequest(req);
    std::this_thread::sleep_for(200ms);
  }  // closes the connection without waiting for the answer
  ASSERT_TRUE(wait_for([&] { return closes.size() == 1; }));
  EXPECT_EQ(closes.at(0), eio::close_reason::transport_error);
}

TEST_F(poco_attached_server_test, the_timer_thread_runs_the_ping_timeout) {
  eio::server_options options;
  options.ping_interval = 100ms;
  options.ping_timeout = 100ms;
  start(options);
  handshake();  // then silence: no poll, so no pong
  ASSERT_TRUE(wait_for([&] { return closes.size() == 1; }));
  EXPECT_EQ(closes.at(0), eio::close_reason::ping_timeout);
}

TEST_F(poco_attached_server_test, shutdown_closes_every_session) {
  start();
  const std::string sid = handshake();
  auto held = std::async(std::launch::async, [&] { return request("GET", poll_uri(sid)); });
  auto ws = connect_websocket("EIO=4&transport=websocket");
  receive(*ws);  // open
  std::this_thread::sleep_for(200ms);
  auto shutting = std::async(std::launch::async, [&] { attached->shutdown(); });
  EXPECT_EQ(held.get().body, "1");  // the close packet
  std::vector<frame> frames;
  do {
    frames.push_back(receive(*ws));
  } while (frames.back().opcode() != WebSocket::FRAME_OP_CLOSE && frames.size() < 5);
  EXPECT_EQ(frames.back().opcode(), WebSocket::FRAME_OP_CLOSE);
  ws->shutdown();  // answer the close frame, as a client does
  shutting.get();
  EXPECT_TRUE(wait_for([&] { return closes.size() == 2; }));
  for (const auto reason : closes) EXPECT_EQ(reason, eio::close_reason::server_shutting_down);
  EXPECT_EQ(request("GET", "/engine.io/?EIO=4&transport=polling").status, 503);
  EXPECT_FALSE(attached->send(sessions.at(0), "too late"));
}

}  // namespace
