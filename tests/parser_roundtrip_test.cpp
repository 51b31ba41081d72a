// Seeded random property tests: whatever we encode decodes to the same
// packets, whole or split at random points, in every version and form.
#include <eio/parser.hpp>
#include <eio/utf8.hpp>

#include <gtest/gtest.h>

#include <random>

#include "feed.hpp"

namespace eio {
namespace {

class random_packets {
public:
  explicit random_packets(std::uint32_t seed) : rng_(seed) {}

  // Text of random code points from every UTF-8 length; never a surrogate,
  // and no record separator where it would be a v4 payload's framing.
  std::string text(std::size_t max_chars, bool allow_separator) {
    std::string out;
    const std::size_t chars = pick(max_chars + 1);
    for (std::size_t i = 0; i < chars; ++i) {
      std::uint32_t cp;
      switch (pick(5)) {
        case 0: cp = static_cast<std::uint32_t>(pick(0x80)); break;
        case 1: cp = static_cast<std::uint32_t>(0x80 + pick(0x800 - 0x80)); break;
        case 2: cp = static_cast<std::uint32_t>(0x800 + pick(0xD800 - 0x800)); break;
        case 3: cp = static_cast<std::uint32_t>(0x10000 + pick(0x110000 - 0x10000)); break;
        default: cp = static_cast<std::uint32_t>("0123456789:b\x1e" "e"[pick(14)]); break;
      }
      if (cp == 0x1E && !allow_separator) cp = ':';
      append_utf8(cp, out);
    }
    return out;
  }

  std::string bytes(std::size_t max) {
    std::string out(pick(max + 1), '\0');
    for (auto& b : out) b = static_cast<char>(rng_());
    return out;
  }

  std::size_t pick(std::size_t bound) { return bound ? rng_() % bound : 0; }

private:
  std::mt19937 rng_;
};

using test::owned_packet;
using test::views;

std::vector<owned_packet> random_list(random_packets& random, protocol_version version, bool polling, std::size_t count) {
  std::vector<owned_packet> list;
  for (std::size_t i = 0; i < count; ++i) {
    owned_packet p;
    p.binary = random.pick(3) == 0;
    // v4 carries binary data only in message packets.
    p.type = (p.binary && version == protocol_version::v4) ? packet_type::message
                                                           : static_cast<packet_type>(random.pick(7));
    p.data = p.binary ? random.bytes(200) : random.text(60, !(polling && version == protocol_version::v4));
    list.push_back(std::move(p));
  }
  return list;
}

TEST(roundtrip, payloads_whole_and_split) {
  random_packets random(4242);
  for (int round = 0; round < 1500; ++round) {
    for (const auto version : {protocol_version::v3, protocol_version::v4}) {
      for (const bool binary_supported : {false, true}) {
        const auto list = random_list(random, version, true, 1 + random.pick(12));
        const auto sent = views(list);
        std::string payload;
        const payload_format format = encode_payload(sent, version, binary_supported, payload);
        payload_decoder decoder(version, format);
        std::vector<packet> got;
        const decode_error error = decoder.decode(payload, got);
        ASSERT_FALSE(error) << "round " << round << ": " << error.code.message() << " at " << error.offset;
        ASSERT_EQ(got, sent) << "round " << round;

        std::vector<std::size_t> cuts;
        for (std::size_t at = random.pick(16) + 1; at < payload.size(); at += random.pick(40) + 1) cuts.push_back(at);
        bool contract_ok = false;
        const auto split = test::feed_in_pieces(payload, cuts, version, format, {}, &contract_ok);
        ASSERT_TRUE(contract_ok);
        ASSERT_FALSE(split.error);
        ASSERT_EQ(split.packets, list);
      }
    }
  }
}

TEST(roundtrip, frames) {
  random_packets random(777);
  for (int round = 0; round < 5000; ++round) {
    for (const auto version : {protocol_version::v3, protocol_version::v4}) {
      for (const bool binary_supported : {false, true}) {
        const auto list = random_list(random, version, false, 1);
        const packet sent = views(list)[0];
        std::string frame;
        const frame_kind kind = encode_frame(sent, version, binary_supported, frame);
        EXPECT_EQ(kind, sent.binary && binary_supported ? frame_kind::binary : frame_kind::text);
        packet got;
        std::string scratch;
        ASSERT_FALSE(decode_frame(frame, kind, version, got, scratch)) << "round " << round;
        ASSERT_EQ(got, sent) << "round " << round;
      }
    }
  }
}

}  // namespace
}  // namespace eio
