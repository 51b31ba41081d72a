#include <eio/parser.hpp>

#include <gtest/gtest.h>

#include "feed.hpp"

namespace eio {
namespace {

constexpr packet_type all_types[] = {packet_type::open, packet_type::close,   packet_type::ping, packet_type::pong,
                                     packet_type::message, packet_type::upgrade, packet_type::noop};

packet decode_ok(std::string_view frame, frame_kind kind, protocol_version version, std::string& scratch) {
  packet p;
  const decode_error error = decode_frame(frame, kind, version, p, scratch);
  EXPECT_FALSE(error) << error.code.message() << " at " << error.offset;
  return p;
}

TEST(frame, every_type_text_both_versions) {
  for (const auto version : {protocol_version::v3, protocol_version::v4}) {
    for (const auto type : all_types) {
      for (const std::string_view data : {std::string_view(""), std::string_view("probe"), std::string_view("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")}) {
        std::string frame;
        EXPECT_EQ(encode_frame(packet{type, false, data}, version, true, frame), frame_kind::text);
        EXPECT_EQ(frame, std::string(1, static_cast<char>('0' + static_cast<int>(type))) + std::string(data));
        std::string scratch;
        const packet p = decode_ok(frame, frame_kind::text, version, scratch);
        EXPECT_EQ(p, (packet{type, false, data}));
        // Zero-copy: the data is a view into the frame.
        EXPECT_EQ(p.data.data(), frame.data() + 1);
      }
    }
  }
}

TEST(frame, v3_binary_frames_carry_every_type) {
  for (const auto type : all_types) {
    const packet sent{type, true, std::string_view("\x00\xff\x01", 3)};
    std::string frame;
    EXPECT_EQ(encode_frame(sent, protocol_version::v3, true, frame), frame_kind::binary);
    EXPECT_EQ(static_cast<unsigned char>(frame[0]), static_cast<unsigned>(type));
    std::string scratch;
    EXPECT_EQ(decode_ok(frame, frame_kind::binary, protocol_version::v3, scratch), sent);
  }
}

TEST(frame, v4_binary_frame_is_raw_message_data) {
  const std::string data(1'000'000, '\x07');  // 1 MB, the default limit
  std::string frame;
  EXPECT_EQ(encode_frame(packet{packet_type::message, true, data}, protocol_version::v4, true, frame), frame_kind::binary);
  EXPECT_EQ(frame, data);
  std::string scratch;
  const packet p = decode_ok(frame, frame_kind::binary, protocol_version::v4, scratch);
  EXPECT_EQ(p, (packet{packet_type::message, true, data}));
  EXPECT_EQ(p.data.data(), frame.data());
}

TEST(frame, binary_without_binary_support_is_base64_text) {
  const packet sent{packet_type::message, true, std::string_view("\x01\x02\x03\x04", 4)};
  std::string v4, v3;
  EXPECT_EQ(encode_frame(sent, protocol_version::v4, false, v4), frame_kind::text);
  EXPECT_EQ(encode_frame(sent, protocol_version::v3, false, v3), frame_kind::text);
  EXPECT_EQ(v4, "bAQIDBA==");
  EXPECT_EQ(v3, "b4AQIDBA==");
  std::string scratch;
  EXPECT_EQ(decode_ok(v4, frame_kind::text, protocol_version::v4, scratch), sent);
  EXPECT_EQ(decode_ok(v3, frame_kind::text, protocol_version::v3, scratch), sent);
}

TEST(frame, large_text_message) {
  std::string data;
  while (data.size() < 999'000) data += "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
  std::string frame;
  encode_frame(packet{packet_type::message, false, data}, protocol_version::v4, true, frame);
  std::string scratch;
  EXPECT_EQ(decode_ok(frame, frame_kind::text, protocol_version::v4, scratch).data, data);
}

TEST(frame, size_limit_at_and_past) {
  decode_options options;
  options.max_payload_bytes = 10;
  std::string scratch;
  packet p;
  EXPECT_FALSE(decode_frame("4123456789", frame_kind::text, protocol_version::v4, p, scratch, options));
  const decode_error error = decode_frame("41234567890", frame_kind::text, protocol_version::v4, p, scratch, options);
  EXPECT_EQ(error.code, errc::payload_too_large);
  EXPECT_EQ(error.offset, 10u);
  EXPECT_EQ(decode_frame(std::string(11, 'x'), frame_kind::binary, protocol_version::v4, p, scratch, options).code,
            errc::payload_too_large);
}

TEST(frame, errors_name_their_byte) {
  std::string scratch;
  packet p;
  auto error = decode_frame("4\xe2\x82", frame_kind::text, protocol_version::v4, p, scratch);
  EXPECT_EQ(error.code, errc::invalid_utf8);
  EXPECT_EQ(error.offset, 1u);
  error = decode_frame("b4AQ@D", frame_kind::text, protocol_version::v3, p, scratch);
  EXPECT_EQ(error.code, errc::invalid_base64);
  EXPECT_EQ(error.offset, 4u);
  error = decode_frame(std::string_view("\x09", 1), frame_kind::binary, protocol_version::v3, p, scratch);
  EXPECT_EQ(error.code, errc::unknown_packet_type);
  // Invalid UTF-8 passes when the caller turns validation off (its WebSocket
  // layer already validated text frames, say).
  decode_options lenient;
  lenient.validate_utf8 = false;
  EXPECT_FALSE(decode_frame("4\xff", frame_kind::text, protocol_version::v4, p, scratch, lenient));
}

TEST(errors, category_and_names) {
  const std::error_code code = errc::invalid_base64;
  EXPECT_STREQ(code.category().name(), "eio.parser");
  EXPECT_EQ(code.message(), "invalid base64");
  for (int e = static_cast<int>(errc::empty_payload); e <= static_cast<int>(errc::too_many_packets); ++e) {
    const auto name = errc_name(static_cast<errc>(e));
    EXPECT_NE(name, "unknown");
    EXPECT_EQ(errc_from_name(name), static_cast<errc>(e));
    EXPECT_NE(make_error_code(static_cast<errc>(e)).message(), "unknown eio.parser error");
  }
  EXPECT_FALSE(errc_from_name("nope"));
  for (const auto type : all_types) EXPECT_EQ(packet_type_from_name(to_string(type)), type);
  EXPECT_FALSE(packet_type_from_name("error"));
}

}  // namespace
}  // namespace eio

namespace eio {
namespace {

TEST(frame, layout_is_the_encoding_without_the_copy) {
  const packet cases[] = {packet{packet_type::message, false, "hello"}, packet{packet_type::ping, false, ""},
                          packet{packet_type::message, true, std::string_view("\x00\x01", 2)}};
  for (const auto version : {protocol_version::v3, protocol_version::v4}) {
    for (const auto& p : cases) {
      frame_layout layout;
      ASSERT_TRUE(layout_frame(p, version, true, layout));
      std::string encoded;
      EXPECT_EQ(encode_frame(p, version, true, encoded), layout.kind);
      EXPECT_EQ(encoded, std::string(layout.prefix()) + std::string(p.data));
    }
  }
  frame_layout layout;
  EXPECT_TRUE(layout_frame(packet{packet_type::message, true, "x"}, protocol_version::v4, true, layout));
  EXPECT_TRUE(layout.prefix().empty());  // a v4 binary frame is the data itself
  EXPECT_FALSE(layout_frame(packet{packet_type::message, true, "x"}, protocol_version::v4, false, layout));  // base64
}

}  // namespace
}  // namespace eio
