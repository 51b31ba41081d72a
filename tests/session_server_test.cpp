// The server core's rules, one test each, driven through server_harness
// with a fake clock (no sleeps, no sockets). Fact numbers refer to
// docs/node-reference-behaviour.md.
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include "server_harness.hpp"

#include <set>
#include <string>
#include <vector>

namespace eio {
namespace {

using test::all_of_kind;
using test::get;
using test::opened;
using test::owned_packet;
using test::server_harness;
using test::websocket;

constexpr auto v4 = protocol_version::v4;
constexpr auto v3 = protocol_version::v3;

owned_packet pk(packet_type type, std::string data = {}, bool binary = false) { return {type, binary, std::move(data)}; }
owned_packet msg(std::string data) { return pk(packet_type::message, std::move(data)); }

std::vector<owned_packet> body_packets(const std::optional<http_response>& r, protocol_version version) {
  if (!r) return {};
  return test::decode_body(*r, version).value_or(std::vector<owned_packet>{});
}

std::string header_or(const http_response& r, std::string_view name) {
  return std::string(find_header(r.headers, name).value_or("<none>"));
}

server_options eio3_options() {
  server_options o;
  o.allow_eio3 = true;
  return o;
}

#define EXPECT_CLEAN(h) EXPECT_EQ((h).problems(), "")

// ---------------------------------------------------------------- verification (node-reference-behaviour.md, "Request verification and errors")

struct refusal_case {
  const char* name;
  http_request request;
  request_error code;
  int status;
};

TEST(session_verify, each_error_code_has_its_status_json_body_and_event) {
  server_options options;
  options.allow_request = [](const http_request& r) {
    return r.header_value("x-deny") ? request_verdict::deny() : request_verdict::allow();
  };
  const std::vector<refusal_case> cases = {
      {"unknown transport", get("EIO=4&transport=carrier-pigeon"), request_error::unknown_transport, 400},
      {"unknown sid", get("EIO=4&transport=polling&sid=nope"), request_error::unknown_sid, 400},
      {"bad method", test::post("EIO=4&transport=polling", "1:4"), request_error::bad_handshake_method, 400},
      {"bad request", get("EIO=4&transport=websocket"), request_error::bad_request, 400},
      {"forbidden", get("EIO=4&transport=polling", {{"X-Deny", "1"}}), request_error::forbidden, 403},
      {"version", get("EIO=3&transport=polling"), request_error::unsupported_protocol_version, 400},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    server_harness h(options);
    const connection_id conn = h.request(c.request);
    const auto out = h.take();
    const auto r = out.response(conn);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(header_or(*r, "Content-Type"), "application/json");
    EXPECT_EQ(r->body, "{\"code\":" + std::to_string(static_cast<int>(c.code)) + ",\"message\":\"" +
                           std::string(default_message(c.code)) + "\"}");
    const auto e = test::first_of_kind<connection_error_event>(out.events);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, c.code);
    ASSERT_TRUE(e->request);
    EXPECT_EQ(e->request->query, c.request.query);
    EXPECT_TRUE(e->request->body.empty());
    EXPECT_EQ(h.srv().session_count(), 0u);
    EXPECT_EQ(out.actions.size(), 1u);
    EXPECT_CLEAN(h);
  }
}

request_error refusal_code(server_harness& h, http_request r, bool ws = false) {
  const connection_id c = ws ? h.ws(r) : h.request(std::move(r));
  const auto out = h.take();
  const auto e = test::first_of_kind<connection_error_event>(out.events);
  EXPECT_TRUE(e) << "no refusal";
  EXPECT_TRUE(out.response(c));
  return e ? e->code : request_error::bad_request;
}

TEST(session_verify, checks_run_in_the_references_order) {
  bool asked = false;
  server_options options;
  options.allow_request = [&](const http_request&) {
    asked = true;
    return request_verdict::deny();
  };
  server_harness h(options);
  // Unknown transport wins over unknown sid and an invalid origin.
  EXPECT_EQ(refusal_code(h, get("EIO=4&transport=nope&sid=x", {{"Origin", "a\nb"}})), request_error::unknown_transport);
  // Origin before sid.
  EXPECT_EQ(refusal_code(h, get("EIO=4&transport=polling&sid=x", {{"Origin", "a\x01"}})), request_error::bad_request);
  // Bad method before allow_request before the version.
  EXPECT_EQ(refusal_code(h, test::make_request("PUT", "EIO=9&transport=polling")), request_error::bad_handshake_method);
  EXPECT_FALSE(asked);
  EXPECT_EQ(refusal_code(h, get("EIO=9&transport=polling")), request_error::forbidden);
  EXPECT_TRUE(asked);
  EXPECT_CLEAN(h);
}

TEST(session_verify, version_missing_or_three_without_allow_eio3) {
  for (const char* query : {"transport=polling", "EIO=3&transport=polling", "EIO=5&transport=polling"}) {
    SCOPED_TRACE(query);
    server_harness h;
    EXPECT_EQ(refusal_code(h, get(query)), request_error::unsupported_protocol_version);
  }
  server_harness h(eio3_options());
  EXPECT_TRUE(h.handshake(v3).ok());
}

TEST(session_verify, origin_characters) {
  for (const char* bad : {"http://a\x01", "x\ny", "\x7F"}) {
    server_harness h;
    EXPECT_EQ(refusal_code(h, get("EIO=4&transport=polling", {{"Origin", bad}})), request_error::bad_request);
  }
  for (const char* good : {"http://a\tb", "http://\x80\xFF", "undefined"}) {
    server_harness h;
    EXPECT_TRUE(h.handshake(v4, {}, {{"Origin", good}}).ok()) << good;
  }
}

TEST(session_verify, websocket_refusals_are_400_text_html_even_forbidden) {
  server_options options;
  options.allow_request = [](const http_request&) { return request_verdict::deny("go away"); };
  server_harness h(options);
  const connection_id c = h.ws(websocket("EIO=4&transport=websocket"));
  auto out = h.take();
  auto r = out.response(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(header_or(*r, "Content-Type"), "text/html");
  EXPECT_EQ(r->body, "go away");
  const auto e = test::first_of_kind<connection_error_event>(out.events);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, request_error::forbidden);
  EXPECT_EQ(default_message(e->code), "Forbidden");

  const connection_id c2 = h.ws(websocket("EIO=4&transport=websocket&sid=nope"));
  r = h.take().response(c2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "Session ID unknown");
  EXPECT_CLEAN(h);
}

TEST(session_verify, allow_request_denial_uses_its_message_in_the_body_only) {
  server_options options;
  options.allow_request = [](const http_request&) { return request_verdict::deny("no tokens"); };
  server_harness h(options);
  const connection_id c = h.request(get("EIO=4&transport=polling"));
  const auto out = h.take();
  const auto r = out.response(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "{\"code\":4,\"message\":\"no tokens\"}");
  EXPECT_EQ(test::first_of_kind<connection_error_event>(out.events)->code, request_error::forbidden);
}

TEST(session_verify, allow_request_runs_on_upgrades_not_on_polls) {
  int calls = 0;
  bool deny = false;
  server_options options;
  options.allow_request = [&](const http_request&) {
    ++calls;
    return deny ? request_verdict::deny() : request_verdict::allow();
  };
  server_harness h(options);
  const opened o = h.handshake();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(calls, 1);
  h.poll(o);
  EXPECT_EQ(calls, 1);
  deny = true;
  const connection_id c = h.upgrade_request(o);  // difference (4)
  EXPECT_EQ(calls, 2);
  const auto r = h.take().response(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(h.srv().session_count(), 1u);
  EXPECT_CLEAN(h);
}

// ---------------------------------------------------------------- handshake (node-reference-behaviour.md, "Handshake")

TEST(session_handshake, v4_open_packet_exact) {
  server_options options;
  options.ping_interval = millis(300);
  options.ping_timeout = millis(200);
  options.max_http_buffer_size = 1234;
  server_harness h(options);
  const opened o = h.handshake();
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.packets.size(), 1u);
  EXPECT_EQ(o.packets[0].data, "{\"sid\":\"" + o.sid +
                                   "\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\"pingTimeout\":200,"
                                   "\"maxPayload\":1234}");
  const auto r = o.out.response(o.connection);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(header_or(*r, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(header_or(*r, "Cache-Control"), "no-store");
  EXPECT_EQ(header_or(*r, "Set-Cookie"), "<none>");
  EXPECT_EQ(r->body[0], '0');
  ASSERT_EQ(o.out.count<connection_event>(), 1u);
  EXPECT_EQ(h.srv().session_protocol(o.ref), v4);
  EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::polling);
  EXPECT_EQ(h.srv().session_id(o.ref), o.sid);
}

TEST(session_handshake, connection_event_carries_id_transport_and_version_for_a_session_already_gone) {
  // An adapter may hand the core a handshake and its close in one turn; the
  // application reads the connection_event after the core forgot the session.
  for (const protocol_version version : {v4, v3}) {
    server_harness h(eio3_options());
    const opened o = h.websocket_handshake(version);
    ASSERT_TRUE(o.ok());
    h.ws_closed(o.connection);
    EXPECT_EQ(h.srv().session_id(o.ref), "");
    const auto e = test::first_of_kind<connection_event>(o.out.events);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->id, o.sid);
    EXPECT_EQ(e->transport, transport_kind::websocket);
    EXPECT_EQ(e->version, version);
  }
  server_harness h(eio3_options());
  const opened polled = h.handshake(v3);
  ASSERT_TRUE(polled.ok());
  const auto e = test::first_of_kind<connection_event>(polled.out.events);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, polled.sid);
  EXPECT_EQ(e->transport, transport_kind::polling);
  EXPECT_EQ(e->version, v3);
}

