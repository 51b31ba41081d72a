// The text form of one packet, shared by the frame and payload decoders.
// Internal.
#pragma once

#include <eio/parser.hpp>

namespace eio::detail {

inline decode_error make_decode_error(errc e, std::size_t offset) { return {make_error_code(e), offset}; }

// Decodes `text` (non-empty: "<type digit><data>" or a base64 b-packet) into
// `out`. `at` is text's offset in the input, for error offsets. Base64 data is
// appended to `storage`; the caller guarantees that `storage` has capacity
// for it when earlier views into `storage` are still live.
decode_error decode_text_packet(std::string_view text, protocol_version version, std::size_t at,
                                bool validate_utf8, packet& out, std::string& storage);

}  // namespace eio::detail
