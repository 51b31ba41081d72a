// The HTTP/1.1 request reader (libs/wire/include/eio/wire/http_reader.hpp):
// every accept and reject rule, every limit at the limit and one over, and
// every input read whole, split at every offset and one byte at a time.
#include <eio/wire/http_reader.hpp>
#include "http_reader_driver.hpp"  // tests/support

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eio::wire {
namespace {

using test::http_record;
using test::http_transcript;
using test::read_stream;
using event = http_read_event;

// Reads `stream` whole, then checks that every split into two reads and one
// byte at a time read the same, and that the invariants held each time.
http_transcript read_everywhere(std::string_view stream, http_reader_limits limits = {}) {
  const http_transcript whole = read_stream(stream, stream.size() + 1, limits);
  EXPECT_TRUE(whole.consumed_within_input && whole.head_within_limit && whole.body_within_limit);
  const http_transcript bytewise = read_stream(stream, 1, limits);
  EXPECT_EQ(bytewise, whole) << "byte at a time";
  EXPECT_TRUE(bytewise.consumed_within_input && bytewise.head_within_limit && bytewise.body_within_limit);
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    // Two reads: `cut` bytes, then the rest (a step of `cut` gives more
    // reads when the rest is longer; both are split points worth grinding).
    const http_transcript split = read_stream(stream, cut, limits);
    EXPECT_EQ(split, whole) << "reads of " << cut << " bytes";
    if (split != whole) break;
  }
  return whole;
}

http_record only_error(const http_transcript& t) {
  EXPECT_FALSE(t.events.empty());
  if (t.events.empty()) return {};
  EXPECT_EQ(t.events.back().event, event::error) << t;
  return t.events.back();
}

// The status a stream is rejected with (0 if it is not).
int rejection(std::string_view stream, http_reader_limits limits = {}) {
  const http_transcript t = read_everywhere(stream, limits);
  if (t.events.empty() || t.events.back().event != event::error) return 0;
  return t.events.back().status;
}

std::string get(std::string_view fields = "Host: x\r\n") {
  return "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n" + std::string(fields) + "\r\n";
}

// ---- accepted requests -------------------------------------------------

TEST(HttpReader, ReadsAGet) {
  const http_transcript t = read_everywhere(get("Host: example.com\r\nAccept:  */* \t\r\nX-Empty:\r\n"));
  ASSERT_EQ(t.events.size(), 1u) << t;
  const http_record& h = t.events[0];
  EXPECT_EQ(h.event, event::head);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/engine.io/");
  EXPECT_EQ(h.query, "EIO=4&transport=polling");
  EXPECT_EQ(h.minor_version, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.chunked);
  EXPECT_FALSE(h.expects_body);
  EXPECT_FALSE(h.content_length);
  using field = std::pair<std::string, std::string>;
  EXPECT_EQ(h.headers, (std::vector<field>{{"Host", "example.com"}, {"Accept", "*/*"}, {"X-Empty", ""}}));
  EXPECT_EQ(t.consumed, get("Host: example.com\r\nAccept:  */* \t\r\nX-Empty:\r\n").size());
}

TEST(HttpReader, RawHeadIsTheHeadAsItCameHoweverSplit) {
  const std::string bytes = "\r\n" + get() + "rest";
  for (std::size_t cut = 0; cut <= bytes.size() - 4; ++cut) {
    http_reader reader;
    const http_read_result first = reader.feed(std::string_view(bytes).substr(0, cut));
    const std::size_t used = first.event == event::head ? first.consumed : cut;
    const http_read_result second = first.event == event::head ? first : reader.feed(std::string_view(bytes).substr(used));
    ASSERT_EQ(second.event, event::head) << cut;
    EXPECT_EQ(reader.raw_head(), bytes.substr(0, bytes.size() - 4)) << cut;
  }
}

TEST(HttpReader, TakesTheRequestFromTheHead) {
  http_reader reader;
  const std::string bytes = get();
  const http_read_result r = reader.feed(bytes);
  ASSERT_EQ(r.event, event::head);
  EXPECT_EQ(r.consumed, bytes.size());
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.raw_head(), bytes) << "kept until reset_for_next";
  http_request request = std::move(reader.head().request);
  EXPECT_EQ(request.header_value("host"), "x");
  EXPECT_EQ(request.query_param("transport"), "polling");
  // A complete request consumes nothing more until reset.
  EXPECT_EQ(reader.feed(bytes).consumed, 0u);
  reader.reset_for_next();
  EXPECT_EQ(reader.buffered_head_bytes(), 0u);
  EXPECT_EQ(reader.feed(bytes).event, event::head);
}

