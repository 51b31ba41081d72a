// The pure HTTP helpers of eio::session (libs/session/src/http.hpp) and the
// small public ones of eio/server.hpp: find_header, query_param, the names.
#include <eio/base64.hpp>
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include "../libs/session/src/http.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace eio {
namespace {

using detail::query_value;

// ---------------------------------------------------------------- names

TEST(session_names, transport_kinds) {
  EXPECT_EQ(to_string(transport_kind::polling), "polling");
  EXPECT_EQ(to_string(transport_kind::websocket), "websocket");
}

TEST(session_names, request_error_messages_are_the_references) {
  EXPECT_EQ(default_message(request_error::unknown_transport), "Transport unknown");
  EXPECT_EQ(default_message(request_error::unknown_sid), "Session ID unknown");
  EXPECT_EQ(default_message(request_error::bad_handshake_method), "Bad handshake method");
  EXPECT_EQ(default_message(request_error::bad_request), "Bad request");
  EXPECT_EQ(default_message(request_error::forbidden), "Forbidden");
  EXPECT_EQ(default_message(request_error::unsupported_protocol_version), "Unsupported protocol version");
}

TEST(session_names, close_reasons_are_the_references) {
  EXPECT_EQ(to_string(close_reason::transport_close), "transport close");
  EXPECT_EQ(to_string(close_reason::transport_error), "transport error");
  EXPECT_EQ(to_string(close_reason::ping_timeout), "ping timeout");
  EXPECT_EQ(to_string(close_reason::forced_close), "forced close");
  EXPECT_EQ(to_string(close_reason::parse_error), "parse error");
  EXPECT_EQ(to_string(close_reason::server_shutting_down), "server shutting down");
  EXPECT_EQ(to_string(close_reason::write_buffer_full), "write buffer full");
}

// ---------------------------------------------------------------- headers

TEST(session_headers, iequals_ignores_ascii_case_only) {
  EXPECT_TRUE(ascii_iequals("Content-Type", "content-TYPE"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("Origin", "Origins"));
  EXPECT_FALSE(ascii_iequals("a", "b"));
  // Pairs that differ by 0x20 but are not letters: a bare "| 0x20" would
  // call them equal.
  EXPECT_FALSE(ascii_iequals("[", "{"));
  EXPECT_FALSE(ascii_iequals("@", "`"));
  EXPECT_FALSE(ascii_iequals("\xC0", "\xE0"));
}

TEST(session_headers, find_header_is_case_insensitive_and_takes_the_first) {
  const header_list headers = {{"Host", "example"}, {"X-Dup", "one"}, {"x-dup", "two"}, {"Empty", ""}};
  EXPECT_EQ(find_header(headers, "host"), std::optional<std::string_view>{"example"});
  EXPECT_EQ(find_header(headers, "X-DUP"), std::optional<std::string_view>{"one"});
  EXPECT_EQ(find_header(headers, "empty"), std::optional<std::string_view>{""});
  EXPECT_EQ(find_header(headers, "Hos"), std::nullopt);
  EXPECT_EQ(find_header({}, "Host"), std::nullopt);

  http_request request;
  request.headers = headers;
  EXPECT_EQ(request.header_value("HOST"), std::optional<std::string_view>{"example"});
}

// ---------------------------------------------------------------- query strings

TEST(session_query, plain_parameters) {
  const std::string_view query = "EIO=4&transport=polling&t=Nz1a";
  EXPECT_EQ(query_value(query, "EIO"), "4");
  EXPECT_EQ(query_value(query, "transport"), "polling");
  EXPECT_EQ(query_value(query, "t"), "Nz1a");
  EXPECT_EQ(query_value(query, "sid"), std::nullopt);
  EXPECT_EQ(query_value("", "sid"), std::nullopt);
}

TEST(session_query, names_match_whole_and_with_case) {
  EXPECT_EQ(query_value("sidx=1&xsid=2", "sid"), std::nullopt);
  EXPECT_EQ(query_value("SID=1", "sid"), std::nullopt);
  EXPECT_EQ(query_value("sidx=1&sid=2", "sid"), "2");
}

TEST(session_query, the_first_occurrence_wins) {
  EXPECT_EQ(query_value("sid=a&sid=b", "sid"), "a");
  EXPECT_EQ(query_value("x=1&sid=&sid=b", "sid"), "");
}

TEST(session_query, a_parameter_without_equals_is_empty) {
  EXPECT_EQ(query_value("b64&EIO=3", "b64"), "");
  EXPECT_EQ(query_value("EIO=3&b64", "b64"), "");
  EXPECT_EQ(query_value("b64=", "b64"), "");
}

TEST(session_query, only_the_first_equals_splits) {
  EXPECT_EQ(query_value("a=b=c", "a"), "b=c");
}

TEST(session_query, empty_pairs_are_skipped) {
  EXPECT_EQ(query_value("&&a=1&&", "a"), "1");
  EXPECT_EQ(query_value("&&", ""), std::nullopt);
  EXPECT_EQ(query_value("=x", ""), "x");  // an empty name is still a name
}

TEST(session_query, plus_is_a_space_and_escapes_decode) {
  EXPECT_EQ(query_value("q=a+b%20c", "q"), "a b c");
  EXPECT_EQ(query_value("q=%2B%2b", "q"), "++");
  EXPECT_EQ(query_value("q=%26%3D", "q"), "&=");
  EXPECT_EQ(query_value("q=%C3%A9t%C3%A9", "q"), "\xC3\xA9t\xC3\xA9");
}

TEST(session_query, names_are_decoded_before_matching) {
  EXPECT_EQ(query_value("s%69d=1", "sid"), "1");
  EXPECT_EQ(query_value("a+b=1", "a b"), "1");
  EXPECT_EQ(query_value("a%2Bb=1", "a+b"), "1");
  EXPECT_EQ(query_value("a%2Bb=1", "a b"), std::nullopt);
}

TEST(session_query, malformed_escapes_stay_literal) {
  EXPECT_EQ(query_value("q=%", "q"), "%");
  EXPECT_EQ(query_value("q=%4", "q"), "%4");
  EXPECT_EQ(query_value("q=%zz", "q"), "%zz");
  EXPECT_EQ(query_value("q=%4g", "q"), "%4g");
  EXPECT_EQ(query_value("q=%%41", "q"), "%A");
  EXPECT_EQ(query_value("q=100%", "q"), "100%");
}

TEST(session_query, bytes_that_are_not_utf8_become_replacement_characters) {
  // Node decodes the bytes leniently (one U+FFFD per maximal subpart).
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(query_value("q=%E9", "q"), fffd);
  EXPECT_EQ(query_value("q=a%E9b", "q"), "a" + fffd + "b");
  EXPECT_EQ(query_value("q=%C0%AF", "q"), fffd + fffd);     // C0 never starts a character
  EXPECT_EQ(query_value("q=%F0%9F%98", "q"), fffd);          // cut off: one subpart
  EXPECT_EQ(query_value("q=%ED%A0%80", "q"), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(query_value("q=%F0%9F%98%80", "q"), "\xF0\x9F\x98\x80");
}

TEST(session_query, http_request_query_param) {
  http_request request;
  request.query = "EIO=4&transport=websocket&sid=ab%2Dc";
  EXPECT_EQ(request.query_param("transport"), "websocket");
  EXPECT_EQ(request.query_param("sid"), "ab-c");
  EXPECT_EQ(request.query_param("j"), std::nullopt);
}

// ---------------------------------------------------------------- JSON strings

std::string json(std::string_view text) {
  std::string out;
  detail::append_json_string(text, out);
  return out;
}

TEST(session_json, quotes_and_escapes_like_json_stringify) {
  EXPECT_EQ(json(""), R"("")");
  EXPECT_EQ(json("4hello"), R"("4hello")");
  EXPECT_EQ(json("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(json("a\\b"), R"("a\\b")");
  EXPECT_EQ(json("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json("/"), R"("/")");          // JSON.stringify leaves '/' alone
  EXPECT_EQ(json("\x7F"), "\"\x7F\"");     // and DEL
}

TEST(session_json, other_control_characters_as_lower_case_u_escapes) {
  EXPECT_EQ(json(std::string_view{"\0", 1}), R"("\u0000")");
  EXPECT_EQ(json("\x01\x0B\x0E\x1A\x1F"), R"("\u0001\u000b\u000e\u001a\u001f")");
  // Every control character has an escape and nothing else does.
  for (int c = 0; c < 0x20; ++c) {
    const std::string out = json(std::string(1, static_cast<char>(c)));
    EXPECT_EQ(out[1], '\\') << c;
    for (char ch : out) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << c;
  }
}

TEST(session_json, utf8_stays_as_is) {
  EXPECT_EQ(json("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  // U+2028 is legal in JSON; only JSONP escapes it.
  EXPECT_EQ(json("\xE2\x80\xA8"), "\"\xE2\x80\xA8\"");
}

TEST(session_json, appends) {
  std::string out = "x:";
  detail::append_json_string("a\nb", out);
  EXPECT_EQ(out, R"(x:"a\nb")");
}

// ---------------------------------------------------------------- JSONP

TEST(session_jsonp, index_keeps_digits_only) {
  EXPECT_EQ(detail::jsonp_index("0"), "0");
  EXPECT_EQ(detail::jsonp_index("12"), "12");
  EXPECT_EQ(detail::jsonp_index("1a2-3]"), "123");
  EXPECT_EQ(detail::jsonp_index("-1"), "1");
  EXPECT_EQ(detail::jsonp_index("x"), "");
  EXPECT_EQ(detail::jsonp_index(""), "");
}

std::string jsonp(std::string_view index, std::string_view payload) {
  std::string out;
  detail::append_jsonp(index, payload, out);
  return out;
}

TEST(session_jsonp, frames_the_payload) {
  EXPECT_EQ(jsonp("0", "3"), R"(___eio[0]("3");)");
  EXPECT_EQ(jsonp("12", "6:4hello2:40"), R"(___eio[12]("6:4hello2:40");)");
  EXPECT_EQ(jsonp("", "1:6"), R"(___eio[]("1:6");)");
  EXPECT_EQ(jsonp("1", "4\"a\\b\"\n"), R"(___eio[1]("4\"a\\b\"\n");)");
}

TEST(session_jsonp, line_and_paragraph_separators_are_escaped) {
  EXPECT_EQ(jsonp("1", "a\xE2\x80\xA8" "b\xE2\x80\xA9" "c"), R"(___eio[1]("a\u2028b\u2029c");)");
  EXPECT_EQ(jsonp("1", "\xE2\x80\xA8\xE2\x80\xA8"), R"(___eio[1]("\u2028\u2028");)");
  // Their neighbours are not.
  EXPECT_EQ(jsonp("1", "\xE2\x80\xA7\xE2\x80\xAA"), "___eio[1](\"\xE2\x80\xA7\xE2\x80\xAA\");");
  EXPECT_EQ(jsonp("1", "\xE2\x82\xAC"), "___eio[1](\"\xE2\x82\xAC\");");
}

TEST(session_jsonp, appends) {
  std::string out = "//";
  detail::append_jsonp("2", "x", out);
  EXPECT_EQ(out, R"(//___eio[2]("x");)");
}

TEST(session_jsonp, post_without_d_is_nothing) {
  EXPECT_EQ(detail::jsonp_payload(""), std::nullopt);
  EXPECT_EQ(detail::jsonp_payload("x=1"), std::nullopt);
  EXPECT_EQ(detail::jsonp_payload("dd=1"), std::nullopt);
}

TEST(session_jsonp, post_with_a_repeated_d_is_nothing) {
  // querystring.parse gives an array, which the reference ignores.
  EXPECT_EQ(detail::jsonp_payload("d=first&d=second"), std::nullopt);
  EXPECT_EQ(detail::jsonp_payload("d=1&x=2&d"), std::nullopt);
  EXPECT_EQ(detail::jsonp_payload("d=1&dd=2"), "1");
}

TEST(session_jsonp, post_body_is_form_decoded) {
  EXPECT_EQ(detail::jsonp_payload("d="), "");
  EXPECT_EQ(detail::jsonp_payload("d"), "");
  EXPECT_EQ(detail::jsonp_payload("d=6%3A4hello"), "6:4hello");
  EXPECT_EQ(detail::jsonp_payload("x=1&d=4a+b%2Bc"), "4a b+c");
}

TEST(session_jsonp, post_body_escaped_newlines) {
  // In C++ notation: the client sends "\\n" for a newline, "\\\\n" for a
  // backslash followed by 'n'.
  EXPECT_EQ(detail::jsonp_payload("d=a%5Cnb"), "a\nb");
  EXPECT_EQ(detail::jsonp_payload("d=%5Cn%5Cn"), "\n\n");
  EXPECT_EQ(detail::jsonp_payload("d=a%5C%5Cnb"), "a\\nb");
  // Three and four backslashes before an 'n', as the reference's two regular
  // expressions leave them.
  EXPECT_EQ(detail::jsonp_payload("d=%5C%5C%5Cn"), "\\\\n");
  EXPECT_EQ(detail::jsonp_payload("d=%5C%5C%5C%5Cn"), "\\\\\\n");
  // Backslashes elsewhere are the payload's own.
  EXPECT_EQ(detail::jsonp_payload("d=a%5C%5Cb%5C"), "a\\\\b\\");
  EXPECT_EQ(detail::jsonp_payload("d=%5Cx%5C"), "\\x\\");
  // A real newline in the body passes through.
  EXPECT_EQ(detail::jsonp_payload("d=a%0Ab"), "a\nb");
}

// What the engine.io v3 client does before posting (polling-jsonp doWrite):
// backslash-n becomes backslash + newline, then every newline backslash-n;
// then the browser form-encodes the textarea.
std::string client_jsonp_body(std::string_view payload) {
  std::string escaped;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] == '\\' && i + 1 < payload.size() && payload[i + 1] == 'n') {
      escaped += "\\\n";
      ++i;
    } else {
      escaped += payload[i];
    }
  }
  std::string lines;
  for (char c : escaped) {
    if (c == '\n') {
      lines += "\\n";
    } else {
      lines += c;
    }
  }
  std::string body = "d=";
  for (char c : lines) {
    const auto byte = static_cast<unsigned char>(c);
    const char* hex = "0123456789ABCDEF";
    body += '%';
    body += hex[byte >> 4];
    body += hex[byte & 0xF];
  }
  return body;
}

TEST(session_jsonp, post_round_trips_what_the_client_sends) {
  const char* payloads[] = {"4hello", "4a\nb", "4a\\nb", "4\\n\n\\n", "4x\\\\y", "6:4a\nb2:40", "4\"quoted\"",
                            "4\xC3\xA9\xE2\x80\xA8"};
  for (const char* payload : payloads) {
    EXPECT_EQ(detail::jsonp_payload(client_jsonp_body(payload)), payload) << client_jsonp_body(payload);
  }
}

// ---------------------------------------------------------------- CORS

using header_pairs = std::vector<std::pair<std::string, std::string>>;

header_pairs pairs(const header_list& headers) {
  header_pairs out;
  for (const auto& h : headers) out.emplace_back(h.name, h.value);
  return out;
}

http_request request_from(std::string origin, header_list extra = {}) {
  http_request request;
  request.method = "GET";
  request.path = "/engine.io/";
  if (!origin.empty()) request.headers.push_back({"Origin", std::move(origin)});
  for (auto& h : extra) request.headers.push_back(std::move(h));
  return request;
}

header_pairs cors_headers(const cors_options& cors, const http_request& request, bool preflight) {
  header_list out;
  detail::append_cors_headers(cors, request, preflight, out);
  return pairs(out);
}

cors_options listed(std::vector<std::string> origins) {
  cors_options cors;
  cors.origins = std::move(origins);
  return cors;
}

TEST(session_cors, nothing_without_an_origin) {
  cors_options any;
  any.any_origin = true;
  EXPECT_TRUE(cors_headers(any, request_from(""), false).empty());
  EXPECT_TRUE(cors_headers(any, request_from(""), true).empty());
  // With a list the answer depends on Origin, present or not: caches key on it.
  const header_pairs vary_only{{"Vary", "Origin"}};
  EXPECT_EQ(cors_headers(listed({"https://a.example"}), request_from(""), true), vary_only);
  // An empty Origin header counts as none.
  http_request empty_origin = request_from("");
  empty_origin.headers.push_back({"Origin", ""});
  EXPECT_TRUE(cors_headers(any, empty_origin, false).empty());
}

TEST(session_cors, only_vary_for_an_origin_not_listed) {
  const cors_options cors = listed({"https://a.example", "https://b.example"});
  const header_pairs vary_only{{"Vary", "Origin"}};
  EXPECT_EQ(cors_headers(cors, request_from("https://c.example"), false), vary_only);
  EXPECT_EQ(cors_headers(cors, request_from("https://c.example"), true), vary_only);
  // Compared exactly: no case folding, no prefix matching.
  EXPECT_EQ(cors_headers(cors, request_from("https://A.example"), false), vary_only);
  EXPECT_EQ(cors_headers(cors, request_from("https://a.example.evil"), false), vary_only);
  EXPECT_EQ(cors_headers(cors, request_from("https://a.exampl"), false), vary_only);
  EXPECT_EQ(cors_headers(listed({}), request_from("https://a.example"), false), vary_only);
}

TEST(session_cors, a_listed_origin_is_echoed) {
  const cors_options cors = listed({"https://a.example", "https://b.example"});
  EXPECT_EQ(cors_headers(cors, request_from("https://b.example"), false),
            (header_pairs{{"Access-Control-Allow-Origin", "https://b.example"}, {"Vary", "Origin"}}));
}

TEST(session_cors, origin_header_name_is_case_insensitive) {
  const cors_options cors = listed({"https://a.example"});
  http_request request = request_from("");
  request.headers.push_back({"origin", "https://a.example"});
  EXPECT_EQ(cors_headers(cors, request, false),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"}, {"Vary", "Origin"}}));
}

TEST(session_cors, credentials_and_exposed_headers) {
  cors_options cors = listed({"https://a.example"});
  cors.credentials = true;
  cors.exposed_headers = {"X-One", "X-Two"};
  EXPECT_EQ(cors_headers(cors, request_from("https://a.example"), false),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"},
                          {"Vary", "Origin"},
                          {"Access-Control-Allow-Credentials", "true"},
                          {"Access-Control-Expose-Headers", "X-One,X-Two"}}));
}

TEST(session_cors, preflight_with_configured_headers) {
  cors_options cors = listed({"https://a.example"});
  cors.credentials = true;
  cors.allowed_headers = {"Content-Type", "X-Token"};
  cors.exposed_headers = {"X-One"};
  cors.max_age_seconds = 600;
  const http_request request =
      request_from("https://a.example", {{"Access-Control-Request-Headers", "x-ignored"}});
  EXPECT_EQ(cors_headers(cors, request, true),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"},
                          {"Vary", "Origin"},
                          {"Access-Control-Allow-Credentials", "true"},
                          {"Access-Control-Allow-Methods", "GET,POST"},
                          {"Access-Control-Allow-Headers", "Content-Type,X-Token"},
                          {"Access-Control-Max-Age", "600"},
                          {"Access-Control-Expose-Headers", "X-One"}}));
}

TEST(session_cors, preflight_echoes_the_requested_headers_when_none_configured) {
  cors_options cors = listed({"https://a.example"});
  cors.methods = {"GET", "POST", "OPTIONS"};
  const http_request request =
      request_from("https://a.example", {{"access-control-request-headers", "content-type,x-custom"}});
  EXPECT_EQ(cors_headers(cors, request, true),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"},
                          {"Vary", "Origin, Access-Control-Request-Headers"},
                          {"Access-Control-Allow-Methods", "GET,POST,OPTIONS"},
                          {"Access-Control-Allow-Headers", "content-type,x-custom"}}));
  // Without the request header there is nothing to echo.
  EXPECT_EQ(cors_headers(cors, request_from("https://a.example"), true),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"},
                          {"Vary", "Origin, Access-Control-Request-Headers"},
                          {"Access-Control-Allow-Methods", "GET,POST,OPTIONS"}}));
}

