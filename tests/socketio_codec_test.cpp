// eio::socketio decoder and encoder: the shared vectors
// (tests/vectors/socketio/packets.json), every packet type, the payload
// rules, reserved names, placeholders, and every limit at the limit and one
// past it, with megabyte inputs refused in linear time.
#include <eio/socketio/packet.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace eio::socketio {
namespace {

std::string name_of(const decode_error& e) { return std::string(errc_name(e.code)); }

// The Engine.IO message the brief and the reference tests write ("42[]"):
// checks the '4' and decodes the Socket.IO text after it.
decode_error decode_message(decoder& d, std::string_view message, packet& p, payload_info& info) {
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.front(), '4') << "not an Engine.IO message packet: " << message;
  decode_error e = d.decode(message.substr(1), p, info);
  if (e) ++e.offset;  // offsets in the Engine.IO message
  return e;
}

// ------------------------------------------------------------------ vectors

struct vector_case {
  std::string name;
  std::string input;
  decode_options options;
  bool has_error = false;
  std::string error_code;
  std::size_t error_offset = 0;
  packet_type type = packet_type::event;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  std::size_t attachments = 0;
  std::string data;
  std::optional<std::string> event;
  std::optional<std::string> args;
  std::optional<std::size_t> arg_count;
  std::optional<std::size_t> placeholders;
  bool canonical = false;
};

std::vector<vector_case> load_vectors() {
  std::ifstream in(EIO_SOCKETIO_VECTORS);
  const nlohmann::json cases = nlohmann::json::parse(in);
  std::vector<vector_case> out;
  for (const auto& c : cases) {
    vector_case v;
    v.name = c.at("name").get<std::string>();
    v.input = c.at("input").get<std::string>();
    if (c.contains("options")) {
      const auto& o = c["options"];
      v.options.max_attachments = o.value("max_attachments", v.options.max_attachments);
      v.options.max_namespace_bytes = o.value("max_namespace_bytes", v.options.max_namespace_bytes);
      v.options.max_ack_id = o.value("max_ack_id", v.options.max_ack_id);
      v.options.max_depth = o.value("max_depth", v.options.max_depth);
    }
    if (c.contains("error")) {
      v.has_error = true;
      v.error_code = c["error"].at("code").get<std::string>();
      v.error_offset = c["error"].at("offset").get<std::size_t>();
    } else {
      const auto& p = c.at("packet");
      v.type = *packet_type_from_name(p.at("type").get<std::string>());
      v.nsp = p.value("nsp", "/");
      if (p.contains("id")) v.id = p["id"].get<std::uint64_t>();
      v.attachments = p.value("attachments", std::size_t{0});
      v.data = p.value("data", "");
    }
    if (c.contains("event")) v.event = c["event"].get<std::string>();
    if (c.contains("args")) v.args = c["args"].get<std::string>();
    if (c.contains("arg_count")) v.arg_count = c["arg_count"].get<std::size_t>();
    if (c.contains("placeholders")) v.placeholders = c["placeholders"].get<std::size_t>();
    v.canonical = c.value("canonical", false);
    out.push_back(std::move(v));
  }
  return out;
}

const std::vector<vector_case>& vectors() {
  static const std::vector<vector_case> cases = load_vectors();
  return cases;
}

class socketio_vectors : public ::testing::TestWithParam<std::size_t> {};

