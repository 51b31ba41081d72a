// Showing text that is not UTF-8 in eiotool's JSON lines (RFC 8259 section
// 8.1: JSON text is UTF-8).
#pragma once

#include <string>
#include <string_view>

namespace eio::tool {

// Appends `text` to `out` with each maximal ill-formed subsequence replaced by
// U+FFFD (Unicode "substitution of maximal subparts"), which is what the
// JavaScript decoders show for the same bytes.
void append_utf8_replacing_invalid(std::string_view text, std::string& out);

}  // namespace eio::tool
