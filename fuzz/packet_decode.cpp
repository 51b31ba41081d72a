// Fuzz target: eio::decode_frame / encode_frame (one WebSocket message).
//
// Input: one selector byte, then the frame.
//   bit 0      protocol v3 (else v4)
//   bit 1      binary frame (else text)
//   bit 2      validate_utf8 off
//   bits 3-4   max_payload_bytes: default, 5, 16, 256
//   bits 5-7   unused (ignored)
// fuzz/make_corpus.py writes the same selector; keep the two in step.
//
// Invariants (beyond "no crash, no sanitizer report"):
//   1. Decoding is a function of the frame alone: a second decode into a
//      dirty scratch string and a dirty packet gives the same result.
//   2. A decoded packet round-trips through encode_frame, both with binary
//      frames allowed and as base64 text.
//   3. Limits hold: error offsets within the frame, no success above
//      max_payload_bytes; with validate_utf8, text is UTF-8.
//   4. A v4 text frame without '\x1e' that decodes is also a v4 payload of
//      exactly that one packet (the two share the packet grammar).
#include "fuzz_support.hpp"

#include <eio/parser.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace eio;
using eio::fuzz::outcome;

struct config {
  protocol_version version = protocol_version::v4;
  frame_kind kind = frame_kind::text;
  decode_options options;
};

config config_from(std::uint8_t selector) {
  static constexpr std::array<std::size_t, 4> max_bytes = {decode_options{}.max_payload_bytes, 5, 16, 256};
  config c;
  c.version = (selector & 0x01) != 0 ? protocol_version::v3 : protocol_version::v4;
  c.kind = (selector & 0x02) != 0 ? frame_kind::binary : frame_kind::text;
  c.options.validate_utf8 = (selector & 0x04) == 0;
  c.options.max_payload_bytes = max_bytes[(selector >> 3) & 0x03];
  return c;
}

outcome decode(const config& c, std::string_view frame, packet& p, std::string& scratch) {
  const decode_error error = decode_frame(frame, c.kind, c.version, p, scratch, c.options);
  outcome o;
  o.code = error.code;
  o.offset = error.offset;
  if (!error) o.packets.push_back(fuzz::own(p));
  return o;
}

void check_round_trip(const config& c, const packet& p, bool binary_supported) {
  std::string encoded = "stale bytes before the frame";
  const std::size_t prefix = encoded.size();
  const frame_kind kind = encode_frame(p, c.version, binary_supported, encoded);
  // encode_frame appends: what was in `out` stays.
  EIO_FUZZ_CHECK(encoded.compare(0, prefix, "stale bytes before the frame") == 0);
  if (!binary_supported) EIO_FUZZ_CHECK(kind == frame_kind::text);
  if (!p.binary) EIO_FUZZ_CHECK(kind == frame_kind::text);

  decode_options unlimited;  // base64 grows the bytes
  unlimited.max_payload_bytes = std::numeric_limits<std::size_t>::max();
  unlimited.validate_utf8 = c.options.validate_utf8;
  packet again;
  std::string scratch;
  const decode_error error =
      decode_frame(std::string_view(encoded).substr(prefix), kind, c.version, again, scratch, unlimited);
  if (error || again != p) {
    std::fprintf(stderr, "re-encoded frame (%s, %zu bytes, binary_supported=%d) decodes differently: %s at %zu\n",
                 kind == frame_kind::binary ? "binary" : "text", encoded.size() - prefix, binary_supported ? 1 : 0,
                 error ? error.code.message().c_str() : "different packet", error.offset);
    std::abort();
  }
}

void check_same_as_payload(const config& c, std::string_view frame, const packet& p) {
  if (c.version != protocol_version::v4 || c.kind != frame_kind::text) return;
  if (frame.find('\x1e') != std::string_view::npos) return;
  payload_decoder decoder(protocol_version::v4, payload_format::text, c.options);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(frame, packets);
  EIO_FUZZ_CHECK(!error);
  EIO_FUZZ_CHECK(packets.size() == 1);
  EIO_FUZZ_CHECK(packets[0] == p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const config c = config_from(data[0]);
  // A copy sized exactly, so ASan sees any read past the frame's end.
  const std::string frame(reinterpret_cast<const char*>(data) + 1, size - 1);

  packet p;
  std::string scratch;
  const outcome first = decode(c, frame, p, scratch);
  if (first.code) {
    EIO_FUZZ_CHECK(first.code.category() == parser_category());
    EIO_FUZZ_CHECK(first.offset <= frame.size());
  } else {
    EIO_FUZZ_CHECK(frame.size() <= c.options.max_payload_bytes);
    EIO_FUZZ_CHECK(p.data.size() <= c.options.max_payload_bytes);
    if (c.options.validate_utf8) EIO_FUZZ_CHECK(fuzz::text_is_utf8(first.packets));
  }

  packet dirty{packet_type::noop, true, "left over"};
  std::string dirty_scratch(frame.size() % 97 + 1, '\xff');
  fuzz::check_same(first, decode(c, frame, dirty, dirty_scratch), "again with dirty buffers");

  if (!first.code) {
    // The packet type's name maps back to it (eiotool decode/encode use both).
    EIO_FUZZ_CHECK(packet_type_from_name(to_string(p.type)) == p.type);
    EIO_FUZZ_CHECK(!packet_type_from_name(std::string(to_string(p.type)) + "x"));
    check_round_trip(c, p, true);
    check_round_trip(c, p, false);
    check_same_as_payload(c, frame, p);
  }
  return 0;
}
