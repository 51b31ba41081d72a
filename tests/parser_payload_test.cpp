#include <eio/parser.hpp>

#include <gtest/gtest.h>

#include "feed.hpp"
#include "vectors.hpp"

namespace eio {
namespace {

// Owned copies: base64-decoded views die with the decoder.
std::vector<test::owned_packet> decode_ok(std::string_view payload, protocol_version version, payload_format format,
                                          decode_options options = {}) {
  payload_decoder decoder(version, format, options);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(payload, packets);
  EXPECT_FALSE(error) << error.code.message() << " at " << error.offset;
  return test::to_owned(packets);
}

std::vector<packet> decode_views(std::string_view payload, protocol_version version, payload_format format) {
  payload_decoder decoder(version, format);
  std::vector<packet> packets;
  EXPECT_FALSE(decoder.decode(payload, packets));
  for (const auto& p : packets) EXPECT_FALSE(p.binary);  // only text views outlive the decoder
  return packets;
}

bool points_into(std::string_view view, std::string_view buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

TEST(payload, text_packets_are_views_into_the_input) {
  const std::string v4 = "4hello\x1e" "2probe\x1e" "4w\xc3\xb6rld";
  for (const auto& p : decode_views(v4, protocol_version::v4, payload_format::text)) EXPECT_TRUE(points_into(p.data, v4));
  const std::string v3 = "6:4hello6:2probe";
  for (const auto& p : decode_views(v3, protocol_version::v3, payload_format::text)) EXPECT_TRUE(points_into(p.data, v3));
  std::string v3_binary;
  encode_payload({packet{packet_type::message, true, "\x01\x02"}, packet{packet_type::message, false, "hi"}},
                 protocol_version::v3, true, v3_binary);
  payload_decoder decoder(protocol_version::v3, payload_format::binary);
  std::vector<packet> packets;
  ASSERT_FALSE(decoder.decode(v3_binary, packets));
  ASSERT_EQ(packets.size(), 2u);
  for (const auto& p : packets) EXPECT_TRUE(points_into(p.data, v3_binary));  // binary too: no base64 here
}

TEST(payload, one_megabyte_of_data_in_every_form) {
  decode_options options;
  options.max_payload_bytes = 4 << 20;
  std::string text;
  while (text.size() < 1'000'000) text += "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  std::string bytes(1'000'000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const std::vector<packet> sent = {packet{packet_type::message, false, text}, packet{packet_type::message, true, bytes}};
  for (const auto version : {protocol_version::v3, protocol_version::v4}) {
    for (const bool binary_supported : {false, true}) {
      std::string payload;
      const payload_format format = encode_payload(sent, version, binary_supported, payload);
      EXPECT_EQ(decode_ok(payload, version, format, options), test::to_owned(sent));
    }
  }
}

TEST(payload, many_base64_packets_in_one_feed_stay_valid) {
  // Each b-packet decodes into the decoder's storage; earlier views must
  // survive later packets (AddressSanitizer watches this test).
  std::vector<std::string> blobs;
  for (int i = 0; i < 500; ++i) blobs.push_back(std::string(static_cast<std::size_t>(i % 37), static_cast<char>(i)));
  std::vector<packet> sent;
  for (const auto& blob : blobs) sent.push_back(packet{packet_type::message, true, blob});
  for (const auto version : {protocol_version::v3, protocol_version::v4}) {
    std::string payload;
    encode_payload(sent, version, false, payload);
    EXPECT_EQ(decode_ok(payload, version, payload_format::text), test::to_owned(sent));
  }
}

TEST(payload, decoder_is_reusable_and_remembers_failure) {
  payload_decoder decoder(protocol_version::v4, payload_format::text);
  std::vector<packet> packets;
  EXPECT_FALSE(decoder.decode("bAQI=\x1e" "4a", packets));
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].data, "\x01\x02");
  packets.clear();
  EXPECT_FALSE(decoder.decode("bAwQ=", packets));
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].data, "\x03\x04");

  decoder.reset();
  packets.clear();
  auto fed = decoder.feed("4a\x1e" "9\x1e", false, packets);
  EXPECT_EQ(fed.error.code, errc::unknown_packet_type);
  EXPECT_EQ(fed.error.offset, 3u);
  EXPECT_EQ(packets.size(), 1u);
  fed = decoder.feed("4b", true, packets);  // a failed payload stays failed
  EXPECT_EQ(fed.error.code, errc::unknown_packet_type);
  EXPECT_EQ(fed.consumed, 0u);
  decoder.reset();
  fed = decoder.feed("4b", true, packets);
  EXPECT_FALSE(fed.error);
  EXPECT_TRUE(fed.done);
}

