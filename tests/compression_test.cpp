// zlib compression of the Poco transport: Accept-Encoding negotiation and
// one-shot HTTP bodies (checked with zlib's own inflate), permessage-deflate
// negotiation (RFC 7692 section 5 and 7.1), the examples of section 7.2.3,
// round trips with and without context takeover, and the limits.
#include <eio/wire/compression.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace eio::wire {
namespace {

std::string bytes(std::initializer_list<unsigned char> list) { return std::string(list.begin(), list.end()); }

// Inflates `data` with a fresh zlib stream of `window_bits` (zlib's meaning:
// 15 + 16 gzip only, 15 zlib only, negative raw). With `sync_tail` the data
// is a permessage-deflate payload: 00 00 ff ff is appended, and it need not
// end its stream. nullopt on any zlib error or an unfinished stream.
//
// zlib's inflate checks distances against its window only for what it did
// not write in the same call: `chunk_size` 1 makes it check every one.
std::optional<std::string> zlib_inflate(std::string_view data, int window_bits, bool sync_tail = false,
                                        std::size_t chunk_size = 4096) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return std::nullopt;
  std::string input(data);
  if (sync_tail) input += bytes({0x00, 0x00, 0xff, 0xff});
  z.next_in = reinterpret_cast<Bytef*>(input.data());
  z.avail_in = static_cast<uInt>(input.size());
  std::string out;
  int ret = Z_OK;
  do {
    char chunk[4096];
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = static_cast<uInt>(std::min(chunk_size, sizeof chunk));
    ret = inflate(&z, sync_tail ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    out.append(chunk, std::min(chunk_size, sizeof chunk) - z.avail_out);
  } while (ret == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
  const bool ended = ret == Z_STREAM_END && z.avail_in == 0;
  const bool flushed = sync_tail && (ret == Z_OK || ret == Z_BUF_ERROR) && z.avail_in == 0;
  inflateEnd(&z);
  if (!(ended || flushed)) return std::nullopt;
  return out;
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Compressible text: words drawn from a small set.
std::string text(std::size_t size, unsigned seed) {
  static const char* const words[] = {"engine", "io ", "packet ", "polling ", "websocket ", "upgrade ", "ping ", "42 "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < size) s += words[rng() % 8];
  s.resize(size);
  return s;
}

// ---------------------------------------------------------------------------
// HTTP

TEST(compression_http, accept_encoding_table) {
  const struct {
    const char* header;
    http_encoding expected;
  } cases[] = {
      {"", http_encoding::identity},
      {"gzip", http_encoding::gzip},
      {"deflate", http_encoding::deflate},
      {"gzip, deflate", http_encoding::gzip},
      {"deflate, gzip", http_encoding::gzip},  // equal weights: gzip
      {"gzip, deflate, br", http_encoding::gzip},
      {"br", http_encoding::identity},
      {"identity", http_encoding::identity},
      {"br;q=1, gzip;q=0.1", http_encoding::gzip},
      // Weights.
      {"gzip;q=0.5, deflate", http_encoding::deflate},
      {"deflate;q=0.5, gzip;q=0.4", http_encoding::deflate},
      {"deflate;q=0.5, gzip;q=0.5", http_encoding::gzip},
      {"gzip;q=0", http_encoding::identity},
      {"gzip;q=0.000", http_encoding::identity},
      {"gzip;q=0, deflate;q=0", http_encoding::identity},
      {"gzip;q=0, deflate", http_encoding::deflate},
      {"gzip;q=0.001", http_encoding::gzip},
      {"gzip;q=1.000", http_encoding::gzip},
      {"gzip;Q=0, deflate", http_encoding::deflate},
      {"gzip;q=0, gzip", http_encoding::identity},  // the first mention counts
      // "*": every coding not named.
      {"*", http_encoding::gzip},
      {"*;q=0", http_encoding::identity},
      {"*, gzip;q=0", http_encoding::deflate},
      {"gzip;q=0, *", http_encoding::deflate},
      {"deflate;q=0.9, *;q=0.1", http_encoding::deflate},
      {"br, *;q=0.2, deflate;q=0.1", http_encoding::gzip},
      // Case and the x-gzip alias (RFC 9110 section 8.4.1.3).
      {"GZIP", http_encoding::gzip},
      {"Deflate", http_encoding::deflate},
      {"x-gzip", http_encoding::gzip},
      {"X-GZip;q=0.3, deflate;q=0.2", http_encoding::gzip},
      // Whitespace and empty elements.
      {"  gzip  ;  q=0.5 , deflate ; q=0.6 ", http_encoding::deflate},
      {"\tgzip\t", http_encoding::gzip},
      {",,, deflate ,,", http_encoding::deflate},
      // Garbage: the element is ignored, the rest still counts.
      {"gzip;q=1.001", http_encoding::identity},
      {"gzip;q=0.0001", http_encoding::identity},
      {"gzip;q=2", http_encoding::identity},
      {"gzip;q=-1", http_encoding::identity},
      {"gzip;q=", http_encoding::identity},
      {"gzip;q=abc, deflate", http_encoding::deflate},
      {"gzip;q = 1", http_encoding::identity},
      {"gzip;level=1", http_encoding::identity},
      {"gzip deflate", http_encoding::identity},
      {"gz\"ip, deflate;q=0.1", http_encoding::deflate},
      {";q=1", http_encoding::identity},
      {"gzip;q=0.5;q=1", http_encoding::identity},
  };
  for (const auto& c : cases) EXPECT_EQ(choose_encoding(c.header), c.expected) << '"' << c.header << '"';
}

TEST(compression_http, content_encoding_names) {
  EXPECT_EQ(content_encoding_name(http_encoding::gzip), "gzip");
  EXPECT_EQ(content_encoding_name(http_encoding::deflate), "deflate");
  EXPECT_EQ(content_encoding_name(http_encoding::identity), "");
}

TEST(compression_http, bodies_inflate_back_byte_identical) {
  const std::string inputs[] = {"", "x", text(1023, 1), text(1024, 2), random_bytes(100'000, 3), text(1'000'000, 4),
                                random_bytes(1'000'000, 5)};
  for (const auto& in : inputs) {
    std::string gzip;
    ASSERT_TRUE(compress_body(http_encoding::gzip, in, gzip)) << in.size();
    // The gzip format (RFC 1952 magic bytes) and zlib's gzip-only decoder.
    ASSERT_GE(gzip.size(), 18u);
    EXPECT_EQ(gzip.substr(0, 2), bytes({0x1f, 0x8b}));
    EXPECT_EQ(zlib_inflate(gzip, 15 + 16), in) << in.size();
    EXPECT_EQ(zlib_inflate(gzip, 15), std::nullopt);  // not the zlib format

    std::string deflate = "stale contents";
    ASSERT_TRUE(compress_body(http_encoding::deflate, in, deflate)) << in.size();
    // The zlib format (RFC 1950: CMF 0x78 for a 32 KiB window).
    ASSERT_GE(deflate.size(), 6u);
    EXPECT_EQ(static_cast<unsigned char>(deflate[0]), 0x78);
    EXPECT_EQ(zlib_inflate(deflate, 15), in) << in.size();
    EXPECT_EQ(zlib_inflate(deflate, 15 + 16), std::nullopt);

    std::string identity;
    ASSERT_TRUE(compress_body(http_encoding::identity, in, identity));
    EXPECT_EQ(identity, in);
  }
  // Compression that compresses.
  std::string out;
  ASSERT_TRUE(compress_body(http_encoding::gzip, text(1'000'000, 4), out));
  EXPECT_LT(out.size(), 200'000u);
}

// ---------------------------------------------------------------------------
// permessage-deflate negotiation

TEST(compression_permessage_deflate, negotiation_table) {
  const permessage_deflate_config defaults;
  permessage_deflate_config small_client;
  small_client.client_max_window_bits = 10;
  permessage_deflate_config small_server;
  small_server.server_max_window_bits = 10;
  permessage_deflate_config server_8;
  server_8.server_max_window_bits = 8;
  permessage_deflate_config no_takeover;
  no_takeover.server_no_context_takeover = true;
  no_takeover.client_no_context_takeover = true;
  const struct {
    const char* header;
    const permessage_deflate_config& config;
    const char* expected;  // the response, nullptr: declined
  } cases[] = {
      {"permessage-deflate", defaults, "permessage-deflate"},
      {"permessage-deflate; client_max_window_bits", defaults, "permessage-deflate"},
      {"permessage-deflate; client_max_window_bits=10", defaults, "permessage-deflate; client_max_window_bits=10"},
      {"permessage-deflate; client_max_window_bits=15", defaults, "permessage-deflate"},
      {"permessage-deflate; client_max_window_bits=8", defaults, "permessage-deflate; client_max_window_bits=8"},
      {"permessage-deflate; server_max_window_bits=10", defaults, "permessage-deflate; server_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=15", defaults, "permessage-deflate; server_max_window_bits=15"},
      {"permessage-deflate; server_max_window_bits=9", defaults, "permessage-deflate; server_max_window_bits=9"},
      {"permessage-deflate; server_no_context_takeover; client_no_context_takeover", defaults,
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
      {"permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11", defaults,
       "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11"},
      {"permessage-deflate; client_max_window_bits=\"10\"", defaults, "permessage-deflate; client_max_window_bits=10"},
      {"PerMessage-Deflate; Server_No_Context_Takeover", defaults, "permessage-deflate; server_no_context_takeover"},
      {" permessage-deflate ;server_no_context_takeover\t; client_max_window_bits = 9 ", defaults,
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
      // Declined offers (RFC 7692 section 5): the next one is tried.
      {"permessage-deflate; server_max_window_bits=8", defaults, "permessage-deflate; server_max_window_bits=8"},
      {"permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9", defaults,
       "permessage-deflate; server_max_window_bits=9"},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", defaults, nullptr},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits=10", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits=16", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits=7", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits=010", defaults, nullptr},
      {"permessage-deflate; server_max_window_bits=abc", defaults, nullptr},
      {"permessage-deflate; client_max_window_bits=0", defaults, nullptr},
      {"permessage-deflate; client_max_window_bits=\"\"", defaults, nullptr},
      {"permessage-deflate; server_no_context_takeover=1", defaults, nullptr},
      {"permessage-deflate; client_no_context_takeover=\"\"", defaults, nullptr},
      {"permessage-deflate; unknown_param", defaults, nullptr},
      {"permessage-deflate; foo, permessage-deflate; server_no_context_takeover", defaults,
       "permessage-deflate; server_no_context_takeover"},
      {"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", defaults, "permessage-deflate"},
      {"permessage-deflate,, permessage-deflate; server_no_context_takeover", defaults, "permessage-deflate"},
      {"x-webkit-deflate-frame", defaults, nullptr},
      {"", defaults, nullptr},
      // A header that does not parse is not trusted at all.
      {"permessage-deflate;", defaults, nullptr},
      {"permessage-deflate; client_max_window_bits=\"10", defaults, nullptr},
      {"permessage-deflate; =10", defaults, nullptr},
      {"permessage-deflate client_max_window_bits", defaults, nullptr},
      {"permessage-deflate, foo=bar", defaults, nullptr},
      // The server's own limits.
      {"permessage-deflate", small_client, nullptr},  // cannot tell a client that did not offer
      {"permessage-deflate; client_max_window_bits", small_client, "permessage-deflate; client_max_window_bits=10"},
      {"permessage-deflate; client_max_window_bits=9", small_client, "permessage-deflate; client_max_window_bits=9"},
      {"permessage-deflate; client_max_window_bits=12", small_client, "permessage-deflate; client_max_window_bits=10"},
      {"permessage-deflate, permessage-deflate; client_max_window_bits", small_client,
       "permessage-deflate; client_max_window_bits=10"},
      {"permessage-deflate", small_server, "permessage-deflate; server_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=12", small_server, "permessage-deflate; server_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=9", small_server, "permessage-deflate; server_max_window_bits=9"},
      {"permessage-deflate", server_8, "permessage-deflate; server_max_window_bits=8"},
      {"permessage-deflate; server_max_window_bits=12", server_8, "permessage-deflate; server_max_window_bits=8"},
      {"permessage-deflate", no_takeover, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
  };
  for (const auto& c : cases) {
    const auto params = negotiate_permessage_deflate(c.header, c.config);
    if (!c.expected) {
      EXPECT_FALSE(params) << '"' << c.header << "\" accepted as " << params->header_value();
      continue;
    }
    ASSERT_TRUE(params) << '"' << c.header << "\" declined";
    EXPECT_EQ(params->header_value(), c.expected) << '"' << c.header << '"';
  }
}

TEST(compression_permessage_deflate, negotiated_values) {
  const auto params = negotiate_permessage_deflate(
      "permessage-deflate; server_max_window_bits=11; client_max_window_bits=12; client_no_context_takeover", {});
  ASSERT_TRUE(params);
  EXPECT_EQ(params->server_max_window_bits, 11);
  EXPECT_EQ(params->client_max_window_bits, 12);
  EXPECT_FALSE(params->server_no_context_takeover);
  EXPECT_TRUE(params->client_no_context_takeover);
  const auto plain = negotiate_permessage_deflate("permessage-deflate", {});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->server_max_window_bits, 15);
  EXPECT_EQ(plain->client_max_window_bits, 15);
}

// ---------------------------------------------------------------------------
// permessage-deflate messages

permessage_deflate_params params_with(bool server_no_context_takeover, bool client_no_context_takeover,
                                      int server_bits = 15, int client_bits = 15) {
  permessage_deflate_params p;
  p.server_no_context_takeover = server_no_context_takeover;
  p.client_no_context_takeover = client_no_context_takeover;
  p.server_max_window_bits = server_bits;
  p.client_max_window_bits = client_bits;
  return p;
}

TEST(compression_permessage_deflate, rfc7692_examples_decode) {
  permessage_deflate codec(params_with(false, false));
  std::string out;
  // Section 7.2.3.1: "Hello" in one compressed block.
  EXPECT_EQ(codec.decompress(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  // Section 7.2.3.2: the same again, with the first as context.
  EXPECT_EQ(codec.decompress(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  // Section 7.2.3.3: a stored block.
  EXPECT_EQ(codec.decompress(bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}), 100, out),
            inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  // Section 7.2.3.5: two blocks in one message.
  EXPECT_EQ(codec.decompress(bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}), 100,
                             out),
            inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  // Section 7.2.3.6: an empty message as a single 00.
  EXPECT_EQ(codec.decompress(bytes({0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "");
  // Section 7.2.3.4: a block with BFINAL set ends the stream, the 00 after
  // it starts the next; the window carries on.
  EXPECT_EQ(codec.decompress(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  EXPECT_EQ(codec.decompress(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  // Without that 00, and two final blocks in one message.
  EXPECT_EQ(codec.decompress(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  EXPECT_EQ(codec.decompress(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
                             100, out),
            inflate_result::ok);
  EXPECT_EQ(out, "HelloHello");
  EXPECT_EQ(codec.decompress(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
}

TEST(compression_permessage_deflate, rfc7692_examples_encode) {
  permessage_deflate codec(params_with(false, false));
  std::string out;
  ASSERT_TRUE(codec.compress("Hello", out));
  EXPECT_EQ(out, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));  // section 7.2.3.1
  ASSERT_TRUE(codec.compress("Hello", out));
  EXPECT_EQ(out, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));  // section 7.2.3.2: with context
  permessage_deflate fresh(params_with(true, false));
  ASSERT_TRUE(fresh.compress("Hello", out));
  ASSERT_TRUE(fresh.compress("Hello", out));
  EXPECT_EQ(out, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));  // no context
}

// Our compressor and decompressor talk to each other, and to a plain zlib
// raw inflater that lives as long as the connection (or one per message
// without context takeover).
void round_trip(bool no_context_takeover) {
  SCOPED_TRACE(no_context_takeover ? "no context takeover" : "context takeover");
  permessage_deflate sender(params_with(no_context_takeover, no_context_takeover));
  permessage_deflate receiver(params_with(no_context_takeover, no_context_takeover));
  z_stream reference{};
  ASSERT_EQ(inflateInit2(&reference, -15), Z_OK);
  const std::string messages[] = {"Hello", "", text(5000, 7), text(5000, 7), random_bytes(70'000, 8),
                                  "Hello", std::string(1, '\0'), text(300'000, 9), "Hello"};
  std::vector<std::size_t> sizes;
  for (const auto& message : messages) {
    std::string compressed;
    ASSERT_TRUE(sender.compress(message, compressed));
    sizes.push_back(compressed.size());
    ASSERT_FALSE(compressed.size() >= 4 && compressed.substr(compressed.size() - 4) == bytes({0, 0, 0xff, 0xff}));
    std::string inflated = "stale contents";
    ASSERT_EQ(receiver.decompress(compressed, 1'000'000, inflated), inflate_result::ok);
    EXPECT_EQ(inflated, message);
    // A fresh inflater reads each message only without context takeover.
    const auto alone = zlib_inflate(compressed, -15, true);
    if (no_context_takeover) {
      EXPECT_EQ(alone, message);
    }
    // The long-lived reference reads every message.
    std::string input = compressed + bytes({0x00, 0x00, 0xff, 0xff});
    reference.next_in = reinterpret_cast<Bytef*>(input.data());
    reference.avail_in = static_cast<uInt>(input.size());
    std::string out(message.size() + 1, '\0');
    reference.next_out = reinterpret_cast<Bytef*>(out.data());
    reference.avail_out = static_cast<uInt>(out.size());
    const int ret = inflate(&reference, Z_SYNC_FLUSH);
    EXPECT_TRUE(ret == Z_OK || ret == Z_BUF_ERROR);
    EXPECT_EQ(reference.avail_in, 0u);
    out.resize(out.size() - reference.avail_out);
    EXPECT_EQ(out, message);
    if (no_context_takeover) inflateReset(&reference);
  }
  inflateEnd(&reference);
  // The repeated 5000-byte text: with context it is a few back references.
  EXPECT_GT(sizes[2], 500u);
  if (no_context_takeover) {
    EXPECT_EQ(sizes[3], sizes[2]);
  } else {
    EXPECT_LT(sizes[3], 100u);
  }
}

TEST(compression_permessage_deflate, round_trip_with_context_takeover) { round_trip(false); }
TEST(compression_permessage_deflate, round_trip_without_context_takeover) { round_trip(true); }

TEST(compression_permessage_deflate, context_needed_without_reset) {
  // With takeover the second message refers to the first: a decompressor
  // that reset in between (or a fresh one) cannot read it.
  permessage_deflate sender(params_with(false, false));
  std::string first, second, out;
  ASSERT_TRUE(sender.compress(text(2000, 11), first));
  ASSERT_TRUE(sender.compress(text(2000, 11), second));
  permessage_deflate fresh(params_with(false, false));
  EXPECT_EQ(fresh.decompress(second, 1'000'000, out), inflate_result::corrupt);  // distance too far back
  // A receiver that agreed on client_no_context_takeover resets after each message.
  permessage_deflate resetting(params_with(false, true));
  EXPECT_EQ(resetting.decompress(first, 1'000'000, out), inflate_result::ok);
  EXPECT_EQ(resetting.decompress(second, 1'000'000, out), inflate_result::corrupt);
}

TEST(compression_permessage_deflate, small_server_window_is_honoured) {
  // Repeats 1000 bytes apart: within a 32 KiB window, not a 512-byte one.
  const std::string block = random_bytes(1000, 12);
  const std::string message = block + block + block;
  permessage_deflate small(params_with(false, false, 9));
  std::string compressed;
  ASSERT_TRUE(small.compress(message, compressed));
  EXPECT_EQ(zlib_inflate(compressed, -9, true, 1), message);  // fails on any distance over 512
  permessage_deflate big(params_with(false, false, 15));
  ASSERT_TRUE(big.compress(message, compressed));
  EXPECT_LT(compressed.size(), 1200u);
  EXPECT_EQ(zlib_inflate(compressed, -9, true, 1), std::nullopt);  // the check above can fail
}

TEST(compression_permessage_deflate, server_window_8_stays_within_256_bytes) {
  // zlib has no 256-byte raw window; ours is 512 bytes, which must never
  // reach further back than 256.
  std::string message;
  for (const std::size_t distance : {100u, 150u, 200u, 240u, 300u, 400u, 480u}) {
    const std::string block = random_bytes(distance, static_cast<unsigned>(distance));
    message += block + block;
  }
  permessage_deflate sender(params_with(false, false, 8));
  std::string compressed;
  ASSERT_TRUE(sender.compress(message, compressed));
  EXPECT_LT(compressed.size() + 500, message.size());  // it did find the short distances
  EXPECT_EQ(zlib_inflate(compressed, -8, true, 1), message);
  // The check above can fail: a 32 KiB window reaches too far for it.
  permessage_deflate big(params_with(false, false, 15));
  ASSERT_TRUE(big.compress(message, compressed));
  EXPECT_EQ(zlib_inflate(compressed, -8, true, 1), std::nullopt);
}

TEST(compression_permessage_deflate, client_window_8_is_read) {
  // A client told client_max_window_bits=8 that uses zlib compresses with a
  // 512-byte window (zlib.h, deflateInit2); we read it.
  const std::string block = random_bytes(200, 13);
  const std::string message = block + block + "Hello";
  z_stream d{};
  ASSERT_EQ(deflateInit2(&d, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -9, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string compressed(2000, '\0');
  d.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  d.avail_in = static_cast<uInt>(message.size());
  d.next_out = reinterpret_cast<Bytef*>(compressed.data());
  d.avail_out = static_cast<uInt>(compressed.size());
  ASSERT_EQ(deflate(&d, Z_SYNC_FLUSH), Z_OK);
  compressed.resize(compressed.size() - d.avail_out - 4);
  deflateEnd(&d);
  permessage_deflate receiver(params_with(false, false, 15, 8));
  std::string out;
  EXPECT_EQ(receiver.decompress(compressed, 10'000, out), inflate_result::ok);
  EXPECT_EQ(out, message);
}

TEST(compression_permessage_deflate, size_limit_at_and_past) {
  const std::string message = text(50'000, 14);
  std::string compressed, out;
  {
    permessage_deflate sender(params_with(true, true));
    ASSERT_TRUE(sender.compress(message, compressed));
  }
  permessage_deflate receiver(params_with(true, true));
  EXPECT_EQ(receiver.decompress(compressed, message.size(), out), inflate_result::ok);
  EXPECT_EQ(out, message);
  EXPECT_EQ(receiver.decompress(compressed, message.size() - 1, out), inflate_result::too_big);
  EXPECT_LE(out.size(), message.size() - 1);
  EXPECT_EQ(receiver.decompress(compressed, 0, out), inflate_result::too_big);
  std::string empty;
  {
    permessage_deflate sender(params_with(true, true));
    ASSERT_TRUE(sender.compress("", empty));
  }
  EXPECT_EQ(receiver.decompress(empty, 0, out), inflate_result::ok);
  EXPECT_EQ(out, "");
}

TEST(compression_permessage_deflate, zip_bomb_stops_at_the_limit) {
  // 10 MB of zeros compress to about 10 KB.
  const std::string zeros(10'000'000, '\0');
  std::string bomb;
  permessage_deflate sender(params_with(false, false));
  ASSERT_TRUE(sender.compress(zeros, bomb));
  EXPECT_LT(bomb.size(), 20'000u);
  permessage_deflate receiver(params_with(false, false));
  std::string out;
  constexpr std::size_t limit = 1'000'000;
  EXPECT_EQ(receiver.decompress(bomb, limit, out), inflate_result::too_big);
  // The output never grew past the limit, nor its buffer.
  EXPECT_LE(out.size(), limit);
  EXPECT_LE(out.capacity(), limit);
  // The same with no limit to speak of reads it all (the guard is the limit).
  permessage_deflate unlimited(params_with(false, false));
  EXPECT_EQ(unlimited.decompress(bomb, 20'000'000, out), inflate_result::ok);
  EXPECT_EQ(out.size(), zeros.size());
}

TEST(compression_permessage_deflate, corrupt_data) {
  const std::string cases[] = {
      bytes({0xff, 0xff, 0xff}),                          // block type 3 (reserved)
      bytes({0x07}),                                      // BFINAL, block type 3
      bytes({0x00, 0x05, 0x00, 0x00, 0x00, 'H'}),        // stored block length without its complement
      bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x07}),  // a bad block after the final one
      random_bytes(1000, 15),
  };
  for (const auto& payload : cases) {
    permessage_deflate receiver(params_with(false, false));
    std::string out;
    EXPECT_EQ(receiver.decompress(payload, 1'000'000, out), inflate_result::corrupt) << payload.size();
  }
  // After corrupt data a no-context-takeover decompressor reads the next message.
  permessage_deflate receiver(params_with(false, true));
  std::string out;
  EXPECT_EQ(receiver.decompress(bytes({0x07}), 100, out), inflate_result::corrupt);
  EXPECT_EQ(receiver.decompress(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
}

TEST(compression_permessage_deflate, moves_keep_the_context) {
  permessage_deflate sender(params_with(false, false));
  permessage_deflate receiver(params_with(false, false));
  std::string compressed, out;
  ASSERT_TRUE(sender.compress("Hello", compressed));
  ASSERT_EQ(receiver.decompress(compressed, 100, out), inflate_result::ok);
  permessage_deflate moved_sender(std::move(sender));
  permessage_deflate moved_receiver(params_with(true, true));
  moved_receiver = std::move(receiver);
  ASSERT_TRUE(moved_sender.compress("Hello", compressed));
  EXPECT_EQ(compressed, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));  // still with context
  EXPECT_EQ(moved_receiver.decompress(compressed, 100, out), inflate_result::ok);
  EXPECT_EQ(out, "Hello");
  EXPECT_FALSE(moved_receiver.params().client_no_context_takeover);
}

}  // namespace
}  // namespace eio::wire
