#include <eio/base64.hpp>

#include <array>
#include <cstdint>

namespace eio {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint32_t invalid = 0x80000000u;

// One table per position in a quad, each holding the sextet already shifted
// into place, so a quad decodes with four loads and three ORs; any invalid
// character sets the top bit (an idea as old as base64 decoders themselves).
constexpr std::array<std::uint32_t, 256> make_decode_table(unsigned shift) {
  std::array<std::uint32_t, 256> table{};
  for (auto& entry : table) entry = invalid;
  for (std::uint32_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(alphabet[i])] = i << shift;
  return table;
}
constexpr auto decode0 = make_decode_table(18);
constexpr auto decode1 = make_decode_table(12);
constexpr auto decode2 = make_decode_table(6);
constexpr auto decode3 = make_decode_table(0);

std::uint32_t quad(const unsigned char* s) noexcept {
  return decode0[s[0]] | decode1[s[1]] | decode2[s[2]] | decode3[s[3]];
}

std::size_t first_invalid(const unsigned char* s, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    if (decode3[s[i]] & invalid) return i;
  }
  return count;
}

}  // namespace

void base64_encode(std::string_view bytes, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + base64_encoded_size(bytes.size()));
  char* dest = out.data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{src[i]} << 16) | (std::uint32_t{src[i + 1]} << 8) | src[i + 2];
    dest[0] = alphabet[v >> 18];
    dest[1] = alphabet[(v >> 12) & 63];
    dest[2] = alphabet[(v >> 6) & 63];
    dest[3] = alphabet[v & 63];
    dest += 4;
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const std::uint32_t v = (std::uint32_t{src[i]} << 16) | (rest == 2 ? std::uint32_t{src[i + 1]} << 8 : 0u);
  dest[0] = alphabet[v >> 18];
  dest[1] = alphabet[(v >> 12) & 63];
  dest[2] = rest == 2 ? alphabet[(v >> 6) & 63] : '=';
  dest[3] = '=';
}

std::size_t base64_decode_into(std::string_view text, char* dest, bool& ok, std::size_t& error_offset) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  // Padding is only ever the last one or two characters of a full quad.
  if (n % 4 == 0 && n > 0 && s[n - 1] == '=') n -= (s[n - 2] == '=') ? 2 : 1;
  const std::size_t full = n / 4 * 4;
  auto* out = reinterpret_cast<unsigned char*>(dest);
  ok = false;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::uint32_t v = quad(s + i);
    if (v & invalid) {
      error_offset = i + first_invalid(s + i, 4);
      return 0;
    }
    out[0] = static_cast<unsigned char>(v >> 16);
    out[1] = static_cast<unsigned char>(v >> 8);
    out[2] = static_cast<unsigned char>(v);
    out += 3;
  }
  const std::size_t rest = n - full;
  if (rest > 0) {
    const std::size_t bad = first_invalid(s + full, rest);
    if (bad < rest) {
      error_offset = full + bad;
      return 0;
    }
    if (rest == 1) {  // six bits cannot make a byte: no encoder emits this
      error_offset = text.size();
      return 0;
    }
    const std::uint32_t v = decode0[s[full]] | decode1[s[full + 1]] | (rest == 3 ? decode2[s[full + 2]] : 0u);
    *out++ = static_cast<unsigned char>(v >> 16);
    if (rest == 3) *out++ = static_cast<unsigned char>(v >> 8);
  }
  ok = true;
  return static_cast<std::size_t>(out - reinterpret_cast<unsigned char*>(dest));
}

bool base64_decode(std::string_view text, std::string& out, std::size_t& error_offset) {
  const std::size_t start = out.size();
  out.resize(start + base64_max_decoded_size(text.size()));
  bool ok = false;
  const std::size_t written = base64_decode_into(text, out.data() + start, ok, error_offset);
  out.resize(start + written);
  return ok;
}

}  // namespace eio