TEST(payload, feed_reports_consumed_and_need_more) {
  payload_decoder decoder(protocol_version::v3, payload_format::text);
  std::vector<packet> packets;
  auto fed = decoder.feed("2:4a5:4b", false, packets);
  EXPECT_EQ(fed.consumed, 4u);  // "2:4a" is whole, "5:4b" waits for 3 more units
  EXPECT_FALSE(fed.done);
  EXPECT_EQ(packets.size(), 1u);
  fed = decoder.feed("5:4bcde", true, packets);
  EXPECT_EQ(fed.consumed, 7u);
  EXPECT_TRUE(fed.done);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[1].data, "bcde");
}

TEST(payload, default_byte_limit_is_the_reference_max_http_buffer_size) {
  std::string payload = "4" + std::string(999'999, 'a');
  EXPECT_EQ(decode_ok(payload, protocol_version::v4, payload_format::text).size(), 1u);
  payload += 'a';
  payload_decoder decoder(protocol_version::v4, payload_format::text);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(payload, packets);
  EXPECT_EQ(error.code, errc::payload_too_large);
  EXPECT_EQ(error.offset, 1'000'000u);
}

TEST(payload, packet_limit_counts_across_feeds) {
  decode_options options;
  options.max_packets = 3;
  const std::string payload = "2\x1e" "2\x1e" "2\x1e" "2";
  for (std::size_t cut = 0; cut <= payload.size(); ++cut) {
    const auto fed = test::feed_in_pieces(payload, {cut}, protocol_version::v4, payload_format::text, options);
    EXPECT_EQ(fed.packets.size(), 3u);
    EXPECT_EQ(fed.error.code, errc::too_many_packets);
    EXPECT_EQ(fed.error.offset, 6u);
  }
}

TEST(payload_encoder, v3_lengths_count_utf16_units_like_javascript) {
  std::string out;
  encode_payload({packet{packet_type::message, false, "\xe2\x82\xac"},          // U+20AC: 1 unit
                  packet{packet_type::message, false, "\xf0\x9f\x98\x80"},      // U+1F600: 2 units
                  packet{packet_type::message, false, "\xc3\xa9\xc3\xa9"}},     // 2 x U+00E9
                 protocol_version::v3, false, out);
  EXPECT_EQ(out, "2:4\xe2\x82\xac" "3:4\xf0\x9f\x98\x80" "3:4\xc3\xa9\xc3\xa9");
}

TEST(payload_encoder, v3_binary_payload_only_when_supported_and_needed) {
  const packet text{packet_type::message, false, "hi"};
  const packet bytes{packet_type::message, true, "\x01"};
  std::string out;
  EXPECT_EQ(encode_payload({text}, protocol_version::v3, true, out), payload_format::text);
  EXPECT_EQ(out, "3:4hi");
  out.clear();
  EXPECT_EQ(encode_payload({text, bytes}, protocol_version::v3, false, out), payload_format::text);
  EXPECT_EQ(out, "3:4hi6:b4AQ==");
  out.clear();
  EXPECT_EQ(encode_payload({text, bytes}, protocol_version::v3, true, out), payload_format::binary);
  EXPECT_EQ(out, std::string("\x00\x03\xff" "4hi" "\x01\x02\xff\x04\x01", 11));
  out.clear();
  EXPECT_EQ(encode_payload({text, bytes}, protocol_version::v4, true, out), payload_format::text);
  EXPECT_EQ(out, "4hi\x1e" "bAQ==");
}

TEST(payload_encoder, empty_lists) {
  std::string out;
  encode_payload(std::vector<packet>{}, protocol_version::v3, false, out);
  EXPECT_EQ(out, "0:");
  out.clear();
  encode_payload(std::vector<packet>{}, protocol_version::v4, false, out);
  EXPECT_EQ(out, "");
}

TEST(payload_encoder, appends_to_what_is_there) {
  std::string out = "prefix";
  encode_payload({packet{packet_type::ping, false, "probe"}}, protocol_version::v3, false, out);
  EXPECT_EQ(out, "prefix6:2probe");
}

}  // namespace
}  // namespace eio
