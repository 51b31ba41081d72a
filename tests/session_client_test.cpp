// eio::client alone: a fake clock (plain millis values the tests advance) and
// server answers scripted as exact bytes. Each test asserts the exact actions
// the client queues and the exact events it reports, rendered as short
// strings ("GET /engine.io/?EIO=4&transport=polling", "POST ... 4hello",
// "close transport error: xhr poll error") so that a failure shows the whole
// sequence. The fixture also checks, on every drain, the polling rule the
// server depends on: at most one GET and one POST in flight.
//
// The last section replaces the server core with a few lines of scripted
// server (client_sweep_test) and starts the upgrade at every point of a
// message stream in both directions.
#include <eio/client.hpp>
#include <eio/parser.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio::test {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

std::string name_of(protocol_version v) { return v == protocol_version::v4 ? "v4" : "v3"; }

// Bytes as they would appear in C source: printable ASCII as is, the rest as \xHH.
std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

// The handshake every scripted server answers unless a test says otherwise.
constexpr std::string_view handshake_ws =
    R"({"sid":"abc","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":500,"maxPayload":100})";
constexpr std::string_view handshake_no_upgrade =
    R"({"sid":"abc","upgrades":[],"pingInterval":1000,"pingTimeout":500,"maxPayload":100})";

// A v3 text payload of one ASCII packet: <length>:<packet>.
std::string v3_packet(const std::string& packet) { return std::to_string(packet.size()) + ":" + packet; }

// Drives one eio::client; remembers which requests and connections are
// outstanding so tests answer "the GET" rather than a number.
class client_test : public ::testing::Test {
protected:
  client_options opts;
  std::optional<client> c;
  millis now{0};

  std::optional<connection_id> get_;   // the GET in flight
  std::optional<connection_id> post_;  // the POST in flight
  std::vector<connection_id> ws_;      // every WebSocket opened, in order
  std::vector<connection_id> ids_;     // every id the client used

  client& make() {
    get_.reset();
    post_.reset();
    ws_.clear();
    ids_.clear();
    c.emplace(opts);
    return *c;
  }

  // Every queued action, rendered; the in-flight bookkeeping is updated.
  strings actions() {
    strings out;
    while (std::optional<client_action> a = c->next_action()) out.push_back(render(*a));
    return out;
  }

  strings events() {
    strings out;
    while (std::optional<client_event> e = c->next_event()) out.push_back(render(*e));
    return out;
  }

  std::string render(const client_action& a) {
    if (const auto* r = std::get_if<client_http_request>(&a)) {
      note_new_id(r->request_id);
      if (r->method == "GET") {
        EXPECT_FALSE(get_.has_value()) << "a second GET while one is in flight: " << r->target;
        EXPECT_TRUE(r->body.empty());
        EXPECT_TRUE(r->content_type.empty());
        get_ = r->request_id;
        return "GET " + r->target;
      }
      EXPECT_EQ(r->method, "POST");
      EXPECT_FALSE(post_.has_value()) << "a second POST while one is in flight: " << escaped(r->body);
      EXPECT_EQ(r->content_type, "text/plain;charset=UTF-8");
      post_ = r->request_id;
      return "POST " + r->target + " " + escaped(r->body);
    }
    if (const auto* o = std::get_if<client_websocket_open>(&a)) {
      note_new_id(o->connection);
      ws_.push_back(o->connection);
      return "WS-OPEN " + ws_name(o->connection) + " " + o->target;
    }
    if (const auto* s = std::get_if<client_websocket_send>(&a)) {
      return std::string(s->kind == frame_kind::text ? "WS-TEXT " : "WS-BINARY ") + ws_name(s->connection) + " " +
             escaped(s->data);
    }
    const auto& cl = std::get<client_websocket_close>(a);
    return "WS-CLOSE " + ws_name(cl.connection);
  }

  static std::string render(const client_event& e) {
    if (const auto* o = std::get_if<client_open_event>(&e)) {
      const handshake_info& h = o->handshake;
      std::string out = "open ";
      out += to_string(o->transport);
      out += " sid=" + h.sid + " upgrades=[";
      for (std::size_t i = 0; i < h.upgrades.size(); ++i) out += (i ? "," : "") + h.upgrades[i];
      out += "] pingInterval=" + std::to_string(h.ping_interval.count()) +
             " pingTimeout=" + std::to_string(h.ping_timeout.count()) + " maxPayload=" + std::to_string(h.max_payload);
      return out;
    }
    if (const auto* m = std::get_if<client_message_event>(&e)) {
      return std::string(m->kind == frame_kind::binary ? "binary " : "text ") + escaped(m->data);
    }
    if (std::holds_alternative<client_upgrading_event>(e)) return "upgrading";
    if (std::holds_alternative<client_upgrade_event>(e)) return "upgrade";
    if (const auto* cl = std::get_if<client_close_event>(&e)) {
      return "close " + std::string(to_string(cl->reason)) + (cl->description.empty() ? "" : ": " + cl->description);
    }
    return "error " + std::get<client_error_event>(e).message;
  }

  // "ws1" for the first WebSocket the client opened, and so on.
  std::string ws_name(connection_id id) const {
    for (std::size_t i = 0; i < ws_.size(); ++i) {
      if (ws_[i] == id) return "ws" + std::to_string(i + 1);
    }
    ADD_FAILURE() << "an action on connection " << id << " the client never opened";
    return "ws?";
  }

  void note_new_id(connection_id id) {
    for (const connection_id used : ids_) EXPECT_NE(used, id) << "id reused";
    ids_.push_back(id);
  }

  // ---- scripted server

  void answer_get(std::string body, int status = 200, const header_list& headers = {}) {
    ASSERT_TRUE(get_.has_value()) << "no GET in flight";
    const connection_id id = *get_;
    get_.reset();
    c->http_response_received(id, status, headers, std::move(body), now);
  }
  void answer_post(int status = 200, std::string body = "ok") {
    ASSERT_TRUE(post_.has_value()) << "no POST in flight";
    const connection_id id = *post_;
    post_.reset();
    c->http_response_received(id, status, {}, std::move(body), now);
  }
  void fail_get() {
    ASSERT_TRUE(get_.has_value());
    const connection_id id = *get_;
    get_.reset();
    c->http_failed(id, now);
  }
  void fail_post() {
    ASSERT_TRUE(post_.has_value());
    const connection_id id = *post_;
    post_.reset();
    c->http_failed(id, now);
  }
  connection_id ws(std::size_t n) const {  // ws(1): the first WebSocket opened
    EXPECT_GE(ws_.size(), n);
    return ws_.size() >= n ? ws_[n - 1] : 0;
  }

  // The v4 polling handshake with `json`, with the GET it triggers checked;
  // leaves the actions after the open event to the test.
  // A v3 session open over polling, without the upgrade; the open event read.
  void open_v3_polling() {
    opts.version = protocol_version::v3;
    opts.upgrade = false;
    make().open(now);
    actions();
    answer_get(v3_packet("0" + std::string(handshake_ws)));
    events();
  }

  // A session open over websocket only (no polling), in opts.version; the
  // open event read.
  void open_websocket_only() {
    opts.polling = false;
    make().open(now);
    actions();
    c->websocket_opened(ws(1), now);
    c->websocket_message(ws(1), frame_kind::text, "0" + std::string(handshake_no_upgrade), now);
    events();
  }

