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

// The three lookup tables and the "sequence runs past the block" limits,
// as bytes; the SSSE3 and AVX2 checkers load them into registers.
struct tables {
  std::uint8_t prev_high[16];  // indexed by the high nibble of the previous byte
  std::uint8_t prev_low[16];   // indexed by the low nibble of the previous byte
  std::uint8_t this_high[16];  // indexed by the high nibble of this byte
};

constexpr std::uint8_t large = too_large | too_large_1000;
constexpr std::uint8_t cont_8 = too_long | overlong_2 | two_conts | overlong_3 | too_large_1000 | overlong_4;
constexpr std::uint8_t cont_9 = too_long | overlong_2 | two_conts | overlong_3 | too_large;
constexpr std::uint8_t cont_ab = too_long | overlong_2 | two_conts | surrogate | too_large;
constexpr tables lookup = {
    {too_long, too_long, too_long, too_long, too_long, too_long, too_long, too_long,  // 0xxx
     two_conts, two_conts, two_conts, two_conts,                                      // 10xx
     too_short | overlong_2, too_short,                                               // C, D
     too_short | overlong_3 | surrogate,                                              // E
     too_short | too_large | too_large_1000 | overlong_4},                            // F
    {carry | overlong_3 | overlong_2 | overlong_4, carry | overlong_2, carry, carry, carry | too_large,
     carry | large, carry | large, carry | large, carry | large, carry | large, carry | large, carry | large,
     carry | large, carry | large | surrogate, carry | large, carry | large},
    {too_short, too_short, too_short, too_short, too_short, too_short, too_short, too_short,  // ASCII
     cont_8, cont_9, cont_ab, cont_ab,                                                        // 80..BF
     too_short, too_short, too_short, too_short},                                             // leads
};
// A block ending in a lead byte whose sequence runs past it: byte 13 >= F0,
// byte 14 >= E0 or byte 15 >= C0 (per 16-byte lane).
constexpr std::uint8_t incomplete_limit[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                               0xFF, 0xFF, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

struct checker {
  __m128i prev_high, prev_low, this_high, incomplete_limit_v, nibble;

  __attribute__((target("ssse3"))) checker()
      : prev_high(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.prev_high))),
        prev_low(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.prev_low))),
        this_high(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.this_high))),
        incomplete_limit_v(_mm_loadu_si128(reinterpret_cast<const __m128i*>(incomplete_limit))),
        nibble(_mm_set1_epi8(0x0F)) {}

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

// The same with 32-byte blocks. AVX2 shifts bytes within 128-bit lanes, so
// the bytes before each lane come from a lane-crossing permute first.
struct checker_avx2 {
  __m256i prev_high, prev_low, this_high, incomplete_limit_v, nibble;

  __attribute__((target("avx2"))) checker_avx2()
      : prev_high(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.prev_high)))),
        prev_low(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.prev_low)))),
        this_high(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lookup.this_high)))),
        incomplete_limit_v(_mm256_setr_m128i(_mm_set1_epi8(static_cast<char>(0xFF)),
                                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(incomplete_limit)))),
        nibble(_mm256_set1_epi8(0x0F)) {}

  __attribute__((target("avx2"))) __m256i errors(__m256i input, __m256i previous) const {
    // Lane 0 of `before` is the previous block's high lane, lane 1 is input's low lane.
    const __m256i before = _mm256_permute2x128_si256(previous, input, 0x21);
    const __m256i prev1 = _mm256_alignr_epi8(input, before, 15);
    const __m256i special = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(prev_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble)),
                         _mm256_shuffle_epi8(prev_low, _mm256_and_si256(prev1, nibble))),
        _mm256_shuffle_epi8(this_high, _mm256_and_si256(_mm256_srli_epi16(input, 4), nibble)));
    const __m256i prev2 = _mm256_alignr_epi8(input, before, 14);
    const __m256i prev3 = _mm256_alignr_epi8(input, before, 13);
    const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8(static_cast<char>(0xE0 - 0x80)));
    const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8(static_cast<char>(0xF0 - 0x80)));
    const __m256i must_continue =
        _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8(static_cast<char>(0x80)));
    return _mm256_xor_si256(must_continue, special);
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
      incomplete = _mm_subs_epu8(input, check.incomplete_limit_v);
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

#if EIO_HAVE_UTF8_SSSE3
namespace eio::detail {

__attribute__((target("avx2"))) bool utf8_valid_avx2(const unsigned char* p, std::size_t n) noexcept {
  static const checker_avx2 check;  // constant tables, built once
  __m256i previous = _mm256_setzero_si256();
  __m256i incomplete = _mm256_setzero_si256();
  __m256i error = _mm256_setzero_si256();
  std::size_t i = 0;
  auto block = [&](__m256i input) __attribute__((target("avx2"))) {
    if (_mm256_movemask_epi8(input) == 0) {
      error = _mm256_or_si256(error, incomplete);  // ASCII cannot finish a sequence
      incomplete = _mm256_setzero_si256();
    } else {
      error = _mm256_or_si256(error, check.errors(input, previous));
      incomplete = _mm256_subs_epu8(input, check.incomplete_limit_v);
    }
    previous = input;
  };
  for (; i + 32 <= n; i += 32) block(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
  alignas(32) unsigned char tail[32] = {};
  std::memcpy(tail, p + i, n - i);
  block(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
  block(_mm256_setzero_si256());
  return _mm256_testz_si256(error, error) != 0;
}

}  // namespace eio::detail
#endif