TEST(session_handshake, v3_gets_the_same_json_in_v3_framing) {
  server_harness h(eio3_options());
  const opened o = h.handshake(v3);
  ASSERT_TRUE(o.ok());
  const auto r = o.out.response(o.connection);
  const std::string json = "{\"sid\":\"" + o.sid +
                           "\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,"
                           "\"maxPayload\":1000000}";
  EXPECT_EQ(r->body, std::to_string(json.size() + 1) + ":0" + json);
  EXPECT_EQ(h.srv().session_protocol(o.ref), v3);
}

TEST(session_handshake, upgrades_empty_for_websocket_and_when_disabled) {
  {
    server_harness h;
    const opened o = h.websocket_handshake();
    ASSERT_TRUE(o.ok());
    EXPECT_NE(o.packets[0].data.find("\"upgrades\":[]"), std::string::npos);
    EXPECT_TRUE(o.out.accepted(o.connection));
    EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::websocket);
  }
  for (int which = 0; which < 2; ++which) {
    server_options options;
    (which == 0 ? options.allow_upgrades : options.allow_websocket) = false;
    server_harness h(options);
    const opened o = h.handshake();
    ASSERT_TRUE(o.ok());
    EXPECT_NE(o.packets[0].data.find("\"upgrades\":[]"), std::string::npos) << which;
  }
}

TEST(session_handshake, initial_packet_rides_in_the_same_payload_or_next_frame) {
  server_options options;
  options.initial_packet = "welcome";
  server_harness h(options);
  const opened o = h.handshake();
  ASSERT_EQ(o.packets.size(), 2u);
  EXPECT_EQ(o.packets[1], msg("welcome"));
  const opened w = h.websocket_handshake();
  ASSERT_EQ(w.packets.size(), 2u);
  EXPECT_EQ(w.packets[1], msg("welcome"));
}

TEST(session_handshake, cookie_only_on_the_polling_handshake) {
  server_options options;
  options.cookie = cookie_options{};
  server_harness h(options);
  const opened o = h.handshake();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(header_or(*o.out.response(o.connection), "Set-Cookie"), "io=" + o.sid + "; Path=/; HttpOnly; SameSite=Lax");
  h.send(o.ref, "x");
  const connection_id g = h.poll(o);
  EXPECT_EQ(header_or(*h.take().response(g), "Set-Cookie"), "<none>");
  const opened w = h.websocket_handshake();
  const auto accept = test::first_of_kind<websocket_accept>(w.out.actions);
  ASSERT_TRUE(accept);
  EXPECT_FALSE(find_header(accept->headers, "Set-Cookie"));
}

TEST(session_handshake, initial_headers_on_handshake_only_headers_on_every_response) {
  server_options options;
  options.initial_headers = [](const http_request&, header_list& hs) { hs.push_back({"X-Initial", "1"}); };
  options.headers = [](const http_request&, header_list& hs) { hs.push_back({"X-Every", "1"}); };
  server_harness h(options);
  const opened o = h.handshake();
  const auto first = *o.out.response(o.connection);
  EXPECT_EQ(header_or(first, "X-Initial"), "1");
  EXPECT_EQ(header_or(first, "X-Every"), "1");
  const connection_id p = h.post_packets(o, {msg("a")});
  h.send(o.ref, "b");
  const connection_id g = h.poll(o);
  const auto out = h.take();
  for (const connection_id c : {p, g}) {
    const auto r = out.response(c);
    ASSERT_TRUE(r);
    EXPECT_EQ(header_or(*r, "X-Initial"), "<none>");
    EXPECT_EQ(header_or(*r, "X-Every"), "1");
  }
  const connection_id u = h.upgrade_request(o);
  const auto accept = test::first_of_kind<websocket_accept>(h.take().actions);
  ASSERT_TRUE(accept);
  EXPECT_EQ(accept->connection, u);
  EXPECT_EQ(std::string(find_header(accept->headers, "X-Every").value_or("")), "1");
  EXPECT_FALSE(find_header(accept->headers, "X-Initial"));
}