  void handshake_v4(std::string_view json) {
    make().open(now);
    ASSERT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling"});
    answer_get("0" + std::string(json));
  }
};

// ------------------------------------------------------------ handshake over polling

TEST_F(client_test, v4_handshake_over_polling) {
  opts.extra_headers = {{"Authorization", "Bearer t"}, {"X-Trace", "1"}};
  make();
  EXPECT_EQ(c->state(), client_state::idle);
  EXPECT_FALSE(c->next_deadline().has_value());
  c->open(now);
  EXPECT_EQ(c->state(), client_state::opening);

  std::optional<client_action> first = c->next_action();
  ASSERT_TRUE(first.has_value());
  const auto* get = std::get_if<client_http_request>(&*first);
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->method, "GET");
  EXPECT_EQ(get->target, "/engine.io/?EIO=4&transport=polling");
  ASSERT_EQ(get->headers.size(), 2u);
  EXPECT_EQ(get->headers[0].name, "Authorization");
  EXPECT_EQ(get->headers[0].value, "Bearer t");
  EXPECT_EQ(get->headers[1].name, "X-Trace");
  EXPECT_EQ(get->headers[1].value, "1");
  EXPECT_TRUE(get->body.empty());
  EXPECT_TRUE(get->content_type.empty());
  EXPECT_FALSE(c->next_action().has_value());
  EXPECT_TRUE(events().empty());
  c->open(now);  // ignored once opening
  EXPECT_TRUE(actions().empty());

  now = 40ms;
  c->http_response_received(get->request_id, 200, {{"Content-Type", "text/plain; charset=UTF-8"}},
                            "0" + std::string(handshake_ws), now);
  EXPECT_EQ(events(), strings{"open polling sid=abc upgrades=[websocket] pingInterval=1000 pingTimeout=500 maxPayload=100"});
  EXPECT_EQ(c->state(), client_state::open);
  EXPECT_EQ(c->transport(), transport_kind::polling);
  ASSERT_TRUE(c->handshake().has_value());
  EXPECT_EQ(c->handshake()->sid, "abc");
  EXPECT_EQ(c->handshake()->max_payload, 100u);

  // The probe, then the next poll, both naming the session.
  std::vector<client_action> next;
  while (auto a = c->next_action()) next.push_back(std::move(*a));
  ASSERT_EQ(next.size(), 2u);
  const auto* probe = std::get_if<client_websocket_open>(&next[0]);
  ASSERT_NE(probe, nullptr);
  EXPECT_EQ(probe->target, "/engine.io/?EIO=4&transport=websocket&sid=abc");
  const auto* poll = std::get_if<client_http_request>(&next[1]);
  ASSERT_NE(poll, nullptr);
  EXPECT_EQ(poll->method, "GET");
  EXPECT_EQ(poll->target, "/engine.io/?EIO=4&transport=polling&sid=abc");
  ASSERT_EQ(poll->headers.size(), 2u);
  EXPECT_EQ(poll->headers[0].value, "Bearer t");
  EXPECT_NE(poll->request_id, get->request_id);
  EXPECT_NE(probe->connection, poll->request_id);

  // POSTs carry the same headers and a Content-Type.
  c->http_response_received(poll->request_id, 200, {}, "6", now);  // noop: keeps polling
  ASSERT_TRUE(c->send("hi", frame_kind::text, now));
  std::vector<client_action> after;
  while (auto a = c->next_action()) after.push_back(std::move(*a));
  ASSERT_EQ(after.size(), 2u);
  const auto* post = std::get_if<client_http_request>(&after[1]);
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->method, "POST");
  EXPECT_EQ(post->target, "/engine.io/?EIO=4&transport=polling&sid=abc");
  EXPECT_EQ(post->body, "4hi");
  EXPECT_EQ(post->content_type, "text/plain;charset=UTF-8");
  ASSERT_EQ(post->headers.size(), 2u);
  EXPECT_EQ(post->headers[1].name, "X-Trace");
}

TEST_F(client_test, handshake_fields_default_when_absent_and_unknown_keys_are_skipped) {
  handshake_v4(R"( { "sid" : "x\/y\u00e9", "n":-1.5e3, "b":true, "z":null, "l":[1,"2",[]] } )");
  EXPECT_EQ(events(), strings{"open polling sid=x/y\xc3\xa9 upgrades=[] pingInterval=25000 pingTimeout=20000 maxPayload=0"});
  // The sid is percent-encoded in targets; no upgrade offered, no probe.
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=x%2Fy%C3%A9"});
  // maxPayload 0 (not said): no limit on a POST.
  ASSERT_TRUE(c->send("first", frame_kind::text, now));
  actions();
  ASSERT_TRUE(c->send(std::string(2000, 'a'), frame_kind::text, now));
  ASSERT_TRUE(c->send(std::string(2000, 'b'), frame_kind::text, now));
  answer_post();
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=4&transport=polling&sid=x%2Fy%C3%A9 4" + std::string(2000, 'a') +
                               "\\x1e4" + std::string(2000, 'b')});
}

// Values the client does not read are skipped whatever they are, nested
// objects included, and the keys after them still count. One object and
// nothing after it: trailing bytes make the handshake a parse error.
TEST_F(client_test, handshake_skips_nested_objects_and_refuses_trailing_bytes) {
  handshake_v4(R"({"sid":"abc","x":{"a":{"b":[1,{"c":"}"}]}},"pingInterval":1000,"pingTimeout":500})");
  EXPECT_EQ(events(), strings{"open polling sid=abc upgrades=[] pingInterval=1000 pingTimeout=500 maxPayload=0"});
  handshake_v4(R"({"sid":"abc"}trailing garbage)");
  EXPECT_EQ(events(), (strings{"error bad handshake", "close parse error: bad handshake JSON"}));
  // Nesting deeper than the reader follows is refused, not recursed into.
  handshake_v4(R"({"sid":"abc","x":)" + std::string(100, '[') + std::string(100, ']') + "}");
  EXPECT_EQ(events(), (strings{"error bad handshake", "close parse error: bad handshake JSON"}));
}

TEST_F(client_test, query_parameters_come_first_in_order_and_percent_encoded) {
  opts.path = "/socket/";
  opts.query = {{"token", "a b&c=d"}, {"x/y", "\xc3\xa9~-._"}, {"empty", ""}};
  make().open(now);
  EXPECT_EQ(actions(),
            strings{"GET /socket/?token=a%20b%26c%3Dd&x%2Fy=%C3%A9~-._&empty=&EIO=4&transport=polling"});
  answer_get("0" + std::string(handshake_ws));
  EXPECT_EQ(actions(), (strings{"WS-OPEN ws1 /socket/?token=a%20b%26c%3Dd&x%2Fy=%C3%A9~-._&empty=&EIO=4&transport=websocket&sid=abc",
                                "GET /socket/?token=a%20b%26c%3Dd&x%2Fy=%C3%A9~-._&empty=&EIO=4&transport=polling&sid=abc"}));
}

