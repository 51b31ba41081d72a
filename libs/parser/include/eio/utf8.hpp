// UTF-8 as Engine.IO text needs it: well-formedness (Unicode 15, table 3-7:
// no overlong forms, no surrogates, nothing past U+10FFFF) and lengths as
// JavaScript counts them. Part of eio::parser; the decoders use the same code.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eio {

// Length of the longest prefix of `text` that is well-formed UTF-8; a
// sequence cut off by the end of `text` is not part of it.
std::size_t utf8_valid_prefix(std::string_view text) noexcept;

// For non-empty `text` that starts with an ill-formed sequence (see
// utf8_valid_prefix): how many bytes one U+FFFD stands for when decoding
// leniently, as browsers and Node do (the "maximal subpart", at least 1).
std::size_t utf8_maximal_subpart(std::string_view text) noexcept;

// Appends the UTF-8 form of code point `cp` (at most U+10FFFF; surrogates
// are the caller's business: they make ill-formed UTF-8).
void append_utf8(char32_t cp, std::string& out);

// UTF-16 code units in well-formed UTF-8 `text`: JavaScript's String.length
// (one per character, two for characters past U+FFFF).
std::size_t utf16_length(std::string_view text) noexcept;

}  // namespace eio