TEST(HttpReader, PathWithoutQueryAndOtherTargets) {
  EXPECT_EQ(read_everywhere("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").events.at(0).path, "*");
  const http_record h = read_everywhere("GET /a/b?x=1?y HTTP/1.1\r\nHost: x\r\n\r\n").events.at(0);
  EXPECT_EQ(h.path, "/a/b");
  EXPECT_EQ(h.query, "x=1?y");
  EXPECT_EQ(read_everywhere("GET /? HTTP/1.1\r\nHost: x\r\n\r\n").events.at(0).query, "");
  EXPECT_EQ(read_everywhere("GET http://h/p?q HTTP/1.1\r\nHost: h\r\n\r\n").events.at(0).path, "http://h/p");
  EXPECT_EQ(read_everywhere("M-SEARCH~!#$%&'*+.^_`| / HTTP/1.1\r\nHost: x\r\n\r\n").events.at(0).method,
            "M-SEARCH~!#$%&'*+.^_`|");
}

TEST(HttpReader, FieldValuesKeepObsTextAndInnerWhitespace) {
  const http_record h = read_everywhere(get("Host: x\r\nX: a \t b\xc3\xa9\xff\r\n")).events.at(0);
  EXPECT_EQ(h.headers.at(1).second, "a \t b\xc3\xa9\xff");
}

TEST(HttpReader, IgnoresEmptyLinesBeforeTheRequestLine) {
  const http_transcript t = read_everywhere("\r\n\r\n" + get());
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].event, event::head);
}

TEST(HttpReader, ReadsAContentLengthBody) {
  const std::string stream =
      "POST /engine.io/?sid=abc HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n4hello\x1e" "4you";
  const http_transcript t = read_everywhere(stream);
  ASSERT_EQ(t.events.size(), 2u) << t;
  EXPECT_EQ(t.events[0].event, event::head);
  EXPECT_EQ(t.events[0].content_length, 11u);
  EXPECT_TRUE(t.events[0].expects_body);
  EXPECT_EQ(t.events[1].event, event::body_done);
  EXPECT_EQ(t.events[1].body, "4hello\x1e" "4you");
  EXPECT_EQ(t.consumed, stream.size());
}

TEST(HttpReader, HeadEndsWhereTheBodyStarts) {
  http_reader reader;
  const std::string stream = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET";
  http_read_result r = reader.feed(stream);
  ASSERT_EQ(r.event, event::head);
  EXPECT_EQ(r.consumed, stream.size() - 6);
  r = reader.feed(std::string_view(stream).substr(r.consumed));
  EXPECT_EQ(r.event, event::body_done);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(reader.body(), "abc");
}

TEST(HttpReader, ContentLengthZeroAndAbsentMeanNoBody) {
  for (const char* stream : {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                             "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
                             "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 000\r\n\r\n"}) {
    const http_transcript t = read_everywhere(stream);
    ASSERT_EQ(t.events.size(), 1u) << stream;
    EXPECT_EQ(t.events[0].event, event::head);
    EXPECT_FALSE(t.events[0].expects_body);
  }
}