TEST_F(client_test, v3_targets_and_b64) {
  opts.version = protocol_version::v3;
  make().open(now);
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=3&transport=polling"});

  opts.b64 = true;
  get_.reset();
  make().open(now);
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=3&transport=polling&b64=1"});
  // v3 text payload: <length>:<packet>.
  answer_get(v3_packet("0" + std::string(handshake_ws)));
  EXPECT_EQ(events(), strings{"open polling sid=abc upgrades=[websocket] pingInterval=1000 pingTimeout=500 maxPayload=100"});
  EXPECT_EQ(actions(), (strings{"WS-OPEN ws1 /engine.io/?EIO=3&transport=websocket&b64=1&sid=abc",
                                "GET /engine.io/?EIO=3&transport=polling&b64=1&sid=abc"}));

  // b64 is a v3 word only.
  opts = {};
  opts.b64 = true;
  get_.reset();
  make().open(now);
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling"});
}

TEST_F(client_test, exactly_one_get_in_flight_while_polling) {
  handshake_v4(handshake_no_upgrade);
  events();
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
  // Each answer, whatever it carries, is followed by exactly one new GET.
  const strings answers = {"6", "4one", "4two\x1e" "4three", "bAAH/", "6\x1e" "6", "5"};
  for (const std::string& body : answers) {
    answer_get(body);
    EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"}) << escaped(body);
    EXPECT_TRUE(get_.has_value());
  }
  EXPECT_EQ(events(), (strings{"text one", "text two", "text three", "binary \\x00\\x01\\xff"}));
  // A POST in flight changes nothing about the GET.
  ASSERT_TRUE(c->send("up", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=4&transport=polling&sid=abc 4up"});
  answer_post();
  EXPECT_TRUE(actions().empty());
  answer_get("4down");
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
  EXPECT_EQ(events(), strings{"text down"});
}

TEST_F(client_test, handshake_payload_may_carry_messages_after_the_open_packet) {
  make().open(now);
  actions();
  answer_get("0" + std::string(handshake_no_upgrade) + "\x1e" "4welcome");
  EXPECT_EQ(events(), (strings{"open polling sid=abc upgrades=[] pingInterval=1000 pingTimeout=500 maxPayload=100",
                               "text welcome"}));
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
}

TEST_F(client_test, messages_before_the_open_packet_are_dropped) {
  make().open(now);
  actions();
  answer_get("4early\x1e" "0" + std::string(handshake_no_upgrade));
  EXPECT_EQ(events(), strings{"open polling sid=abc upgrades=[] pingInterval=1000 pingTimeout=500 maxPayload=100"});
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
}

TEST_F(client_test, v3_binary_payload_from_a_server_of_xhr2_clients) {
  open_v3_polling();
  actions();
  // 0x00 <2> 0xff "4a"  then  0x01 <4> 0xff 0x04 00 01 ff
  answer_get(std::string("\x00\x02\xff" "4a" "\x01\x04\xff\x04\x00\x01\xff", 12), 200,
             {{"content-type", "application/octet-stream"}});
  EXPECT_EQ(events(), (strings{"text a", "binary \\x00\\x01\\xff"}));
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=3&transport=polling&sid=abc"});
  // The same bytes as a text payload are garbage.
  answer_get(std::string("\x00\x02\xff" "4a", 5));
  EXPECT_EQ(events(), (strings{"error bad poll payload: invalid_length", "close parse error: invalid_length at byte 0"}));
  EXPECT_EQ(c->state(), client_state::closed);
}

// ---- refused and failed handshakes

TEST_F(client_test, handshake_refused_with_400_and_json_code) {
  make().open(now);
  actions();
  answer_get(R"({"code":0,"message":"Transport unknown"})", 400, {{"Content-Type", "application/json"}});
  EXPECT_EQ(events(), (strings{R"(error poll answered 400: {"code":0,"message":"Transport unknown"})",
                               R"(close transport error: poll answered 400: {"code":0,"message":"Transport unknown"})"}));
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->state(), client_state::closed);
  EXPECT_FALSE(c->handshake().has_value());
  EXPECT_FALSE(c->next_deadline().has_value());
}

TEST_F(client_test, handshake_refused_with_403) {
  make().open(now);
  actions();
  answer_get("", 403);
  EXPECT_EQ(events(), (strings{"error poll answered 403", "close transport error: poll answered 403"}));
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->state(), client_state::closed);
}

TEST_F(client_test, handshake_request_failed) {
  make().open(now);
  actions();
  fail_get();
  EXPECT_EQ(events(), (strings{"error xhr poll error", "close transport error: xhr poll error"}));
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->state(), client_state::closed);
}

TEST_F(client_test, handshake_garbage_is_a_parse_error) {
  struct garbage {
    std::string body;
    strings events;
  };
  const std::vector<garbage> cases = {
      {"0not json", {"error bad handshake", "close parse error: bad handshake JSON"}},
      {R"(0{"upgrades":[]})", {"error bad handshake", "close parse error: bad handshake JSON"}},  // no sid
      {R"(0{"sid":""})", {"error bad handshake", "close parse error: bad handshake JSON"}},
      {R"(0{"sid":"abc","pingInterval":"1000"})", {"error bad handshake", "close parse error: bad handshake JSON"}},
      {R"(0{"sid":"abc")", {"error bad handshake", "close parse error: bad handshake JSON"}},
      {"", {"error bad poll payload: empty_payload", "close parse error: empty_payload at byte 0"}},
      {"9{}", {"error bad poll payload: unknown_packet_type", "close parse error: unknown_packet_type at byte 0"}},
      {"4hello", {"error the handshake response carried no open packet",
                  "close transport error: the handshake response carried no open packet"}},
  };
  for (const garbage& g : cases) {
    get_.reset();
    make().open(now);
    actions();
    answer_get(g.body);
    EXPECT_EQ(events(), g.events) << escaped(g.body);
    EXPECT_TRUE(actions().empty()) << escaped(g.body);
    EXPECT_EQ(c->state(), client_state::closed) << escaped(g.body);
  }
}

TEST_F(client_test, refused_poll_or_post_after_the_handshake_closes_with_transport_error) {
  handshake_v4(handshake_no_upgrade);
  events();
  actions();
  answer_get(R"({"code":1,"message":"Session ID unknown"})", 400);
  EXPECT_EQ(events(), (strings{R"(error poll answered 400: {"code":1,"message":"Session ID unknown"})",
                               R"(close transport error: poll answered 400: {"code":1,"message":"Session ID unknown"})"}));
  EXPECT_TRUE(actions().empty());

  get_.reset();
  post_.reset();
  handshake_v4(handshake_no_upgrade);
  events();
  actions();
  ASSERT_TRUE(c->send("x", frame_kind::text, now));
  actions();
  fail_post();
  EXPECT_EQ(events(), (strings{"error xhr post error", "close transport error: xhr post error"}));
  EXPECT_TRUE(actions().empty());
  EXPECT_FALSE(c->send("y", frame_kind::text, now));
}

// ------------------------------------------------------------ heartbeat

