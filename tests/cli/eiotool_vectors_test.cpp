// Every case in tests/vectors/*.json, through the eiotool binary: decode
// prints the expected packets (and the error, where there is one), encode of
// a canonical case's packets gives its input back, and encode then decode
// gives decode's lines back.
#include "packet_lines.hpp"
#include "run_tool.hpp"
#include "vectors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace eio::test {
namespace {

struct loaded_vectors {
  std::vector<vector_case> cases;
  std::string error;  // why loading failed, if it did
};

const loaded_vectors& vectors() {
  // Loaded once, when GoogleTest asks for the parameters. A malformed file
  // must fail a test, not abort the listing of all the others.
  static const loaded_vectors loaded = [] {
    loaded_vectors v;
    try {
      v.cases = load_all_vectors();
    } catch (const std::exception& e) {
      v.error = e.what();
    }
    return v;
  }();
  return loaded;
}

template <typename Keep>
std::vector<std::size_t> case_indices(Keep keep) {
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < vectors().cases.size(); ++i) {
    if (keep(vectors().cases[i])) indices.push_back(i);
  }
  return indices;
}

// "017_v3_polling_length_splits_a_pair": unique, and readable in ctest.
std::string case_test_name(const ::testing::TestParamInfo<std::size_t>& info) {
  std::string name = std::to_string(info.param);
  name.insert(0, 3 - std::min<std::size_t>(name.size(), 3), '0');
  name += '_';
  for (const char c : vectors().cases[info.param].name) {
    if (name.size() >= 80) break;
    const bool word = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (word) {
      name += c;
    } else if (name.back() != '_') {
      name += '_';
    }
  }
  return name;
}

std::vector<std::string> wire_flags(const vector_case& c, bool binary) {
  std::vector<std::string> flags{"--eio", c.version == protocol_version::v3 ? "3" : "4", "--form",
                                 c.websocket ? "websocket" : "polling"};
  if (binary) flags.push_back("--binary");
  return flags;
}

// Only the limits a case changes, so the defaults get exercised too.
std::vector<std::string> limit_flags(const vector_case& c) {
  const decode_options defaults;
  std::vector<std::string> flags;
  if (c.options.max_payload_bytes != defaults.max_payload_bytes) {
    flags.insert(flags.end(), {"--max-payload", std::to_string(c.options.max_payload_bytes)});
  }
  if (c.options.max_packets != defaults.max_packets) {
    flags.insert(flags.end(), {"--max-packets", std::to_string(c.options.max_packets)});
  }
  if (c.options.max_length_digits != defaults.max_length_digits) {
    flags.insert(flags.end(), {"--max-length-digits", std::to_string(c.options.max_length_digits)});
  }
  if (!c.options.validate_utf8) flags.push_back("--no-validate-utf8");
  return flags;
}

std::vector<std::string> decode_args(const vector_case& c, bool binary) {
  std::vector<std::string> args{"decode"};
  for (auto& flag : wire_flags(c, binary)) args.push_back(flag);
  for (auto& flag : limit_flags(c)) args.push_back(flag);
  return args;
}

std::vector<std::string> encode_args(const vector_case& c) {
  std::vector<std::string> args{"encode"};
  for (auto& flag : wire_flags(c, c.binary)) args.push_back(flag);
  return args;
}

std::string command_line(const std::vector<std::string>& args) {
  std::string text = "eiotool";
  for (const auto& arg : args) text += " " + arg;
  return text;
}

// Bytes as a C string literal, so a mismatch in binary output is readable.
std::string printable(const std::string& bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && c != '"' && c != '\\') {
      text += c;
    } else {
      text += "\\x";
      text += hex[byte >> 4];
      text += hex[byte & 0xF];
    }
  }
  return text + "\"";
}

const vector_case& case_at(std::size_t index) { return vectors().cases.at(index); }