TEST(HttpReader, RepeatedIdenticalContentLengthIsOne) {
  // RFC 9110 section 8.6: a list of identical values may be taken as one.
  for (const char* fields : {"Content-Length: 3\r\nContent-Length: 3\r\n", "Content-Length: 3, 3\r\n",
                             "Content-Length: 3,03 ,\r\n", "content-length:3\r\n"}) {
    const std::string stream = "POST / HTTP/1.1\r\nHost: x\r\n" + std::string(fields) + "\r\nabc";
    const http_transcript t = read_everywhere(stream);
    ASSERT_EQ(t.events.size(), 2u) << fields << t;
    EXPECT_EQ(t.events[1].body, "abc");
  }
}

TEST(HttpReader, ReadsChunkedWithExtensionsAndTrailers) {
  const std::string stream =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n"
      "1 ; a = \"q;\\\"x\" \r\n,\r\n"
      "00006\r\n world\r\n"
      "0;last\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\n";
  const http_transcript t = read_everywhere(stream);
  ASSERT_EQ(t.events.size(), 2u) << t;
  EXPECT_TRUE(t.events[0].chunked);
  EXPECT_TRUE(t.events[0].expects_body);
  EXPECT_FALSE(t.events[0].content_length);
  EXPECT_EQ(t.events[1].body, "hello, world");
  EXPECT_EQ(t.consumed, stream.size());
}

TEST(HttpReader, ReadsAnEmptyChunkedBody) {
  const http_transcript t =
      read_everywhere("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_EQ(t.events.size(), 2u) << t;
  EXPECT_EQ(t.events[1].event, event::body_done);
  EXPECT_EQ(t.events[1].body, "");
}

TEST(HttpReader, ReadsTwoKeepAliveRequestsFromOneBuffer) {
  const std::string stream = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" + get() +
                             "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n" +
                             "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const http_transcript t = read_everywhere(stream);
  ASSERT_EQ(t.events.size(), 6u) << t;
  EXPECT_EQ(t.events[0].path, "/a");
  EXPECT_EQ(t.events[1].body, "hi");
  EXPECT_EQ(t.events[2].path, "/engine.io/");
  EXPECT_EQ(t.events[3].path, "/c");
  EXPECT_EQ(t.events[4].body, "yo");
  EXPECT_EQ(t.events[5].path, "/d");
  EXPECT_FALSE(t.events[5].keep_alive);
  EXPECT_EQ(t.consumed, stream.size());
}

TEST(HttpReader, DiscardsABodyAndReadsTheNextRequest) {
  const std::string stream = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                             "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
                             get();
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, stream.size()}) {
    const http_transcript t = read_stream(stream, step, {}, true);
    ASSERT_EQ(t.events.size(), 5u) << t;
    EXPECT_EQ(t.events[1].event, event::body_done);
    EXPECT_EQ(t.events[1].body, "");
    EXPECT_EQ(t.events[3].body, "");
    EXPECT_EQ(t.events[4].path, "/engine.io/");
  }
}

TEST(HttpReader, KeepAliveRules) {
  auto keep_alive = [](std::string_view version, std::string_view fields) {
    const std::string stream = "GET / " + std::string(version) + "\r\nHost: x\r\n" + std::string(fields) + "\r\n";
    const http_transcript t = read_everywhere(stream);
    EXPECT_EQ(t.events.size(), 1u) << stream;
    return !t.events.empty() && t.events[0].keep_alive;
  };
  EXPECT_TRUE(keep_alive("HTTP/1.1", ""));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: close\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n"));
  EXPECT_TRUE(keep_alive("HTTP/1.1", "Connection: keep-alive, Upgrade\r\n"));
  EXPECT_TRUE(keep_alive("HTTP/1.1", "Connection: closed\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", ""));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "Connection: Keep-Alive\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", "Connection: keep-alive, close\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", "Connection: close\r\n"));
  EXPECT_EQ(read_everywhere("GET / HTTP/1.0\r\n\r\n").events.at(0).minor_version, 0);
}