TEST_F(client_test, v4_ping_in_a_get_answer_is_answered_by_a_post) {
  handshake_v4(handshake_no_upgrade);
  events();
  actions();
  now = 1000ms;
  answer_get("2");
  EXPECT_EQ(actions(), (strings{"POST /engine.io/?EIO=4&transport=polling&sid=abc 3",
                                "GET /engine.io/?EIO=4&transport=polling&sid=abc"}));
  EXPECT_TRUE(events().empty());
  // A ping while a POST is in flight: the pong waits for it.
  ASSERT_TRUE(c->send("m", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());  // behind the pong's POST
  answer_post();
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=4&transport=polling&sid=abc 4m"});
  answer_get("2");
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
  answer_post();
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=4&transport=polling&sid=abc 3"});
  // v4 never pings on its own: the only deadline is the silence one.
  EXPECT_EQ(c->next_deadline(), std::optional<millis>(1000ms + 1500ms));
}

TEST_F(client_test, v4_ping_timeout_exactly_at_the_deadline) {
  handshake_v4(handshake_no_upgrade);
  events();
  actions();
  // pingInterval + pingTimeout after the handshake.
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(1500ms));
  // Anything from the server moves it.
  now = 1000ms;
  answer_get("2");
  actions();
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(2500ms));
  answer_post();
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(2500ms));  // a POST answer is not the server speaking

  const millis deadline = *c->next_deadline();
  now = deadline - 1ms;
  c->on_timeout(now);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(c->state(), client_state::open);
  EXPECT_EQ(c->next_deadline(), std::optional<millis>(deadline));
  now = deadline;
  c->on_timeout(now);
  EXPECT_EQ(events(), strings{"close ping timeout: nothing from the server for pingInterval + pingTimeout"});
  EXPECT_TRUE(actions().empty());
  EXPECT_FALSE(c->next_deadline().has_value());
}

TEST_F(client_test, v4_ping_timeout_on_websocket_only) {
  open_websocket_only();
  now = 900ms;
  c->websocket_message(ws(1), frame_kind::text, "2", now);
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 3"});
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(2400ms));
  c->on_timeout(2399ms);
  EXPECT_TRUE(events().empty());
  c->on_timeout(2400ms);
  EXPECT_EQ(events(), strings{"close ping timeout: nothing from the server for pingInterval + pingTimeout"});
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});
}

TEST_F(client_test, v3_client_pings_every_ping_interval_after_the_pong) {
  open_v3_polling();
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=3&transport=polling&sid=abc"});
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(1000ms));
  c->on_timeout(999ms);
  EXPECT_TRUE(actions().empty());
  now = 1000ms;
  c->on_timeout(now);
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=3&transport=polling&sid=abc 1:2"});
  // No second ping before the pong: the silence deadline is next.
  EXPECT_EQ(c->next_deadline(), std::optional<millis>(1500ms));
  answer_post();
  now = 1050ms;
  answer_get("1:3");
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=3&transport=polling&sid=abc"});
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(2050ms));
  c->on_timeout(2049ms);
  EXPECT_TRUE(actions().empty());
  now = 2050ms;
  c->on_timeout(now);
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=3&transport=polling&sid=abc 1:2"});
  answer_post();
  now = 2100ms;
  answer_get("1:3");
  actions();
  EXPECT_EQ(c->next_deadline(), std::optional<millis>(3100ms));
  EXPECT_TRUE(events().empty());
}

TEST_F(client_test, v3_times_out_without_pongs) {
  open_v3_polling();
  actions();
  now = 1000ms;
  c->on_timeout(now);
  EXPECT_EQ(actions(), strings{"POST /engine.io/?EIO=3&transport=polling&sid=abc 1:2"});
  answer_post();
  // The server answers the poll, but with no pong: the silence deadline
  // moves, the ping is not repeated.
  now = 1200ms;
  answer_get("1:6");
  actions();
  ASSERT_EQ(c->next_deadline(), std::optional<millis>(2700ms));
  c->on_timeout(2699ms);
  EXPECT_TRUE(actions().empty());
  EXPECT_TRUE(events().empty());
  c->on_timeout(2700ms);
  EXPECT_EQ(events(), strings{"close ping timeout: nothing from the server for pingInterval + pingTimeout"});
  EXPECT_TRUE(actions().empty());
}

// ------------------------------------------------------------ sending

class client_version_test : public client_test, public ::testing::WithParamInterface<protocol_version> {
protected:
  bool v4() const { return GetParam() == protocol_version::v4; }
  std::string eio() const { return v4() ? "EIO=4" : "EIO=3"; }
  std::string poll_target() const { return "/engine.io/?" + eio() + "&transport=polling&sid=abc"; }
  // The payload of one text packet: "4hi" (v4) or "3:4hi" (v3, ASCII only).
  std::string one(std::string_view packet) const {
    return v4() ? std::string(packet) : std::to_string(packet.size()) + ":" + std::string(packet);
  }
  std::string join(const strings& packets) const {
    std::string out;
    for (std::size_t i = 0; i < packets.size(); ++i) {
      if (v4() && i > 0) out += "\\x1e";
      out += one(packets[i]);
    }
    return out;
  }
  // After a probe that failed: a message still goes by POST and the poll
  // goes on.
  void expect_polling_goes_on() {
    ASSERT_TRUE(c->send("still", frame_kind::text, now));
    EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + one("4still")});
    answer_get(one("4here"));
    EXPECT_EQ(events(), strings{"text here"});
    EXPECT_EQ(actions(), strings{"GET " + poll_target()});
    EXPECT_EQ(c->transport(), transport_kind::polling);
  }

  void handshake(std::string_view json) {
    opts.version = GetParam();
    make().open(now);
    ASSERT_EQ(actions(), strings{"GET /engine.io/?" + eio() + "&transport=polling"});
    answer_get(one("0" + std::string(json)));
  }
};

INSTANTIATE_TEST_SUITE_P(versions, client_version_test, ::testing::Values(protocol_version::v4, protocol_version::v3),
                         [](const auto& param_info) { return name_of(param_info.param); });

TEST_P(client_version_test, messages_sent_while_opening_follow_the_handshake_in_order) {
  opts.version = GetParam();
  make();
  EXPECT_FALSE(c->send("too early", frame_kind::text, now));  // never opened
  c->open(now);
  actions();
  ASSERT_TRUE(c->send("one", frame_kind::text, now));
  ASSERT_TRUE(c->send("two", frame_kind::text, now));
  ASSERT_TRUE(c->send("three", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->buffered_packets(), 3u);
  answer_get(one("0" + std::string(handshake_ws)));
  events();
  EXPECT_EQ(actions(), (strings{"WS-OPEN ws1 /engine.io/?" + eio() + "&transport=websocket&sid=abc",
                                "POST " + poll_target() + " " + join({"4one", "4two", "4three"}),
                                "GET " + poll_target()}));
  EXPECT_EQ(c->buffered_packets(), 0u);
}

TEST_P(client_version_test, one_post_in_flight_at_a_time) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  ASSERT_TRUE(c->send("a", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + one("4a")});
  ASSERT_TRUE(c->send("b", frame_kind::text, now));
  ASSERT_TRUE(c->send("c", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->buffered_packets(), 2u);
  answer_post();
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + join({"4b", "4c"})});
  answer_post();
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->buffered_packets(), 0u);
}