TEST_P(socketio_vectors, decode_and_encode) {
  const vector_case& v = vectors()[GetParam()];
  SCOPED_TRACE(v.name + ": " + v.input);
  // A copy sized exactly, so that ASan sees a read past the end.
  const std::string text = v.input;
  decoder d(v.options);
  packet p;
  payload_info info;
  const decode_error e = d.decode(text, p, info);
  if (v.has_error) {
    ASSERT_TRUE(e) << "decoded, expected " << v.error_code;
    EXPECT_EQ(name_of(e), v.error_code);
    EXPECT_EQ(e.offset, v.error_offset);
    EXPECT_LE(e.offset, text.size());
    return;
  }
  ASSERT_FALSE(e) << name_of(e) << " at " << e.offset;
  EXPECT_EQ(p.type, v.type);
  EXPECT_EQ(p.nsp, v.nsp);
  EXPECT_EQ(p.id, v.id);
  EXPECT_EQ(p.attachments, v.attachments);
  EXPECT_EQ(p.data, v.data);
  if (v.event) {
    EXPECT_EQ(info.name, *v.event);
  }
  if (v.args) {
    EXPECT_EQ(info.args(p.data), *v.args);
  }
  if (v.arg_count) {
    EXPECT_EQ(info.arg_count, *v.arg_count);
  }
  if (v.placeholders) {
    EXPECT_EQ(info.placeholder_count, *v.placeholders);
  }

  // Round trip: decode(encode(p)) == p, and canonical inputs come back.
  std::string encoded;
  ASSERT_FALSE(encode(p, encoded));
  if (v.canonical) {
    EXPECT_EQ(encoded, v.input);
  }
  packet again;
  ASSERT_FALSE(d.decode(encoded, again));
  EXPECT_EQ(again, p);
}

INSTANTIATE_TEST_SUITE_P(socketio, socketio_vectors, ::testing::Range<std::size_t>(0, vectors().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           std::string name = std::to_string(param_info.param) + "_";
                           for (const char c : vectors()[param_info.param].name) {
                             const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                             if (alnum) {
                               name += c;
                             } else if (name.back() != '_') {
                               name += '_';
                             }
                           }
                           while (name.back() == '_') name.pop_back();
                           return name;
                         });

// --------------------------------------------------- every type, round trip

TEST(socketio_codec, every_packet_type_round_trips) {
  struct item {
    packet p;
    std::string text;
  };
  const std::vector<item> items = {
      {{packet_type::connect, "/", std::nullopt, 0, ""}, "0"},
      {{packet_type::connect, "/admin", std::nullopt, 0, R"({"token":"abc"})"}, R"(0/admin,{"token":"abc"})"},
      {{packet_type::disconnect, "/admin", std::nullopt, 0, ""}, "1/admin,"},
      {{packet_type::event, "/", 12, 0, R"(["message","hello"])"}, R"(212["message","hello"])"},
      {{packet_type::ack, "/admin", 13, 0, R"(["ok"])"}, R"(3/admin,13["ok"])"},
      {{packet_type::connect_error, "/", std::nullopt, 0, R"({"message":"Not authorized"})"},
       R"(4{"message":"Not authorized"})"},
      {{packet_type::binary_event, "/", std::nullopt, 1, R"(["up",{"_placeholder":true,"num":0}])"},
       R"(51-["up",{"_placeholder":true,"num":0}])"},
      {{packet_type::binary_ack, "/x", 0, 2,
        R"([{"_placeholder":true,"num":1},{"num":0,"_placeholder":true}])"},
       R"(62-/x,0[{"_placeholder":true,"num":1},{"num":0,"_placeholder":true}])"},
  };
  decoder d;
  for (const auto& [p, text] : items) {
    SCOPED_TRACE(text);
    std::string out = "kept";
    ASSERT_FALSE(encode(p, out));
    EXPECT_EQ(out, "kept" + text);
    packet back;
    const decode_error e = d.decode(text, back);
    ASSERT_FALSE(e) << name_of(e);
    EXPECT_EQ(back, p);
  }
}

TEST(socketio_codec, type_names) {
  for (int t = 0; t <= 6; ++t) {
    const auto type = static_cast<packet_type>(t);
    EXPECT_EQ(packet_type_from_name(to_string(type)), type);
  }
  EXPECT_EQ(to_string(packet_type::binary_event), "BINARY_EVENT");
  EXPECT_FALSE(packet_type_from_name("event"));
}