// ---- rejected heads ----------------------------------------------------

TEST(HttpReader, RejectsBadRequestLines) {
  const char* bad[] = {
      " / HTTP/1.1\r\n\r\n",            // missing method
      "GET\r\n\r\n",                    // method only
      "GE(T / HTTP/1.1\r\n\r\n",        // invalid method character
      "G\xc3\xa9T / HTTP/1.1\r\n\r\n",  // non-ASCII method
      "GET  / HTTP/1.1\r\n\r\n",        // two spaces: empty target
      "GET / HTTP/1.1 \r\n\r\n",        // trailing space in the version
      "GET /  HTTP/1.1\r\n\r\n",        // two spaces before the version
      "GET /\r\n\r\n",                  // HTTP/0.9
      "GET / x HTTP/1.1\r\n\r\n",       // space in the target
      "GET /\x01 HTTP/1.1\r\n\r\n",     // control character in the target
      "GET /\x7f HTTP/1.1\r\n\r\n",
      "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",  // non-ASCII target
      "GET / http/1.1\r\n\r\n",         // the version is case-sensitive
      "GET / HTTP/1.x\r\n\r\n",
      "GET / HTTP/1.10\r\n\r\n",
      "GET / HTTP/11\r\n\r\n",
      "GET / HTTP/1\r\n\r\n",
      "GET / HTTPS/1.1\r\n\r\n",
      "GET / HTTP/1.1\rX: y\r\n\r\n",   // bare CR
      "GET / HTTP/1.1\nX: y\r\n\r\n",   // bare LF in the request line
      "\n" "GET / HTTP/1.1\r\n\r\n",    // bare LF before the request line
      "\r\r\n" "GET / HTTP/1.1\r\n\r\n",
      "\tGET / HTTP/1.1\r\n\r\n",
  };
  for (const char* stream : bad) EXPECT_EQ(rejection(stream), 400) << stream;
}

TEST(HttpReader, RejectsUnsupportedVersionsWith505) {
  for (const char* version : {"HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.1"}) {
    EXPECT_EQ(rejection("GET / " + std::string(version) + "\r\n\r\n"), 505) << version;
  }
}

TEST(HttpReader, RejectsBadFieldLines) {
  const struct {
    const char* fields;
    const char* reason;
  } bad[] = {
      {"Host: x\r\n folded\r\n", "obs-fold (line starting with whitespace)"},
      {"Host: x\r\n\tfolded\r\n", "obs-fold (line starting with whitespace)"},
      {"NoColon\r\n", "field line without a colon"},
      {": value\r\n", "empty field name"},
      {"Host : x\r\n", "whitespace before the colon"},
      {"Host\t: x\r\n", "whitespace before the colon"},
      {"Ho(st: x\r\n", "invalid character in a field name"},
      {"H\xc3\xa9: x\r\n", "invalid character in a field name"},
      {"X: a\x01" "b\r\n", "control character in a field value"},
      {"X: a\x7f\r\n", "control character in a field value"},
      {"X: a\nb\r\n", "control character in a field value"},  // bare LF
      {"X: a\rb\r\n", "bare CR in a field line"},
  };
  for (const auto& b : bad) {
    const std::string stream = get(b.fields);
    const http_record e = only_error(read_everywhere(stream));
    EXPECT_EQ(e.status, 400) << b.fields;
    EXPECT_EQ(e.reason, b.reason) << b.fields;
  }
  // A NUL, which a C string cannot hold.
  EXPECT_EQ(only_error(read_everywhere(get(std::string("X: a\0b\r\n", 8)))).reason, "control character in a field value");
}

TEST(HttpReader, ErrorOffsetIsTheBadLine) {
  const std::string head = "GET / HTTP/1.1\r\nA: 1\r\nBad\r\n\r\n";
  EXPECT_EQ(only_error(read_everywhere(head)).offset, std::string("GET / HTTP/1.1\r\nA: 1\r\n").size());
}

