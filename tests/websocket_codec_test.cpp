// RFC 6455 framing: the examples of section 5.7, every protocol error the
// reader must catch, and every input split at every byte.
#include <eio/websocket_codec.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace eio::websocket {
namespace {

// A client frame: masked with `key` unless key is 0 and !mask.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool mask = true,
                         std::uint32_t key = 0x37FA213D) {
  std::string frame;
  frame += static_cast<char>(first_byte);
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  if (payload.size() < 126) {
    frame += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    frame += static_cast<char>(mask_bit | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xFF);
  } else {
    frame += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) frame += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF);
  }
  if (mask) {
    const unsigned char k[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                                static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
    frame.append(reinterpret_cast<const char*>(k), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ k[i % 4]);
  } else {
    frame += payload;
  }
  return frame;
}

struct seen {
  frame_event::kind what;
  frame_kind message_kind;
  std::string data;
  std::uint16_t close_code;
  bool operator==(const seen& o) const {
    return what == o.what && data == o.data && close_code == o.close_code &&
           (what != frame_event::kind::message || message_kind == o.message_kind);
  }
};

// Every event of `stream` fed in pieces cut at `cuts`, the way a socket
// reader keeps the unconsumed bytes.
std::vector<seen> read_all(std::string_view stream, const std::vector<std::size_t>& cuts, std::size_t limit = 1'000'000,
                           bool require_masked = true,
                           std::size_t max_fragments = default_max_fragments_per_message) {
  frame_reader reader(limit, require_masked, false, max_fragments);
  std::vector<seen> events;
  std::string buffer;
  std::size_t begin = 0;
  for (std::size_t piece = 0; piece <= cuts.size(); ++piece) {
    const std::size_t end = piece < cuts.size() ? cuts[piece] : stream.size();
    buffer.append(stream.substr(begin, end - begin));
    begin = end;
    for (;;) {
      frame_event event;
      const std::size_t used = reader.read(buffer, event);
      buffer.erase(0, used);
      if (event.what == frame_event::kind::need_more) break;
      events.push_back({event.what, event.message_kind, std::string(event.data), event.close_code});
      if (event.what == frame_event::kind::error || event.what == frame_event::kind::close) return events;
    }
  }
  return events;
}

std::vector<seen> read_all(std::string_view stream) { return read_all(stream, {}); }

TEST(websocket_codec, rfc6455_examples) {
  // Section 5.7: a masked "Hello".
  const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  EXPECT_EQ(read_all(hello), (std::vector<seen>{{frame_event::kind::message, frame_kind::text, "Hello", 0}}));
  // A fragmented unmasked "Hello" and an unmasked ping, read with masking not required.
  const std::string fragmented("\x01\x03Hel\x80\x02lo\x89\x05Hello", 16);
  EXPECT_EQ(read_all(fragmented, {}, 1000, false),
            (std::vector<seen>{{frame_event::kind::message, frame_kind::text, "Hello", 0},
                               {frame_event::kind::ping, frame_kind::text, "Hello", 0}}));
}

TEST(websocket_codec, every_length_encoding_and_split_point) {
  std::string big(70'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  const std::string medium(300, 'm');
  const std::string stream = client_frame(0x82, big) + client_frame(0x81, medium) + client_frame(0x81, "") +
                             client_frame(0x89, "ping!") + client_frame(0x02, "ab") + client_frame(0x8A, "pong") +
                             client_frame(0x80, "cd");
  const std::vector<seen> expected = {{frame_event::kind::message, frame_kind::binary, big, 0},
                                      {frame_event::kind::message, frame_kind::text, medium, 0},
                                      {frame_event::kind::message, frame_kind::text, "", 0},
                                      {frame_event::kind::ping, frame_kind::text, "ping!", 0},
                                      {frame_event::kind::pong, frame_kind::text, "pong", 0},  // inside a fragmented message
                                      {frame_event::kind::message, frame_kind::binary, "abcd", 0}};
  EXPECT_EQ(read_all(stream), expected);
  // Cut at every offset near the frame boundaries and every 997th elsewhere.
  for (std::size_t cut = 0; cut <= stream.size(); cut += (cut < 20 || cut + 400 > stream.size()) ? 1 : 997) {
    ASSERT_EQ(read_all(stream, {cut}), expected) << "cut at " << cut;
  }
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < 2000; ++i) bytewise.push_back(i);
  EXPECT_EQ(read_all(stream, bytewise), expected);
}

