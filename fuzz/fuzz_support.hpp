// Helpers shared by the fuzz targets: an abort that survives NDEBUG, packets
// that own their bytes (views from one feed() may dangle after the next), and
// a comparable record of one decoding.
#pragma once

#include <eio/parser.hpp>

#include "owned_packet.hpp"  // tests/support
#include <eio/utf8.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// An invariant the parser must never break. It aborts rather than asserts so
// it holds in release builds too, and libFuzzer saves the input as a crash.
#define EIO_FUZZ_CHECK(cond)                                            \
  do {                                                                  \
    if (!(cond)) ::eio::fuzz::fail(#cond, __FILE__, __LINE__);          \
  } while (0)

namespace eio::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

using test::owned_packet;
using test::own;
using test::append_owned;
using test::views;

// Reads a fuzz input as a program: bytes, choices, flags and strings, with
// zeros once the input runs out (the session and client targets).
class reader {
public:
  reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const noexcept { return at_ >= size_; }
  std::uint8_t byte() noexcept { return at_ < size_ ? data_[at_++] : 0; }
  std::uint32_t below(std::uint32_t n) noexcept { return n == 0 ? 0 : byte() % n; }
  bool flag() noexcept { return (byte() & 1) != 0; }
  // Up to `max` raw bytes, the count read first.
  std::string bytes(std::size_t max) {
    const std::size_t wanted = byte() % (max + 1);  // first: it moves at_ (argument order is unspecified)
    const std::size_t n = std::min<std::size_t>(wanted, size_ - std::min(at_, size_));
    std::string out(reinterpret_cast<const char*>(data_) + at_, n);
    at_ += n;
    return out;
  }
  // Up to `max` bytes cut back to well-formed UTF-8 (encode_payload's precondition).
  std::string text(std::size_t max) {
    std::string out = bytes(max);
    out.resize(utf8_valid_prefix(out));
    return out;
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

inline bool is_utf8(std::string_view text) { return utf8_valid_prefix(text) == text.size(); }

// Text packets carry UTF-8 when the decoder validated it.
inline bool text_is_utf8(const std::vector<owned_packet>& packets) {
  for (const auto& p : packets) {
    if (!p.binary && !is_utf8(p.data)) return false;
  }
  return true;
}

// What decoding one input produced: the packets, then the error if any.
struct outcome {
  std::vector<owned_packet> packets;
  std::error_code code;
  std::size_t offset = 0;

  friend bool operator==(const outcome& a, const outcome& b) {
    return a.packets == b.packets && a.code == b.code && (!a.code || a.offset == b.offset);
  }
};

inline void print(const char* label, const outcome& o) {
  std::fprintf(stderr, "  %s: %zu packets", label, o.packets.size());
  for (const auto& p : o.packets) {
    std::fprintf(stderr, " [%s%s %zu B]", std::string(to_string(p.type)).c_str(), p.binary ? " bin" : "",
                 p.data.size());
  }
  if (o.code) {
    std::fprintf(stderr, ", error %s at %zu", o.code.message().c_str(), o.offset);
  }
  std::fprintf(stderr, "\n");
}

// Aborts, showing both, when two decodings of the same bytes differ.
inline void check_same(const outcome& expected, const outcome& actual, const char* how) {
  if (expected == actual) return;
  std::fprintf(stderr, "decoding %s differs from decoding the whole input\n", how);
  print("whole", expected);
  print(how, actual);
  std::abort();
}

// FNV-1a: a split position that follows the input, so a mutation that keeps
// the payload but moves the split is one the fuzzer can find.
inline std::uint64_t input_hash(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace eio::fuzz
