// eiotool's command-line behaviour beyond the vectors: help, usage errors,
// the exact JSON-line form, stdin, files and encode's input errors.
#include "packet_lines.hpp"
#include "run_tool.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace eio::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A test name from free text: letters and digits, the rest as single '_'.
std::string test_name(const std::string& text) {
  std::string name;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      name += c;
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  return name.empty() ? "nothing" : name;
}

// ---------------------------------------------------------------- help

TEST(eiotool_help, decode_shows_an_example) {
  const tool_result result = run_eiotool({"decode", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.out, "Examples:")) << result.out;
  EXPECT_TRUE(contains(result.out, "| eiotool decode")) << result.out;
  EXPECT_TRUE(contains(result.out, "--max-payload")) << result.out;
}

TEST(eiotool_help, encode_shows_an_example) {
  const tool_result result = run_eiotool({"encode", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.out, "Examples:")) << result.out;
  EXPECT_TRUE(contains(result.out, "| eiotool encode")) << result.out;
}

TEST(eiotool_help, top_level_lists_the_commands) {
  const tool_result result = run_eiotool({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.out, "decode")) << result.out;
  EXPECT_TRUE(contains(result.out, "encode")) << result.out;
}

TEST(eiotool_help, version_is_the_project_version) {
  const tool_result result = run_eiotool({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, EIO_VERSION "\n");
}

// ----------------------------------------------------------- bad usage

class eiotool_bad_usage : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(eiotool_bad_usage, exits_2_with_a_message) {
  const tool_result result = run_eiotool(GetParam(), "4hello");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err, "");
  EXPECT_EQ(result.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    eiotool, eiotool_bad_usage,
    ::testing::Values(std::vector<std::string>{}, std::vector<std::string>{"frobnicate"},
                      std::vector<std::string>{"decode", "--eio", "5"},
                      std::vector<std::string>{"decode", "--form", "carrier-pigeon"},
                      std::vector<std::string>{"decode", "--no-such-option"},
                      std::vector<std::string>{"decode", "one.txt", "two.txt"},
                      std::vector<std::string>{"decode", "--max-payload", "-1"},
                      std::vector<std::string>{"decode", "--max-payload", "lots"},
                      // v4 payloads have no binary form.
                      std::vector<std::string>{"decode", "--binary"},
                      std::vector<std::string>{"encode", "--eio", "4", "--binary"},
                      std::vector<std::string>{"encode", "--form"}),
    [](const ::testing::TestParamInfo<std::vector<std::string>>& param_info) {
      std::string args;
      for (const auto& arg : param_info.param) args += arg + " ";
      return std::to_string(param_info.index) + "_" + test_name(args);
    });

// ---------------------------------------------------------- decode form

TEST(eiotool_decode, escapes_only_what_json_requires) {
  // Quote, backslash, control characters; UTF-8, '/' and DEL stay as they are.
  const tool_result result =
      run_eiotool({"decode", "--form", "websocket"}, "4q\"b\\n\nt\tc\x01\x1f/\x7f\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "{\"type\":\"message\",\"data\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u001f/\x7f\xC3\xA9\xF0\x9F\x98\x80\"}\n");
}

TEST(eiotool_decode, prints_empty_data) {
  const tool_result result = run_eiotool({"decode"}, "2\x1e" "3probe");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "{\"type\":\"ping\",\"data\":\"\"}\n{\"type\":\"pong\",\"data\":\"probe\"}\n");
}

TEST(eiotool_decode, prints_binary_data_in_base64) {
  const tool_result result = run_eiotool({"decode", "--form", "websocket", "--binary"}, std::string("\x01\x00\xff", 3));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "{\"type\":\"message\",\"data\":\"AQD/\",\"binary\":true}\n");
}

TEST(eiotool_decode, prints_the_packets_before_an_error) {
  // '9' at byte 7 is no packet type.
  const tool_result result = run_eiotool({"decode"}, "4hello\x1e" "9");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "{\"type\":\"message\",\"data\":\"hello\"}\n");
  EXPECT_EQ(result.err.rfind("error at byte 7: ", 0), 0u) << result.err;
  EXPECT_TRUE(contains(result.err, "(unknown_packet_type)\n")) << result.err;
}

TEST(eiotool_decode, max_payload_at_the_limit_and_past_it) {
  const tool_result at = run_eiotool({"decode", "--max-payload", "6"}, "4hello");
  EXPECT_EQ(at.exit_code, 0) << at.err;
  EXPECT_EQ(at.out, "{\"type\":\"message\",\"data\":\"hello\"}\n");
  const tool_result past = run_eiotool({"decode", "--max-payload", "5"}, "4hello");
  EXPECT_EQ(past.exit_code, 1);
  EXPECT_TRUE(contains(past.err, "(payload_too_large)\n")) << past.err;
}

TEST(eiotool_decode, rejects_text_that_is_not_utf8) {
  const tool_result result = run_eiotool({"decode", "--form", "websocket"}, "4a\xff");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "(invalid_utf8)\n")) << result.err;
}

