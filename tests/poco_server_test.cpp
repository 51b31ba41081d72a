// eio::poco_server in process, over real sockets: sessions spread over the
// loops, requests routed to the loop that owns their sid, and the
// thread-safe entry points (post/send/close from a foreign thread).
#include <eio/poco_server.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <condition_variable>
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

  explicit running_server(unsigned threads) {
    eio::poco_server_options options;
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

}  // namespace
