// Fuzz target: the UTF-8 code of eio::parser (every text packet goes through
// it), checked against a plain reference written here from Unicode 15,
// table 3-7.
//
// Input: the bytes to validate, whole.
//
// Invariants (beyond "no crash, no sanitizer report"):
//   1. The three validators agree: the scalar one, SSSE3 and AVX2 (each where
//      the processor has it; long inputs, where find_invalid_utf8 uses them),
//      and utf8_valid_prefix, with the reference on where the first
//      ill-formed or cut-off sequence starts.
//   2. utf8_maximal_subpart at that point is 1 to 3 bytes, within the input,
//      and the reference's own maximal subpart.
//   3. utf16_length of the valid prefix is the reference count (two units
//      past U+FFFF), and re-encoding its code points with append_utf8 gives
//      back the same bytes.
#include "fuzz_support.hpp"

#include <eio/utf8.hpp>

#include "utf8.hpp"  // libs/parser/src: eio::detail, the validators themselves

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

// Length of the well-formed sequence at p[0..n), or 0 with `subpart` set to
// the length of its maximal subpart (at least 1). Table 3-7, row by row.
std::size_t reference_sequence(const unsigned char* p, std::size_t n, std::size_t& subpart) {
  const unsigned char b0 = p[0];
  subpart = 1;
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (b0 >= 0xC2 && b0 <= 0xDF) length = 2;
  else if (b0 == 0xE0) length = 3, lo = 0xA0;
  else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) length = 3;
  else if (b0 == 0xED) length = 3, hi = 0x9F;
  else if (b0 == 0xF0) length = 4, lo = 0x90;
  else if (b0 >= 0xF1 && b0 <= 0xF3) length = 4;
  else if (b0 == 0xF4) length = 4, hi = 0x8F;
  else return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if (i >= n) return 0;  // cut off: the bytes so far are the maximal subpart
    const unsigned char lower = i == 1 ? lo : 0x80, upper = i == 1 ? hi : 0xBF;
    if (p[i] < lower || p[i] > upper) return 0;
    subpart = i + 1;
  }
  subpart = length;
  return length;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);  // sized exactly, for ASan
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());

  // The reference: where the first bad sequence starts, its maximal subpart,
  // and the code points before it.
  std::size_t valid = 0;
  std::size_t subpart = 0;
  std::size_t units = 0;
  std::u32string points;
  while (valid < size) {
    std::size_t part = 0;
    const std::size_t length = reference_sequence(p + valid, size - valid, part);
    if (length == 0) {
      subpart = part;
      break;
    }
    char32_t cp = length == 1 ? p[valid] : p[valid] & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i) cp = (cp << 6) | (p[valid + i] & 0x3F);
    points.push_back(cp);
    units += cp > 0xFFFF ? 2 : 1;
    valid += length;
  }

  // 1. Every validator against it.
  EIO_FUZZ_CHECK(eio::detail::find_invalid_utf8_scalar(p, size) == valid);
  EIO_FUZZ_CHECK(eio::detail::find_invalid_utf8(p, size) == valid);
  EIO_FUZZ_CHECK(eio::utf8_valid_prefix(text) == valid);
#if EIO_HAVE_UTF8_SSSE3
  if (eio::detail::ssse3_available()) EIO_FUZZ_CHECK(eio::detail::utf8_valid_ssse3(p, size) == (valid == size));
  if (eio::detail::avx2_available()) EIO_FUZZ_CHECK(eio::detail::utf8_valid_avx2(p, size) == (valid == size));
#endif

  // 2. The lenient decoder's unit of replacement.
  if (valid < size) {
    const std::size_t m = eio::utf8_maximal_subpart(std::string_view(text).substr(valid));
    EIO_FUZZ_CHECK(m >= 1 && m <= 3 && m <= size - valid);
    EIO_FUZZ_CHECK(m == subpart);
  }

  // 3. Lengths as JavaScript counts them, and encoding back.
  const std::string_view prefix(text.data(), valid);
  EIO_FUZZ_CHECK(eio::utf16_length(prefix) == units);
  std::string again;
  for (const char32_t cp : points) eio::append_utf8(cp, again);
  EIO_FUZZ_CHECK(again == prefix);
  return 0;
}
