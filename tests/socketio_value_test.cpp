// eio::socketio values: nlohmann::json (and ordered_json) with binary
// anywhere <-> JSON text with placeholders plus attachments.
#include <eio/socketio/assembler.hpp>
#include <eio/socketio/value.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eio::socketio {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string name_of(const std::error_code& e) { return std::string(errc_name(e)); }

TEST(socketio_value, plain_values_are_json_text) {
  const json v = {{"user", {{"name", "ana"}, {"id", 42}, {"tags", {"a", "b"}}}}, {"score", 1.5}, {"ok", true},
                  {"none", nullptr}};
  std::string text;
  std::vector<attachment> attachments;
  ASSERT_FALSE(to_wire(v, text, attachments));
  EXPECT_TRUE(attachments.empty());
  EXPECT_EQ(text, R"({"none":null,"ok":true,"score":1.5,"user":{"id":42,"name":"ana","tags":["a","b"]}})");
  json back;
  ASSERT_FALSE(from_wire(text, back));
  EXPECT_EQ(back, v);
  EXPECT_EQ(back["user"]["id"].get<int>(), 42);
  EXPECT_EQ(back["user"]["name"].get<std::string>(), "ana");
}

TEST(socketio_value, binary_anywhere_becomes_placeholders_in_reference_order) {
  // deconstructPacket visits arrays by index and objects in key order.
  const json v = json::array({"upload", json::binary({1, 2, 3}),
                              {{"b", json::binary({4})}, {"a", json::array({json::binary({5, 6})})}},
                              json::binary({})});
  std::string text;
  std::vector<attachment> attachments{{9, 9}};  // earlier attachments are kept, not renumbered
  ASSERT_FALSE(to_wire(v, text, attachments));
  EXPECT_EQ(text,
            R"(["upload",{"_placeholder":true,"num":0},{"a":[{"_placeholder":true,"num":1}],"b":{"_placeholder":true,"num":2}},{"_placeholder":true,"num":3}])");
  ASSERT_EQ(attachments.size(), 5u);
  EXPECT_EQ(attachments[1], (attachment{1, 2, 3}));
  EXPECT_EQ(attachments[2], (attachment{5, 6}));
  EXPECT_EQ(attachments[3], (attachment{4}));
  EXPECT_TRUE(attachments[4].empty());

  // The decoder accepts it as the data of a BINARY_EVENT with 4 attachments.
  decoder d;
  payload_info info;
  ASSERT_FALSE(d.scan(text, packet_type::binary_event, 4, info));
  EXPECT_EQ(info.placeholder_count, 4u);

  json back;
  ASSERT_FALSE(from_wire(text, std::vector<attachment>(attachments.begin() + 1, attachments.end()), back));
  EXPECT_EQ(back, v);
  EXPECT_TRUE(back[1].is_binary());
  EXPECT_EQ(static_cast<const attachment&>(back[2]["a"][0].get_binary()), (attachment{5, 6}));
}

TEST(socketio_value, ordered_json_keeps_key_order_like_javascript) {
  const ordered_json v = {{"z", ordered_json::binary({1})}, {"a", ordered_json::binary({2})}};
  std::string text;
  std::vector<attachment> attachments;
  ASSERT_FALSE(to_wire(v, text, attachments));
  EXPECT_EQ(text, R"({"z":{"_placeholder":true,"num":0},"a":{"_placeholder":true,"num":1}})");
  EXPECT_EQ(attachments, (std::vector<attachment>{{1}, {2}}));
  ordered_json back;
  ASSERT_FALSE(from_wire(text, attachments, back));
  EXPECT_EQ(back, v);
  EXPECT_EQ(back.begin().key(), "z");
}

TEST(socketio_value, rvalues_move_their_bytes) {
  json v = json::array({json::binary(attachment(1000, 7))});
  const std::uint8_t* bytes = v[0].get_binary().data();
  std::string text;
  std::vector<attachment> attachments;
  ASSERT_FALSE(to_wire(std::move(v), text, attachments));
  ASSERT_EQ(attachments.size(), 1u);
  EXPECT_EQ(attachments[0].data(), bytes);
  json back;
  ASSERT_FALSE(from_wire(text, std::move(attachments), back));
  EXPECT_EQ(back[0].get_binary().data(), bytes);
}

TEST(socketio_value, placeholder_key_order_either_way_on_input) {
  json back;
  ASSERT_FALSE(from_wire(R"([{"num":1,"_placeholder":true},{"x":{"_placeholder":true,"num":0}}])",
                         {{0xA}, {0xB}}, back));
  EXPECT_EQ(static_cast<const attachment&>(back[0].get_binary()), (attachment{0xB}));
  EXPECT_EQ(static_cast<const attachment&>(back[1]["x"].get_binary()), (attachment{0xA}));
}

