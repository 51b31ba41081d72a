// `eiotool decode --socketio` and `eiotool encode --socketio`: the JSON-line
// form, attachments in payloads and in --attachment files, errors, limits,
// and every case of tests/vectors/socketio through the binary. Lines are
// read here with nlohmann, independently of the tool's own code.
#include "run_tool.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace eio::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<nlohmann::ordered_json> lines_of(const std::string& out) {
  std::vector<nlohmann::ordered_json> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "the last line has no newline: " << out;
    if (end == std::string::npos) break;
    lines.push_back(nlohmann::ordered_json::parse(out.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

const std::string binary_event = R"(51-["up",{"_placeholder":true,"num":0}])";

// ------------------------------------------------------------------ decode

TEST(eiotool_socketio_decode, an_event_in_a_websocket_message) {
  const tool_result r = run_eiotool({"decode", "--socketio", "--form", "websocket"}, R"(42/chat,7["message","hello"])");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"type":"EVENT","nsp":"/chat","id":7,"data":["message","hello"]})" "\n");
}

TEST(eiotool_socketio_decode, every_type_prints_its_fields) {
  const std::string payload = std::string("40\x1e") + "40/admin,{\"token\":\"x\"}\x1e" + "41/admin,\x1e" +
                              "43/admin,1[]\x1e" + "44{\"message\":\"no\"}\x1e" + "3\x1e" + "42[1]";
  const tool_result r = run_eiotool({"decode", "--socketio"}, payload);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"type\":\"CONNECT\",\"nsp\":\"/\"}\n"
                   "{\"type\":\"CONNECT\",\"nsp\":\"/admin\",\"data\":{\"token\":\"x\"}}\n"
                   "{\"type\":\"DISCONNECT\",\"nsp\":\"/admin\"}\n"
                   "{\"type\":\"ACK\",\"nsp\":\"/admin\",\"id\":1,\"data\":[]}\n"
                   "{\"type\":\"CONNECT_ERROR\",\"nsp\":\"/\",\"data\":{\"message\":\"no\"}}\n"
                   "{\"type\":\"pong\",\"data\":\"\"}\n"  // Engine.IO packets print as without --socketio
                   "{\"type\":\"EVENT\",\"nsp\":\"/\",\"data\":[1]}\n");
}

TEST(eiotool_socketio_decode, a_binary_event_and_its_attachments_in_a_polling_payload) {
  const tool_result r =
      run_eiotool({"decode", "--socketio"}, "452-[\"up\",{\"_placeholder\":true,\"num\":1},{\"num\":0,\"_placeholder\":true}]"
                                            "\x1e" "bAQID\x1e" "2\x1e" "b/w==");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // A ping between the attachments is an Engine.IO packet: printed where it came.
  EXPECT_EQ(r.out,
            "{\"type\":\"ping\",\"data\":\"\"}\n"
            "{\"type\":\"BINARY_EVENT\",\"nsp\":\"/\",\"data\":[\"up\",{\"_placeholder\":true,\"num\":1},"
            "{\"num\":0,\"_placeholder\":true}],\"attachments\":[\"AQID\",\"/w==\"]}\n");
}

TEST(eiotool_socketio_decode, attachments_as_files_after_a_websocket_message) {
  temp_dir dir;
  const std::string first = dir.write("a1", std::string("\x00\x01", 2));
  const std::string second = dir.write("a2", "");
  const tool_result r = run_eiotool({"decode", "--socketio", "--form", "websocket", "--attachment", first,
                                     dir.write("text", R"(462-/x,9[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])"),
                                     "--attachment", second});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["type"], "BINARY_ACK");
  EXPECT_EQ(lines[0]["nsp"], "/x");
  EXPECT_EQ(lines[0]["id"], 9);
  EXPECT_EQ(lines[0]["attachments"], nlohmann::ordered_json::array({"AAE=", ""}));
}

TEST(eiotool_socketio_decode, data_on_several_lines_prints_on_one) {
  const tool_result r = run_eiotool({"decode", "--socketio", "--form", "websocket"}, "42[\"a\",\r\n {\"b\":\"c\\nd\"}\n]");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"type\":\"EVENT\",\"nsp\":\"/\",\"data\":[\"a\",   {\"b\":\"c\\nd\"} ]}\n");
}

TEST(eiotool_socketio_decode, input_that_ends_before_the_attachments) {
  const tool_result r = run_eiotool({"decode", "--socketio", "--form", "websocket"}, "4" + binary_event);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "error: the input ends while a packet waits for attachments")) << r.err;
}

