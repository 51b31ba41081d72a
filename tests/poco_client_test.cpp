// eio::poco_client against an in-process eio::poco_server (an echo
// application): handshake, echo and close over polling, websocket and the
// upgrade, v4 and v3; what it reports of the wire; refusals; a dead port.
#include <eio/poco_client.hpp>
#include <eio/poco_server.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace eio {
namespace {

class running_server {
public:
  explicit running_server(server_options core = {}) {
    poco_server_options options;
    options.port = 0;
    options.threads = 1;
    options.core = std::move(core);
    server_ = std::make_unique<poco_server>(options, [](loop_context& context, const event& e) {
      if (const auto* m = std::get_if<message_event>(&e)) context.core.send(m->session, m->data, m->kind, context.now);
    });
    thread_ = std::thread([this] { server_->run(); });
  }
  ~running_server() {
    server_->stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/"; }

private:
  std::unique_ptr<poco_server> server_;
  std::thread thread_;
};

struct seen {
  std::optional<client_open_event> open;
  bool upgraded = false;
  std::vector<std::string> messages;
  std::optional<client_close_event> close;
  std::vector<http_exchange> exchanges;
  std::vector<websocket_handshake> handshakes;
};

// Reads events until `done` or 5 s.
template <typename Done>
void pump(poco_client& c, seen& s, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < until) {
    auto e = c.next(millis(100));
    if (!e) continue;
    if (auto* x = std::get_if<http_exchange>(&*e)) s.exchanges.push_back(*x);
    if (auto* h = std::get_if<websocket_handshake>(&*e)) s.handshakes.push_back(*h);
    if (auto* ce = std::get_if<client_event>(&*e)) {
      if (auto* o = std::get_if<client_open_event>(ce)) s.open = *o;
      if (std::get_if<client_upgrade_event>(ce)) s.upgraded = true;
      if (auto* m = std::get_if<client_message_event>(ce)) s.messages.push_back(m->data);
      if (auto* cl = std::get_if<client_close_event>(ce)) s.close = *cl;
    }
  }
}

struct mode {
  bool polling;
  bool websocket;
  protocol_version version;
};

class poco_client_echo : public ::testing::TestWithParam<mode> {};

TEST_P(poco_client_echo, handshake_echo_close) {
  server_options core;
  core.allow_eio3 = true;
  running_server server(core);
  poco_client_options options;
  options.core.polling = GetParam().polling;
  options.core.websocket = GetParam().websocket;
  options.core.version = GetParam().version;
  options.observe = true;
  poco_client c(server.url(), options);
  c.open();
  seen s;
  pump(c, s, [&] { return s.open || s.close; });
  ASSERT_TRUE(s.open) << (s.close ? s.close->description : "timeout");
  if (GetParam().polling && GetParam().websocket) pump(c, s, [&] { return s.upgraded || s.close; });
  EXPECT_EQ(s.upgraded, GetParam().polling && GetParam().websocket);
  const std::string big(100'000, 'x');
  for (const std::string& text : {std::string("héllo"), big}) c.send(text, frame_kind::text);
  pump(c, s, [&] { return s.messages.size() == 2 || s.close; });
  EXPECT_EQ(s.messages, (std::vector<std::string>{"héllo", big}));
  c.close();
  pump(c, s, [&] { return s.close.has_value(); });
  ASSERT_TRUE(s.close);
  EXPECT_EQ(to_string(s.close->reason), "forced close");
  EXPECT_EQ(s.exchanges.empty(), !GetParam().polling);
  if (GetParam().websocket) {
    ASSERT_FALSE(s.handshakes.empty());
    EXPECT_TRUE(s.handshakes.front().accepted) << s.handshakes.front().error;
  }
}

INSTANTIATE_TEST_SUITE_P(modes, poco_client_echo,
                         ::testing::Values(mode{true, false, protocol_version::v4}, mode{false, true, protocol_version::v4},
                                           mode{true, true, protocol_version::v4}, mode{true, true, protocol_version::v3}));

TEST(poco_client, refused_websocket_reports_the_status) {
  server_options core;
  core.allow_websocket = false;
  running_server server(core);
  poco_client_options options;
  options.core.polling = false;
  options.observe = true;
  poco_client c(server.url(), options);
  c.open();
  seen s;
  pump(c, s, [&] { return s.close.has_value(); });
  ASSERT_TRUE(s.close);
  EXPECT_EQ(to_string(s.close->reason), "transport error");
  ASSERT_EQ(s.handshakes.size(), 1u);
  EXPECT_FALSE(s.handshakes[0].accepted);
  EXPECT_EQ(s.handshakes[0].status, 400);
  // A refused upgrade is answered as the reference's abortUpgrade does: the
  // error's message as text (docs/reference-comparison.md).
  EXPECT_EQ(s.handshakes[0].body, "Transport unknown");
}

TEST(poco_client, one_step_helpers) {
  running_server server;
  std::string error;
  const auto where = parse_endpoint(server.url(), error);
  ASSERT_TRUE(where) << error;
  EXPECT_EQ(where->path, "/engine.io/");
  const connect_report r = check_connect(*where, {});
  EXPECT_TRUE(r.tcp_connected) << r.error;
  const http_exchange x = http_exchange_once(*where, {}, "GET", "/engine.io/?EIO=4&transport=polling", {}, {}, {});
  EXPECT_EQ(x.status, 200) << x.error;
  EXPECT_EQ(x.body.substr(0, 8), "0{\"sid\":");
  EXPECT_FALSE(parse_endpoint("ftp://x/", error));
  EXPECT_EQ(parse_endpoint("wss://h/socket.io", error)->path, "/socket.io/");
  EXPECT_EQ(parse_endpoint("wss://h/socket.io", error)->port, 443);
}

TEST(poco_client, nothing_listening) {
  std::uint16_t port;
  {
    running_server server;
    std::string error;
    port = parse_endpoint(server.url(), error)->port;
  }
  poco_client c("http://127.0.0.1:" + std::to_string(port) + "/", {});
  c.open();
  seen s;
  pump(c, s, [&] { return s.close.has_value(); });
  ASSERT_TRUE(s.close);
  EXPECT_EQ(to_string(s.close->reason), "transport error");
}

}  // namespace
}  // namespace eio