TEST(socketio_value, bad_placeholders_are_errors) {
  struct item {
    std::string text;
    std::string code;
  };
  const std::vector<item> items = {
      {R"([{"_placeholder":true,"num":1}])", "placeholder_out_of_range"},
      {R"([{"_placeholder":true,"num":-1}])", "invalid_placeholder"},
      {R"([{"_placeholder":true,"num":0.5}])", "invalid_placeholder"},
      {R"([{"_placeholder":true,"num":"0"}])", "invalid_placeholder"},
      {R"([{"_placeholder":true,"num":"splice"}])", "invalid_placeholder"},
      {R"([{"_placeholder":true}])", "invalid_placeholder"},
      {R"([{"_placeholder":true,"num":0,"x":1}])", "invalid_placeholder"},
      {R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])", "duplicate_placeholder"},
      {R"(["no placeholder"])", "missing_placeholder"},
      {R"([)", "invalid_json"},
      {std::string("[{\"_placeholder\":true,\"num\":0}]\0junk", 36), "invalid_json"},  // nlohmann would stop at NUL
  };
  for (const auto& [text, code] : items) {
    SCOPED_TRACE(text);
    json out = "stale";
    EXPECT_EQ(name_of(from_wire(text, {{1}}, out)), code);
    EXPECT_TRUE(out.is_null());
  }
  // Not binary: placeholder-shaped objects stay objects, as in the reference.
  json plain;
  ASSERT_FALSE(from_wire(R"([{"_placeholder":true,"num":"splice"}])", plain));
  EXPECT_EQ(plain[0]["num"], "splice");
  // _placeholder other than true is an ordinary object.
  json other;
  ASSERT_FALSE(from_wire(R"([{"_placeholder":1,"num":0},{"_placeholder":true,"num":0}])", {{1}}, other));
  EXPECT_EQ(other[0]["_placeholder"], 1);
  EXPECT_TRUE(other[1].is_binary());
}

TEST(socketio_value, depth_at_the_limit_and_past_it) {
  json out;
  EXPECT_FALSE(from_wire("[[[1]]]", out, 3));
  EXPECT_EQ(name_of(from_wire("[[[[1]]]]", out, 3)), "json_too_deep");
  EXPECT_EQ(name_of(from_wire("[[[[{\"_placeholder\":true,\"num\":0}]]]]", {{1}}, out, 3)), "json_too_deep");
}

TEST(socketio_value, strings_that_are_not_utf8_are_refused) {
  std::string text = "kept";
  std::vector<attachment> attachments{{1}};
  EXPECT_EQ(to_wire(json::array({json::binary({2}), "bad\xff"}), text, attachments), errc::invalid_utf8);
  EXPECT_EQ(text, "kept");
  EXPECT_EQ(attachments.size(), 1u);
  EXPECT_EQ(make_event_data("e", json::array({"bad\xff"}), text, attachments), errc::invalid_utf8);
  EXPECT_EQ(text, "kept");
}

TEST(socketio_value, non_finite_numbers_are_null_as_json_stringify_writes_them) {
  std::string text;
  std::vector<attachment> attachments;
  ASSERT_FALSE(to_wire(json::array({std::numeric_limits<double>::infinity(), std::nan("")}), text, attachments));
  EXPECT_EQ(text, "[null,null]");
}

TEST(socketio_value, make_event_data_numbers_placeholders_across_arguments) {
  std::string data;
  std::vector<attachment> attachments;
  const json args = json::array({"hi", json::binary({1}), json::array({json::binary({2})}), 3});
  ASSERT_FALSE(make_event_data("upload", args, data, attachments));
  EXPECT_EQ(data, R"(["upload","hi",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}],3])");
  EXPECT_EQ(attachments, (std::vector<attachment>{{1}, {2}}));

  // Encode, assemble and restore, as a server and a client would.
  packet p{packet_type::binary_event, "/files", 7, attachments.size(), data};
  std::string text;
  ASSERT_FALSE(encode(p, text));
  EXPECT_EQ(text.rfind("52-/files,7[\"upload\"", 0), 0u);
  decoder d;
  assembler a;
  packet decoded;
  payload_info info;
  ASSERT_FALSE(d.decode(text, decoded, info));
  message m;
  ASSERT_FALSE(a.on_packet(decoded, info, millis(0), m).error);
  ASSERT_FALSE(a.on_binary(std::string_view("\x01", 1), millis(0), m).complete);
  ASSERT_TRUE(a.on_binary(std::string_view("\x02", 1), millis(0), m).complete);
  EXPECT_EQ(m.info.name, "upload");
  json restored;
  ASSERT_FALSE(from_wire(m.info.args(m.header.data).empty() ? "[]" : "[" + std::string(m.info.args(m.header.data)) + "]",
                         std::move(m.attachments), restored));
  EXPECT_EQ(restored, args);

  // One non-array argument; no arguments; reserved names.
  data.clear();
  ASSERT_FALSE(make_event_data("one", json{{"k", 1}}, data, attachments));
  EXPECT_EQ(data, R"(["one",{"k":1}])");
  data.clear();
  ASSERT_FALSE(make_event_data("none", json::array(), data, attachments));
  EXPECT_EQ(data, R"(["none"])");
  data.clear();
  EXPECT_EQ(make_event_data("disconnecting", json::array(), data, attachments), errc::reserved_event_name);
  EXPECT_EQ(data, "");
  EXPECT_TRUE(has_binary(args));
  EXPECT_FALSE(has_binary(json{{"a", {1, 2}}}));
}

}  // namespace
}  // namespace eio::socketio