TEST(eiotool_socketio_decode, errors_name_the_message_and_the_byte) {
  struct item {
    std::vector<std::string> args;
    std::string input;
    std::string out;
    std::string err;
  };
  const std::vector<item> items = {
      {{"--form", "websocket"}, R"(42["disconnect"])", "",
       "error in message 1 at byte 2: reserved event name (reserved_event_name)\n"},
      {{}, "42[\"a\"]\x1e" "bAQID", "{\"type\":\"EVENT\",\"nsp\":\"/\",\"data\":[\"a\"]}\n",
       "error in message 2 at byte 0: binary data when no packet waits for attachments (unexpected_binary)\n"},
      {{}, "4" + binary_event + "\x1e" "42[\"a\"]", "",
       "error in message 2 at byte 0: text packet while attachments are pending (unexpected_text)\n"},
      {{"--form", "websocket"}, "4511-", "", "error in message 1 at byte 2: too many attachments (too_many_attachments)\n"},
      {{"--form", "websocket"}, "42[]", "", "error in message 1 at byte 2: invalid payload for the packet type (invalid_payload)\n"},
  };
  for (const auto& [args, input, out, err] : items) {
    SCOPED_TRACE(input);
    std::vector<std::string> all{"decode", "--socketio"};
    all.insert(all.end(), args.begin(), args.end());
    const tool_result r = run_eiotool(all, input);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, out);
    EXPECT_EQ(r.err, err);
  }
}

TEST(eiotool_socketio_decode, max_attachments_at_the_limit_and_past_it) {
  std::string text = "453-[\"x\"";
  for (int i = 0; i < 3; ++i) text += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
  text += "]\x1e" "bAA==\x1e" "bAQ==\x1e" "bAg==";
  const tool_result at = run_eiotool({"decode", "--socketio", "--max-attachments", "3"}, text);
  EXPECT_EQ(at.exit_code, 0) << at.err;
  const tool_result past = run_eiotool({"decode", "--socketio", "--max-attachments", "2"}, text);
  EXPECT_EQ(past.exit_code, 1);
  EXPECT_TRUE(contains(past.err, "(too_many_attachments)")) << past.err;
}

TEST(eiotool_socketio_decode, usage) {
  EXPECT_EQ(run_eiotool({"decode", "--attachment", "x"}, "42[\"a\"]").exit_code, 2);  // needs --socketio
  EXPECT_EQ(run_eiotool({"decode", "--socketio", "--max-attachments", "-1"}, "42[\"a\"]").exit_code, 2);
  const tool_result help = run_eiotool({"decode", "--help"});
  EXPECT_TRUE(contains(help.out, "--socketio")) << help.out;
  EXPECT_TRUE(contains(help.out, "eiotool decode --socketio")) << help.out;
  EXPECT_TRUE(contains(run_eiotool({"encode", "--help"}).out, "eiotool encode --socketio"));
}

// ------------------------------------------------------------------ encode

TEST(eiotool_socketio_encode, an_event_as_a_websocket_message) {
  const tool_result r = run_eiotool({"encode", "--socketio", "--form", "websocket"},
                                    R"({"type":"EVENT","nsp":"/chat","id":3,"data":["message",{"z":1,"a":[true,null]}]})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Key order as written.
  EXPECT_EQ(r.out, R"(42/chat,3["message",{"z":1,"a":[true,null]}])");
}

TEST(eiotool_socketio_encode, a_binary_event_and_engine_io_packets_in_a_payload) {
  const tool_result r = run_eiotool(
      {"encode", "--socketio"},
      "{\"type\":\"ping\"}\n"
      "{\"type\":\"BINARY_EVENT\",\"data\":[\"up\",{\"_placeholder\":true,\"num\":0}],\"attachments\":[\"AQID\"]}\n"
      "{\"type\":\"CONNECT\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2\x1e" "451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQID\x1e" "40");
  // v3 with binary payloads: the attachment travels as raw bytes.
  const tool_result v3 = run_eiotool(
      {"encode", "--socketio", "--eio", "3", "--binary"},
      "{\"type\":\"BINARY_ACK\",\"nsp\":\"/a\",\"id\":1,\"data\":[{\"_placeholder\":true,\"num\":0}],\"attachments\":[\"/w==\"]}");
  EXPECT_EQ(v3.exit_code, 0) << v3.err;
  EXPECT_TRUE(contains(v3.out, std::string("\x01\x02\xff\x04\xff", 5))) << v3.out;
}

TEST(eiotool_socketio_encode, decode_then_encode_gives_the_input_back) {
  for (const std::string& payload :
       {std::string("40/admin,{\"token\":\"abc\"}\x1e" "42/admin,1[\"m\",{\"a\":[1,2.5,\"s\"]}]\x1e" "43/admin,1[]"),
        std::string("452-/x,[\"up\",{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":1}]]\x1e" "bAQID\x1e" "b"),
        std::string("44{\"message\":\"Not authorized\",\"data\":{\"code\":1}}\x1e" "41/admin,")}) {
    SCOPED_TRACE(payload);
    const tool_result decoded = run_eiotool({"decode", "--socketio"}, payload);
    ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
    const tool_result encoded = run_eiotool({"encode", "--socketio"}, decoded.out);
    ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
    EXPECT_EQ(encoded.out, payload);
  }
}