TEST(session_handshake, cors_headers_on_responses_and_errors_and_preflight) {
  server_options options;
  options.cors = cors_options{};
  options.cors->origins = {"https://app.example"};
  options.cors->credentials = true;
  server_harness h(options);
  const header_list origin = {{"Origin", "https://app.example"}};
  const opened o = h.handshake(v4, {}, origin);
  const auto r = *o.out.response(o.connection);
  EXPECT_EQ(header_or(r, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(header_or(r, "Access-Control-Allow-Credentials"), "true");

  const connection_id bad = h.request(get("EIO=4&transport=polling&sid=nope", origin));
  const auto e = *h.take().response(bad);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(header_or(e, "Access-Control-Allow-Origin"), "https://app.example");

  const connection_id pre = h.request(test::make_request(
      "OPTIONS", "EIO=4&transport=polling", {{"Origin", "https://app.example"}, {"Access-Control-Request-Headers", "x-a"}}));
  const auto p = *h.take().response(pre);
  EXPECT_EQ(p.status, 204);
  EXPECT_EQ(header_or(p, "Access-Control-Allow-Methods"), "GET,POST");
  EXPECT_EQ(header_or(p, "Access-Control-Allow-Headers"), "x-a");
  EXPECT_TRUE(p.body.empty());

  const connection_id other = h.request(get("EIO=4&transport=polling&sid=nope", {{"Origin", "https://evil"}}));
  EXPECT_EQ(header_or(*h.take().response(other), "Access-Control-Allow-Origin"), "<none>");
  EXPECT_CLEAN(h);
}

TEST(session_handshake, without_cors_no_cors_headers_and_options_is_refused) {
  server_harness h;
  const opened o = h.handshake(v4, {}, {{"Origin", "https://app.example"}});
  EXPECT_EQ(header_or(*o.out.response(o.connection), "Access-Control-Allow-Origin"), "<none>");
  const connection_id pre = h.request(test::make_request("OPTIONS", "EIO=4&transport=polling", {{"Origin", "x"}}));
  EXPECT_EQ(h.take().response(pre)->status, 400);
}

TEST(session_handshake, sids_are_20_url_safe_characters_and_unique) {
  server_harness h;
  std::set<std::string> seen;
  // No std::regex: GCC 12 warns inside <regex> under -fsanitize (maybe-uninitialized).
  const auto url_safe_20 = [](const std::string& id) {
    if (id.size() != 20) return false;
    for (const char c : id) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) return false;
    }
    return true;
  };
  for (int i = 0; i < 200; ++i) {
    const opened o = h.handshake();
    ASSERT_TRUE(o.ok());
    EXPECT_TRUE(url_safe_20(o.sid)) << o.sid;
    EXPECT_TRUE(seen.insert(o.sid).second);
  }
  EXPECT_EQ(h.srv().session_count(), 200u);
}

TEST(session_handshake, custom_generate_id_and_collisions_are_retried) {
  int n = 0;
  server_options options;
  options.generate_id = [&] { return "id" + std::to_string(n++ / 2); };  // each id twice
  server_harness h(options);
  const opened a = h.handshake();
  const opened b = h.handshake();
  EXPECT_EQ(a.sid, "id0");
  EXPECT_EQ(b.sid, "id1");
  EXPECT_NE(a.ref, b.ref);
}

