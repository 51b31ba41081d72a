// Fuzz target: eio::payload_decoder (HTTP long-polling payloads).
//
// Input: one selector byte, then the payload.
//   bit 0      protocol v3 (else v4)
//   bit 1      v3 binary (XHR2) payload format (else text; ignored for v4)
//   bit 2      validate_utf8 off
//   bits 3-4   max_packets:        default, 1, 2, 16
//   bits 5-6   max_payload_bytes:  default, 5, 8, 64
//   bit 7      max_length_digits:  default, 2
// fuzz/make_corpus.py writes the same selector; keep the two in step.
//
// Invariants (beyond "no crash, no sanitizer report"):
//   1. Splitting does not matter (payload_decoder::feed's contract): the whole
//      payload, two pieces cut at an input-derived offset, and (short inputs)
//      one byte at a time all give the same packets and the same error code
//      and offset.
//   2. Decoded packets round-trip: encode_payload, then decode, gives them back.
//   3. Limits hold: never more than max_packets packets, no success above
//      max_payload_bytes, error offsets and `consumed` within the input;
//      with validate_utf8, text packets are UTF-8 (eio::utf8_valid_prefix).
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

constexpr std::size_t byte_at_a_time_limit = 256;

struct config {
  protocol_version version = protocol_version::v4;
  payload_format format = payload_format::text;
  decode_options options;
};

config config_from(std::uint8_t selector) {
  static constexpr std::array<std::size_t, 4> max_packets = {decode_options{}.max_packets, 1, 2, 16};
  static constexpr std::array<std::size_t, 4> max_bytes = {decode_options{}.max_payload_bytes, 5, 8, 64};
  config c;
  c.version = (selector & 0x01) != 0 ? protocol_version::v3 : protocol_version::v4;
  if (c.version == protocol_version::v3 && (selector & 0x02) != 0) c.format = payload_format::binary;
  c.options.validate_utf8 = (selector & 0x04) == 0;
  c.options.max_packets = max_packets[(selector >> 3) & 0x03];
  c.options.max_payload_bytes = max_bytes[(selector >> 5) & 0x03];
  if ((selector & 0x80) != 0) c.options.max_length_digits = 2;
  return c;
}

void check_limits(const outcome& o, std::string_view payload, const decode_options& options) {
  EIO_FUZZ_CHECK(o.packets.size() <= options.max_packets);
  if (options.validate_utf8) EIO_FUZZ_CHECK(fuzz::text_is_utf8(o.packets));
  if (o.code) {
    EIO_FUZZ_CHECK(o.code.category() == parser_category());
    EIO_FUZZ_CHECK(o.offset <= payload.size());
    // Every error has a message and a name that maps back to it.
    EIO_FUZZ_CHECK(!o.code.message().empty() && std::string(o.code.category().name()) == "eio.parser");
    EIO_FUZZ_CHECK(errc_from_name(errc_name(o.code)) == static_cast<errc>(o.code.value()));
  } else {
    EIO_FUZZ_CHECK(payload.size() <= options.max_payload_bytes);
  }
}

outcome decode_whole(const config& c, std::string_view payload) {
  payload_decoder decoder(c.version, c.format, c.options);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(payload, packets);
  outcome o;
  fuzz::append_owned(packets, o.packets);
  o.code = error.code;
  o.offset = error.offset;
  return o;
}

// Feeds `payload` as it would arrive in pieces ending at each of `ends`
// (increasing, the last one payload.size()), each call getting the unconsumed
// tail plus the new bytes, copied to a fresh buffer so a decoder that kept
// pointers into an earlier call's input reads freed memory.
outcome decode_in_pieces(payload_decoder& decoder, std::string_view payload, const std::vector<std::size_t>& ends) {
  decoder.reset();
  outcome o;
  std::vector<packet> packets;
  std::size_t start = 0;  // offset in `payload` of the first unconsumed byte
  for (const std::size_t end : ends) {
    const bool last = end == payload.size();
    const std::string input(payload.substr(start, end - start));
    packets.clear();
    const auto result = decoder.feed(input, last, packets);
    // Views are valid until the next feed(): take copies now.
    fuzz::append_owned(packets, o.packets);
    EIO_FUZZ_CHECK(result.consumed <= input.size());
    start += result.consumed;
    if (result.error) {
      EIO_FUZZ_CHECK(!result.done);
      o.code = result.error.code;
      o.offset = result.error.offset;
      return o;
    }
    if (last) {
      EIO_FUZZ_CHECK(result.done);
      EIO_FUZZ_CHECK(start == payload.size());
      return o;
    }
    EIO_FUZZ_CHECK(!result.done);
  }
  fuzz::fail("the last piece must end the payload", __FILE__, __LINE__);
}

void check_round_trip(const config& c, const outcome& decoded) {
  if (decoded.packets.empty()) return;  // nothing to encode ("" and "0:" are not payloads of packets)
  // v3 lengths count UTF-16 units of UTF-8 text: encode_payload's
  // precondition is UTF-8, which unvalidated input need not be.
  if (c.version == protocol_version::v3 && !fuzz::text_is_utf8(decoded.packets)) return;
  const bool binary_supported = c.format == payload_format::binary;
  const std::vector<packet> packets = fuzz::views(decoded.packets);
  std::string encoded;
  const payload_format format = encode_payload(packets, c.version, binary_supported, encoded);
  if (c.version == protocol_version::v4 || !binary_supported) EIO_FUZZ_CHECK(format == payload_format::text);

  // Re-encoding may grow the bytes (base64, longer length prefixes): no limits.
  decode_options unlimited;
  unlimited.max_payload_bytes = std::numeric_limits<std::size_t>::max();
  unlimited.max_packets = std::numeric_limits<std::size_t>::max();
  unlimited.validate_utf8 = c.options.validate_utf8;
  payload_decoder decoder(c.version, format, unlimited);
  std::vector<packet> again;
  const decode_error error = decoder.decode(encoded, again);
  if (error || again != packets) {
    outcome o;
    fuzz::append_owned(again, o.packets);
    o.code = error.code;
    o.offset = error.offset;
    std::fprintf(stderr, "re-encoded payload (%zu bytes) decodes differently\n", encoded.size());
    fuzz::print("decoded", decoded);
    fuzz::print("re-decoded", o);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const config c = config_from(data[0]);
  const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);

  const outcome whole = decode_whole(c, payload);
  check_limits(whole, payload, c.options);

  // One decoder for every split below, so reset() is exercised too.
  payload_decoder decoder(c.version, c.format, c.options);
  const std::size_t cut = static_cast<std::size_t>(fuzz::input_hash(payload) % (payload.size() + 1));
  fuzz::check_same(whole, decode_in_pieces(decoder, payload, {cut, payload.size()}), "in two pieces");
  if (payload.size() <= byte_at_a_time_limit) {
    std::vector<std::size_t> ends;
    for (std::size_t end = 1; end <= payload.size(); ++end) ends.push_back(end);
    if (ends.empty()) ends.push_back(0);
    fuzz::check_same(whole, decode_in_pieces(decoder, payload, ends), "one byte at a time");
  }

  check_round_trip(c, whole);
  return 0;
}