TEST(socketio_codec, error_category_and_names) {
  EXPECT_STREQ(socketio_category().name(), "eio.socketio");
  // attachment_timeout is the last value.
  for (int v = static_cast<int>(errc::empty_packet); v <= static_cast<int>(errc::attachment_timeout); ++v) {
    const auto e = static_cast<errc>(v);
    const std::error_code code = e;
    EXPECT_EQ(code.category(), socketio_category());
    EXPECT_NE(errc_name(e), "unknown");
    EXPECT_EQ(errc_from_name(errc_name(e)), e);
    EXPECT_EQ(errc_name(code), errc_name(e));
    EXPECT_NE(code.message(), "unknown eio.socketio error");
  }
  EXPECT_EQ(errc_name(std::make_error_code(std::errc::invalid_argument)), "unknown");
  EXPECT_FALSE(errc_from_name("nope"));
}

// ------------------------------------------- the brief's list, as on the wire

TEST(socketio_codec, bad_messages_from_the_issue) {
  struct item {
    std::string message;
    std::string code;
    std::size_t offset;
  };
  const std::vector<item> items = {
      {"42[]", "invalid_payload", 3},
      {"42{}", "invalid_payload", 2},
      {"42[null]", "invalid_payload", 3},
      {R"(42["a")", "invalid_json", 2},
      {R"(42[{"toString":"x"}])", "invalid_payload", 3},
      {R"(42["connect"])", "reserved_event_name", 3},
      {R"(42["disconnect"])", "reserved_event_name", 3},
      {"45", "invalid_attachments", 2},
      {"4511-", "too_many_attachments", 3},
      {"454294967296-", "too_many_attachments", 3},
  };
  decoder d;
  for (const auto& [message, code, offset] : items) {
    SCOPED_TRACE(message);
    packet p;
    payload_info info;
    const decode_error e = decode_message(d, message, p, info);
    ASSERT_TRUE(e);
    EXPECT_EQ(name_of(e), code);
    EXPECT_EQ(e.offset, offset);
  }
  packet p;
  payload_info info;
  ASSERT_FALSE(decode_message(d, R"(42["message","hello"])", p, info));
  EXPECT_EQ(info.name, "message");
}

// ----------------------------------------------------------- payload rules

TEST(socketio_codec, payload_rules_per_type) {
  struct item {
    packet_type type;
    std::string data;
    bool ok;
  };
  const std::vector<item> items = {
      {packet_type::connect, "", true},          {packet_type::connect, "{}", true},
      {packet_type::connect, "[]", false},       {packet_type::connect, "\"s\"", false},
      {packet_type::connect, "1", false},        {packet_type::connect, "null", false},
      {packet_type::disconnect, "", true},       {packet_type::disconnect, "{}", false},
      {packet_type::disconnect, "null", false},  {packet_type::event, "", false},
      {packet_type::event, "[\"a\"]", true},     {packet_type::event, "[1]", true},
      {packet_type::event, "[-1.5e2,{}]", true}, {packet_type::event, "[]", false},
      {packet_type::event, "[null]", false},     {packet_type::event, "[true]", false},
      {packet_type::event, "[[]]", false},       {packet_type::event, "[{}]", false},
      {packet_type::event, "{}", false},         {packet_type::event, "\"a\"", false},
      {packet_type::ack, "", true},              {packet_type::ack, "[]", true},
      {packet_type::ack, "[null,1]", true},      {packet_type::ack, "{}", false},
      {packet_type::ack, "1", false},            {packet_type::connect_error, "", true},
      {packet_type::connect_error, "\"s\"", true}, {packet_type::connect_error, "{}", true},
      {packet_type::connect_error, "[]", false}, {packet_type::connect_error, "1", false},
      {packet_type::connect_error, "false", false},
  };
  decoder d;
  for (const auto& [type, data, ok] : items) {
    SCOPED_TRACE(std::string(to_string(type)) + " " + data);
    payload_info info;
    const decode_error e = d.scan(data, type, 0, info);
    EXPECT_EQ(!e, ok) << name_of(e);
    if (e) {
      EXPECT_EQ(name_of(e), "invalid_payload");
    }
  }
}