TEST(session_handshake, v3_b64_sends_binary_as_base64_text) {
  server_harness h(eio3_options());
  const opened plain = h.handshake(v3);
  h.send(plain.ref, std::string("\x01\x02", 2), frame_kind::binary);
  const connection_id g1 = h.poll(plain);
  const auto r1 = *h.take().response(g1);
  EXPECT_EQ(header_or(r1, "Content-Type"), "application/octet-stream");
  EXPECT_EQ(body_packets(r1, v3), std::vector<owned_packet>{pk(packet_type::message, std::string("\x01\x02", 2), true)});

  const opened b64 = h.handshake(v3, "b64=1");
  h.send(b64.ref, std::string("\x01\x02", 2), frame_kind::binary);
  const connection_id g2 = h.poll(b64);
  const auto r2 = *h.take().response(g2);
  EXPECT_EQ(header_or(r2, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(r2.body, "6:b4AQI=");
}

// The sid in a JSONP handshake answer: the string literal's \" back to ",
// then the handshake JSON's field.
std::string jsonp_handshake_sid(const std::string& body) {
  std::string unescaped;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (!(body[i] == '\\' && i + 1 < body.size() && body[i + 1] == '"')) unescaped += body[i];
  }
  return test::json_field(unescaped, "sid").value_or("");
}

TEST(session_handshake, v3_jsonp_wraps_and_decodes_d) {
  server_harness h(eio3_options());
  const opened o = h.handshake(v3, "j=4");
  ASSERT_FALSE(o.ok());  // the harness reads XHR bodies only; check by hand
  const auto r = *o.out.response(o.connection);
  EXPECT_EQ(r.body.rfind("___eio[4](\"", 0), 0u) << r.body;
  EXPECT_EQ(r.body.substr(r.body.size() - 3), "\");");
  EXPECT_EQ(header_or(r, "Content-Type"), "text/plain; charset=UTF-8");
  const std::string sid = jsonp_handshake_sid(r.body);
  const auto ref = h.srv().find_session(sid);
  ASSERT_TRUE(ref);

  const connection_id p = h.request(test::post(test::sid_query(v3, "polling", sid, "j=4"), "d=4%3A4h%5Cni",
                                               "application/x-www-form-urlencoded"));
  const auto out = h.take();
  EXPECT_EQ(out.response(p)->body, "ok");
  ASSERT_EQ(out.messages().size(), 1u);
  EXPECT_EQ(out.messages()[0].data, "h\ni");

  h.send(*ref, "x\xE2\x80\xA8");
  const connection_id g = h.request(get(test::sid_query(v3, "polling", sid, "j=4")));
  EXPECT_EQ(h.take().response(g)->body, "___eio[4](\"3:4x\\u2028\");");
  EXPECT_CLEAN(h);
}

TEST(session_handshake, v4_jsonp_is_served_as_the_reference_does) {
  // The v4 client has no JSONP, but engine.io 6 picks it for any version
  // whose request has `j`: v4 payloads ('\x1e' between packets) wrapped the
  // same way, the separator escaped as \u001e in the string literal.
  server_harness h;
  const opened o = h.handshake(v4, "j=2");
  ASSERT_FALSE(o.ok());  // the harness reads XHR bodies only; check by hand
  const auto r = *o.out.response(o.connection);
  EXPECT_EQ(r.body.rfind("___eio[2](\"0{", 0), 0u) << r.body;
  EXPECT_EQ(header_or(r, "Content-Type"), "text/plain; charset=UTF-8");
  const std::string sid = jsonp_handshake_sid(r.body);
  const auto ref = h.srv().find_session(sid);
  ASSERT_TRUE(ref);

  const connection_id p = h.request(test::post(test::sid_query(v4, "polling", sid, "j=2"), "d=4one%1E4two",
                                               "application/x-www-form-urlencoded"));
  const auto out = h.take();
  EXPECT_EQ(out.response(p)->body, "ok");
  ASSERT_EQ(out.messages().size(), 2u);
  EXPECT_EQ(out.messages()[0].data, "one");
  EXPECT_EQ(out.messages()[1].data, "two");

  h.send(*ref, "a");
  h.send(*ref, "b");
  const connection_id g = h.request(get(test::sid_query(v4, "polling", sid, "j=2")));
  EXPECT_EQ(h.take().response(g)->body, "___eio[2](\"4a\\u001e4b\");");
  EXPECT_CLEAN(h);
}

TEST(session_handshake, v3_jsonp_post_without_a_single_d_is_refused) {
  // The reference decodes nothing and still answers "ok"; a payload that
  // was refused is answered 400 here, and the session closes (parse error).
  for (const char* body : {"x=1", "d=1%3A4&d=1%3A4"}) {
    SCOPED_TRACE(body);
    server_harness h(eio3_options());
    const opened o = h.handshake(v3);
    const connection_id p = h.request(test::post(test::sid_query(v3, "polling", o.sid, "j=0"), body,
                                                 "application/x-www-form-urlencoded"));
    const auto out = h.take();
    EXPECT_EQ(out.response(p)->status, 400);
    EXPECT_EQ(out.response(p)->body, "{\"code\":3,\"message\":\"Bad request\"}");
    EXPECT_TRUE(out.messages().empty());
    ASSERT_TRUE(out.close());
    EXPECT_EQ(out.close()->reason, close_reason::parse_error);
    EXPECT_EQ(h.srv().session_count(), 0u);
  }
}

// A POST body that does not decode is refused: 400 with the Engine.IO error
// body, never "ok"; the packets before the error are still delivered (as
// the reference does), then the session closes with "parse error"; later
// requests with its sid get 400 (code 1).
TEST(session_polling, malformed_post_bodies_are_answered_400_and_close_the_session) {
  struct bad_body {
    protocol_version version;
    std::string body;
    std::vector<std::string> delivered;  // the messages before the error
  };
  const std::vector<bad_body> bodies = {
      {v4, "abc", {}},
      {v4, "4a\x1e\x1e" "4b", {"a"}},
      {v4, "b!!!", {}},
      {v4, "\x1e", {}},
      {v4, "", {}},
      {v3, "abc", {}},
      {v3, "2:4a2:", {"a"}},
      {v3, "5:b4!!!", {}},
      {v3, ":", {}},
      {v3, "", {}},
      {v3, "9:4short", {}},
  };
  for (const bad_body& b : bodies) {
    SCOPED_TRACE("v" + std::to_string(static_cast<int>(b.version)) + " \"" + b.body + "\"");
    server_harness h(eio3_options());
    const opened o = h.handshake(b.version);
    const connection_id p = h.post_body(o, b.body);
    const auto out = h.take();
    ASSERT_TRUE(out.response(p));
    EXPECT_EQ(out.response(p)->status, 400);
    EXPECT_EQ(header_or(*out.response(p), "Content-Type"), "application/json");
    EXPECT_EQ(out.response(p)->body, "{\"code\":3,\"message\":\"Bad request\"}");
    std::vector<std::string> delivered;
    for (const auto& m : out.messages()) delivered.emplace_back(m.data);
    EXPECT_EQ(delivered, b.delivered);
    ASSERT_TRUE(out.close());
    EXPECT_EQ(out.close()->reason, close_reason::parse_error);
    const connection_id later = h.poll(o);
    const auto after = h.take();
    ASSERT_TRUE(after.response(later));
    EXPECT_EQ(after.response(later)->status, 400);
    EXPECT_EQ(after.response(later)->body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
    EXPECT_CLEAN(h);
  }
}

// The client closes over polling while its GET is held: the GET gets a
// noop (it needs no close packet back), the POST "ok", and the sid is
// forgotten (engine.io-protocol's test suite; the reference does the same).
TEST(session_polling, client_close_posted_while_a_get_is_held) {
  for (const protocol_version version : {v4, v3}) {
    server_harness h(eio3_options());
    const opened o = h.handshake(version);
    const connection_id g = h.poll(o);
    const connection_id p = h.post_packets(o, {pk(packet_type::close)});
    const auto out = h.take();
    EXPECT_EQ(body_packets(out.response(g), version), std::vector<owned_packet>{pk(packet_type::noop)});
    EXPECT_EQ(out.response(p)->body, "ok");
    ASSERT_TRUE(out.close());
    EXPECT_EQ(out.close()->reason, close_reason::transport_close);
    const connection_id later = h.poll(o);
    EXPECT_EQ(h.take().response(later)->status, 400);
    EXPECT_CLEAN(h);
  }
}

// ---------------------------------------------------------------- polling (node-reference-behaviour.md, "Polling")

server_options traced() {
  server_options o;
  o.trace_events = true;
  return o;
}

TEST(session_polling, get_is_held_until_a_send) {
  server_harness h(traced());
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  EXPECT_FALSE(h.take().response(g));
  EXPECT_TRUE(h.send(o.ref, "hello"));
  const auto out = h.take();
  EXPECT_EQ(body_packets(out.response(g), v4), std::vector<owned_packet>{msg("hello")});
  EXPECT_EQ(out.count<flush_event>(), 1u);
  EXPECT_EQ(out.count<drain_event>(), 1u);
  EXPECT_CLEAN(h);
}

TEST(session_polling, sends_without_a_get_batch_in_order) {
  server_harness h;
  const opened o = h.handshake();
  h.send(o.ref, "a");
  h.send(o.ref, std::string("\x00\xFF", 2), frame_kind::binary);
  h.send(o.ref, "");
  const connection_id g = h.poll(o);
  const auto r = h.take().response(g);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string("4a\x1e") + "bAP8=\x1e" + "4");
  EXPECT_EQ(body_packets(r, v4),
            (std::vector<owned_packet>{msg("a"), pk(packet_type::message, std::string("\x00\xFF", 2), true), msg("")}));
}

TEST(session_polling, get_payload_holds_at_most_max_http_buffer_size) {
  // Difference (7). "4aaaa" is 5 bytes; two of them with the separator 11.
  for (const std::size_t limit : {11u, 10u}) {
    SCOPED_TRACE(limit);
    server_options options;
    options.max_http_buffer_size = limit;
    server_harness h(options);
    const opened o = h.handshake();  // the open packet is larger than the limit: at least one packet goes
    ASSERT_TRUE(o.ok());
    h.send(o.ref, "aaaa");
    h.send(o.ref, "bbbb");
    const connection_id g1 = h.poll(o);
    const auto first = body_packets(h.take().response(g1), v4);
    if (limit == 11) {
      EXPECT_EQ(first, (std::vector<owned_packet>{msg("aaaa"), msg("bbbb")}));
    } else {
      EXPECT_EQ(first, std::vector<owned_packet>{msg("aaaa")});
      const connection_id g2 = h.poll(o);
      EXPECT_EQ(body_packets(h.take().response(g2), v4), std::vector<owned_packet>{msg("bbbb")});
    }
    EXPECT_CLEAN(h);
  }
}

TEST(session_polling, overlapping_get_closes_with_transport_error) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g1 = h.poll(o);
  const connection_id g2 = h.poll(o);
  const auto out = h.take();
  EXPECT_EQ(out.response(g1)->body, "1");
  EXPECT_EQ(out.response(g2)->status, 400);
  EXPECT_TRUE(out.response(g2)->body.empty());
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  EXPECT_EQ(out.close()->description, "overlap from client");
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_CLEAN(h);
}

TEST(session_polling, overlapping_post_closes_and_answers_both) {
  server_harness h;
  const opened o = h.handshake();
  bool read1 = false, read2 = true;
  const connection_id p1 = h.begin_post(test::post(test::sid_query(v4, "polling", o.sid), ""), &read1);
  EXPECT_TRUE(read1);
  const connection_id p2 = h.begin_post(test::post(test::sid_query(v4, "polling", o.sid), ""), &read2);
  EXPECT_FALSE(read2);
  const auto out = h.take();
  EXPECT_EQ(out.response(p2)->status, 400);
  EXPECT_EQ(out.response(p1)->status, 400);  // difference (6)
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  h.finish_post(p1, "4late");  // the adapter's body arrives after all: ignored
  EXPECT_TRUE(h.take().messages().empty());
  EXPECT_CLEAN(h);
}

