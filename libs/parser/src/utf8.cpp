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

std::size_t utf16_length(std::string_view text) noexcept { return detail::utf16_length(bytes(text), text.size()); }

}  // namespace eio