std::vector<owned_packet> parsed_or_fail(const std::string& out) {
  try {
    return parse_packet_lines(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    return {};
  }
}

TEST(cli_vectors, load) {
  EXPECT_EQ(vectors().error, "");
  // Zero cases would make every test below vanish instead of fail.
  EXPECT_FALSE(vectors().cases.empty()) << "no cases in " << vectors_dir();
}

class cli_vector_decode : public ::testing::TestWithParam<std::size_t> {};

TEST_P(cli_vector_decode, prints_packets_and_error) {
  const vector_case& c = case_at(GetParam());
  SCOPED_TRACE(c.file + ": " + c.name);
  temp_dir dir;
  std::vector<std::string> args = decode_args(c, c.binary);
  args.push_back(dir.write("input", c.input));
  const tool_result result = run_eiotool(args);
  SCOPED_TRACE(command_line(args));

  EXPECT_EQ(parsed_or_fail(result.out), c.packets) << "expected " << describe(c.packets);
  if (c.error) {
    EXPECT_EQ(result.exit_code, 1);
    const std::string prefix = "error at byte " + std::to_string(c.error_offset) + ": ";
    const std::string suffix = " (" + std::string(errc_name(*c.error)) + ")\n";
    EXPECT_EQ(result.err.rfind(prefix, 0), 0u) << "stderr: " << result.err << "expected it to start: " << prefix;
    EXPECT_TRUE(result.err.size() >= suffix.size() &&
                result.err.compare(result.err.size() - suffix.size(), suffix.size(), suffix) == 0)
        << "stderr: " << result.err << "expected it to end: " << suffix;
  } else {
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(result.err, "");
  }
}

INSTANTIATE_TEST_SUITE_P(vectors, cli_vector_decode,
                         ::testing::ValuesIn(case_indices([](const vector_case&) { return true; })),
                         case_test_name);

class cli_vector_encode : public ::testing::TestWithParam<std::size_t> {};

TEST_P(cli_vector_encode, gives_canonical_input_back) {
  const vector_case& c = case_at(GetParam());
  SCOPED_TRACE(c.file + ": " + c.name);
  const std::vector<std::string> args = encode_args(c);
  const std::string lines = to_packet_lines(c.packets);
  const tool_result result = run_eiotool(args, lines);
  SCOPED_TRACE(command_line(args) + " <<< " + lines);

  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(printable(result.out), printable(c.input));
}

INSTANTIATE_TEST_SUITE_P(vectors, cli_vector_encode,
                         ::testing::ValuesIn(case_indices([](const vector_case& c) { return c.canonical; })),
                         case_test_name);

class cli_vector_round_trip : public ::testing::TestWithParam<std::size_t> {};

TEST_P(cli_vector_round_trip, decode_encode_decode_gives_the_same_lines) {
  const vector_case& c = case_at(GetParam());
  SCOPED_TRACE(c.file + ": " + c.name);
  const tool_result first = run_eiotool(decode_args(c, c.binary), c.input);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const tool_result encoded = run_eiotool(encode_args(c), first.out);
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;

  // The encoder picks a binary frame or a v3 binary payload only when it
  // may and a packet is binary (parser.hpp, encode_frame/encode_payload);
  // otherwise the output is text and must be decoded as such.
  bool any_binary = false;
  for (const auto& p : c.packets) any_binary = any_binary || p.binary;
  const std::vector<std::string> again_args = decode_args(c, c.binary && any_binary);
  const tool_result again = run_eiotool(again_args, encoded.out);
  SCOPED_TRACE(command_line(again_args) + " <<< " + printable(encoded.out));
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(again.out, first.out);
}

INSTANTIATE_TEST_SUITE_P(vectors, cli_vector_round_trip,
                         ::testing::ValuesIn(case_indices([](const vector_case& c) { return !c.error; })),
                         case_test_name);

// Without vector files the suites above are empty; cli_vectors.load fails
// for that instead of GoogleTest's generic complaint.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(cli_vector_decode);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(cli_vector_encode);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(cli_vector_round_trip);

}  // namespace
}  // namespace eio::test
