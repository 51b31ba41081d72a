#include "bench_inputs.hpp"

#include <eio/utf8.hpp>

namespace eio::bench {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .";
static_assert(alphabet.size() == 64);

}  // namespace

std::string ascii_text(xorshift32& rng, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out += alphabet[rng.next() & 63];
  return out;
}

std::string random_bytes(xorshift32& rng, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(rng.next() & 0xFF);
  return out;
}

std::string mixed_utf8(xorshift32& rng, std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    const std::uint32_t width_draw = rng.next() % 100;
    const std::uint32_t char_draw = rng.next();
    std::uint32_t cp = 0;
    std::size_t width = 1;
    if (width_draw < 90) {
      cp = static_cast<unsigned char>(alphabet[char_draw & 63]);
    } else if (width_draw < 96) {
      cp = 0xC0 + char_draw % 64;
      width = 2;
    } else if (width_draw < 99) {
      cp = 0x4E00 + char_draw % 4096;
      width = 3;
    } else {
      cp = 0x1F600 + char_draw % 64;
      width = 4;
    }
    if (out.size() + width > n) cp = static_cast<unsigned char>(alphabet[char_draw & 63]);
    append_utf8(cp, out);
  }
  return out;
}

contents make_contents() {
  contents c;
  xorshift32 small(1);
  for (int i = 0; i < 100; ++i) c.small_messages.push_back(ascii_text(small, 32));
  xorshift32 binary(2);
  c.binary_64k = random_bytes(binary, 64 * 1024);
  xorshift32 kb(3);
  for (int i = 0; i < 1000; ++i) c.kb_messages.push_back(mixed_utf8(kb, 1048));
  xorshift32 big(4);
  c.text_1m = mixed_utf8(big, 1024 * 1024);
  return c;
}

std::uint32_t fnv1a(std::string_view bytes) {
  std::uint32_t h = 0x811C9DC5u;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 0x01000193u;
  }
  return h;
}

}  // namespace eio::bench