TEST(HttpReader, RejectsContentLengthThatIsNotOneNumber) {
  const char* bad[] = {
      "Content-Length: 3\r\nContent-Length: 4\r\n",  // differing (request smuggling)
      "Content-Length: 3, 4\r\n",
      "Content-Length: -1\r\n",
      "Content-Length: +3\r\n",
      "Content-Length: 0x3\r\n",
      "Content-Length: 3a\r\n",
      "Content-Length: 3 3\r\n",
      "Content-Length: 3.0\r\n",
      "Content-Length:\r\n",
      "Content-Length: ,\r\n",
      "Content-Length: 99999999999999999999999\r\n",  // overflows 64 bits
      "Content-Length: 18446744073709551616\r\n",     // 2^64
  };
  for (const char* fields : bad) {
    EXPECT_EQ(rejection("POST / HTTP/1.1\r\nHost: x\r\n" + std::string(fields) + "\r\n"), 400) << fields;
  }
  // 2^64 - 1 does not overflow: it is merely over the body limit.
  EXPECT_EQ(rejection("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n"), 413);
}

TEST(HttpReader, RejectsTransferEncodingsOtherThanChunked) {
  const struct {
    const char* fields;
    int status;
  } cases[] = {
      {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400},  // request smuggling
      {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding: gzip\r\n", 501},
      {"Transfer-Encoding: identity\r\n", 501},
      {"Transfer-Encoding: gzip, chunked\r\n", 501},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 501},
      {"Transfer-Encoding: chunked, chunked\r\n", 400},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
      {"Transfer-Encoding:\r\n", 400},
      {"Transfer-Encoding: ,\r\n", 400},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(rejection("POST / HTTP/1.1\r\nHost: x\r\n" + std::string(c.fields) + "\r\n"), c.status) << c.fields;
  }
  EXPECT_EQ(rejection("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  // "chunked" with OWS and any case, and empty list elements, is chunked.
  EXPECT_TRUE(read_everywhere("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n0\r\n\r\n")
                  .events.at(0)
                  .chunked);
}

// RFC 9112 section 3.2: an HTTP/1.1 request without Host, and any request
// with more than one Host field line, is answered 400. Rejected at the end of
// the head, with no head kept (not even for a body over the limit).
TEST(HttpReader, RejectsAnHttp11RequestWithoutHost) {
  for (const std::string_view stream : {"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
                                        "GET / HTTP/1.1\r\nX-Host: x\r\nHosts: y\r\n\r\n",
                                        "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
                                        "POST / HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n",
                                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
    const http_transcript t = read_everywhere(stream);
    ASSERT_EQ(t.events.size(), 1u) << stream << t;
    const http_record& e = t.events[0];
    EXPECT_EQ(e.event, event::error) << stream;
    EXPECT_EQ(e.status, 400) << stream;
    EXPECT_EQ(e.reason, "HTTP/1.1 request without a Host header") << stream;
    EXPECT_EQ(e.method, "") << "no head kept: " << stream;
    const std::size_t head_size = stream.find("\r\n\r\n") + 4;
    EXPECT_EQ(e.offset, head_size) << stream;
    EXPECT_EQ(t.consumed, head_size) << "the body is not read: " << stream;
  }
}

TEST(HttpReader, RejectsMoreThanOneHost) {
  const struct {
    const char* stream;
    std::size_t second_host_at;
  } bad[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 25},
      {"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 25},  // the same value and any case: still two
      {"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nHOST:\r\n\r\n", 31},
      {"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 25},  // "any request message", HTTP/1.0 too
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nHost: a\r\n\r\nabc", 45},
  };
  for (const auto& b : bad) {
    const http_record e = only_error(read_everywhere(b.stream));
    EXPECT_EQ(e.status, 400) << b.stream;
    EXPECT_EQ(e.reason, "more than one Host header") << b.stream;
    EXPECT_EQ(e.offset, b.second_host_at) << b.stream;
    EXPECT_EQ(e.method, "") << b.stream;
  }
}

TEST(HttpReader, AcceptsOneHostAndHttp10WithoutIt) {
  for (const char* stream : {"GET / HTTP/1.1\r\nHost: example.com:3000\r\n\r\n",
                             "GET / HTTP/1.1\r\nhOST: x\r\n\r\n",
                             "GET / HTTP/1.1\r\nHost:\r\n\r\n",  // empty: a target without an authority
                             "GET / HTTP/1.0\r\n\r\n",             // HTTP/1.0 need not send it
                             "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi"}) {
    const http_transcript t = read_everywhere(stream);
    ASSERT_FALSE(t.events.empty()) << stream;
    EXPECT_EQ(t.events[0].event, event::head) << stream << t;
    EXPECT_EQ(t.events.back().event, t.events[0].expects_body ? event::body_done : event::head) << stream << t;
  }
}

// ---- rejected chunked bodies -------------------------------------------

TEST(HttpReader, RejectsBadChunkedFraming) {
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const struct {
    const char* body;
    const char* reason;
  } bad[] = {
      {"x\r\n", "chunk size is not a hex number"},
      {"\r\n", "chunk size is not a hex number"},
      {";ext\r\n", "chunk size is not a hex number"},
      {"-1\r\n", "chunk size is not a hex number"},
      {" 5\r\n", "chunk size is not a hex number"},
      {"5x\r\n", "bad character after the chunk size"},
      {"5\n", "bad character after the chunk size"},
      {"5 \r\n", "whitespace after the chunk size without an extension"},
      {"5\r\r", "chunk-size line without CRLF"},
      {"5;a\x01\r\n", "control character in a chunk extension"},
      {"5;a\nb\r\n", "control character in a chunk extension"},
      {"5\r\nhelloX", "chunk data without CRLF"},
      {"5\r\nhello\rX", "chunk data without CRLF"},
      {"5\r\nhello\n", "chunk data without CRLF"},
      {"0\r\nNoColon\r\n\r\n", "field line without a colon"},
      {"0\r\n folded: x\r\n\r\n", "obs-fold (line starting with whitespace)"},
      {"0\r\nX : y\r\n\r\n", "whitespace before the colon"},
      {"0\r\nX: y\rZ", "bare CR in the trailer section"},
      {"0\r\n\rX", "bare CR in the trailer section"},
  };
  for (const auto& b : bad) {
    const http_transcript t = read_everywhere(head + b.body);
    ASSERT_EQ(t.events.size(), 2u) << b.body << t;
    EXPECT_EQ(t.events[0].event, event::head);
    EXPECT_EQ(t.events[1].status, 400) << b.body;
    EXPECT_EQ(t.events[1].reason, b.reason) << b.body;
  }
}

TEST(HttpReader, UnfinishedRequestsWaitForMore) {
  for (const char* stream : {"GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r", "\r\n\r\n\r\n",
                             "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcd",
                             "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;x\r\nhello\r\n0\r\nX: y\r\n"}) {
    const http_transcript t = read_everywhere(stream);
    EXPECT_TRUE(t.events.empty() || t.events.back().event == event::head) << stream << t;
    EXPECT_EQ(t.consumed, std::string_view(stream).size());
  }
}

TEST(HttpReader, StaysFailed) {
  http_reader reader;
  const http_read_result r = reader.feed("BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.event, event::error);
  EXPECT_EQ(r.consumed, 7u);
  EXPECT_TRUE(reader.failed());
  reader.reset_for_next();
  const http_read_result again = reader.feed("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(again.event, event::error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(again.error.status, r.error.status);
}

// ---- limits, at the limit and one over ----------------------------------

// A GET head of exactly `size` bytes (at least 39).
std::string head_of_size(std::size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'a') + end;
}

TEST(HttpReader, HeadAtTheByteLimitAndOneOver) {
  for (const std::size_t max : {std::size_t{64}, std::size_t{16 * 1024}}) {
    http_reader_limits limits;
    limits.max_header_bytes = max;
    const std::string at = head_of_size(max);
    ASSERT_EQ(at.size(), max);
    const http_transcript ok = max > 100 ? read_stream(at, 997, limits) : read_everywhere(at, limits);
    ASSERT_EQ(ok.events.size(), 1u) << ok;
    EXPECT_EQ(ok.events[0].event, event::head);
    const http_transcript over = max > 100 ? read_stream(head_of_size(max + 1), 997, limits)
                                           : read_everywhere(head_of_size(max + 1), limits);
    const http_record e = only_error(over);
    EXPECT_EQ(e.status, 431);
    EXPECT_EQ(e.offset, max);
    EXPECT_EQ(over.consumed, max);  // never held more than the limit
    EXPECT_TRUE(over.head_within_limit);
    // Leading empty lines count.
    EXPECT_EQ(only_error(read_stream("\r\n" + at, 997, limits)).status, 431);
    // A head that never ends is cut at the limit.
    EXPECT_EQ(only_error(read_stream(std::string(max + 1, 'a'), 997, limits)).status, 431);
    EXPECT_EQ(only_error(read_stream(std::string(max + 1, '\n'), 997, limits)).status, 431);
  }
}

TEST(HttpReader, HeaderCountAtTheLimitAndOneOver) {
  for (const std::size_t max : {std::size_t{0}, std::size_t{3}, std::size_t{100}}) {
    http_reader_limits limits;
    limits.max_header_count = max;
    // Host counts (an HTTP/1.1 request must have it); at 0, an HTTP/1.0
    // request, which may go without.
    std::string fields = max == 0 ? "" : "Host: x\r\n";
    for (std::size_t i = 1; i < max; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
    auto request = [&](const std::string& f) {
      return (max == 0 ? "GET / HTTP/1.0\r\n" : "GET / HTTP/1.1\r\n") + f + "\r\n";
    };
    const http_transcript ok = read_stream(request(fields), 1, limits);
    ASSERT_EQ(ok.events.size(), 1u) << ok;
    EXPECT_EQ(ok.events[0].headers.size(), max);
    const http_record e = only_error(read_stream(request(fields + "Y: z\r\n"), 1, limits));
    EXPECT_EQ(e.status, 431);
    EXPECT_EQ(e.reason, "too many header fields");
  }
}

TEST(HttpReader, ContentLengthAtTheBodyLimitAndOneOver) {
  http_reader_limits limits;
  limits.max_body_bytes = 10;
  const http_transcript ok =
      read_everywhere("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", limits);
  ASSERT_EQ(ok.events.size(), 2u) << ok;
  EXPECT_EQ(ok.events[1].body, "0123456789");
  // Over: rejected at the head, before any body byte, and the head is kept.
  const std::string over = "POST /x?y HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
  const http_transcript t = read_everywhere(over + "0123456789A", limits);
  ASSERT_EQ(t.events.size(), 1u) << t;
  EXPECT_EQ(t.events[0].status, 413);
  EXPECT_EQ(t.events[0].path, "/x");
  EXPECT_EQ(t.events[0].content_length, 11u);
  EXPECT_EQ(t.consumed, over.size());
  // The default limit.
  EXPECT_EQ(rejection("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"), 0);
  EXPECT_EQ(rejection("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000001\r\n\r\n"), 413);
}

TEST(HttpReader, ChunkedAtTheBodyLimitAndOneOver) {
  http_reader_limits limits;
  limits.max_body_bytes = 10;
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const http_transcript ok = read_everywhere(head + "4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n", limits);
  ASSERT_EQ(ok.events.size(), 2u) << ok;
  EXPECT_EQ(ok.events[1].body, "0123456789");
  // The second size takes the sum to 11: rejected on its digit, before its data.
  const std::string before = head + "4\r\n0123\r\n";
  const http_transcript t = read_everywhere(before + "7\r\n4567890\r\n0\r\n\r\n", limits);
  ASSERT_EQ(t.events.size(), 2u) << t;
  EXPECT_EQ(t.events[1].status, 413);
  EXPECT_EQ(t.consumed, before.size() + 1);
  EXPECT_EQ(t.events[1].offset, before.size());
  // One huge chunk, with leading zeros and many digits: no overflow.
  EXPECT_EQ(read_everywhere(head + "000000000000000000000000a\r\n0123456789\r\n0\r\n\r\n", limits).events.at(1).event,
            event::body_done);
  EXPECT_EQ(read_everywhere(head + "fffffffffffffffffffffffffff\r\n", limits).events.at(1).status, 413);
  limits.max_body_bytes = 0;
  EXPECT_EQ(read_everywhere(head + "0\r\n\r\n", limits).events.at(1).event, event::body_done);
  EXPECT_EQ(read_everywhere(head + "1\r\n", limits).events.at(1).status, 413);
}

TEST(HttpReader, ChunkLineAtTheLimitAndOneOver) {
  http_reader_limits limits;
  limits.max_chunk_line_bytes = 16;
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string at = "1;" + std::string(12, 'e') + "\r\n";  // 16 bytes with its CRLF
  ASSERT_EQ(at.size(), 16u);
  EXPECT_EQ(read_everywhere(head + at + "x\r\n0\r\n\r\n", limits).events.at(1).body, "x");
  const http_record e = read_everywhere(head + "1;" + std::string(13, 'e') + "\r\nx\r\n0\r\n\r\n", limits).events.at(1);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "chunk-size line too long");
  // The limit is per line: many lines of the limit are fine.
  std::string body;
  for (int i = 0; i < 10; ++i) body += at + "x\r\n";
  EXPECT_EQ(read_everywhere(head + body + "0\r\n\r\n", limits).events.at(1).body, std::string(10, 'x'));
}

TEST(HttpReader, TrailersAtTheLimitsAndOneOver) {
  http_reader_limits limits;
  limits.max_header_bytes = 64;
  limits.max_header_count = 2;
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  // The trailer section: field lines and the final CRLF, at most 64 bytes.
  auto trailer_of_size = [](std::size_t size) { return "T: " + std::string(size - 7, 'v') + "\r\n\r\n"; };
  ASSERT_EQ(trailer_of_size(64).size(), 64u);
  EXPECT_EQ(read_everywhere(head + "0\r\n" + trailer_of_size(64), limits).events.at(1).event, event::body_done);
  const http_record big = read_everywhere(head + "0\r\n" + trailer_of_size(65), limits).events.at(1);
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(big.reason, "trailer section over max_header_bytes");
  EXPECT_EQ(read_everywhere(head + "0\r\nA: 1\r\nB: 2\r\n\r\n", limits).events.at(1).event, event::body_done);
  const http_record many = read_everywhere(head + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).events.at(1);
  EXPECT_EQ(many.status, 431);
  EXPECT_EQ(many.reason, "too many trailer fields");
}

TEST(HttpReader, BuffersNoMoreThanTheHeadLimit) {
  http_reader_limits limits;
  limits.max_header_bytes = 32;
  http_reader reader(limits);
  std::size_t total = 0;
  for (int i = 0; i < 40 && !reader.failed(); ++i) {
    const http_read_result r = reader.feed("a");
    total += r.consumed;
    EXPECT_LE(reader.buffered_head_bytes(), 32u);
  }
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(total, 32u);
}

}  // namespace
}  // namespace eio::wire