TEST(session_polling, post_delivers_in_order_and_answers_ok) {
  server_harness h(traced());
  const opened o = h.handshake();
  const connection_id p = h.post_packets(o, {msg("a"), pk(packet_type::message, "\x01", true), msg("c")});
  const auto out = h.take();
  const auto r = *out.response(p);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(header_or(r, "Content-Type"), "text/html");
  const auto m = out.messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].data, "a");
  EXPECT_EQ(m[1].kind, frame_kind::binary);
  EXPECT_EQ(m[1].data, "\x01");
  EXPECT_EQ(m[2].data, "c");
  EXPECT_EQ(out.count<packet_event>(), 3u);
}

TEST(session_polling, v4_octet_stream_post_is_a_transport_error) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id p = h.post_body(o, "4a", "application/octet-stream");
  const auto out = h.take();
  EXPECT_EQ(out.response(p)->status, 400);
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  EXPECT_CLEAN(h);
}

TEST(session_polling, v3_binary_post) {
  server_harness h(eio3_options());
  const opened o = h.handshake(v3);
  const std::string body = test::payload_of({pk(packet_type::message, std::string("\x00\x01", 2), true), msg("t")}, v3, true);
  ASSERT_EQ(body[0], '\x01');
  const connection_id p = h.post_body(o, body, "application/octet-stream");
  const auto out = h.take();
  EXPECT_EQ(out.response(p)->body, "ok");
  const auto m = out.messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].data, std::string("\x00\x01", 2));
  EXPECT_EQ(m[0].kind, frame_kind::binary);
  EXPECT_EQ(m[1].data, "t");
}

TEST(session_polling, malformed_post_delivers_what_came_before_then_parse_error) {
  server_harness h;
  const opened o = h.handshake();
  h.post_body(o, "4a\x1e" "4b\x1e" "9zz");
  const auto out = h.take();
  ASSERT_EQ(out.messages().size(), 2u);
  EXPECT_EQ(out.close()->reason, close_reason::parse_error);
  // The close event comes after the messages.
  std::size_t last_message = 0, close_at = 0;
  for (std::size_t i = 0; i < out.events.size(); ++i) {
    if (std::holds_alternative<message_event>(out.events[i])) last_message = i;
    if (std::holds_alternative<close_event>(out.events[i])) close_at = i;
  }
  EXPECT_LT(last_message, close_at);
}

TEST(session_polling, empty_post_is_a_parse_error) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id p = h.post_body(o, "");
  const auto out = h.take();
  EXPECT_TRUE(out.response(p));
  EXPECT_EQ(out.close()->reason, close_reason::parse_error);
}

TEST(session_polling, body_too_large_is_413_and_closes) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  bool read = false;
  const connection_id p = h.begin_post(test::post(test::sid_query(v4, "polling", o.sid), ""), &read);
  ASSERT_TRUE(read);
  h.body_too_large(p);
  const auto out = h.take();
  EXPECT_EQ(out.response(p)->status, 413);
  EXPECT_TRUE(out.response(p)->body.empty());
  EXPECT_EQ(out.response(g)->body, "1");
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  EXPECT_EQ(out.close()->description, "payload too large");
  EXPECT_CLEAN(h);
}

TEST(session_polling, whole_post_body_at_and_over_the_limit) {
  // Difference (1) also when the adapter hands the whole body at once.
  for (const std::size_t extra : {0u, 1u}) {
    server_options options;
    options.max_http_buffer_size = 100;
    server_harness h(options);
    const opened o = h.handshake();
    const connection_id p = h.post_body(o, "4" + std::string(99 + extra, 'x'));
    const auto out = h.take();
    if (extra == 0) {
      EXPECT_EQ(out.response(p)->status, 200);
      EXPECT_EQ(out.messages().size(), 1u);
      EXPECT_FALSE(out.close());
    } else {
      EXPECT_EQ(out.response(p)->status, 413);
      EXPECT_TRUE(out.messages().empty());
      ASSERT_TRUE(out.close());
      EXPECT_EQ(out.close()->reason, close_reason::transport_error);
    }
    EXPECT_CLEAN(h);
  }
}

TEST(session_polling, held_get_cut_short_is_a_transport_error) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  h.http_closed(g);
  const auto out = h.take();
  EXPECT_FALSE(out.response(g));
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  EXPECT_CLEAN(h);
}

TEST(session_polling, post_cut_short_is_a_transport_error) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id p = h.begin_post(test::post(test::sid_query(v4, "polling", o.sid), ""));
  h.http_closed(p);
  const auto out = h.take();
  EXPECT_FALSE(out.response(p));
  EXPECT_EQ(out.close()->reason, close_reason::transport_error);
  EXPECT_CLEAN(h);
}

TEST(session_polling, other_methods_with_a_sid_are_bad_requests) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id c = h.request(test::make_request("PUT", test::sid_query(v4, "polling", o.sid)));
  EXPECT_EQ(h.take().response(c)->status, 400);
  EXPECT_EQ(h.srv().session_count(), 1u);
}

// ---------------------------------------------------------------- heartbeat (node-reference-behaviour.md, "Socket")

TEST(session_heartbeat, v4_ping_then_timeout) {
  server_options options;
  options.ping_interval = millis(100);
  options.ping_timeout = millis(50);
  server_harness h(options);
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  EXPECT_EQ(h.srv().next_deadline(), h.now() + millis(100));
  h.advance(millis(99));
  EXPECT_FALSE(h.take().response(g));
  h.advance(millis(1));
  EXPECT_EQ(body_packets(h.take().response(g), v4), std::vector<owned_packet>{pk(packet_type::ping)});
  EXPECT_EQ(h.srv().next_deadline(), h.now() + millis(50));
  h.advance(millis(49));
  EXPECT_FALSE(h.take().close());
  h.advance(millis(1));
  const auto out = h.take();
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.close()->reason, close_reason::ping_timeout);
  EXPECT_EQ(h.srv().next_deadline(), std::nullopt);
  EXPECT_CLEAN(h);
}

TEST(session_heartbeat, v4_pong_rearms_from_the_pongs_time) {
  server_options options;
  options.ping_interval = millis(100);
  options.ping_timeout = millis(50);
  server_harness h(options);
  const opened o = h.handshake();
  h.advance(millis(100));  // ping queued at 1100
  h.advance(millis(30));
  h.post_packets(o, {pk(packet_type::pong)});
  auto out = h.take();
  EXPECT_EQ(out.count<heartbeat_event>(), 1u);
  EXPECT_EQ(h.srv().next_deadline(), h.now() + millis(100));
  h.advance(millis(100));
  EXPECT_FALSE(h.take().close());
  const connection_id g = h.poll(o);
  // Both pings are still waiting: the first never went out.
  EXPECT_EQ(body_packets(h.take().response(g), v4),
            (std::vector<owned_packet>{pk(packet_type::ping), pk(packet_type::ping)}));
  h.advance(millis(50));
  EXPECT_EQ(h.take().close()->reason, close_reason::ping_timeout);
}