TEST(websocket_codec, close_frames) {
  std::string payload("\x03\xe8" "bye", 5);  // 1000 "bye"
  EXPECT_EQ(read_all(client_frame(0x88, payload)), (std::vector<seen>{{frame_event::kind::close, frame_kind::text, "bye", 1000}}));
  EXPECT_EQ(read_all(client_frame(0x88, "")), (std::vector<seen>{{frame_event::kind::close, frame_kind::text, "", 1005}}));
  // Nothing is read after a close.
  frame_reader reader;
  frame_event event;
  const std::string stream = client_frame(0x88, "") + client_frame(0x81, "late");
  const std::size_t used = reader.read(stream, event);
  EXPECT_EQ(event.what, frame_event::kind::close);
  EXPECT_EQ(reader.read(std::string_view(stream).substr(used), event), 0u);
  EXPECT_EQ(event.what, frame_event::kind::close);
}

struct protocol_error_case {
  const char* name;
  std::string stream;
  std::uint16_t code;
};

TEST(websocket_codec, protocol_errors_close_with_the_right_code) {
  const std::string long_control(126, 'x');
  const protocol_error_case cases[] = {
      {"reserved bit", client_frame(0xC1, "x"), close_protocol_error},
      {"unknown data opcode", client_frame(0x83, "x"), close_protocol_error},
      {"unknown control opcode", client_frame(0x8B, "x"), close_protocol_error},
      {"unmasked client frame", client_frame(0x81, "x", false), close_protocol_error},
      {"fragmented ping", client_frame(0x09, "x"), close_protocol_error},
      {"control over 125 bytes", client_frame(0x89, long_control), close_protocol_error},
      {"continuation first", client_frame(0x80, "x"), close_protocol_error},
      {"text inside a fragmented message", client_frame(0x01, "a") + client_frame(0x81, "b"), close_protocol_error},
      {"close with one byte", client_frame(0x88, "x"), close_protocol_error},
      {"close code 1005 on the wire", client_frame(0x88, std::string("\x03\xed", 2)), close_protocol_error},
      {"close code 999", client_frame(0x88, std::string("\x03\xe7", 2)), close_protocol_error},
      {"close reason not UTF-8", client_frame(0x88, std::string("\x03\xe8\xff", 3)), close_invalid_data},
      {"text not UTF-8", client_frame(0x81, "ok\xc3"), close_invalid_data},
      {"text not UTF-8 across fragments", client_frame(0x01, "\xe2\x82") + client_frame(0x80, "x"), close_invalid_data},
      {"64-bit length with the top bit", std::string("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14),
       close_protocol_error},
  };
  for (const auto& c : cases) {
    const auto events = read_all(c.stream);
    ASSERT_FALSE(events.empty()) << c.name;
    EXPECT_EQ(events.back().what, frame_event::kind::error) << c.name;
    EXPECT_EQ(events.back().close_code, c.code) << c.name;
  }
  // A text message split inside a character is fine once whole.
  EXPECT_EQ(read_all(client_frame(0x01, "\xe2\x82") + client_frame(0x80, "\xac")),
            (std::vector<seen>{{frame_event::kind::message, frame_kind::text, "\xe2\x82\xac", 0}}));
}

TEST(websocket_codec, message_size_limit_at_and_past) {
  const std::string at_limit(100, 'a');
  EXPECT_EQ(read_all(client_frame(0x82, at_limit), {}, 100).back().what, frame_event::kind::message);
  EXPECT_EQ(read_all(client_frame(0x82, at_limit + "a"), {}, 100).back().close_code, close_too_big);
  // Fragments count together; the frame that crosses the limit fails before its payload is stored.
  EXPECT_EQ(read_all(client_frame(0x02, std::string(60, 'a')) + client_frame(0x80, std::string(40, 'b')), {}, 100)
                .back()
                .what,
            frame_event::kind::message);
  EXPECT_EQ(read_all(client_frame(0x02, std::string(60, 'a')) + client_frame(0x80, std::string(41, 'b')), {}, 100)
                .back()
                .close_code,
            close_too_big);
  // A header announcing 2^62 bytes fails at once, without waiting for them.
  EXPECT_EQ(read_all(std::string("\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14)).back().close_code,
            close_too_big);
}

// A text message "4xxx..." in `fragments` frames of one byte each, with a
// ping after every `ping_every`th frame (0: none).
std::string fragmented_message(std::size_t fragments, std::size_t ping_every = 0) {
  std::string stream;
  for (std::size_t i = 0; i < fragments; ++i) {
    const std::uint8_t fin = i + 1 == fragments ? 0x80 : 0x00;
    stream += client_frame(static_cast<std::uint8_t>(fin | (i == 0 ? 0x01 : 0x00)), i == 0 ? "4" : "x");
    if (ping_every && (i + 1) % ping_every == 0 && i + 1 < fragments) stream += client_frame(0x89, "p");
  }
  return stream;
}

// Each fragment costs a frame decode: the count is bounded like the size.
TEST(websocket_codec, fragments_per_message_at_and_past_the_limit) {
  ASSERT_EQ(default_max_fragments_per_message, 1024u);
  const std::string message = "4" + std::string(1023, 'x');
  EXPECT_EQ(read_all(fragmented_message(1024)),
            (std::vector<seen>{{frame_event::kind::message, frame_kind::text, message, 0}}));
  EXPECT_EQ(read_all(fragmented_message(1025)),
            (std::vector<seen>{{frame_event::kind::error, frame_kind::text, "", close_too_big}}));
  // The reason names the limit; the frame past it fails at its header, before its payload.
  frame_reader reader;
  const std::string flood = fragmented_message(1025);
  std::string_view rest = flood;
  frame_event event;
  do {
    rest.remove_prefix(reader.read(rest, event));
  } while (event.what == frame_event::kind::need_more && !rest.empty());
  EXPECT_EQ(event.what, frame_event::kind::error);
  EXPECT_EQ(event.close_code, close_too_big);
  EXPECT_STREQ(event.reason, "message in more than 1024 fragments");
  EXPECT_EQ(flood.size() - rest.size(), 1024 * client_frame(0x00, "x").size()) << "stopped at the 1,025th header";
  // Another limit, with control frames between the fragments (they do not
  // count), split at every offset; the count starts again with each message.
  const std::string three = fragmented_message(3, 1);
  const std::vector<seen> ok = {{frame_event::kind::ping, frame_kind::text, "p", 0},
                                {frame_event::kind::ping, frame_kind::text, "p", 0},
                                {frame_event::kind::message, frame_kind::text, "4xx", 0},
                                {frame_event::kind::ping, frame_kind::text, "p", 0},
                                {frame_event::kind::ping, frame_kind::text, "p", 0},
                                {frame_event::kind::message, frame_kind::text, "4xx", 0},
                                {frame_event::kind::message, frame_kind::binary, "b", 0}};
  const std::string four = fragmented_message(4, 1);
  const std::vector<seen> over = {{frame_event::kind::ping, frame_kind::text, "p", 0},
                                  {frame_event::kind::ping, frame_kind::text, "p", 0},
                                  {frame_event::kind::ping, frame_kind::text, "p", 0},
                                  {frame_event::kind::error, frame_kind::text, "", close_too_big}};
  for (std::size_t cut = 0; cut <= four.size(); ++cut) {
    ASSERT_EQ(read_all(three + three + client_frame(0x82, "b"), {cut}, 1000, true, 3), ok) << "cut at " << cut;
    ASSERT_EQ(read_all(four, {cut}, 1000, true, 3), over) << "cut at " << cut;
  }
  // A limit of 1: unfragmented messages only (0 is read as 1).
  for (const std::size_t limit : {std::size_t{0}, std::size_t{1}}) {
    EXPECT_EQ(read_all(client_frame(0x81, "4a"), {}, 1000, true, limit).back().what, frame_event::kind::message);
    EXPECT_EQ(read_all(fragmented_message(2), {}, 1000, true, limit).back().close_code, close_too_big);
  }
}

TEST(websocket_codec, writer_frames_read_back) {
  std::mt19937 rng(6455);
  for (const std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 100000u}) {
    std::string payload(size, '\0');
    for (auto& c : payload) c = static_cast<char>(rng());
    std::string frame;
    const std::size_t header = append_frame_header(opcode::binary, true, payload.size(), frame);
    EXPECT_EQ(header, size < 126 ? 2u : size <= 0xFFFF ? 4u : 10u);
    frame += payload;
    EXPECT_EQ(read_all(frame, {}, 1'000'000, false),
              (std::vector<seen>{{frame_event::kind::message, frame_kind::binary, payload, 0}}));
  }
  std::string close;
  std::string reason(130, 'x');
  reason.replace(121, 3, "\xe2\x82\xac");  // a 3-byte character straddling byte 123
  append_close_frame(close_too_big, reason, close);
  ASSERT_LE(close.size(), 2u + 125u);
  const auto events = read_all(close, {}, 1000, false);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].close_code, close_too_big);
  EXPECT_EQ(events[0].data, std::string(121, 'x'));  // cut before the character, not inside it
}

