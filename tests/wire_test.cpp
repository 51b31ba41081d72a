// eio::wire's small pieces: SHA-1 and the handshake's accept value, reason
// phrases, the URL parser every tool shares, and the HTTP response reader
// (every response also read split at every offset), the output buffer.
#include <eio/wire/http_text.hpp>
#include <eio/wire/output_buffer.hpp>
#include <eio/wire/response_reader.hpp>
#include <eio/wire/url.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace eio::wire {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unwritten(const output_buffer& out) {
  iovec pieces[8];
  std::string bytes;
  const std::size_t n = out.gather(pieces, 8);
  for (std::size_t i = 0; i < n; ++i) bytes.append(static_cast<const char*>(pieces[i].iov_base), pieces[i].iov_len);
  return bytes;
}

TEST(wire_output_buffer, release_memory_keeps_what_waits_and_the_buffer_works_after_it) {
  output_buffer out;
  out.append("HTTP/1.1 101 Switching Protocols\r\n\r\n");
  out.append_shared(std::make_shared<const std::string>("shared"));
  out.append("tail");
  out.consume(5);
  out.release_memory();  // bytes wait: nothing may go
  EXPECT_EQ(unwritten(out), "1.1 101 Switching Protocols\r\n\r\nsharedtail");
  out.consume(out.size());
  EXPECT_TRUE(out.empty());
  out.release_memory();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.front(), "");
  out.append("after");
  out.append_shared(std::make_shared<const std::string>("!"));
  EXPECT_EQ(unwritten(out), "after!");
  EXPECT_EQ(out.size(), 6u);
}

TEST(wire_sha1, fips_180_examples_and_block_edges) {
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1'000'000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  // 55, 56 and 64 bytes: the length fits the last block, or needs another.
  EXPECT_EQ(hex(sha1(std::string(55, 'a'))), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(hex(sha1(std::string(56, 'a'))), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(hex(sha1(std::string(64, 'a'))), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(wire_http_text, websocket_accept_of_rfc_6455_section_1_3) {
  EXPECT_EQ(websocket_accept_value("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(wire_http_text, status_lines) {
  std::string out;
  append_status_line(200, out);
  append_status_line(413, out);
  append_status_line(799, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nHTTP/1.1 413 Request Entity Too Large\r\nHTTP/1.1 799 Unknown\r\n");
}

TEST(wire_url, the_four_schemes_ports_paths_and_queries) {
  std::string error;
  auto u = parse_url("http://127.0.0.1:3000/engine.io/?token=a%20b&x=1+2#frag", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->scheme, "http");
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 3000);
  EXPECT_TRUE(u->port_given);
  EXPECT_EQ(u->path, "/engine.io/");
  EXPECT_EQ(u->query, "token=a%20b&x=1+2");
  EXPECT_EQ(u->fragment, "frag");
  const auto params = u->query_params();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0], std::make_pair(std::string("token"), std::string("a b")));
  EXPECT_EQ(params[1], std::make_pair(std::string("x"), std::string("1 2")));
  EXPECT_EQ(u->authority(), "127.0.0.1:3000");

  u = parse_url("WSS://example.com", error);
  ASSERT_TRUE(u) << error;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_FALSE(u->port_given);
  EXPECT_EQ(u->path, "");
  EXPECT_EQ(u->authority(), "example.com");

  u = parse_url("ws://[::1]:8080/x", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->authority(), "[::1]:8080");
  u = parse_url("https://[::1]", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->authority(), "[::1]");
}

TEST(wire_url, refusals_say_why) {
  for (const char* bad : {"ftp://x/", "x", "http://", "http://:80/", "http://h:0/", "http://h:65536/", "http://h:8a/",
                          "http://u@h/", "http://[::1/", "http://[xyz]/", "http://::1/", "http://h /"}) {
    std::string error;
    EXPECT_FALSE(parse_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

// Reads `stream` whole, then every prefix: a prefix is need_more or the same
// response (the bytes after a response never change it).
response_read read_everywhere(std::string_view stream, http_response_view& out, response_read_options options = {},
                              bool eof = false) {
  const response_read whole = read_response(stream, eof, out, {}, options);
  http_response_view part;
  for (std::size_t cut = 0; cut < stream.size(); ++cut) {
    const response_read r = read_response(stream.substr(0, cut), false, part, {}, options);
    if (r.status == response_status::complete) {
      EXPECT_EQ(r.consumed, whole.consumed) << "cut at " << cut;
      EXPECT_EQ(part.body, out.body) << "cut at " << cut;
    }
  }
  return whole;
}

TEST(wire_response_reader, content_length_chunked_no_body_and_to_the_end) {
  http_response_view r;
  std::string stream = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204";
  auto read = read_everywhere(stream, r);
  ASSERT_EQ(read.status, response_status::complete) << read.error;
  EXPECT_EQ(read.consumed, stream.size() - 12);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-type"), std::optional<std::string_view>("text/plain"));
  EXPECT_TRUE(r.keep_alive);

  stream = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: 1\r\n\r\n";
  read = read_everywhere(stream, r);
  ASSERT_EQ(read.status, response_status::complete) << read.error;
  EXPECT_EQ(read.consumed, stream.size());
  EXPECT_EQ(r.body, "hello!");

  stream = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
  read = read_everywhere(stream, r);
  ASSERT_EQ(read.status, response_status::complete);
  EXPECT_EQ(read.consumed, stream.size() - 4);

  stream = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  read = read_everywhere(stream, r, {/*no_body=*/true, false});
  ASSERT_EQ(read.status, response_status::complete);
  EXPECT_EQ(r.body, "");

  stream = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall of it";
  EXPECT_EQ(read_response(stream, false, r).status, response_status::need_more);
  read = read_response(stream, true, r);
  ASSERT_EQ(read.status, response_status::complete);
  EXPECT_EQ(r.body, "all of it");
  EXPECT_FALSE(r.keep_alive);

  stream = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy";
  read = read_everywhere(stream, r, {false, /*head_only=*/true});
  ASSERT_EQ(read.status, response_status::complete);
  EXPECT_EQ(read.consumed, stream.size() - 4);
  EXPECT_FALSE(r.keep_alive);
}

TEST(wire_response_reader, errors) {
  http_response_view r;
  for (const char* bad : {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    EXPECT_EQ(read_response(bad, false, r).status, response_status::error) << bad;
  }
  EXPECT_EQ(read_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, r).status, response_status::error);
  EXPECT_EQ(read_response("", true, r).status, response_status::error);
  response_limits small;
  small.max_head_bytes = 20;
  EXPECT_EQ(read_response("HTTP/1.1 200 OK\r\nX: 1234567890\r\n\r\n", false, r, small).status, response_status::error);
  small = {};
  small.max_body_bytes = 4;
  EXPECT_EQ(read_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, r, small).status,
            response_status::error);
}

}  // namespace
}  // namespace eio::wire