TEST(socketio_codec, data_may_not_start_with_whitespace) {
  decoder d;
  payload_info info;
  for (const std::string data : {" [1]", "\t[1]", "\n[1]", "\r[1]"}) {
    const decode_error e = d.scan(data, packet_type::ack, 0, info);
    EXPECT_EQ(name_of(e), "invalid_json");
    EXPECT_EQ(e.offset, 0u);
  }
  EXPECT_FALSE(d.scan("[1] \r\n\t", packet_type::ack, 0, info));  // trailing is fine, as JSON.parse
}

TEST(socketio_codec, every_reserved_name_is_refused_on_input_and_on_emit) {
  decoder d;
  for (const std::string name :
       {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(is_reserved_event_name(name));
    packet p;
    const decode_error e = d.decode("2[\"" + name + "\",1]", p);
    EXPECT_EQ(name_of(e), "reserved_event_name");
    EXPECT_EQ(e.offset, 2u);
    EXPECT_EQ(name_of(d.decode("51-[\"" + name + "\",{\"_placeholder\":true,\"num\":0}]", p)), "reserved_event_name");
    EXPECT_EQ(check_event_name(name), errc::reserved_event_name);
    std::string out = "x";
    EXPECT_EQ(append_event_data(name, "1", out), errc::reserved_event_name);
    EXPECT_EQ(out, "x");
    // Not reserved: a prefix, another case, and ACKs (they have no name).
    EXPECT_FALSE(is_reserved_event_name(name + "s"));
    EXPECT_FALSE(is_reserved_event_name(name.substr(1)));
    EXPECT_FALSE(d.decode("3[\"" + name + "\"]", p));
  }
  EXPECT_FALSE(is_reserved_event_name("Connect"));
  EXPECT_FALSE(check_event_name("message"));
  EXPECT_EQ(check_event_name("bad\xff"), errc::invalid_utf8);
}

TEST(socketio_codec, escaped_event_name_is_unescaped) {
  decoder d;
  packet p;
  payload_info info;
  const std::string text = R"(2["a\nb\u00e9\ud83d\ude00",1])";
  ASSERT_FALSE(d.decode(text, p, info));
  EXPECT_EQ(info.name_kind, event_name_kind::string);
  EXPECT_EQ(info.name, "a\nb\xC3\xA9\xF0\x9F\x98\x80");
  // Without escapes the name views the caller's text.
  const std::string plain = R"(2["plain",1])";
  ASSERT_FALSE(d.decode(plain, p, info));
  EXPECT_EQ(info.name, "plain");
  EXPECT_EQ(info.name.data(), plain.data() + 3);
  EXPECT_EQ(info.args(p.data).data(), plain.data() + 10);
}

TEST(socketio_codec, number_event_name_is_its_json_text) {
  decoder d;
  packet p;
  payload_info info;
  ASSERT_FALSE(d.decode("2[ -1.5e3 ,true]", p, info));
  EXPECT_EQ(info.name_kind, event_name_kind::number);
  EXPECT_EQ(info.name, "-1.5e3");
  EXPECT_EQ(info.args(p.data), "true");
  EXPECT_EQ(info.arg_count, 1u);
}

TEST(socketio_codec, args_range_re_emits_without_reserializing) {
  decoder d;
  packet p;
  payload_info info;
  const std::string text = R"(2/chat,7["message", "hi" , {"to":["a","b"]}, [1,{"_placeholder":true,"num":3}] ])";
  ASSERT_FALSE(d.decode(text, p, info));
  EXPECT_EQ(info.name, "message");
  EXPECT_EQ(info.arg_count, 3u);
  EXPECT_EQ(info.args(p.data), R"("hi" , {"to":["a","b"]}, [1,{"_placeholder":true,"num":3}])");
  EXPECT_EQ(info.placeholder_count, 1u);
  EXPECT_EQ(info.max_placeholder_num, 3u);
  EXPECT_TRUE(info.placeholders_valid);

  std::string data;
  ASSERT_FALSE(append_event_data("relay \"quoted\"", info.args(p.data), data));
  EXPECT_EQ(data, R"(["relay \"quoted\"","hi" , {"to":["a","b"]}, [1,{"_placeholder":true,"num":3}]])");
  packet relayed{packet_type::event, "/", std::nullopt, 0, data};
  std::string wire;
  ASSERT_FALSE(encode(relayed, wire));
  payload_info again;
  ASSERT_FALSE(d.decode(wire, p, again));
  EXPECT_EQ(again.name, "relay \"quoted\"");
  EXPECT_EQ(again.arg_count, 3u);

  data.clear();
  ASSERT_FALSE(append_event_data("empty", "", data));
  EXPECT_EQ(data, R"(["empty"])");
}