TEST_P(client_version_test, a_post_never_exceeds_max_payload_but_carries_one_packet) {
  handshake(handshake_no_upgrade);  // maxPayload 100
  events();
  actions();
  ASSERT_TRUE(c->send("first", frame_kind::text, now));
  actions();
  // Two packets whose payload is exactly 100 bytes go together; one byte
  // more and they go in two POSTs.
  // v4: "4"+a + "\x1e" + "4"+b = a+b+3;  v3: "N:4"+a twice, N two digits: a+b+8.
  const std::size_t both = v4() ? 97 : 92;
  const std::string a(both / 2, 'a'), b(both - both / 2, 'b');
  ASSERT_TRUE(c->send(a, frame_kind::text, now));
  ASSERT_TRUE(c->send(b, frame_kind::text, now));
  answer_post();
  strings got = actions();
  ASSERT_EQ(got.size(), 1u);
  const std::string prefix = "POST " + poll_target() + " ";
  ASSERT_EQ(got[0], prefix + join({"4" + a, "4" + b}));
  EXPECT_EQ(got[0].size() - prefix.size() - (v4() ? 3 : 0), 100u);  // "\x1e" is rendered as 4 characters

  const std::string b2 = b + "b";
  ASSERT_TRUE(c->send(a, frame_kind::text, now));
  ASSERT_TRUE(c->send(b2, frame_kind::text, now));
  answer_post();
  EXPECT_EQ(actions(), strings{prefix + one("4" + a)});
  answer_post();
  EXPECT_EQ(actions(), strings{prefix + one("4" + b2)});
  answer_post();

  // A packet larger than maxPayload still goes, alone.
  const std::string big(300, 'x');
  ASSERT_TRUE(c->send(big, frame_kind::text, now));
  EXPECT_EQ(actions(), strings{prefix + one("4" + big)});
  ASSERT_TRUE(c->send("after", frame_kind::text, now));
  answer_post();
  EXPECT_EQ(actions(), strings{prefix + one("4after")});
}

TEST_P(client_version_test, many_small_messages_split_into_posts_of_at_most_max_payload) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  ASSERT_TRUE(c->send("start", frame_kind::text, now));
  actions();
  std::vector<std::string> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back("m" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7), '.'));
    ASSERT_TRUE(c->send(sent.back(), frame_kind::text, now));
  }
  std::vector<std::string> bodies;
  while (post_) {
    answer_post();
    std::optional<client_action> a;
    while ((a = c->next_action())) {
      const auto& r = std::get<client_http_request>(*a);
      post_ = r.request_id;
      bodies.push_back(r.body);
    }
  }
  // Decode them all back, as the server would.
  std::vector<std::string> delivered;
  for (const std::string& body : bodies) {
    EXPECT_LE(body.size(), 100u);
    payload_decoder decoder(GetParam(), payload_format::text);
    std::vector<packet> packets;
    ASSERT_FALSE(decoder.decode(body, packets)) << escaped(body);
    for (const packet& p : packets) delivered.emplace_back(p.data);
  }
  EXPECT_EQ(delivered, sent);
  EXPECT_GE(bodies.size(), 4u);  // 40 packets of 3..10 bytes
}

TEST_P(client_version_test, binary_messages_over_polling) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  ASSERT_TRUE(c->send(std::string("\x00\x01\xff", 3), frame_kind::binary, now));
  // v4: b<base64>; v3 text payload: b<type digit><base64>, its length counted.
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + (v4() ? "bAAH/" : "6:b4AAH/")});
  answer_get(v4() ? "bAAH/" : "6:b4AAH/");
  EXPECT_EQ(events(), strings{"binary \\x00\\x01\\xff"});
}

TEST_P(client_version_test, send_refused_once_closing_or_closed) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  c->close(now);
  EXPECT_FALSE(c->send("late", frame_kind::text, now));
  EXPECT_FALSE(c->send("late", frame_kind::binary, now));
}

// Text the polling payload cannot carry is refused by send(), where the
// caller hears of it; the server's send() has the same rule.
TEST_F(client_test, v4_text_with_a_record_separator_is_refused_while_polling_may_carry_it) {
  opts.polling = true;
  make().open(now);
  actions();
  EXPECT_FALSE(c->send("a\x1e" "4b", frame_kind::text, now)) << "while opening";
  answer_get("0" + std::string(handshake_no_upgrade));
  events();
  actions();
  // "a\x1e4b" would reach the server as two messages, "a" and "b".
  EXPECT_FALSE(c->send("a\x1e" "4b", frame_kind::text, now));
  EXPECT_FALSE(c->send("x\x1ey", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
  EXPECT_TRUE(c->send("a\x1e" "4b", frame_kind::binary, now)) << "binary is base64 in the payload: no separator";
  EXPECT_EQ(actions().size(), 1u);

  // Over a WebSocket-only session the frame carries it whole.
  open_websocket_only();
  ASSERT_TRUE(c->send("a\x1e" "4b", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 4a\\x1e4b"});
}

TEST_P(client_version_test, text_that_is_not_utf8_is_refused) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  EXPECT_FALSE(c->send("\xff", frame_kind::text, now));
  EXPECT_FALSE(c->send("ok \xc3", frame_kind::text, now)) << "a cut sequence";
  EXPECT_FALSE(c->send("\xed\xa0\x80", frame_kind::text, now)) << "a surrogate";
  EXPECT_TRUE(actions().empty());
  EXPECT_TRUE(c->send("\xff", frame_kind::binary, now)) << "binary is bytes";
  EXPECT_TRUE(c->send("h\xc3\xa9", frame_kind::text, now));

  // On a WebSocket too: a text frame that is not UTF-8 fails the connection
  // (RFC 6455 section 8.1).
  open_websocket_only();
  EXPECT_FALSE(c->send("\xff", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
}

// ------------------------------------------------------------ upgrade

TEST_P(client_version_test, upgrade_step_by_step) {
  handshake(handshake_ws);
  events();
  EXPECT_EQ(actions(), (strings{"WS-OPEN ws1 /engine.io/?" + eio() + "&transport=websocket&sid=abc", "GET " + poll_target()}));
  EXPECT_TRUE(c->upgrading());

  c->websocket_opened(ws(1), now);
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 2probe"});
  EXPECT_TRUE(events().empty());

  // Before "3probe" polling goes on as usual.
  ASSERT_TRUE(c->send("p1", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + one("4p1")});
  ASSERT_TRUE(c->send("p2", frame_kind::text, now));  // waits behind the POST

  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  EXPECT_EQ(events(), strings{"upgrading"});
  EXPECT_TRUE(actions().empty());  // the GET and the POST are still in flight
  EXPECT_EQ(c->transport(), transport_kind::polling);

  // The server answers the held GET (noop once probed), with one last message.
  answer_get(v4() ? "4s1\x1e" "6" : "3:4s11:6");
  EXPECT_EQ(events(), strings{"text s1"});
  EXPECT_TRUE(actions().empty());  // no new GET; the POST is still in flight
  ASSERT_TRUE(c->send("p3", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());  // no new POST either
  EXPECT_EQ(c->buffered_packets(), 2u);

  answer_post();
  // Now "5", then the buffered packets in order, all on the WebSocket.
  EXPECT_EQ(actions(), (strings{"WS-TEXT ws1 5", "WS-TEXT ws1 4p2", "WS-TEXT ws1 4p3"}));
  EXPECT_EQ(events(), strings{"upgrade"});
  EXPECT_EQ(c->transport(), transport_kind::websocket);
  EXPECT_FALSE(c->upgrading());
  EXPECT_EQ(c->buffered_packets(), 0u);

  // From now on: the WebSocket only.
  ASSERT_TRUE(c->send("w1", frame_kind::text, now));
  ASSERT_TRUE(c->send(std::string("\x00\xff", 2), frame_kind::binary, now));
  EXPECT_EQ(actions(), (strings{"WS-TEXT ws1 4w1", v4() ? "WS-BINARY ws1 \\x00\\xff" : "WS-BINARY ws1 \\x04\\x00\\xff"}));
  c->websocket_message(ws(1), frame_kind::text, "4ws", now);
  c->websocket_message(ws(1), frame_kind::binary, v4() ? std::string("\x01", 1) : std::string("\x04\x01", 2), now);
  EXPECT_EQ(events(), (strings{"text ws", "binary \\x01"}));
  c->websocket_message(ws(1), frame_kind::text, "2", now);
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 3"});
}

TEST_P(client_version_test, upgrade_waits_for_the_get_when_the_post_finishes_first) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  actions();
  ASSERT_TRUE(c->send("p1", frame_kind::text, now));
  actions();
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  EXPECT_EQ(events(), strings{"upgrading"});
  answer_post();
  EXPECT_TRUE(actions().empty());
  EXPECT_TRUE(events().empty());
  answer_get(one("6"));
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 5"});
  EXPECT_EQ(events(), strings{"upgrade"});
}

TEST_P(client_version_test, upgrade_with_only_the_get_in_flight) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  actions();
  // While polling a GET is always in flight, so the pause always waits for it.
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  EXPECT_EQ(events(), strings{"upgrading"});
  EXPECT_TRUE(actions().empty());
  answer_get(one("6"));
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 5"});
  EXPECT_EQ(events(), strings{"upgrade"});
  // Polling does not come back: no GET after the noop.
  EXPECT_FALSE(get_.has_value());
  ASSERT_TRUE(c->send("w", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 4w"});
}

TEST_P(client_version_test, a_probe_that_fails_to_connect_leaves_polling_working) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_failed(ws(1), now);
  EXPECT_EQ(events(), strings{"error probe error: websocket failed"});
  EXPECT_TRUE(actions().empty());  // never opened: nothing to close
  EXPECT_FALSE(c->upgrading());
  expect_polling_goes_on();
  EXPECT_EQ(c->state(), client_state::open);
}

TEST_P(client_version_test, a_probe_answered_with_another_packet_is_dropped) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  actions();
  c->websocket_message(ws(1), frame_kind::text, "4surprise", now);
  EXPECT_EQ(events(), strings{"error probe error: unexpected probe answer"});
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});
  // Anything later on the dropped probe is ignored.
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  c->websocket_closed(ws(1), now);
  EXPECT_TRUE(events().empty());
  EXPECT_TRUE(actions().empty());
  expect_polling_goes_on();
}

TEST_P(client_version_test, a_probe_closed_while_pausing_resumes_polling) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  actions();
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  EXPECT_EQ(events(), strings{"upgrading"});
  ASSERT_TRUE(c->send("held", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
  c->websocket_closed(ws(1), now);
  EXPECT_EQ(events(), strings{"error probe error: websocket closed"});
  // The GET is still in flight: only the held message goes out.
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + one("4held")});
  answer_get(one("6"));
  EXPECT_EQ(actions(), strings{"GET " + poll_target()});
  EXPECT_EQ(c->transport(), transport_kind::polling);
  EXPECT_EQ(c->state(), client_state::open);
}

TEST_F(client_test, no_probe_without_the_websocket_upgrade_or_when_upgrade_is_off) {
  handshake_v4(handshake_no_upgrade);
  events();
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});

  opts.upgrade = false;
  get_.reset();
  handshake_v4(handshake_ws);
  events();
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});

  opts = {};
  opts.websocket = false;
  get_.reset();
  handshake_v4(handshake_ws);
  events();
  EXPECT_EQ(actions(), strings{"GET /engine.io/?EIO=4&transport=polling&sid=abc"});
}

