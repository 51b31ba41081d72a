// Every shared vector (tests/vectors) decoded whole, split at every offset and
// fed one byte at a time, with identical results; canonical ones re-encoded.
#include <gtest/gtest.h>

#include "feed.hpp"
#include "vectors.hpp"

namespace eio::test {
namespace {

payload_format format_of(const vector_case& c) { return c.binary ? payload_format::binary : payload_format::text; }

fed_payload expected_of(const vector_case& c) {
  fed_payload expected;
  expected.packets = c.packets;
  if (c.error) expected.error = {make_error_code(*c.error), c.error_offset};
  return expected;
}

std::string show(const fed_payload& r) {
  std::string text = describe(r.packets);
  if (r.error) text += " error " + std::string(errc_name(r.error.code)) + " at " + std::to_string(r.error.offset);
  return text;
}

template <typename Keep>
std::vector<vector_case> vectors_where(Keep keep) {
  std::vector<vector_case> kept;
  for (auto& c : load_all_vectors()) {
    if (keep(c)) kept.push_back(std::move(c));
  }
  return kept;
}

class vectors_test : public ::testing::TestWithParam<vector_case> {};
class payload_vectors_test : public ::testing::TestWithParam<vector_case> {};
class canonical_vectors_test : public ::testing::TestWithParam<vector_case> {};

TEST_P(vectors_test, decodes_as_expected) {
  const vector_case& c = GetParam();
  const fed_payload expected = expected_of(c);
  if (c.websocket) {
    packet p;
    std::string scratch;
    const decode_error error = decode_frame(c.input, c.binary ? frame_kind::binary : frame_kind::text, c.version, p,
                                            scratch, c.options);
    fed_payload got;
    got.error = error;
    if (!error) got.packets.push_back(own(p));
    EXPECT_TRUE(got.same_as(expected)) << "got " << show(got) << "\nwant " << show(expected);
    return;
  }
  const fed_payload whole = decode_whole(c.input, c.version, format_of(c), c.options);
  EXPECT_TRUE(whole.same_as(expected)) << "got " << show(whole) << "\nwant " << show(expected);
}

// WebSocket frames arrive whole (after reassembly), so only payloads are split.
TEST_P(payload_vectors_test, split_anywhere_gives_the_same) {
  const vector_case& c = GetParam();
  const fed_payload expected = expected_of(c);
  for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
    bool contract_ok = false;
    const fed_payload split = feed_in_pieces(c.input, {cut}, c.version, format_of(c), c.options, &contract_ok);
    ASSERT_TRUE(split.same_as(expected)) << "cut at " << cut << ": got " << show(split) << "\nwant " << show(expected);
    ASSERT_TRUE(contract_ok) << "cut at " << cut;
  }
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < c.input.size(); ++i) every_byte.push_back(i);
  bool contract_ok = false;
  const fed_payload bytewise = feed_in_pieces(c.input, every_byte, c.version, format_of(c), c.options, &contract_ok);
  EXPECT_TRUE(bytewise.same_as(expected)) << "one byte at a time: got " << show(bytewise) << "\nwant " << show(expected);
  EXPECT_TRUE(contract_ok);
}

TEST_P(canonical_vectors_test, encodes_to_its_input) {
  const vector_case& c = GetParam();
  std::vector<packet> packets;
  for (const auto& p : c.packets) packets.push_back(p.view());
  std::string encoded;
  if (c.websocket) {
    ASSERT_EQ(packets.size(), 1u);
    const frame_kind kind = encode_frame(packets[0], c.version, c.binary, encoded);
    EXPECT_EQ(kind, c.binary ? frame_kind::binary : frame_kind::text);
  } else {
    const payload_format format = encode_payload(packets, c.version, c.binary, encoded);
    EXPECT_EQ(format, format_of(c));
  }
  EXPECT_EQ(encoded, c.input);
}

std::string case_name(const ::testing::TestParamInfo<vector_case>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_" + std::to_string(info.index);
  return name;
}

INSTANTIATE_TEST_SUITE_P(shared, vectors_test, ::testing::ValuesIn(load_all_vectors()), case_name);
INSTANTIATE_TEST_SUITE_P(shared, payload_vectors_test,
                         ::testing::ValuesIn(vectors_where([](const vector_case& c) { return !c.websocket; })), case_name);
// Canonical: the one encoding our encoder (and the reference) produces.
INSTANTIATE_TEST_SUITE_P(shared, canonical_vectors_test,
                         ::testing::ValuesIn(vectors_where([](const vector_case& c) { return c.canonical; })), case_name);

TEST(vectors, cover_every_error_and_every_form) {
  const auto cases = load_all_vectors();
  for (int e = static_cast<int>(errc::empty_payload); e <= static_cast<int>(errc::too_many_packets); ++e) {
    bool seen = false;
    for (const auto& c : cases) seen = seen || (c.error && *c.error == static_cast<errc>(e));
    EXPECT_TRUE(seen) << "no vector for " << errc_name(static_cast<errc>(e));
  }
  int forms = 0;
  for (const auto v : {protocol_version::v3, protocol_version::v4}) {
    for (const bool websocket : {false, true}) {
      for (const bool binary : {false, true}) {
        for (const auto& c : cases) {
          if (c.version == v && c.websocket == websocket && c.binary == binary) {
            ++forms;
            break;
          }
        }
      }
    }
  }
  EXPECT_EQ(forms, 7);  // every form but v4 binary payloads, which do not exist
}

}  // namespace
}  // namespace eio::test