// The client role: masked frames equal client_frame()'s, which the server
// reader unmasks; the close frame's reason is cut like the unmasked one's.
TEST(websocket_codec, masked_writer_frames_read_back) {
  std::mt19937 rng(5300);
  for (const std::size_t size : {0u, 1u, 7u, 125u, 126u, 65535u, 65536u, 100000u}) {
    std::string payload(size, '\0');
    for (auto& c : payload) c = static_cast<char>(rng());
    const auto key = static_cast<std::uint32_t>(rng());
    std::string frame;
    append_masked_frame(opcode::binary, payload, key, frame);
    EXPECT_EQ(frame, client_frame(0x82, payload, true, key)) << size;
    EXPECT_EQ(read_all(frame), (std::vector<seen>{{frame_event::kind::message, frame_kind::binary, payload, 0}}));
  }
  std::string close;
  append_masked_close_frame(close_normal, std::string(200, 'y'), 0x01020304, close);
  ASSERT_EQ(close.size(), 2u + 4u + 125u);
  const auto events = read_all(close);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].close_code, close_normal);
  EXPECT_EQ(events[0].data, std::string(123, 'y'));
  // A server's unmasked frames, as the client reads them.
  std::string server;
  append_frame(opcode::text, "4hello", server);
  EXPECT_EQ(read_all(server, {}, 1'000'000, false),
            (std::vector<seen>{{frame_event::kind::message, frame_kind::text, "4hello", 0}}));
}