// ------------------------------------------------------------ websocket only

TEST_P(client_version_test, websocket_only_handshake) {
  opts.version = GetParam();
  opts.polling = false;
  make().open(now);
  EXPECT_EQ(actions(), strings{"WS-OPEN ws1 /engine.io/?" + eio() + "&transport=websocket"});
  EXPECT_EQ(c->transport(), transport_kind::websocket);
  ASSERT_TRUE(c->send("early", frame_kind::text, now));
  c->websocket_opened(ws(1), now);
  EXPECT_TRUE(actions().empty());  // the server speaks first
  EXPECT_TRUE(events().empty());
  c->websocket_message(ws(1), frame_kind::text, "0" + std::string(handshake_ws), now);
  EXPECT_EQ(events(), strings{"open websocket sid=abc upgrades=[websocket] pingInterval=1000 pingTimeout=500 maxPayload=100"});
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 4early"});  // no probe, no GET
  // No maxPayload batching on a WebSocket: one message per frame.
  const std::string big(300, 'z');
  ASSERT_TRUE(c->send(big, frame_kind::text, now));
  ASSERT_TRUE(c->send(std::string("\x00", 1), frame_kind::binary, now));
  EXPECT_EQ(actions(), (strings{"WS-TEXT ws1 4" + big, v4() ? "WS-BINARY ws1 \\x00" : "WS-BINARY ws1 \\x04\\x00"}));
  c->websocket_message(ws(1), frame_kind::text, "4hi", now);
  EXPECT_EQ(events(), strings{"text hi"});
}

TEST_F(client_test, websocket_only_v3_b64_sends_binary_as_base64_text) {
  opts.version = protocol_version::v3;
  opts.b64 = true;
  opts.polling = false;
  make().open(now);
  EXPECT_EQ(actions(), strings{"WS-OPEN ws1 /engine.io/?EIO=3&transport=websocket&b64=1"});
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "0" + std::string(handshake_no_upgrade), now);
  events();
  ASSERT_TRUE(c->send(std::string("\x00\x01\xff", 3), frame_kind::binary, now));
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 b4AAH/"});
}

// A fuzzer's find (FUZZING.md): a v3 server's binary ping (a binary frame
// whose type byte is 2) was answered with a text pong carrying raw bytes,
// which is not UTF-8. The pong keeps the ping's binary flag and bytes.
TEST_F(client_test, v3_binary_ping_gets_a_binary_pong) {
  opts.version = protocol_version::v3;
  open_websocket_only();
  c->websocket_message(ws(1), frame_kind::binary, std::string("\x02\xff\x00", 3), now);
  EXPECT_EQ(actions(), strings{"WS-BINARY ws1 \\x03\\xff\\x00"});
  c->websocket_message(ws(1), frame_kind::text, "2probe", now);
  EXPECT_EQ(actions(), strings{"WS-TEXT ws1 3probe"});
  EXPECT_TRUE(events().empty());
}

TEST_F(client_test, websocket_only_failures) {
  opts.polling = false;
  make().open(now);
  actions();
  c->websocket_failed(ws(1), now);
  EXPECT_EQ(events(), (strings{"error websocket error", "close transport error: websocket error"}));
  EXPECT_TRUE(actions().empty());

  ws_.clear();
  ids_.clear();
  make().open(now);
  actions();
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "0{", now);
  EXPECT_EQ(events(), (strings{"error bad handshake", "close parse error: bad handshake JSON"}));
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});

  ws_.clear();
  ids_.clear();
  make().open(now);
  actions();
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "", now);
  EXPECT_EQ(events(), (strings{"error bad frame: empty_packet", "close parse error: empty_packet at byte 0"}));
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});
}

// ------------------------------------------------------------ close