TEST(socketio_codec, placeholders_in_packets_that_are_not_binary_are_only_counted) {
  decoder d;
  packet p;
  payload_info info;
  ASSERT_FALSE(d.decode(R"(2["x",{"_placeholder":true,"num":"splice"},{"num":7,"_placeholder":true}])", p, info));
  EXPECT_EQ(info.placeholder_count, 2u);
  EXPECT_FALSE(info.placeholders_valid);
  EXPECT_EQ(info.max_placeholder_num, 7u);
}

TEST(socketio_codec, placeholders_nested_anywhere_in_either_key_order) {
  decoder d;
  packet p;
  payload_info info;
  const std::string text =
      R"(54-["e",{"deep":{"deeper":[[{"num":3,"_placeholder":true}]]}},{"_placeholder":true,"num":0},)"
      R"([{"a":{"num":1,"_placeholder":true}},{"_placeholder":true,"num":2}]])";
  const decode_error e = d.decode(text, p, info);
  ASSERT_FALSE(e) << name_of(e) << " at " << e.offset;
  EXPECT_EQ(p.attachments, 4u);
  EXPECT_EQ(info.placeholder_count, 4u);
  EXPECT_EQ(info.max_placeholder_num, 3u);
  EXPECT_TRUE(info.placeholders_valid);
  EXPECT_EQ(info.arg_count, 3u);
  // In an ACK too.
  ASSERT_FALSE(d.decode(R"(62-[{"x":{"num":1,"_placeholder":true}},[{"_placeholder":true,"num":0}]])", p, info));
}

// ------------------------------------------------------------------ encoder

TEST(socketio_codec, encoder_refuses_what_it_cannot_write) {
  std::string out = "kept";
  EXPECT_EQ(encode({packet_type::event, "admin", {}, 0, "[\"a\"]"}, out), errc::invalid_namespace);
  EXPECT_EQ(encode({packet_type::event, "", {}, 0, "[\"a\"]"}, out), errc::invalid_namespace);
  EXPECT_EQ(encode({packet_type::event, "/a,b", {}, 0, "[\"a\"]"}, out), errc::invalid_namespace);
  EXPECT_EQ(encode({packet_type::event, "/\xff", {}, 0, "[\"a\"]"}, out), errc::invalid_utf8);
  EXPECT_EQ(encode({packet_type::binary_event, "/", {}, 0, "[\"a\"]"}, out), errc::invalid_attachments);
  EXPECT_EQ(encode({packet_type::event, "/", {}, 1, "[\"a\"]"}, out), errc::invalid_attachments);
  EXPECT_EQ(encode({packet_type::event, "/", max_safe_ack_id + 1, 0, "[\"a\"]"}, out), errc::ack_id_too_large);
  EXPECT_EQ(encode({static_cast<packet_type>(7), "/", {}, 0, ""}, out), errc::unknown_packet_type);
  EXPECT_EQ(out, "kept");
  ASSERT_FALSE(encode({packet_type::event, "/", max_safe_ack_id, 0, "[\"a\"]"}, out));
  EXPECT_EQ(out, "kept29007199254740991[\"a\"]");
}

