#include <eio/utf8.hpp>

#include "utf8.hpp"

namespace eio {
namespace {
const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }
}  // namespace

std::size_t utf8_valid_prefix(std::string_view text) noexcept { return detail::find_invalid_utf8(bytes(text), text.size()); }

std::size_t utf8_maximal_subpart(std::string_view text) noexcept {
  if (text.empty()) return 0;
  std::size_t valid_bytes = 1;
  if (static_cast<unsigned char>(text[0]) >= 0x80) detail::utf8_sequence_length(bytes(text), text.size(), &valid_bytes);
  return valid_bytes;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t utf16_length(std::string_view text) noexcept { return detail::utf16_length(bytes(text), text.size()); }

}  // namespace eio