TEST_P(client_version_test, close_flushes_the_buffer_then_sends_the_close_packet) {
  handshake(handshake_no_upgrade);
  events();
  actions();
  ASSERT_TRUE(c->send("m1", frame_kind::text, now));
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + one("4m1")});
  ASSERT_TRUE(c->send("m2", frame_kind::text, now));
  ASSERT_TRUE(c->send("m3", frame_kind::text, now));
  c->close(now);
  EXPECT_EQ(c->state(), client_state::closing);
  EXPECT_TRUE(actions().empty());  // behind the POST in flight
  EXPECT_TRUE(events().empty());
  c->close(now);  // a second close changes nothing
  answer_post();
  EXPECT_EQ(actions(), strings{"POST " + poll_target() + " " + join({"4m2", "4m3", "1"})});
  EXPECT_EQ(events(), strings{"close forced close"});
  EXPECT_EQ(c->state(), client_state::closed);
  EXPECT_FALSE(c->next_deadline().has_value());
}

TEST_F(client_test, close_packet_obeys_max_payload_at_the_limit_and_one_past_it) {
  const std::string prefix = "POST /engine.io/?EIO=4&transport=polling&sid=abc ";
  for (const std::size_t size : {97u, 98u}) {
    handshake_v4(handshake_no_upgrade);  // maxPayload 100
    events();
    actions();
    ASSERT_TRUE(c->send("m1", frame_kind::text, now));
    actions();
    const std::string big(size, 'x');
    ASSERT_TRUE(c->send(big, frame_kind::text, now));
    c->close(now);
    answer_post();
    if (size == 97) {
      // "4" + 97 + "\x1e" + "1": exactly 100 bytes, one POST.
      EXPECT_EQ(actions(), strings{prefix + "4" + big + "\\x1e1"});
    } else {
      // 101 bytes: the close packet waits for the next POST.
      EXPECT_EQ(actions(), strings{prefix + "4" + big});
      EXPECT_TRUE(events().empty());
      EXPECT_EQ(c->state(), client_state::closing);
      answer_post();
      EXPECT_EQ(actions(), strings{prefix + "1"});
    }
    EXPECT_EQ(events(), strings{"close forced close"}) << size;
  }
}

TEST_P(client_version_test, close_while_opening_ends_at_once) {
  opts.version = GetParam();
  make().open(now);
  actions();
  ASSERT_TRUE(c->send("never", frame_kind::text, now));
  c->close(now);
  EXPECT_EQ(events(), strings{"close forced close"});
  EXPECT_TRUE(actions().empty());
  EXPECT_EQ(c->buffered_packets(), 0u);
  // The handshake answer that comes anyway is ignored.
  answer_get(one("0" + std::string(handshake_ws)));
  EXPECT_TRUE(events().empty());
  EXPECT_TRUE(actions().empty());
  EXPECT_FALSE(c->handshake().has_value());
}

TEST_P(client_version_test, close_on_the_websocket) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  answer_get(one("6"));
  EXPECT_EQ(events(), (strings{"upgrading", "upgrade"}));
  EXPECT_EQ(actions(), (strings{"WS-TEXT ws1 2probe", "WS-TEXT ws1 5"}));
  ASSERT_TRUE(c->send("last", frame_kind::text, now));
  c->close(now);
  EXPECT_EQ(actions(), (strings{"WS-TEXT ws1 4last", "WS-TEXT ws1 1", "WS-CLOSE ws1"}));
  EXPECT_EQ(events(), strings{"close forced close"});
}

TEST_P(client_version_test, server_close_packet_is_transport_close) {
  handshake(handshake_ws);
  events();
  actions();  // the probe is connecting
  ASSERT_TRUE(c->send("pending", frame_kind::text, now));
  actions();
  answer_get(v4() ? "4bye\x1e" "1" : "4:4bye1:1");
  EXPECT_EQ(events(), (strings{"text bye", "close transport close: the server closed the session"}));
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});  // the probe; no new GET
  EXPECT_EQ(c->state(), client_state::closed);
}

TEST_P(client_version_test, inputs_after_close_are_ignored) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  actions();
  ASSERT_TRUE(c->send("x", frame_kind::text, now));
  actions();
  c->close(now);
  answer_post();
  EXPECT_EQ(events(), strings{"close forced close"});
  EXPECT_EQ(actions(), (strings{"POST " + poll_target() + " " + one("1"), "WS-CLOSE ws1"}));
  ASSERT_TRUE(get_.has_value());
  ASSERT_TRUE(post_.has_value());

  // Every input, every kind: no action, no event.
  const connection_id get = *get_, post = *post_;
  c->http_response_received(get, 200, {}, one("4late"), now);
  c->http_response_received(post, 500, {}, "", now);
  c->http_failed(get, now);
  c->http_failed(post, now);
  c->http_response_received(999, 200, {}, one("4stranger"), now);
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  c->websocket_message(ws(1), frame_kind::text, "4late", now);
  c->websocket_failed(ws(1), now);
  c->websocket_closed(ws(1), now);
  c->on_timeout(now + 1h);
  c->open(now);
  c->close(now);
  EXPECT_FALSE(c->send("late", frame_kind::text, now));
  EXPECT_TRUE(actions().empty());
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(c->state(), client_state::closed);
  EXPECT_FALSE(c->next_deadline().has_value());
  EXPECT_EQ(c->buffered_packets(), 0u);
}

TEST_P(client_version_test, websocket_closed_by_the_server_is_transport_close) {
  opts.version = GetParam();
  open_websocket_only();
  c->websocket_closed(ws(1), now);
  EXPECT_EQ(events(), strings{"close transport close: the server closed the websocket"});
  EXPECT_TRUE(actions().empty());  // already closed by the server
  EXPECT_EQ(c->state(), client_state::closed);
}

TEST_P(client_version_test, websocket_closed_after_the_upgrade_is_transport_close) {
  handshake(handshake_ws);
  events();
  actions();
  c->websocket_opened(ws(1), now);
  c->websocket_message(ws(1), frame_kind::text, "3probe", now);
  answer_get(one("6"));
  events();
  actions();
  c->websocket_closed(ws(1), now);
  EXPECT_EQ(events(), strings{"close transport close: the server closed the websocket"});
  EXPECT_TRUE(actions().empty());
}

TEST_F(client_test, server_close_packet_on_the_websocket) {
  open_websocket_only();
  c->websocket_message(ws(1), frame_kind::text, "1", now);
  EXPECT_EQ(events(), strings{"close transport close: the server closed the session"});
  EXPECT_EQ(actions(), strings{"WS-CLOSE ws1"});
}

// ------------------------------------------------------------ the upgrade sweep

// A scripted server, just enough of one: decodes the client's POSTs and
// frames, holds the GET until it has something to say, answers "2probe" with
// "3probe" (and a held GET with a noop) when the test says so, and switches
// to the WebSocket on "5". POSTs stay in flight until a tick.
class scripted_pair {
public:
  explicit scripted_pair(protocol_version version) : version_(version) {
    client_options o;
    o.version = version;
    client_.emplace(o);
  }

