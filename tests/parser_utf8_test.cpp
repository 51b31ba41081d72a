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
