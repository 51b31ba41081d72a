#include <eio/utf8.hpp>

#include <gtest/gtest.h>

namespace eio {
namespace {

TEST(utf8, valid_prefix_stops_at_the_first_ill_formed_sequence) {
  EXPECT_EQ(utf8_valid_prefix(""), 0u);
  EXPECT_EQ(utf8_valid_prefix("plain ascii text, long enough for the 8-byte path"), 49u);
  EXPECT_EQ(utf8_valid_prefix("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 9u);   // 2-, 3-, 4-byte
  EXPECT_EQ(utf8_valid_prefix("ab\x80"), 2u);                                 // lone continuation
  EXPECT_EQ(utf8_valid_prefix("a\xc0\xaf"), 1u);                              // overlong '/'
  EXPECT_EQ(utf8_valid_prefix("a\xe0\x80\xaf"), 1u);                          // overlong, 3 bytes
  EXPECT_EQ(utf8_valid_prefix("a\xed\xa0\x80"), 1u);                          // surrogate U+D800
  EXPECT_EQ(utf8_valid_prefix("a\xf4\x90\x80\x80"), 1u);                      // past U+10FFFF
  EXPECT_EQ(utf8_valid_prefix("a\xf5\x80\x80\x80"), 1u);                      // no such lead
  EXPECT_EQ(utf8_valid_prefix("ok\xe2\x82"), 2u);                             // cut off at the end
  EXPECT_EQ(utf8_valid_prefix("\xef\xbf\xbf\xf4\x8f\xbf\xbf"), 7u);           // U+FFFF, U+10FFFF
}

TEST(utf8, maximal_subpart_is_what_one_replacement_character_covers) {
  EXPECT_EQ(utf8_maximal_subpart("\x80"), 1u);
  EXPECT_EQ(utf8_maximal_subpart("\xe2\x82x"), 2u);      // a 3-byte sequence missing its last byte
  EXPECT_EQ(utf8_maximal_subpart("\xf0\x9f\x98"), 3u);   // cut off at the end
  EXPECT_EQ(utf8_maximal_subpart("\xed\xa0\x80"), 1u);   // surrogates fail at the second byte
  EXPECT_EQ(utf8_maximal_subpart("\xff\xff"), 1u);
}

TEST(utf8, utf16_length_counts_like_javascript) {
  EXPECT_EQ(utf16_length(""), 0u);
  EXPECT_EQ(utf16_length("hello"), 5u);
  EXPECT_EQ(utf16_length("\xe2\x82\xac"), 1u);                  // '€'.length === 1
  EXPECT_EQ(utf16_length("\xf0\x9f\x98\x80"), 2u);              // '😀'.length === 2
  EXPECT_EQ(utf16_length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 twelve chars"), 18u);
}

}  // namespace
}  // namespace eio

// The vectorised validator is internal; it must agree with the scalar one.
#include "../libs/parser/src/utf8.hpp"

namespace eio {
namespace {

// Bytes at every boundary of Unicode table 3-7, plus ASCII.
constexpr unsigned char boundary_bytes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                            0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                            0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF};

bool scalar_valid(const std::string& s) {
  return detail::find_invalid_utf8_scalar(reinterpret_cast<const unsigned char*>(s.data()), s.size()) == s.size();
}

TEST(utf8_simd, agrees_with_scalar_on_every_four_byte_sequence_of_boundary_bytes) {
#if EIO_HAVE_UTF8_SSSE3
  ASSERT_TRUE(detail::ssse3_available());
  const bool avx2 = detail::avx2_available();
  std::size_t checked = 0, valid = 0;
  for (const auto a : boundary_bytes) {
    for (const auto b : boundary_bytes) {
      for (const auto c : boundary_bytes) {
        for (const auto d : boundary_bytes) {
          const std::string sequence{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)};
          // Inside a block, across 16-byte lanes and 32-byte blocks, and at
          // the very end (the zero-padded tail).
          for (const std::size_t at : {3, 13, 14, 15, 29, 30, 31, 60}) {
            std::string text(64, 'a');
            text.replace(at, 4, sequence);
            const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
            const bool expected = scalar_valid(text);
            ASSERT_EQ(detail::utf8_valid_ssse3(bytes, text.size()), expected)
                << "SSSE3, bytes " << std::hex << int(a) << ' ' << int(b) << ' ' << int(c) << ' ' << int(d) << " at "
                << std::dec << at;
            if (avx2) {
              ASSERT_EQ(detail::utf8_valid_avx2(bytes, text.size()), expected)
                  << "AVX2, bytes " << std::hex << int(a) << ' ' << int(b) << ' ' << int(c) << ' ' << int(d)
                  << " at " << std::dec << at;
            }
            ++checked;
            valid += expected;
          }
        }
      }
    }
  }
  EXPECT_GT(valid, 0u);
  EXPECT_LT(valid, checked);
#else
  EXPECT_EQ(utf8_valid_prefix(std::string(100, 'a') + "\xff"), 100u);  // the scalar path serves alone
#endif
}

TEST(utf8_simd, long_text_with_an_error_anywhere_reports_its_offset) {
  std::string text;
  while (text.size() < 300) text += "ascii \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ";
  ASSERT_EQ(utf8_valid_prefix(text), text.size());
  for (std::size_t at = 0; at < text.size(); ++at) {
    if ((static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) continue;  // break at a character's start
    std::string broken = text;
    broken[at] = '\xff';
    ASSERT_EQ(utf8_valid_prefix(broken), at);
  }
}

}  // namespace
}  // namespace eio