TEST(session_heartbeat, v4_client_ping_is_a_transport_error) {
  server_harness h;
  const opened o = h.handshake();
  h.post_packets(o, {pk(packet_type::ping)});
  EXPECT_EQ(h.take().close()->description, "invalid heartbeat direction");
  EXPECT_EQ(h.all_events().size() > 0, true);
  EXPECT_EQ(test::first_of_kind<close_event>(h.all_events())->reason, close_reason::transport_error);
}

TEST(session_heartbeat, v3_server_answers_bare_pong_and_times_out) {
  server_options options = eio3_options();
  options.ping_interval = millis(100);
  options.ping_timeout = millis(50);
  server_harness h(options);
  const opened o = h.handshake(v3);
  EXPECT_EQ(h.srv().next_deadline(), h.now() + millis(150));
  h.advance(millis(120));
  const connection_id g = h.poll(o);
  h.post_packets(o, {pk(packet_type::ping, "probe")});
  auto out = h.take();
  EXPECT_EQ(out.response(g)->body, "1:3");  // no echo (node-reference-behaviour.md, "Socket": the v3 pong)
  EXPECT_EQ(out.count<heartbeat_event>(), 1u);
  EXPECT_EQ(h.srv().next_deadline(), h.now() + millis(150));
  h.advance(millis(149));
  EXPECT_FALSE(h.take().close());
  h.advance(millis(1));
  EXPECT_EQ(h.take().close()->reason, close_reason::ping_timeout);
  EXPECT_CLEAN(h);
}

TEST(session_heartbeat, v3_pong_is_a_transport_error) {
  server_harness h(eio3_options());
  const opened o = h.handshake(v3);
  h.post_packets(o, {pk(packet_type::pong)});
  EXPECT_EQ(h.take().close()->reason, close_reason::transport_error);
}

TEST(session_heartbeat, next_deadline_is_the_earliest_of_all_sessions_timers) {
  server_options options;
  options.ping_interval = millis(100);
  options.ping_timeout = millis(50);
  options.upgrade_timeout = millis(30);
  server_harness h(options);
  const opened a = h.handshake();
  h.advance(millis(10));
  const opened b = h.handshake();
  EXPECT_EQ(h.srv().next_deadline(), millis(1100));
  h.upgrade_request(b);
  EXPECT_EQ(h.srv().next_deadline(), millis(1040));
  h.advance(millis(30));  // probe abandoned
  EXPECT_EQ(h.srv().next_deadline(), millis(1100));
  h.poll(a);
  h.close(a.ref, close_mode::discard);  // closes at once: a GET is held
  EXPECT_EQ(h.srv().next_deadline(), millis(1110));
  EXPECT_CLEAN(h);
}

// ---------------------------------------------------------------- upgrade (node-reference-behaviour.md, "Upgrade")

TEST(session_upgrade, probe_flow) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  const connection_id w = h.upgrade_request(o);
  auto out = h.take();
  EXPECT_TRUE(out.accepted(w));
  EXPECT_FALSE(out.response(g));
  h.message(w, "2probe");
  out = h.take();
  ASSERT_EQ(out.sends(w).size(), 1u);
  EXPECT_EQ(out.sends(w)[0].data, "3probe");
  EXPECT_EQ(out.count<upgrading_event>(), 1u);
  EXPECT_EQ(body_packets(out.response(g), v4), std::vector<owned_packet>{pk(packet_type::noop)});  // difference (5)
  h.send(o.ref, "one");
  h.send(o.ref, "two");
  h.message(w, "5");
  out = h.take();
  EXPECT_EQ(out.count<upgrade_event>(), 1u);
  const auto sends = out.sends(w);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].data, "4one");
  EXPECT_EQ(sends[1].data, "4two");
  EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::websocket);
  h.message(w, "4after");
  EXPECT_EQ(h.take().messages().at(0).data, "after");
  h.send(o.ref, "x");
  EXPECT_EQ(h.take().sends(w).at(0).data, "4x");
  EXPECT_CLEAN(h);
}

// A GET during the upgrade is held and ended by the next noop tick (every
// 100 ms, as socket.ts does), not at once: a client that has not read
// "3probe" yet would poll again at once, in a busy loop.
TEST(session_upgrade, get_during_upgrading_gets_a_noop_within_100_ms) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id w = h.upgrade_request(o);
  h.message(w, "2probe");
  h.take();
  const connection_id g = h.poll(o);
  EXPECT_FALSE(h.take().response(g).has_value());
  h.advance(millis(99));
  EXPECT_FALSE(h.take().response(g).has_value());
  h.advance(millis(1));
  EXPECT_EQ(h.take().response(g)->body, "6");
  // And again for the next GET, until the upgrade ends.
  const connection_id g2 = h.poll(o);
  h.advance(millis(100));
  EXPECT_EQ(h.take().response(g2)->body, "6");
  h.message(w, "5");
  const connection_id g3 = h.poll(o);
  EXPECT_EQ(h.take().response(g3)->status, 400);  // upgraded: polling is a transport mismatch
  h.advance(millis(1000));
  EXPECT_CLEAN(h);
}

TEST(session_upgrade, timeout_abandons_the_probe_and_polling_goes_on) {
  server_options options;
  options.upgrade_timeout = millis(100);
  server_harness h(options);
  const opened o = h.handshake();
  const connection_id w = h.upgrade_request(o);
  h.message(w, "2probe");
  h.advance(millis(100));
  auto out = h.take();
  EXPECT_TRUE(out.closed(w));
  EXPECT_FALSE(out.close());
  EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::polling);
  h.send(o.ref, "still");
  const connection_id g = h.poll(o);
  EXPECT_EQ(body_packets(h.take().response(g), v4), std::vector<owned_packet>{msg("still")});
  // A later attempt works.
  const connection_id w2 = h.upgrade(o);
  EXPECT_EQ(h.take().count<upgrade_event>(), 1u);
  EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::websocket);
  (void)w2;
  EXPECT_CLEAN(h);
}

TEST(session_upgrade, other_packet_on_the_probe_aborts_it) {
  for (const char* frame : {"4hi", "5", "zz"}) {  // "5" before "2probe" too
    SCOPED_TRACE(frame);
    server_harness h;
    const opened o = h.handshake();
    const connection_id w = h.upgrade_request(o);
    h.message(w, frame);
    const auto out = h.take();
    EXPECT_TRUE(out.closed(w));
    EXPECT_TRUE(out.messages().empty());
    EXPECT_FALSE(out.close());
    EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::polling);
    EXPECT_CLEAN(h);
  }
}

TEST(session_upgrade, second_websocket_during_or_after_upgrade_is_accepted_then_closed) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id w = h.upgrade_request(o);
  const connection_id w2 = h.upgrade_request(o);
  auto out = h.take();
  EXPECT_TRUE(out.accepted(w2));
  EXPECT_TRUE(out.closed(w2));
  EXPECT_FALSE(out.closed(w));
  h.message(w, "2probe");
  h.message(w, "5");
  EXPECT_EQ(h.take().count<upgrade_event>(), 1u);
  const connection_id w3 = h.upgrade_request(o);
  out = h.take();
  EXPECT_TRUE(out.accepted(w3));
  EXPECT_TRUE(out.closed(w3));
  EXPECT_EQ(h.srv().session_count(), 1u);
  EXPECT_CLEAN(h);
}

