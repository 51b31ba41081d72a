// The benchmark inputs, generated deterministically. benchmarks/js/parser_bench.js
// generates the same bytes with the same rules; compare_parser.py checks the
// two agree through the FNV-1a digest each side reports per input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eio::bench {

// xorshift32 (Marsaglia 2003): tiny, and exact in JavaScript's 32-bit ops.
class xorshift32 {
public:
  explicit xorshift32(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

private:
  std::uint32_t state_;
};

// `n` characters of [A-Za-z0-9 .], one rng() draw each.
std::string ascii_text(xorshift32& rng, std::size_t n);
// `n` bytes, one rng() draw each (the low byte).
std::string random_bytes(xorshift32& rng, std::size_t n);
// Exactly `n` bytes of UTF-8, mostly ASCII: per character two draws, the
// first picks the width (90% 1 byte, 6% 2 bytes U+00C0.., 3% 3 bytes U+4E00..,
// 1% 4 bytes U+1F600..), the second the character; a character that would
// not fit in what is left becomes an ASCII one.
std::string mixed_utf8(xorshift32& rng, std::size_t n);

// Message contents; seeds 1..4 in this order.
struct contents {
  std::vector<std::string> small_messages;  // 100 x 32 B ASCII
  std::string binary_64k;                   // 65536 random bytes
  std::vector<std::string> kb_messages;     // 1000 x 1048 B mixed UTF-8 (~1 MiB)
  std::string text_1m;                      // 1048576 B mixed UTF-8
};
contents make_contents();

// FNV-1a, 32-bit.
std::uint32_t fnv1a(std::string_view bytes);

}  // namespace eio::bench
