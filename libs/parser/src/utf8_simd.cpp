// UTF-8 validation 16 bytes at a time with SSSE3, after Keiser and Lemire,
// "Validating UTF-8 in less than one instruction per byte" (2021): every
// ill-formed two-byte pattern is found by three nibble-indexed table lookups
// ANDed together, and missing or extra continuation bytes by comparing with
// the lead two and three bytes back. The tables below are derived here from
// Unicode table 3-7; tests/parser_utf8_test.cpp checks this function against
// the scalar validator on every short sequence of boundary bytes.
#include "utf8.hpp"

#if EIO_HAVE_UTF8_SSSE3
#include <immintrin.h>

namespace eio::detail {
namespace {

// One bit per kind of ill-formed pair (previous byte, this byte).
constexpr std::uint8_t too_short = 1 << 0;      // lead, then not a continuation
constexpr std::uint8_t too_long = 1 << 1;       // ASCII, then a continuation
constexpr std::uint8_t overlong_3 = 1 << 2;     // E0, then 80..9F
constexpr std::uint8_t too_large = 1 << 3;      // F4..FF, then 90..BF
constexpr std::uint8_t surrogate = 1 << 4;      // ED, then A0..BF
constexpr std::uint8_t overlong_2 = 1 << 5;     // C0 or C1, then a continuation
constexpr std::uint8_t too_large_1000 = 1 << 6; // F5..FF, then 80..8F
constexpr std::uint8_t overlong_4 = 1 << 6;     // F0, then 80..8F (same bit: F0 and F5+ differ in low nibble)
constexpr std::uint8_t two_conts = 1 << 7;      // continuation, then continuation
constexpr std::uint8_t carry = too_short | too_long | two_conts;  // decided by high nibbles alone

__attribute__((target("ssse3"))) inline __m128i table(std::uint8_t v0, std::uint8_t v1, std::uint8_t v2,
                                                      std::uint8_t v3, std::uint8_t v4, std::uint8_t v5,
                                                      std::uint8_t v6, std::uint8_t v7, std::uint8_t v8,
                                                      std::uint8_t v9, std::uint8_t v10, std::uint8_t v11,
                                                      std::uint8_t v12, std::uint8_t v13, std::uint8_t v14,
                                                      std::uint8_t v15) {
  return _mm_setr_epi8(static_cast<char>(v0), static_cast<char>(v1), static_cast<char>(v2), static_cast<char>(v3),
                       static_cast<char>(v4), static_cast<char>(v5), static_cast<char>(v6), static_cast<char>(v7),
                       static_cast<char>(v8), static_cast<char>(v9), static_cast<char>(v10), static_cast<char>(v11),
                       static_cast<char>(v12), static_cast<char>(v13), static_cast<char>(v14), static_cast<char>(v15));
}

struct checker {
  __m128i prev_high, prev_low, this_high, incomplete_limit, nibble;

  __attribute__((target("ssse3"))) checker() {
    // Indexed by the high nibble of the previous byte.
    prev_high = table(too_long, too_long, too_long, too_long, too_long, too_long, too_long, too_long,  // 0xxx
                      two_conts, two_conts, two_conts, two_conts,                                      // 10xx
                      too_short | overlong_2, too_short,                                               // C, D
                      too_short | overlong_3 | surrogate,                                              // E
                      too_short | too_large | too_large_1000 | overlong_4);                            // F
    // Indexed by the low nibble of the previous byte.
    prev_low = table(carry | overlong_3 | overlong_2 | overlong_4, carry | overlong_2, carry, carry,
                     carry | too_large, carry | too_large | too_large_1000, carry | too_large | too_large_1000,
                     carry | too_large | too_large_1000, carry | too_large | too_large_1000,
                     carry | too_large | too_large_1000, carry | too_large | too_large_1000,
                     carry | too_large | too_large_1000, carry | too_large | too_large_1000,
                     carry | too_large | too_large_1000 | surrogate, carry | too_large | too_large_1000,
                     carry | too_large | too_large_1000);
    // Indexed by the high nibble of this byte.
    this_high = table(too_short, too_short, too_short, too_short, too_short, too_short, too_short, too_short,
                      too_long | overlong_2 | two_conts | overlong_3 | too_large_1000 | overlong_4,  // 80..8F
                      too_long | overlong_2 | two_conts | overlong_3 | too_large,                    // 90..9F
                      too_long | overlong_2 | two_conts | surrogate | too_large,                     // A0..AF
                      too_long | overlong_2 | two_conts | surrogate | too_large,                     // B0..BF
                      too_short, too_short, too_short, too_short);
    // A block ending in a lead byte whose sequence runs past it.
    incomplete_limit = table(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                             0xF0 - 1, 0xE0 - 1, 0xC0 - 1);
    nibble = _mm_set1_epi8(0x0F);
  }

  __attribute__((target("ssse3"))) __m128i errors(__m128i input, __m128i previous) const {
    const __m128i prev1 = _mm_alignr_epi8(input, previous, 15);
    const __m128i special =
        _mm_and_si128(_mm_and_si128(_mm_shuffle_epi8(prev_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), nibble)),
                                    _mm_shuffle_epi8(prev_low, _mm_and_si128(prev1, nibble))),
                      _mm_shuffle_epi8(this_high, _mm_and_si128(_mm_srli_epi16(input, 4), nibble)));
    // Two continuations in a row are right exactly when the byte two back
    // leads three bytes or the byte three back leads four.
    const __m128i prev2 = _mm_alignr_epi8(input, previous, 14);
    const __m128i prev3 = _mm_alignr_epi8(input, previous, 13);
    const __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8(static_cast<char>(0xE0 - 0x80)));
    const __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(static_cast<char>(0xF0 - 0x80)));
    const __m128i must_continue = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(static_cast<char>(0x80)));
    return _mm_xor_si128(must_continue, special);
  }
};

}  // namespace

__attribute__((target("ssse3"))) bool utf8_valid_ssse3(const unsigned char* p, std::size_t n) noexcept {
  static const checker check;  // constant tables, built once
  __m128i previous = _mm_setzero_si128();
  __m128i incomplete = _mm_setzero_si128();
  __m128i error = _mm_setzero_si128();
  std::size_t i = 0;
  auto block = [&](__m128i input) __attribute__((target("ssse3"))) {
    if (_mm_movemask_epi8(input) == 0) {
      error = _mm_or_si128(error, incomplete);  // ASCII cannot finish a sequence
      incomplete = _mm_setzero_si128();
    } else {
      error = _mm_or_si128(error, check.errors(input, previous));
      incomplete = _mm_subs_epu8(input, check.incomplete_limit);
    }
    previous = input;
  };
  for (; i + 16 <= n; i += 16) block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
  // The tail, padded with zeros: a sequence cut off by the end meets ASCII.
  alignas(16) unsigned char tail[16] = {};
  std::memcpy(tail, p + i, n - i);
  block(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
  block(_mm_setzero_si128());
  return _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xFFFF;
}

}  // namespace eio::detail
#endif
