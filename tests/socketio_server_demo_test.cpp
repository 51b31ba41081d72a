// The demo application (tests/interop/socketio_demo_app.mjs) on
// eio::socketio's server API (tools/eiotool/socketio_demo_app.hpp), over two
// loops: what the API must make easy for `eiotool serve --socketio`.
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>

#include "socketio_demo_app.hpp"
#include "socketio_harness.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using test::sio_harness;
using namespace std::chrono_literals;

struct demo {
  demo() : app(io, "node") { h = std::make_unique<sio_harness>(io, 2); }
  // A client on `loop` joined to `nsp` with `auth`; its first frames taken.
  sio_harness::client_id join(unsigned loop, const std::string& nsp = "", const std::string& auth = "") {
    const auto c = h->open(loop);
    h->send(c, "0" + (nsp.empty() ? std::string() : nsp + ",") + auth);
    h->take(c);
    return c;
  }
  server io;
  tool::socketio_demo app;
  std::unique_ptr<sio_harness> h;
};

std::string sid_of(demo& d, sio_harness::client_id c, const std::string& nsp = "") {
  d.h->send(c, "2" + (nsp.empty() ? std::string() : nsp + ",") + "9[\"whoami\"]");
  const auto frames = d.h->texts(c);
  const std::string& answer = frames.at(0);
  const auto at = answer.find("\"sid\":\"") + 7;
  return answer.substr(at, 20);
}

TEST(socketio_demo, namespaces_auth_and_the_admin_middleware) {
  demo d;
  const auto c = d.h->open(0);
  d.h->send(c, "0/admin,{\"token\":\"nope\"}");
  EXPECT_EQ(d.h->texts(c), (std::vector<std::string>{"4/admin,{\"message\":\"unauthorized\"}"}));
  EXPECT_EQ(d.h->rt(0).of("/admin")->adapter().room_count(), 0u);  // "guarded" went with the refusal
  d.h->send(c, "0/admin,{\"token\":\"letmein\"}");
  auto frames = d.h->texts(c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], "2/admin,[\"auth\",{\"token\":\"letmein\"}]");
  d.h->send(c, "2/admin,1[\"whoami\"]");
  frames = d.h->texts(c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].find("\"rooms\":[\"guarded\"]"), std::string::npos) << frames[0];
  d.h->send(c, "0/nope,");
  EXPECT_EQ(d.h->texts(c), (std::vector<std::string>{"4/nope,{\"message\":\"Invalid namespace\"}"}));
  d.h->send(c, "0/slow,");
  EXPECT_TRUE(d.h->texts(c).empty());
  d.h->advance(1s);
  EXPECT_EQ(d.h->texts(c).size(), 2u);  // the answer, then "auth"
  d.h->send(c, "0/dyn-abc,");
  d.h->advance(200ms);
  frames = d.h->texts(c);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].substr(0, 16), "0/dyn-abc,{\"sid\"");
}

TEST(socketio_demo, rooms_broadcasts_and_cluster_operations_over_two_loops) {
  demo d;
  const auto a = d.join(0);
  const auto b = d.join(1);
  const auto c = d.join(1);
  const std::string sid_b = sid_of(d, b);
  d.h->send(a, "21[\"join\",\"r\"]");
  d.h->send(b, "21[\"join\",\"r\"]");
  EXPECT_EQ(d.h->texts(a), (std::vector<std::string>{"31[]"}));
  EXPECT_EQ(d.h->texts(b), (std::vector<std::string>{"31[]"}));
  d.h->send(c, "22[\"to-room\",\"r\",1,{\"b\":true}]");
  EXPECT_EQ(d.h->texts(c), (std::vector<std::string>{"32[]"}));
  EXPECT_EQ(d.h->texts(a), (std::vector<std::string>{"2[\"room-message\",1,{\"b\":true}]"}));
  EXPECT_EQ(d.h->texts(b), (std::vector<std::string>{"2[\"room-message\",1,{\"b\":true}]"}));
  d.h->send(a, "2[\"broadcast\",\"x\"]");
  for (auto x : {a, b, c}) EXPECT_EQ(d.h->texts(x), (std::vector<std::string>{"2[\"broadcast\",\"x\"]"}));
  d.h->send(c, "23[\"fetch-sockets\",\"r\"]");
  const auto fetched = d.h->texts(c);
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_NE(fetched[0].find(sid_b), std::string::npos);
  EXPECT_EQ(fetched[0].substr(0, 4), "33[[");
  d.h->send(c, "24[\"sockets-join\",\"r\",\"s\"]");
  d.h->send(b, "25[\"whoami\"]");
  EXPECT_NE(d.h->texts(b).back().find("\"rooms\":[\"r\",\"s\"]"), std::string::npos);
  d.h->send(c, "26[\"sse\",1]");
  EXPECT_EQ(d.h->texts(c).back(), "36[{\"error\":null,\"node\":\"node\",\"responses\":[\"node\"]}]");
  d.h->send(c, "27[\"disconnect-room\",\"s\"]");
  EXPECT_EQ(d.h->texts(c).back(), "37[]");
  EXPECT_EQ(d.h->texts(a), (std::vector<std::string>{"1"}));
  EXPECT_EQ(d.h->texts(b), (std::vector<std::string>{"1"}));
}

TEST(socketio_demo, ask_and_broadcast_ask_with_timeouts) {
  demo d;
  const auto a = d.join(0);
  const auto b = d.join(1);
  d.h->send(a, "2[\"ask\",500,\"q\"]");
  auto frames = d.h->texts(a);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "20[\"ask\",\"q\"]");
  d.h->send(a, "30[\"yes\",2]");
  EXPECT_EQ(d.h->texts(a), (std::vector<std::string>{"2[\"ask-result\",{\"args\":[\"yes\",2],\"ok\":true}]"}));
  d.h->send(a, "2[\"ask\",100]");
  d.h->advance(100ms);
  frames = d.h->texts(a);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], "2[\"ask-result\",{\"ok\":false}]");
  d.h->send(b, "21[\"broadcast-ask\",300,\"all?\"]");
  const auto to_a = d.h->texts(a);
  const auto to_b = d.h->texts(b);
  ASSERT_EQ(to_a.size(), 1u);
  ASSERT_EQ(to_b.size(), 1u);
  const std::string id_a = to_a[0].substr(1, to_a[0].find('[') - 1);
  d.h->send(a, "3" + id_a + "[\"from a\"]");  // b does not answer
  d.h->advance(300ms);
  EXPECT_EQ(d.h->texts(b).back(), "31[{\"error\":\"operation has timed out\",\"responses\":[\"from a\"]}]");
  d.h->send(a, "22[\"stats\"]");
  const std::string stats = d.h->texts(a).back();
  EXPECT_NE(stats.find("\"pendingAcks\":0"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"namespaces\":[\"/\",\"/admin\",\"/custom\",\"/slow\"]"), std::string::npos) << stats;
}

}  // namespace
}  // namespace eio::socketio
