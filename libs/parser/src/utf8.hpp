// UTF-8 scanning shared by the decoders and encoders. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace eio::detail {

constexpr std::uint64_t high_bits = 0x8080808080808080ull;

inline std::uint64_t load8(const unsigned char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// The length of the well-formed UTF-8 sequence starting at p[0] (>= 0x80),
// per Unicode table 3-7 (no overlongs, no surrogates, nothing past U+10FFFF).
// Returns 0 when ill-formed, and `sequence_incomplete` when the `available`
// bytes are a valid beginning of a longer sequence. `valid_bytes`, if given,
// receives how many bytes from p[0] fit the sequence's pattern (at least 1):
// the "maximal subpart" that one U+FFFD replaces in lenient decoders.
constexpr int sequence_incomplete = -1;
inline int utf8_sequence_length(const unsigned char* p, std::size_t available,
                                std::size_t* valid_bytes = nullptr) noexcept {
  if (valid_bytes) *valid_bytes = 1;
  const unsigned char lead = p[0];
  int length;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  for (int i = 1; i < length; ++i) {
    if (static_cast<std::size_t>(i) >= available) return sequence_incomplete;
    const unsigned char c = p[i];
    if (i == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xBF)) return 0;
    if (valid_bytes) *valid_bytes = static_cast<std::size_t>(i) + 1;
  }
  return length;
}

// Index of the first byte with its high bit set in the 8 bytes at p, or 8.
inline std::size_t first_non_ascii(const unsigned char* p) noexcept {
  const std::uint64_t high = load8(p) & high_bits;
  if (high == 0) return 8;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return static_cast<std::size_t>(__builtin_ctzll(high)) / 8;
#else
  std::size_t i = 0;
  while (p[i] < 0x80) ++i;
  return i;
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EIO_HAVE_UTF8_SSSE3 1
// True when [p, p + n) is all UTF-8; utf8_simd.cpp. Call each only where
// the processor has the instructions.
bool utf8_valid_ssse3(const unsigned char* p, std::size_t n) noexcept;
bool utf8_valid_avx2(const unsigned char* p, std::size_t n) noexcept;
inline bool ssse3_available() noexcept { return __builtin_cpu_supports("ssse3"); }
inline bool avx2_available() noexcept { return __builtin_cpu_supports("avx2"); }
#else
#define EIO_HAVE_UTF8_SSSE3 0
#endif

// find_invalid_utf8 one sequence at a time: ASCII is skipped a word at a
// time and the common 2- and 3-byte sequences are checked inline.
inline std::size_t find_invalid_utf8_scalar(const unsigned char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      const std::size_t ascii = first_non_ascii(p + i);
      i += ascii;
      if (ascii == 8) continue;
    } else if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const unsigned char lead = p[i];
    if (lead >= 0xC2 && lead <= 0xDF && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
      i += 2;
      continue;
    }
    if (lead >= 0xE1 && lead <= 0xEC && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
      i += 3;
      continue;
    }
    const int length = utf8_sequence_length(p + i, n - i);  // the rarer leads, and errors
    if (length <= 0) return i;
    i += static_cast<std::size_t>(length);
  }
  return n;
}

// Offset of the first byte of the first ill-formed (or cut-off) sequence in
// [p, p + n), or n when all of it is UTF-8. Hot: every text packet goes
// through it. Long text is checked 16 bytes at a time where the processor
// can; only ill-formed text, rare by nature, pays for locating the error.
inline std::size_t find_invalid_utf8(const unsigned char* p, std::size_t n) noexcept {
#if EIO_HAVE_UTF8_SSSE3
  if (n >= 64) {
    if (avx2_available() ? utf8_valid_avx2(p, n) : ssse3_available() && utf8_valid_ssse3(p, n)) return n;
  }
#endif
  return find_invalid_utf8_scalar(p, n);
}

// UTF-16 code units in the UTF-8 text [p, p + n), as JavaScript's
// String.length counts them: one per character, two for characters beyond
// U+FFFF (4-byte sequences). Counts lead bytes; assumes well-formed input.
inline std::size_t utf16_length(const unsigned char* p, std::size_t n) noexcept {
  std::size_t units = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    if ((load8(p + i) & high_bits) == 0) {
      units += 8;
      continue;
    }
    for (std::size_t j = i; j < i + 8; ++j) units += ((p[j] & 0xC0) != 0x80) + (p[j] >= 0xF0);
  }
  for (; i < n; ++i) units += ((p[i] & 0xC0) != 0x80) + (p[i] >= 0xF0);
  return units;
}

}  // namespace eio::detail