  // ops: 'c' client sends, 's' server sends, 't' tick (answer the POST in
  // flight), 'O' the probe connects, 'P' the server answers the probe.
  void run(const std::string& ops) {
    client_->open(now_);
    pump();
    EXPECT_TRUE(get_.has_value());
    answer_get(one_payload(R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":500,"maxPayload":1000000})"));
    pump();
    for (const char op : ops) {
      switch (op) {
        case 'c': {
          const std::string m = "c" + std::to_string(client_sent_++);
          EXPECT_TRUE(client_->send(m, frame_kind::text, now_));
          break;
        }
        case 's': server_queue_.push_back("s" + std::to_string(server_sent_++)); break;
        case 't': tick(); break;
        case 'O': client_->websocket_opened(probe_, now_); break;
        case 'P':
          EXPECT_TRUE(probed_);
          client_->websocket_message(probe_, frame_kind::text, "3probe", now_);
          if (get_) answer_get(one_payload("6"));
          break;
      }
      pump();
    }
    // Settle: every POST answered, every queued message delivered.
    for (int i = 0; i < 10; ++i) {
      tick();
      pump();
    }
  }

  std::vector<std::string> server_received, client_received;
  int upgrades = 0;
  std::optional<std::string> failure;
  std::optional<client> client_;

  transport_kind transport() const { return client_->transport(); }

private:
  std::string one_payload(std::string packet) const {
    if (version_ == protocol_version::v4) return packet;
    return std::to_string(packet.size()) + ":" + packet;  // ASCII only here
  }

  void tick() {
    if (post_) {
      const connection_id id = *post_;
      post_.reset();
      client_->http_response_received(id, 200, {}, "ok", now_);
    }
  }

  void answer_get(std::string body) {
    const connection_id id = *get_;
    get_.reset();
    client_->http_response_received(id, 200, {}, std::move(body), now_);
  }

  void fail(const std::string& why) {
    if (!failure) failure = why;
  }

  void on_packet(const packet& p, bool from_ws) {
    if (p.type == packet_type::message) {
      server_received.emplace_back(p.data);
      return;
    }
    if (p.type == packet_type::ping && p.data == "probe" && from_ws) {
      probed_ = true;
      return;
    }
    if (p.type == packet_type::upgrade && from_ws) {
      if (post_ || get_) fail("5 with a request in flight");
      upgraded_ = true;
      return;
    }
    fail("unexpected packet type " + std::to_string(static_cast<int>(p.type)));
  }

  // Moves everything between the client and this server until both are idle.
  void pump() {
    for (bool busy = true; busy;) {
      busy = false;
      // Events first: "upgrading" pauses polling for the actions queued with it.
      while (std::optional<client_event> e = client_->next_event()) {
        if (const auto* m = std::get_if<client_message_event>(&*e)) client_received.push_back(m->data);
        if (std::holds_alternative<client_upgrading_event>(*e)) paused_ = true;
        if (std::holds_alternative<client_upgrade_event>(*e)) ++upgrades;
        if (const auto* cl = std::get_if<client_close_event>(&*e)) fail("closed: " + std::string(to_string(cl->reason)));
        if (const auto* err = std::get_if<client_error_event>(&*e)) fail("error: " + err->message);
      }
      while (std::optional<client_action> a = client_->next_action()) {
        busy = true;
        if (const auto* r = std::get_if<client_http_request>(&*a)) {
          if (r->method == "GET") {
            if (get_) fail("two GETs in flight");
            if (paused_) fail("a GET after upgrading");
            if (upgraded_) fail("a GET after the upgrade");
            get_ = r->request_id;
          } else {
            if (post_) fail("two POSTs in flight");
            if (paused_) fail("a POST after upgrading");
            if (upgraded_) fail("a POST after the upgrade");
            post_ = r->request_id;
            payload_decoder decoder(version_, payload_format::text);
            std::vector<packet> packets;
            if (decoder.decode(r->body, packets)) fail("POST does not decode: " + escaped(r->body));
            for (const packet& p : packets) on_packet(p, false);
          }
        } else if (const auto* o = std::get_if<client_websocket_open>(&*a)) {
          probe_ = o->connection;
        } else if (const auto* s = std::get_if<client_websocket_send>(&*a)) {
          if (s->connection != probe_) fail("a frame on an unknown connection");
          packet p;
          std::string scratch;
          if (decode_frame(s->data, s->kind, version_, p, scratch)) fail("frame does not decode");
          if (!upgraded_ && !(p.type == packet_type::ping || p.type == packet_type::upgrade)) {
            fail("a message on the probe before 5: " + escaped(s->data));
          }
          on_packet(p, true);
        } else {
          fail("the client closed a WebSocket");
        }
      }
      // The server speaks: on the WebSocket once upgraded, else on a held GET.
      if (!server_queue_.empty()) {
        if (upgraded_) {
          busy = true;
          for (const std::string& m : server_queue_) client_->websocket_message(probe_, frame_kind::text, "4" + m, now_);
          server_queue_.clear();
        } else if (get_) {
          // Like the Node server, polling still carries messages between
          // "2probe" and "5"; after "3probe" the client sends no new GET.
          busy = true;
          std::string body;
          for (std::size_t i = 0; i < server_queue_.size(); ++i) {
            if (version_ == protocol_version::v4 && i > 0) body += '\x1e';
            body += one_payload("4" + server_queue_[i]);
          }
          server_queue_.clear();
          answer_get(std::move(body));
        }
      }
    }
  }

  protocol_version version_;
  millis now_{0};
  int client_sent_ = 0, server_sent_ = 0;
  std::deque<std::string> server_queue_;
  std::optional<connection_id> get_, post_;
  connection_id probe_ = 0;
  bool probed_ = false, paused_ = false, upgraded_ = false;
};

class client_sweep_test : public ::testing::TestWithParam<protocol_version> {};

INSTANTIATE_TEST_SUITE_P(versions, client_sweep_test, ::testing::Values(protocol_version::v4, protocol_version::v3),
                         [](const auto& param_info) { return name_of(param_info.param); });

// The probe connects before op `open_at` and is answered before op
// `probe_at`, for every pair of positions in a stream of client and server
// messages; POSTs are answered every `tick_every` ops, so some stay in
// flight across the pause. Every message arrives once, in order.
TEST_P(client_sweep_test, upgrade_at_every_point_of_a_two_way_stream) {
  constexpr int messages = 6;
  std::string stream;
  for (int i = 0; i < messages; ++i) stream += "cs";
  int runs = 0;
  for (const int tick_every : {1, 3}) {
    std::string ticked;
    for (std::size_t i = 0; i < stream.size(); ++i) {
      ticked += stream[i];
      if ((i + 1) % static_cast<std::size_t>(tick_every) == 0) ticked += 't';
    }
    for (std::size_t open_at = 0; open_at <= ticked.size(); ++open_at) {
      for (std::size_t probe_at = open_at; probe_at <= ticked.size(); ++probe_at) {
        std::string ops = ticked;
        ops.insert(probe_at, 1, 'P');
        ops.insert(open_at, 1, 'O');
        scripted_pair pair(GetParam());
        pair.run(ops);
        ++runs;
        std::vector<std::string> want_c, want_s;
        for (int i = 0; i < messages; ++i) {
          want_c.push_back("c" + std::to_string(i));
          want_s.push_back("s" + std::to_string(i));
        }
        ASSERT_FALSE(pair.failure.has_value()) << ops << ": " << *pair.failure;
        ASSERT_EQ(pair.server_received, want_c) << ops;
        ASSERT_EQ(pair.client_received, want_s) << ops;
        ASSERT_EQ(pair.upgrades, 1) << ops;
        ASSERT_EQ(pair.transport(), transport_kind::websocket) << ops;
      }
    }
  }
  EXPECT_GT(runs, 400);
}

}  // namespace
}  // namespace eio::test