TEST(socketio_codec, json_string_escaping) {
  std::string out;
  append_json_string(std::string("q\"b\\n\nt\tc\x01\x1f/\x7f\xC3\xA9", 15), out);
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\nt\\tc\\u0001\\u001f/\x7f\xC3\xA9\"");
  nlohmann::json parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed.get<std::string>(), std::string("q\"b\\n\nt\tc\x01\x1f/\x7f\xC3\xA9", 15));
}

// -------------------------------------------------------------- the limits

TEST(socketio_codec, attachment_count_at_the_limit_and_past_it) {
  for (const std::size_t limit : {std::size_t{1}, std::size_t{10}, std::size_t{10'000}}) {
    SCOPED_TRACE(limit);
    decode_options options;
    options.max_attachments = limit;
    decoder d(options);
    auto text_with = [](std::size_t n) {
      std::string t = "5" + std::to_string(n) + "-[\"x\"";
      for (std::size_t i = 0; i < n; ++i) t += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
      return t + "]";
    };
    packet p;
    payload_info info;
    const decode_error at = d.decode(text_with(limit), p, info);
    ASSERT_FALSE(at) << name_of(at);
    EXPECT_EQ(p.attachments, limit);
    EXPECT_EQ(info.placeholder_count, limit);
    const decode_error past = d.decode(text_with(limit + 1), p, info);
    EXPECT_EQ(name_of(past), "too_many_attachments");
    EXPECT_EQ(past.offset, std::to_string(limit + 1).size());
  }
  decoder d;
  EXPECT_EQ(decode_options{}.max_attachments, 10u);
}

TEST(socketio_codec, absurd_attachment_counts_fail_at_the_digit_that_passes_the_limit) {
  decoder d;
  packet p;
  EXPECT_EQ(d.decode("54294967296-", p).offset, 2u);
  EXPECT_EQ(d.decode("518446744073709551616-", p).offset, 2u);
  // Leading zeros do not count toward the limit, and never overflow.
  const std::string zeros = "5" + std::string(100'000, '0') + "1-[\"x\",{\"_placeholder\":true,\"num\":0}]";
  EXPECT_FALSE(d.decode(zeros, p));
}

TEST(socketio_codec, a_huge_attachment_count_given_to_scan_sizes_nothing) {
  // decode() caps the count at max_attachments; scan() takes the caller's.
  decoder d;
  payload_info info;
  const std::string data = R"(["x",{"_placeholder":true,"num":999999999999},{"_placeholder":true,"num":0}])";
  const decode_error e = d.scan(data, packet_type::binary_event, std::size_t{1} << 60, info);
  EXPECT_EQ(name_of(e), "missing_placeholder");
  EXPECT_EQ(info.placeholder_count, 2u);
  EXPECT_EQ(info.max_placeholder_num, 999999999999u);
}

TEST(socketio_codec, a_million_digits_is_refused_in_linear_time) {
  decoder d;
  packet p;
  const std::string digits(1'000'000, '9');
  const auto start = std::chrono::steady_clock::now();
  const decode_error count = d.decode("5" + digits + "-[]", p);
  EXPECT_EQ(name_of(count), "too_many_attachments");
  EXPECT_EQ(count.offset, 2u);
  const decode_error id = d.decode("2" + digits + "[\"a\"]", p);
  EXPECT_EQ(name_of(id), "ack_id_too_large");
  EXPECT_EQ(id.offset, 16u);  // 999...9 passes 2^53-1 at the 16th digit
  // Zeros never pass the limit: the whole run is read, once.
  const decode_error zeros = d.decode("2" + std::string(1'000'000, '0') + "[\"a\"]", p);
  EXPECT_FALSE(zeros) << name_of(zeros);
  EXPECT_EQ(p.id, 0u);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Generous (sanitizers, a loaded machine); a quadratic scan of 1e6 bytes
  // would take minutes.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(socketio_codec, ack_id_at_the_limit_and_past_it) {
  decoder d;
  packet p;
  ASSERT_FALSE(d.decode("39007199254740991[]", p));
  EXPECT_EQ(p.id, max_safe_ack_id);
  const decode_error past = d.decode("39007199254740992[]", p);
  EXPECT_EQ(name_of(past), "ack_id_too_large");
  EXPECT_EQ(past.offset, 16u);
  const decode_error far = d.decode("318446744073709551616[]", p);
  EXPECT_EQ(name_of(far), "ack_id_too_large");

  decode_options options;
  options.max_ack_id = 1000;
  decoder small(options);
  ASSERT_FALSE(small.decode("31000[]", p));
  EXPECT_EQ(name_of(small.decode("31001[]", p)), "ack_id_too_large");
  options.max_ack_id = std::numeric_limits<std::uint64_t>::max();
  decoder huge(options);
  ASSERT_FALSE(huge.decode("318446744073709551615[]", p));
  EXPECT_EQ(p.id, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(name_of(huge.decode("318446744073709551616[]", p)), "ack_id_too_large");
}

TEST(socketio_codec, namespace_at_the_limit_and_past_it) {
  EXPECT_EQ(decode_options{}.max_namespace_bytes, 256u);
  for (const std::size_t limit : {std::size_t{1}, std::size_t{256}, std::size_t{1024}}) {
    SCOPED_TRACE(limit);
    decode_options options;
    options.max_namespace_bytes = limit;
    decoder d(options);
    packet p;
    const std::string at = "/" + std::string(limit - 1, 'n');
    const std::string with_comma = "2" + at + ",[\"a\"]";
    ASSERT_FALSE(d.decode(with_comma, p));
    EXPECT_EQ(p.nsp, at);
    const std::string to_the_end = "0" + at;  // no comma: to the end
    ASSERT_FALSE(d.decode(to_the_end, p));
    EXPECT_EQ(p.nsp, at);
    const decode_error past = d.decode("2" + at + "n,[\"a\"]", p);
    EXPECT_EQ(name_of(past), "namespace_too_long");
    EXPECT_EQ(past.offset, 1 + limit);
    EXPECT_EQ(name_of(d.decode("0" + at + "n", p)), "namespace_too_long");
  }
}

TEST(socketio_codec, a_megabyte_namespace_is_refused_in_linear_time) {
  decoder d;
  packet p;
  const std::string nsp = "/" + std::string(1'000'000, 'x');
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& text : {"2" + nsp + ",[\"a\"]", "0" + nsp, "51-" + nsp + ",[]"}) {
    const decode_error e = d.decode(text, p);
    EXPECT_EQ(name_of(e), "namespace_too_long");
    EXPECT_EQ(e.offset, text.find('/') + 256);
  }
  // Raised past a megabyte, the same namespace is read in one pass.
  decode_options options;
  options.max_namespace_bytes = 2'000'000;
  decoder big(options);
  const std::string text = "2" + nsp + ",[\"a\"]";
  ASSERT_FALSE(big.decode(text, p));
  EXPECT_EQ(p.nsp.size(), nsp.size());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(socketio_codec, namespace_must_be_utf8) {
  decoder d;
  packet p;
  const decode_error e = d.decode("0/ab\xff" "c,", p);
  EXPECT_EQ(name_of(e), "invalid_utf8");
  EXPECT_EQ(e.offset, 4u);
}

TEST(socketio_codec, depth_at_the_limit_and_past_it) {
  EXPECT_EQ(decode_options{}.max_depth, 128u);
  for (const std::size_t limit : {std::size_t{2}, std::size_t{128}, std::size_t{1000}}) {
    SCOPED_TRACE(limit);
    decode_options options;
    options.max_depth = limit;
    decoder d(options);
    auto nested = [](std::size_t levels) {  // the root array holds levels - 1 more
      return "2[\"d\"," + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "]";
    };
    packet p;
    ASSERT_FALSE(d.decode(nested(limit), p));
    const decode_error past = d.decode(nested(limit + 1), p);
    EXPECT_EQ(name_of(past), "json_too_deep");
    EXPECT_EQ(past.offset, 5 + limit);
    // Objects count too.
    std::string objects = "0";
    for (std::size_t i = 0; i < limit; ++i) objects += "{\"a\":";
    objects += "1" + std::string(limit, '}');
    EXPECT_FALSE(d.decode(objects, p));
    EXPECT_EQ(name_of(d.decode("0{\"a\":" + objects.substr(1) + "}", p)), "json_too_deep");
  }
}

TEST(socketio_codec, a_megabyte_of_json_is_scanned_in_linear_time) {
  decoder d;
  packet p;
  payload_info info;
  std::string wide = "2[\"wide\"";
  while (wide.size() < 1'000'000) wide += ",{\"k\":[1,2.5,\"s\",null,true]}";
  wide += "]";
  std::string deep_refused = "2[\"deep\"," + std::string(500'000, '[') + std::string(500'000, ']') + "]";
  std::string strings = "2[\"s\",\"" + std::string(1'000'000, 'a') + "\"]";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(d.decode(wide, p, info));
  EXPECT_GT(info.arg_count, 30'000u);
  EXPECT_EQ(name_of(d.decode(deep_refused, p)), "json_too_deep");
  ASSERT_FALSE(d.decode(strings, p, info));
  EXPECT_EQ(info.args(p.data).size(), 1'000'002u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// ---------------------------------------------------------- invalid inputs

TEST(socketio_codec, invalid_utf8_in_data) {
  decoder d;
  packet p;
  const decode_error e = d.decode("2[\"a\",\"b\xff\"]", p);
  EXPECT_EQ(name_of(e), "invalid_json");
  EXPECT_EQ(e.offset, 8u);
}

TEST(socketio_codec, every_error_offset_lies_within_the_input) {
  // Every prefix of some valid packets: each decodes or fails inside it.
  decoder d;
  for (const std::string full : {R"(52-/admin,456["project:delete",{"_placeholder":true,"num":0},{"num":1,"_placeholder":true}])",
                                 R"(0/admin,{"token":"123","nested":{"a":[1,2,{"b":null}]}})",
                                 R"(4/x,"a\u00e9\"")", R"(312["a",[1.5e-3,-0,true,false,null]])"}) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const std::string text = full.substr(0, n);
      packet p;
      payload_info info;
      const decode_error e = d.decode(text, p, info);
      if (e) {
        EXPECT_LE(e.offset, text.size()) << text;
        EXPECT_EQ(e.code.category(), socketio_category());
      }
    }
  }
}

TEST(socketio_codec, decoder_is_reusable_and_movable) {
  decoder first;
  packet p;
  payload_info info;
  ASSERT_FALSE(first.decode("2[\"a\\u0062\"]", p, info));
  EXPECT_EQ(info.name, "ab");
  decoder second = std::move(first);
  ASSERT_FALSE(second.decode("2[\"c\\u0064\"]", p, info));
  EXPECT_EQ(info.name, "cd");
  EXPECT_TRUE(second.decode("2[", p, info));
  ASSERT_FALSE(second.decode("2[\"e\"]", p, info));
  EXPECT_EQ(info.name, "e");
}

}  // namespace
}  // namespace eio::socketio
