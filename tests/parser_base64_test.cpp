#include <eio/base64.hpp>

#include <gtest/gtest.h>

#include "feed.hpp"

#include <random>

namespace eio {
namespace {

std::string encode(std::string_view bytes) {
  std::string out;
  base64_encode(bytes, out);
  return out;
}

TEST(base64, rfc4648_test_vectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encode(plain), encoded);
    std::string decoded;
    std::size_t bad = 99;
    EXPECT_TRUE(base64_decode(encoded, decoded, bad)) << encoded;
    EXPECT_EQ(decoded, plain);
  }
}

TEST(base64, encode_appends) {
  std::string out = "b";
  base64_encode("\x01\x02\x03\x04", out);
  EXPECT_EQ(out, "bAQIDBA==");
}

TEST(base64, every_byte_value_round_trips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  const std::string text = encode(all);
  EXPECT_EQ(text.size(), base64_encoded_size(all.size()));
  std::string back;
  std::size_t bad = 0;
  ASSERT_TRUE(base64_decode(text, back, bad));
  EXPECT_EQ(back, all);
}

TEST(base64, unpadded_text_decodes) {
  std::string out;
  std::size_t bad = 0;
  ASSERT_TRUE(base64_decode("Zm9vYg", out, bad));
  EXPECT_EQ(out, "foob");
}

struct bad_case {
  const char* text;
  std::size_t offset;
};

TEST(base64, rejects_with_offset_of_the_bad_character) {
  const bad_case cases[] = {
      {"Zm9v*mFy", 4},  // not in the alphabet
      {"Zm9vYmF", 7},   // 7 chars: fine unpadded (2 bytes + 1)... see below
      {"Z", 1},         // 4n+1 characters: no encoding has this length
      {"Zm9vY", 5},
      {"Zm=v", 2},      // padding before the end
      {"Zg===", 2},     // too much padding: the third "=" is not at the end
      {"Zm9v\n", 4},    // whitespace is not skipped
      {"-_", 0},        // the URL-safe alphabet is not base64 here
  };
  for (const auto& c : cases) {
    std::string out;
    std::size_t bad = 99;
    const bool ok = base64_decode(c.text, out, bad);
    if (std::string_view(c.text) == "Zm9vYmF") {
      EXPECT_TRUE(ok);  // 7 = 4 + 3: a valid unpadded encoding of 5 bytes
      EXPECT_EQ(out, "fooba");
      continue;
    }
    EXPECT_FALSE(ok) << c.text;
    EXPECT_EQ(bad, c.offset) << c.text;
  }
}

TEST(base64, seeded_random_round_trips) {
  std::mt19937 rng(20261121);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 300, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    std::string back;
    std::size_t bad = 0;
    ASSERT_TRUE(base64_decode(encode(bytes), back, bad));
    ASSERT_EQ(back, bytes);
  }
}

}  // namespace
}  // namespace eio