// permessage-deflate (RFC 7692 section 6.1): RSV1 marks a compressed
// message's first frame, and only when the reader was told it may.
struct compressed_seen {
  frame_event::kind what;
  bool compressed;
  std::string data;
  std::uint16_t close_code;
  bool operator==(const compressed_seen& o) const {
    return what == o.what && compressed == o.compressed && data == o.data && close_code == o.close_code;
  }
};

std::vector<compressed_seen> read_compressed(std::string_view stream, std::size_t cut = 0) {
  frame_reader reader(1'000'000, true, true);
  std::vector<compressed_seen> events;
  std::string buffer;
  for (const std::string_view piece : {stream.substr(0, cut), stream.substr(cut)}) {
    buffer.append(piece);
    for (;;) {
      frame_event event;
      buffer.erase(0, reader.read(buffer, event));
      if (event.what == frame_event::kind::need_more) break;
      events.push_back({event.what, event.compressed, std::string(event.data), event.close_code});
      if (event.what == frame_event::kind::error || event.what == frame_event::kind::close) return events;
    }
  }
  return events;
}

TEST(websocket_codec, rsv1_marks_compressed_messages_when_allowed) {
  // RFC 7692 section 7.2.3.1: "Hello" compressed; the bytes are not UTF-8,
  // which the reader must not check for a compressed text message.
  const std::string hello("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  const std::string stream = client_frame(0xC1, hello) +                           // compressed text
                             client_frame(0x41, hello.substr(0, 3)) +             // compressed, fragmented
                             client_frame(0x89, "p") +                            // a ping in between
                             client_frame(0x80, hello.substr(3)) +                //
                             client_frame(0x81, "plain") +                        // uncompressed text
                             client_frame(0xC2, "");                              // compressed empty binary
  const std::vector<compressed_seen> expected = {{frame_event::kind::message, true, hello, 0},
                                                 {frame_event::kind::ping, false, "p", 0},
                                                 {frame_event::kind::message, true, hello, 0},
                                                 {frame_event::kind::message, false, "plain", 0},
                                                 {frame_event::kind::message, true, "", 0}};
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    ASSERT_EQ(read_compressed(stream, cut), expected) << "cut at " << cut;
  }
  // Without the option RSV1 stays a protocol error.
  EXPECT_EQ(read_all(client_frame(0xC1, hello)).back().close_code, close_protocol_error);
}

TEST(websocket_codec, rsv_bits_that_stay_errors_with_compression_allowed) {
  const std::string hello("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  const protocol_error_case cases[] = {
      {"RSV1 on a continuation", client_frame(0x01, "a") + client_frame(0xC0, "b"), close_protocol_error},
      {"RSV1 on a ping", client_frame(0xC9, "x"), close_protocol_error},
      {"RSV1 on a close", client_frame(0xC8, ""), close_protocol_error},
      {"RSV2", client_frame(0xA1, hello), close_protocol_error},
      {"RSV3", client_frame(0x91, hello), close_protocol_error},
      {"RSV1 and RSV2", client_frame(0xE1, hello), close_protocol_error},
      {"uncompressed text still checked", client_frame(0x81, "ok\xc3"), close_invalid_data},
  };
  for (const auto& c : cases) {
    const auto events = read_compressed(c.stream);
    ASSERT_FALSE(events.empty()) << c.name;
    EXPECT_EQ(events.back().what, frame_event::kind::error) << c.name;
    EXPECT_EQ(events.back().close_code, c.code) << c.name;
  }
}

TEST(websocket_codec, writer_sets_rsv1_for_compressed_frames) {
  std::string frame;
  append_frame_header(opcode::text, true, 7, frame, true);
  append_frame_header(opcode::continuation, true, 0, frame);
  EXPECT_EQ(frame, std::string("\xc1\x07\x80\x00", 4));
}

}  // namespace
}  // namespace eio::websocket
