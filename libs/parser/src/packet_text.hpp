// The text form of one packet, shared by the frame and payload decoders.
// Internal.
#pragma once

#include <eio/parser.hpp>

namespace eio::detail {

// A decoding failure inside the decoders. Unlike decode_error it costs
// nothing when there is none (a default std::error_code calls into the
// standard library for its category), so it is what travels per packet.
struct failure {
  errc code{};  // errc{} (0) is no failure: the enumerators start at 1
  std::size_t offset = 0;

  explicit operator bool() const noexcept { return code != errc{}; }
  decode_error to_error() const { return *this ? decode_error{make_error_code(code), offset} : decode_error{}; }
};

// Decodes `text` (non-empty: "<type digit><data>" or a base64 b-packet) into
// `out`. `at` is text's offset in the input, for error offsets. Base64 data is
// appended to `storage`; the caller guarantees that `storage` has capacity
// for it when earlier views into `storage` are still live.
failure decode_text_packet(std::string_view text, protocol_version version, std::size_t at, bool validate_utf8,
                           packet& out, std::string& storage);

}  // namespace eio::detail