TEST(session_upgrade, polling_after_upgrade_is_a_bad_request) {
  server_harness h;
  const opened o = h.handshake();
  h.upgrade(o);
  const connection_id g = h.poll(o);
  const connection_id p = h.post_packets(o, {msg("x")});
  const auto out = h.take();
  for (const connection_id c : {g, p}) {
    EXPECT_EQ(out.response(c)->status, 400);
    EXPECT_EQ(out.response(c)->body, "{\"code\":3,\"message\":\"Bad request\"}");
  }
  EXPECT_EQ(h.srv().session_count(), 1u);
}

TEST(session_upgrade, probe_closed_polling_goes_on) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id w = h.upgrade_request(o);
  h.message(w, "2probe");
  h.ws_closed(w);
  const auto out = h.take();
  EXPECT_FALSE(out.close());
  EXPECT_FALSE(out.closed(w));  // it is closed already
  EXPECT_EQ(h.srv().session_transport(o.ref), transport_kind::polling);
  h.send(o.ref, "x");
  EXPECT_EQ(h.take().sends(w).size(), 0u);
  EXPECT_CLEAN(h);
}

TEST(session_upgrade, v3_probe_and_base64_after_upgrade) {
  server_harness h(eio3_options());
  const opened o = h.handshake(v3, "b64=1");
  const connection_id w = h.ws(websocket(test::sid_query(v3, "websocket", o.sid, "b64=1")));
  h.message(w, "2probe");
  EXPECT_EQ(h.take().sends(w).at(0).data, "3probe");
  h.message(w, "5");
  h.send(o.ref, "\x01", frame_kind::binary);
  const auto s = h.take().sends(w);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].kind, frame_kind::text);
  EXPECT_EQ(s[0].data, "b4AQ==");
}

// ---------------------------------------------------------------- close (node-reference-behaviour.md, "Socket" and "Polling")

TEST(session_close, app_close_flushes_then_close_packet_on_a_get) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g1 = h.poll(o);
  h.take();
  h.srv().send(o.ref, "a", frame_kind::text, h.now());
  h.close(o.ref);  // the held GET took "a" (the send flushed into it)
  auto out = h.take();
  EXPECT_EQ(body_packets(out.response(g1), v4), std::vector<owned_packet>{msg("a")});
  EXPECT_FALSE(out.close());
  EXPECT_FALSE(h.send(o.ref, "refused"));
  const connection_id g2 = h.poll(o);
  out = h.take();
  EXPECT_EQ(out.response(g2)->body, "1");
  EXPECT_EQ(out.close()->reason, close_reason::forced_close);
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_CLEAN(h);
}

TEST(session_close, app_close_with_buffer_and_no_get) {
  server_harness h;
  const opened o = h.handshake();
  h.send(o.ref, "a");
  h.send(o.ref, "b");
  h.close(o.ref);
  EXPECT_FALSE(h.take().close());
  const connection_id g = h.poll(o);
  // The buffer, then the close in the same response (it flushed).
  auto out = h.take();
  EXPECT_EQ(body_packets(out.response(g), v4), (std::vector<owned_packet>{msg("a"), msg("b")}));
  EXPECT_FALSE(out.close());
  const connection_id g2 = h.poll(o);
  out = h.take();
  EXPECT_EQ(out.response(g2)->body, "1");
  EXPECT_EQ(out.close()->reason, close_reason::forced_close);
}

TEST(session_close, close_with_held_get_and_empty_buffer_is_immediate) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  h.close(o.ref);
  const auto out = h.take();
  EXPECT_EQ(out.response(g)->body, "1");
  EXPECT_EQ(out.close()->reason, close_reason::forced_close);
}

TEST(session_close, fallback_after_30_seconds) {
  server_harness h;
  const opened o = h.handshake();
  h.send(o.ref, "a");
  h.close(o.ref);
  h.advance(millis(29999));
  EXPECT_FALSE(h.take().close());
  h.advance(millis(1));
  EXPECT_EQ(h.take().close()->reason, close_reason::forced_close);
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_EQ(h.srv().next_deadline(), std::nullopt);
  EXPECT_CLEAN(h);
}

TEST(session_close, discard_drops_the_buffer) {
  server_harness h;
  const opened o = h.handshake();
  h.send(o.ref, "a");
  h.close(o.ref, close_mode::discard);
  const connection_id g = h.poll(o);
  const auto out = h.take();
  EXPECT_EQ(out.response(g)->body, "1");
  EXPECT_EQ(out.close()->reason, close_reason::forced_close);
}

TEST(session_close, client_close_packet_via_post) {
  server_harness h;
  const opened o = h.handshake();
  const connection_id g = h.poll(o);
  const connection_id p = h.post_packets(o, {msg("a"), pk(packet_type::close), msg("after")});
  const auto out = h.take();
  EXPECT_EQ(out.messages().size(), 1u);
  EXPECT_EQ(out.response(p)->body, "ok");
  EXPECT_TRUE(out.response(g));
  EXPECT_EQ(out.close()->reason, close_reason::transport_close);
  EXPECT_CLEAN(h);
}

TEST(session_close, client_close_packet_via_websocket) {  // difference (2)
  server_harness h;
  const opened o = h.websocket_handshake();
  h.message(o.connection, "1");
  const auto out = h.take();
  EXPECT_EQ(out.close()->reason, close_reason::transport_close);
  EXPECT_TRUE(out.closed(o.connection));
  EXPECT_CLEAN(h);
}

TEST(session_close, websocket_closed_by_peer_or_error) {
  for (const bool error : {false, true}) {
    server_harness h;
    const opened o = h.websocket_handshake();
    h.ws_closed(o.connection, error ? connection_end::failed : connection_end::closed);
    const auto out = h.take();
    EXPECT_EQ(out.close()->reason, error ? close_reason::transport_error : close_reason::transport_close);
    EXPECT_FALSE(out.closed(o.connection));
    EXPECT_CLEAN(h);
  }
}

TEST(session_close, app_close_on_websocket_flushes_then_closes_the_socket) {
  server_harness h;
  const opened o = h.websocket_handshake();
  h.take();
  h.srv().close(o.ref, h.now());  // nothing buffered
  h.take();
  const opened w = h.websocket_handshake();
  h.srv().send(w.ref, "x", frame_kind::text, h.now());
  h.close(w.ref);
  const auto out = h.take();
  ASSERT_EQ(out.sends(w.connection).size(), 1u);
  EXPECT_TRUE(out.closed(w.connection));
  EXPECT_EQ(out.close()->reason, close_reason::forced_close);
  EXPECT_EQ(h.srv().session_count(), 0u);
}

