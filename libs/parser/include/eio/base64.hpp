// Standard base64 (RFC 4648 section 4, with '=' padding), as Engine.IO uses
// for binary data in text transports. Part of eio::parser; no allocation
// beyond growing the caller's string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eio {

// Bytes of base64 text that `bytes` bytes encode to (with padding).
constexpr std::size_t base64_encoded_size(std::size_t bytes) noexcept { return (bytes + 2) / 3 * 4; }

// Appends the padded base64 encoding of `bytes` to `out`.
void base64_encode(std::string_view bytes, std::string& out);

// Appends the bytes that `text` encodes to `out`. Accepts text with or without
// '=' padding; rejects any other character, padding before the end, and a
// length that no encoding has (4n+1). Returns true on success; on failure sets
// `error_offset` to the index in `text` of the first offending character
// (text.size() for a bad length) and leaves `out` with unspecified appended
// bytes.
bool base64_decode(std::string_view text, std::string& out, std::size_t& error_offset);

// Like base64_decode, into `dest`, which must hold base64_max_decoded_size()
// bytes. Returns the number of bytes written, or sets error_offset and
// returns false through `ok`.
constexpr std::size_t base64_max_decoded_size(std::size_t text_size) noexcept { return text_size / 4 * 3 + 2; }
std::size_t base64_decode_into(std::string_view text, char* dest, bool& ok, std::size_t& error_offset) noexcept;

}  // namespace eio