TEST(eiotool_decode, without_utf8_check_prints_replacement_characters) {
  // JSON cannot hold the byte; U+FFFD is what a JavaScript peer would show.
  const tool_result result = run_eiotool({"decode", "--form", "websocket", "--no-validate-utf8"}, "4a\xff" "b");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "{\"type\":\"message\",\"data\":\"a\xEF\xBF\xBD" "b\"}\n");
}

TEST(eiotool_decode, reads_a_file) {
  temp_dir dir;
  const tool_result result = run_eiotool({"decode", "--eio", "3", dir.write("capture", "6:4hello1:2")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "{\"type\":\"message\",\"data\":\"hello\"}\n{\"type\":\"ping\",\"data\":\"\"}\n");
}

TEST(eiotool_decode, reads_stdin_without_a_file_or_with_a_dash) {
  for (const auto& args : {std::vector<std::string>{"decode"}, std::vector<std::string>{"decode", "-"}}) {
    const tool_result result = run_eiotool(args, "4hi\x1e" "6");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "{\"type\":\"message\",\"data\":\"hi\"}\n{\"type\":\"noop\",\"data\":\"\"}\n");
  }
}

TEST(eiotool_decode, a_missing_file_is_an_error_not_bad_usage) {
  const tool_result result = run_eiotool({"decode", "/nonexistent/eiotool-capture"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "cannot open /nonexistent/eiotool-capture")) << result.err;
}

// -------------------------------------------------------------- encode

TEST(eiotool_encode, reads_stdin_and_skips_blank_lines) {
  const tool_result result = run_eiotool(
      {"encode"}, "{\"type\":\"message\",\"data\":\"hello\"}\n\n  \r\n{\"type\":\"ping\"}\r\n{\"type\":\"message\",\"data\":\"AQID\",\"binary\":true}");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "4hello\x1e" "2\x1e" "bAQID");
}

TEST(eiotool_encode, reads_a_file) {
  temp_dir dir;
  const std::string path = dir.write("packets", "{\"type\":\"message\",\"data\":\"h\xC3\xA9\"}\n");
  const tool_result result = run_eiotool({"encode", "--eio", "3", path});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // v3 lengths count UTF-16 code units: "4hé" is 3.
  EXPECT_EQ(result.out, "3:4h\xC3\xA9");
}

TEST(eiotool_encode, websocket_binary_frame) {
  const tool_result result = run_eiotool({"encode", "--eio", "3", "--form", "websocket", "--binary"},
                                         "{\"type\":\"message\",\"data\":\"AQID\",\"binary\":true}\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "\x04\x01\x02\x03");
}

struct bad_encode_input {
  std::string name;
  std::vector<std::string> args;
  std::string input;
  std::string expected_error;  // the start of stderr
};

class eiotool_encode_error : public ::testing::TestWithParam<bad_encode_input> {};

TEST_P(eiotool_encode_error, names_the_line) {
  const bad_encode_input& bad = GetParam();
  std::vector<std::string> args{"encode"};
  args.insert(args.end(), bad.args.begin(), bad.args.end());
  const tool_result result = run_eiotool(args, bad.input);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "") << "nothing is written when any line is bad";
  EXPECT_EQ(result.err.rfind(bad.expected_error, 0), 0u) << result.err;
}

const std::string good = "{\"type\":\"message\",\"data\":\"ok\"}\n";

INSTANTIATE_TEST_SUITE_P(
    eiotool, eiotool_encode_error,
    ::testing::Values(
        bad_encode_input{"invalid_json", {}, good + "\n" + good + "{\"type\":\"message\",\n", "error at line 4: invalid JSON"},
        bad_encode_input{"unknown_type", {}, good + "{\"type\":\"teleport\"}\n", "error at line 2: \"type\""},
        bad_encode_input{"missing_type", {}, "{\"data\":\"x\"}\n", "error at line 1: missing \"type\""},
        bad_encode_input{"misspelt_key", {}, good + good + "{\"type\":\"message\",\"bianry\":true}", "error at line 3: unknown key \"bianry\""},
        bad_encode_input{"array", {}, "[1]\n", "error at line 1: expected a JSON object"},
        bad_encode_input{"bare_string", {}, "\"4hello\"\n", "error at line 1: expected a JSON object"},
        bad_encode_input{"bad_base64", {}, "{\"type\":\"message\",\"data\":\"!!\",\"binary\":true}\n", "error at line 1: binary \"data\" is not base64"},
        bad_encode_input{"data_not_string", {}, "{\"type\":\"message\",\"data\":1}\n", "error at line 1: \"data\" must be a string"},
        bad_encode_input{"binary_not_bool", {}, "{\"type\":\"message\",\"binary\":1}\n", "error at line 1: \"binary\" must be"},
        bad_encode_input{"not_utf8", {}, "{\"type\":\"message\",\"data\":\"\xff\"}\n", "error at line 1: not UTF-8 at column 27"},
        bad_encode_input{"websocket_two_packets", {"--form", "websocket"}, good + "\n" + good, "error at line 3: the websocket form takes exactly one packet"},
        bad_encode_input{"websocket_no_packet", {"--form", "websocket"}, "\n", "error: the websocket form takes exactly one packet"}),
    [](const ::testing::TestParamInfo<bad_encode_input>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace eio::test