TEST(session_close, shutdown_closes_every_session) {
  server_harness h(eio3_options());
  const opened a = h.handshake();
  const opened b = h.handshake(v3);
  const opened c = h.websocket_handshake();
  const connection_id g = h.poll(a);
  const connection_id w = h.upgrade_request(b);
  h.shutdown();
  const auto out = h.take();
  const auto closes = all_of_kind<close_event>(out.events);
  ASSERT_EQ(closes.size(), 3u);
  for (const auto& e : closes) EXPECT_EQ(e.reason, close_reason::server_shutting_down);
  EXPECT_EQ(out.response(g)->body, "1");
  EXPECT_TRUE(out.closed(w));
  EXPECT_TRUE(out.closed(c.connection));
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_EQ(h.srv().next_deadline(), std::nullopt);
  EXPECT_FALSE(h.send(a.ref, "x"));
  EXPECT_CLEAN(h);
}

TEST(session_close, send_on_a_closed_session_is_refused_and_refs_are_not_reused) {
  server_harness h;
  const opened o = h.handshake();
  h.close(o.ref, close_mode::discard);
  h.advance(millis(30000));
  EXPECT_EQ(h.srv().session_count(), 0u);
  const opened n = h.handshake();
  EXPECT_EQ(n.ref.slot, o.ref.slot);
  EXPECT_NE(n.ref, o.ref);
  EXPECT_FALSE(h.send(o.ref, "x"));
  EXPECT_EQ(h.srv().session_id(o.ref), "");
  EXPECT_EQ(h.srv().session_transport(o.ref), std::nullopt);
  EXPECT_TRUE(h.send(n.ref, "x"));
}

TEST(session_close, sent_events_after_the_flush_with_flush_and_drain) {
  server_harness h(traced());
  const opened o = h.handshake();
  h.send(o.ref, "a", frame_kind::text, send_options{false, 7});
  h.send(o.ref, "b");
  h.send(o.ref, "c", frame_kind::text, send_options{false, 9});
  auto out = h.take();
  EXPECT_EQ(out.count<sent_event>(), 0u);
  EXPECT_EQ(out.count<packet_create_event>(), 3u);
  h.poll(o);
  out = h.take();
  const auto sent = all_of_kind<sent_event>(out.events);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].notify_id, 7u);
  EXPECT_EQ(sent[1].notify_id, 9u);
  const auto flushes = all_of_kind<flush_event>(out.events);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].packets, 3u);
  EXPECT_EQ(out.count<drain_event>(), 1u);
}

// ---------------------------------------------------------------- limits

TEST(session_limits, max_buffered_bytes_at_and_over) {
  for (const std::size_t extra : {0u, 1u}) {
    server_options options;
    options.max_buffered_bytes = 200;  // the open packet (about 110 bytes) must fit
    server_harness h(options);
    const opened o = h.handshake();
    ASSERT_TRUE(o.ok());
    // A packet counts its data plus its type byte.
    EXPECT_TRUE(h.send(o.ref, std::string(99, 'a')));
    const bool queued = h.send(o.ref, std::string(99 + extra, 'b'));
    const auto out = h.take();
    if (extra == 0) {
      EXPECT_FALSE(out.close());
      EXPECT_TRUE(queued);
    } else {
      ASSERT_TRUE(out.close());
      EXPECT_EQ(out.close()->reason, close_reason::write_buffer_full);
      EXPECT_EQ(h.srv().session_count(), 0u);
    }
    EXPECT_CLEAN(h);
  }
}

TEST(session_limits, handshake_larger_than_max_buffered_bytes_closes_cleanly) {
  // The open packet alone passes the limit: the session closes inside its
  // own handshake (this used the freed session before the fix).
  server_options options;
  options.max_buffered_bytes = 10;
  server_harness h(options);
  const connection_id c = h.request(get("EIO=4&transport=polling"));
  const auto out = h.take();
  ASSERT_TRUE(out.response(c));
  EXPECT_EQ(out.response(c)->body, "1");
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.close()->reason, close_reason::write_buffer_full);
  EXPECT_EQ(out.count<connection_event>(), 1u);
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_EQ(h.srv().next_deadline(), std::nullopt);
  EXPECT_CLEAN(h);
}

TEST(session_limits, max_packets_per_payload_at_and_over) {
  for (const std::size_t count : {3u, 4u}) {
    server_options options;
    options.max_packets_per_payload = 3;
    server_harness h(options);
    const opened o = h.handshake();
    h.post_packets(o, std::vector<owned_packet>(count, msg("m")));
    const auto out = h.take();
    if (count == 3) {
      EXPECT_EQ(out.messages().size(), 3u);
      EXPECT_FALSE(out.close());
    } else {
      ASSERT_TRUE(out.close());
      EXPECT_EQ(out.close()->reason, close_reason::parse_error);
    }
  }
}

TEST(session_limits, websocket_message_size_at_and_over) {
  for (const std::size_t extra : {0u, 1u}) {
    server_options options;
    options.max_http_buffer_size = 50;
    server_harness h(options);
    const opened o = h.websocket_handshake();
    h.message(o.connection, "4" + std::string(49 + extra, 'x'));
    const auto out = h.take();
    if (extra == 0) {
      EXPECT_EQ(out.messages().size(), 1u);
      EXPECT_FALSE(out.close());
    } else {
      EXPECT_TRUE(out.messages().empty());
      ASSERT_TRUE(out.close());
      EXPECT_EQ(out.close()->reason, close_reason::transport_error);  // node-reference-behaviour.md, "WebSocket transport"
    }
    EXPECT_CLEAN(h);
  }
}

// ---------------------------------------------------------------- memory

TEST(session_memory, nothing_remains_after_every_session_closes) {
  server_options options = eio3_options();
  options.ping_interval = millis(100);
  options.ping_timeout = millis(100);
  server_harness h(options);
  std::vector<opened> sessions;
  for (int i = 0; i < 20; ++i) sessions.push_back(i % 3 == 0 ? h.websocket_handshake() : h.handshake(i % 2 ? v3 : v4));
  for (std::size_t i = 0; i < sessions.size(); i += 4) h.poll(sessions[i]);
  h.close(sessions[1].ref);
  h.send(sessions[2].ref, "x");
  h.advance(millis(1000));  // everything times out
  EXPECT_EQ(h.srv().session_count(), 0u);
  EXPECT_EQ(h.srv().next_deadline(), std::nullopt);
  for (const auto& s : sessions) EXPECT_FALSE(h.srv().find_session(s.sid));
  EXPECT_EQ(all_of_kind<close_event>(h.all_events()).size(), 20u);
  EXPECT_CLEAN(h);
}

}  // namespace
}  // namespace eio

namespace eio::test {
namespace {

// send() refuses text the client could not decode instead of sending it broken.
TEST(session_send, text_the_client_cannot_decode_is_refused) {
  server_harness h;
  const opened o = h.handshake();
  EXPECT_FALSE(h.send(o.ref, "a\x1e" "b"));          // the v4 polling separator
  EXPECT_FALSE(h.send(o.ref, "bad \xff utf-8"));      // not UTF-8
  EXPECT_TRUE(h.send(o.ref, "a\x1e" "b", frame_kind::binary));     // binary data is base64 on polling
  EXPECT_TRUE(h.send(o.ref, "h\xc3\xa9llo"));
  h.take();
  h.upgrade(o);
  EXPECT_TRUE(h.send(o.ref, "a\x1e" "b"));           // one packet per frame on WebSocket
  EXPECT_FALSE(h.send(o.ref, "bad \xff utf-8"));
  EXPECT_CLEAN(h);
}

}  // namespace
}  // namespace eio::test