TEST(eiotool_socketio_encode, errors_name_the_line) {
  struct item {
    std::vector<std::string> args;
    std::string input;
    std::string err;  // the start of stderr
  };
  const std::string ok = "{\"type\":\"EVENT\",\"data\":[\"a\"]}\n";
  const std::vector<item> items = {
      {{}, ok + "{\"type\":\"EVENT\",\"data\":[]}",
       "error at line 2: not a valid Socket.IO packet: invalid payload for the packet type at byte 2"},
      {{}, "{\"type\":\"EVENT\",\"data\":[\"connect\"]}", "error at line 1: not a valid Socket.IO packet: reserved event name"},
      {{}, "{\"type\":\"EVENT\",\"nsp\":\"chat\",\"data\":[\"a\"]}", "error at line 1: cannot encode: invalid namespace"},
      {{}, "{\"type\":\"EVENT\",\"id\":-1,\"data\":[\"a\"]}", "error at line 1: \"id\" must be a whole number"},
      {{}, "{\"type\":\"EVENT\",\"data\":[\"a\"],\"attachments\":[\"AQID\"]}",
       "error at line 1: only BINARY_EVENT and BINARY_ACK have attachments"},
      {{}, "{\"type\":\"BINARY_EVENT\",\"data\":[\"a\",{\"_placeholder\":true,\"num\":0}],\"attachments\":[\"!!\"]}",
       "error at line 1: \"attachments\" must be an array of base64 strings"},
      {{}, "{\"type\":\"BINARY_EVENT\",\"data\":[\"a\"],\"attachments\":[\"AQID\"]}",
       "error at line 1: not a valid Socket.IO packet: an attachment has no placeholder"},
      {{}, "{\"type\":\"BINARY_EVENT\",\"data\":[\"a\"]}", "error at line 1: cannot encode: invalid attachment count"},
      {{}, "{\"type\":\"EVENT\",\"dta\":[\"a\"]}", "error at line 1: unknown key \"dta\""},
      {{"--form", "websocket"},
       "{\"type\":\"BINARY_EVENT\",\"data\":[\"a\",{\"_placeholder\":true,\"num\":0}],\"attachments\":[\"AQID\"]}",
       "error at line 1: the websocket form takes one message; attachments need the polling form"},
      {{"--form", "websocket"}, ok + ok, "error at line 2: the websocket form takes exactly one packet"},
  };
  for (const auto& [args, input, err] : items) {
    SCOPED_TRACE(input);
    std::vector<std::string> all{"encode", "--socketio"};
    all.insert(all.end(), args.begin(), args.end());
    const tool_result r = run_eiotool(all, input);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind(err, 0), 0u) << r.err;
  }
  // Without --socketio, a Socket.IO line is an unknown Engine.IO type.
  EXPECT_EQ(run_eiotool({"encode"}, ok).exit_code, 1);
}

// ----------------------------------------------- the shared vectors, via eiotool

TEST(eiotool_socketio_vectors, every_case_decodes_as_the_library_does) {
  std::ifstream in(EIO_SOCKETIO_VECTORS);
  const nlohmann::ordered_json cases = nlohmann::ordered_json::parse(in);
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.contains("options")) continue;  // eiotool sets max_attachments only
    const std::string input = "4" + c["input"].get<std::string>();
    SCOPED_TRACE(c["name"].get<std::string>() + ": " + input);
    const tool_result r = run_eiotool({"decode", "--socketio", "--form", "websocket"}, input);
    ++checked;
    if (c.contains("error")) {
      EXPECT_EQ(r.exit_code, 1);
      const std::string offset = std::to_string(c["error"]["offset"].get<std::size_t>());
      const std::string suffix = " (" + c["error"]["code"].get<std::string>() + ")\n";
      EXPECT_EQ(r.err.rfind("error in message 1 at byte " + offset + ": ", 0), 0u) << r.err;
      EXPECT_TRUE(r.err.size() > suffix.size() && r.err.compare(r.err.size() - suffix.size(), suffix.size(), suffix) == 0)
          << r.err;
      continue;
    }
    const auto& p = c["packet"];
    if (p.value("attachments", 0) > 0) {
      EXPECT_EQ(r.exit_code, 1);  // no attachments given
      EXPECT_TRUE(contains(r.err, "waits for attachments")) << r.err;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["type"], p["type"]);
    EXPECT_EQ(lines[0]["nsp"], p.value("nsp", "/"));
    EXPECT_EQ(lines[0].contains("id"), p.contains("id"));
    if (p.contains("id")) {
      EXPECT_EQ(lines[0]["id"].get<std::uint64_t>(), p["id"].get<std::uint64_t>());
    }
    EXPECT_EQ(lines[0].contains("data"), p.contains("data"));
    if (p.contains("data")) {
      EXPECT_EQ(lines[0]["data"], nlohmann::ordered_json::parse(p["data"].get<std::string>()));
    }
  }
  EXPECT_GT(checked, 50u);
}

}  // namespace
}  // namespace eio::test