TEST(session_cors, preflight_only_headers_stay_out_of_other_responses) {
  cors_options cors = listed({"https://a.example"});
  cors.allowed_headers = {"X-Token"};
  cors.max_age_seconds = 5;
  const http_request request = request_from("https://a.example", {{"Access-Control-Request-Headers", "x"}});
  EXPECT_EQ(cors_headers(cors, request, false),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"}, {"Vary", "Origin"}}));
}

TEST(session_cors, max_age_zero_is_sent_and_empty_methods_are_not) {
  cors_options cors = listed({"https://a.example"});
  cors.methods.clear();
  cors.allowed_headers = {"X"};
  cors.max_age_seconds = 0;
  EXPECT_EQ(cors_headers(cors, request_from("https://a.example"), true),
            (header_pairs{{"Access-Control-Allow-Origin", "https://a.example"},
                          {"Vary", "Origin"},
                          {"Access-Control-Allow-Headers", "X"},
                          {"Access-Control-Max-Age", "0"}}));
}

TEST(session_cors, any_origin_is_a_star) {
  cors_options cors;
  cors.any_origin = true;
  cors.origins = {"https://only.example"};  // ignored
  EXPECT_EQ(cors_headers(cors, request_from("https://x.example"), false),
            (header_pairs{{"Access-Control-Allow-Origin", "*"}}));
  cors.allowed_headers = {"X"};
  EXPECT_EQ(cors_headers(cors, request_from("https://x.example"), true),
            (header_pairs{{"Access-Control-Allow-Origin", "*"},
                          {"Access-Control-Allow-Methods", "GET,POST"},
                          {"Access-Control-Allow-Headers", "X"}}));
}

TEST(session_cors, any_origin_with_credentials_drops_the_credentials) {
  cors_options cors;
  cors.any_origin = true;
  cors.credentials = true;
  EXPECT_EQ(cors_headers(cors, request_from("https://x.example"), false),
            (header_pairs{{"Access-Control-Allow-Origin", "*"}}));
}

TEST(session_cors, any_origin_reflected) {
  cors_options cors;
  cors.any_origin = true;
  cors.reflect_any_origin = true;
  cors.credentials = true;
  EXPECT_EQ(cors_headers(cors, request_from("https://x.example"), false),
            (header_pairs{{"Access-Control-Allow-Origin", "https://x.example"},
                          {"Vary", "Origin"},
                          {"Access-Control-Allow-Credentials", "true"}}));
}

TEST(session_cors, appends_after_existing_headers) {
  header_list out = {{"Content-Type", "text/plain"}};
  detail::append_cors_headers(listed({"https://a.example"}), request_from("https://a.example"), false, out);
  EXPECT_EQ(pairs(out), (header_pairs{{"Content-Type", "text/plain"},
                                      {"Access-Control-Allow-Origin", "https://a.example"},
                                      {"Vary", "Origin"}}));
}

// ---------------------------------------------------------------- cookies

TEST(session_cookie, defaults_as_the_reference_writes_them) {
  EXPECT_EQ(detail::set_cookie_value(cookie_options{}, "abc-_12"), "io=abc-_12; Path=/; HttpOnly; SameSite=Lax");
}

TEST(session_cookie, attributes_only_when_set) {
  cookie_options cookie;
  cookie.name = "sess";
  cookie.path = "";
  cookie.http_only = false;
  cookie.same_site = "";
  EXPECT_EQ(detail::set_cookie_value(cookie, "id"), "sess=id");
  cookie.path = "/app";
  EXPECT_EQ(detail::set_cookie_value(cookie, "id"), "sess=id; Path=/app");
  cookie.same_site = "None";
  EXPECT_EQ(detail::set_cookie_value(cookie, "id"), "sess=id; Path=/app; SameSite=None");
}

TEST(session_cookie, same_site_is_capitalised) {
  cookie_options cookie;
  cookie.same_site = "strict";
  EXPECT_EQ(detail::set_cookie_value(cookie, "x"), "io=x; Path=/; HttpOnly; SameSite=Strict");
  cookie.same_site = "LAX";
  EXPECT_EQ(detail::set_cookie_value(cookie, "x"), "io=x; Path=/; HttpOnly; SameSite=Lax");
  cookie.same_site = "none";
  EXPECT_EQ(detail::set_cookie_value(cookie, "x"), "io=x; Path=/; HttpOnly; SameSite=None");
}

TEST(session_cookie, the_id_is_uri_component_encoded) {
  const cookie_options cookie;
  EXPECT_EQ(detail::set_cookie_value(cookie, "a;b c\r\n"), "io=a%3Bb%20c%0D%0A; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(detail::set_cookie_value(cookie, "+/=%\xC3\xA9"), "io=%2B%2F%3D%25%C3%A9; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(detail::set_cookie_value(cookie, "AZaz09-_.!~*'()"), "io=AZaz09-_.!~*'(); Path=/; HttpOnly; SameSite=Lax");
}

// ---------------------------------------------------------------- session IDs

bool url_safe(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

TEST(session_id, twenty_url_safe_characters_of_fifteen_bytes) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = detail::random_session_id();
    ASSERT_EQ(id.size(), 20u) << id;
    for (char c : id) ASSERT_TRUE(url_safe(c)) << id;
    std::string standard = id;
    for (char& c : standard) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    std::string bytes;
    std::size_t bad = 0;
    ASSERT_TRUE(base64_decode(standard, bytes, bad)) << id;
    EXPECT_EQ(bytes.size(), 15u);
  }
}

TEST(session_id, ids_differ_and_use_the_whole_alphabet) {
  std::set<std::string> ids;
  std::set<char> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = detail::random_session_id();
    ids.insert(id);
    seen.insert(id.begin(), id.end());
  }
  EXPECT_EQ(ids.size(), 2000u);
  // 40,000 characters: each of the 64 is missing with probability ~e^-625.
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_EQ(seen.count('-'), 1u);
  EXPECT_EQ(seen.count('_'), 1u);
}

}  // namespace
}  // namespace eio
