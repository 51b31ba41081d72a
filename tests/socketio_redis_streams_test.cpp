// eio::socketio_redis: what the Streams adapter puts in Redis, against bytes
// the Node adapter (@socket.io/redis-streams-adapter 0.3, @msgpack/msgpack 2)
// wrote: the entry fields of each message, the persisted session, and the
// stream ids used as recovery offsets; and the classic adapter's pattern
// escaping. Against a real Redis, the adapters are
// tested by tests/interop/socketio_redis.test.mjs (a cluster with Node's).
#include <eio/socketio_redis/wire.hpp>

#include <eio/base64.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using namespace eio::socketio_redis;
using json = nlohmann::json;
namespace sio = eio::socketio;

std::string field_of(const stream_fields& fields, const std::string& name) {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(stream_id, parses_and_orders) {
  const auto id = parse_stream_id("1796544323091-7");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1796544323091u);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_EQ(to_string(*id), "1796544323091-7");
  EXPECT_TRUE(*parse_stream_id("5-9") < *parse_stream_id("6-0"));
  EXPECT_TRUE(*parse_stream_id("6-1") < *parse_stream_id("6-10"));
  EXPECT_FALSE(*parse_stream_id("6-1") < *parse_stream_id("6-1"));
  EXPECT_TRUE(*parse_stream_id("6-1") <= *parse_stream_id("6-1"));
  EXPECT_EQ(to_string(*parse_stream_id("18446744073709551615-0")), "18446744073709551615-0");
}

TEST(stream_id, refuses_what_the_reference_refuses_and_what_overflows) {
  for (const char* bad : {"", "-", "1-", "-1", "1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "+1-2", "0x1-2",
                          "18446744073709551616-0", "1-99999999999999999999"}) {
    EXPECT_FALSE(parse_stream_id(bad)) << bad;
  }
}

TEST(stream_for_namespace, spreads_namespaces_as_the_node_adapter_does) {
  // util.ts hashCode(nsp) % streamCount, computed by Node.
  EXPECT_EQ(stream_for_namespace("/", "socket.io", 1), "socket.io");
  EXPECT_EQ(stream_for_namespace("/chat", "socket.io", 1), "socket.io");
  EXPECT_EQ(stream_for_namespace("/", "socket.io", 4), "socket.io-3");
  EXPECT_EQ(stream_for_namespace("/chat", "socket.io", 3), "socket.io-1");
  EXPECT_EQ(stream_for_namespace("/admin", "socket.io", 4), "socket.io-0");
  EXPECT_EQ(stream_for_namespace("/dyn-abc", "s", 3), "s--2");  // a negative hash keeps its sign
  EXPECT_EQ(stream_for_namespace("/x/very/long/namespace/name/that/overflows", "s", 4), "s--3");
  EXPECT_EQ(stream_for_namespace("/\xc3\xbc", "s", 4), "s-1");          // U+00FC, one code unit
  EXPECT_EQ(stream_for_namespace("/\xf0\x9f\x98\x80", "s", 4), "s-2");  // U+1F600, a surrogate pair
  EXPECT_EQ(streams_to_read("s", 1), (std::vector<std::string>{"s"}));
  EXPECT_EQ(streams_to_read("s", 3), (std::vector<std::string>{"s--2", "s--1", "s-0", "s-1", "s-2"}));
}

// Found by fuzz/redis_wire.cpp: more than 20 digits were refused even when
// leading zeros made them, though the value fits 64 bits (a client's offset
// is its own text; Redis reads such an id).
TEST(stream_id, leading_zeros_count_for_nothing) {
  const auto id = parse_stream_id("000087080000311838708-0007");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 87080000311838708u);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_EQ(to_string(*id), "87080000311838708-7");
  EXPECT_EQ(parse_stream_id("0000000018446744073709551615-" + std::string(1000, '0')), (stream_id{UINT64_MAX, 0}));
  EXPECT_FALSE(parse_stream_id("0000000018446744073709551616-0"));
}

sio::cluster_message broadcast(std::string data, std::vector<sio::attachment> attachments = {}) {
  sio::cluster_message m;
  m.uid = "0123456789abcdef";
  m.nsp = "/";
  m.type = sio::message_type::broadcast;
  m.opts.rooms = {"r"};
  m.opts.except = {"x"};
  m.packet.data = std::move(data);
  m.packet.attachments = std::move(attachments);
  return m;
}

TEST(stream_fields, a_broadcast_as_the_node_adapter_writes_it) {
  const stream_fields f = to_stream_fields(broadcast(R"(["ev",1,"two"])"));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"uid", "0123456789abcdef"}));
  EXPECT_EQ(f[1], (std::pair<std::string, std::string>{"nsp", "/"}));
  EXPECT_EQ(f[2], (std::pair<std::string, std::string>{"type", "3"}));
  // JSON.stringify(message.data): {packet: {type: 2, data}, opts}.
  const json data = json::parse(field_of(f, "data"));
  EXPECT_EQ(data["packet"]["type"], 2);
  EXPECT_EQ(data["packet"]["data"], json::array({"ev", 1, "two"}));
  EXPECT_EQ(data["opts"]["rooms"], json::array({"r"}));
  EXPECT_EQ(data["opts"]["except"], json::array({"x"}));
  const auto back = from_stream_fields(f);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->uid, "0123456789abcdef");
  EXPECT_EQ(back->type, sio::message_type::broadcast);
  EXPECT_EQ(back->packet.data, R"(["ev",1,"two"])");
  EXPECT_EQ(back->opts.rooms, std::vector<std::string>{"r"});
  EXPECT_EQ(back->opts.except, std::vector<std::string>{"x"});
}

TEST(stream_fields, binary_goes_as_base64_msgpack_and_comes_back) {
  const sio::attachment bytes{0x00, 0xff, 0x7b};
  const stream_fields f = to_stream_fields(broadcast(R"(["ev",{"_placeholder":true,"num":0}])", {bytes}));
  const std::string data = field_of(f, "data");
  ASSERT_FALSE(data.empty());
  EXPECT_NE(data[0], '{');
  std::string raw;
  std::size_t error_offset = 0;
  ASSERT_TRUE(eio::base64_decode(data, raw, error_offset));
  const auto v = from_msgpack(raw);
  ASSERT_TRUE(v);
  ASSERT_TRUE((*v)["packet"]["data"][1].is_binary());
  const auto back = from_stream_fields(f);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->packet.attachments.size(), 1u);
  EXPECT_EQ(back->packet.attachments[0], bytes);
}

TEST(stream_fields, reads_an_entry_the_node_adapter_wrote_with_binary) {
  // @msgpack/msgpack encode({packet:{type:2,data:["ev",Buffer.from([1,2,3])]},
  //                          opts:{rooms:["r"],except:[],flags:{}}}), base64.
  const stream_fields f = {{"uid", "feedfacefeedface"},
                           {"nsp", "/"},
                           {"type", "3"},
                           {"data", "gqZwYWNrZXSCpHR5cGUCpGRhdGGSomV2xAMBAgOkb3B0c4Olcm9vbXORoXKmZXhjZXB0kKVmbGFnc4A="}};
  const auto m = from_stream_fields(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uid, "feedfacefeedface");
  EXPECT_EQ(m->type, sio::message_type::broadcast);
  EXPECT_EQ(m->opts.rooms, std::vector<std::string>{"r"});
  ASSERT_EQ(m->packet.attachments.size(), 1u);
  EXPECT_EQ(m->packet.attachments[0], (sio::attachment{1, 2, 3}));
  EXPECT_EQ(m->packet.data, R"(["ev",{"_placeholder":true,"num":0}])");
}

TEST(stream_fields, room_operations_round_trip) {
  sio::cluster_message m;
  m.uid = "u";
  m.nsp = "/chat";
  m.type = sio::message_type::sockets_join;
  m.opts.rooms = {"a"};
  m.rooms = {"b", "c"};
  auto back = from_stream_fields(to_stream_fields(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nsp, "/chat");
  EXPECT_EQ(back->type, sio::message_type::sockets_join);
  EXPECT_EQ(back->rooms, (std::vector<std::string>{"b", "c"}));
  m.type = sio::message_type::disconnect_sockets;
  m.close = true;
  back = from_stream_fields(to_stream_fields(m));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->close);
}

TEST(stream_fields, refuses_what_it_does_not_know) {
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "99"}}));
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "x"}}));
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}}));
  // A broadcast whose data is not JSON, not base64, not msgpack.
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "3"}, {"data", "{not json"}}));
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "3"}, {"data", "!!!"}}));
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "3"}, {"data", "AAAA"}}));
  // Nesting past the bound, as JSON text.
  std::string deep(100000, '[');
  EXPECT_FALSE(from_stream_fields({{"uid", "u"}, {"nsp", "/"}, {"type", "3"}, {"data", "{\"packet\":" + deep}}));
}

// Found by fuzz/redis_wire.cpp: uid and nsp were kept as the entry's bytes,
// and a message from an entry whose uid is not UTF-8 did not encode as JSON
// (nlohmann's type_error 316). node-redis hands the reference strings.
TEST(stream_fields, uid_and_nsp_are_read_as_node_redis_reads_them) {
  const auto m = from_stream_fields({{"uid", "u\xff"}, {"nsp", "/\xc0\xafx"}, {"type", "2"}});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uid, "u\xEF\xBF\xBD");
  EXPECT_EQ(m->nsp, "/\xEF\xBF\xBD\xEF\xBF\xBD" "x");
  std::string bytes;
  ASSERT_NO_THROW(bytes = encode_cluster_message(*m));
  const auto back = decode_cluster_message(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->uid, m->uid);
}

TEST(session, reads_a_session_the_node_adapter_persisted) {
  // @msgpack/msgpack encode({sid:"abcdefghijklmnopqrst", pid:"pid-1",
  //   rooms:["abcdefghijklmnopqrst","watchers"], data:{k:"v", n:1, b:Buffer.from([0,255])}}), base64.
  const auto s = decode_session(
      "hKNzaWS0YWJjZGVmZ2hpamtsbW5vcHFyc3SjcGlkpXBpZC0xpXJvb21zkrRhYmNkZWZnaGlqa2xtbm9wcXJzdKh3YXRjaGVyc6RkYXRhg6FroXahbgGhYsQCAP8=");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sid, "abcdefghijklmnopqrst");
  EXPECT_EQ(s->pid, "pid-1");
  EXPECT_EQ(s->rooms, (std::vector<std::string>{"abcdefghijklmnopqrst", "watchers"}));
  EXPECT_EQ(s->data["k"], "v");
  EXPECT_EQ(s->data["n"], 1);
  ASSERT_TRUE(s->data["b"].is_binary());
}

TEST(session, round_trips_and_refuses_garbage) {
  sio::session_to_persist in{"sid-1", "pid-1", {"sid-1", "r"}, json{{"x", json::array({1, 2})}}};
  const auto out = decode_session(encode_session(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->sid, in.sid);
  EXPECT_EQ(out->pid, in.pid);
  EXPECT_EQ(out->rooms, in.rooms);
  EXPECT_EQ(out->data, in.data);
  EXPECT_FALSE(decode_session(""));
  EXPECT_FALSE(decode_session("not base64!"));
  EXPECT_FALSE(decode_session("kA=="));  // [] : not a session
  std::string no_sid;
  eio::base64_encode(to_msgpack(json{{"pid", "p"}}), no_sid);
  EXPECT_FALSE(decode_session(no_sid));
}

TEST(restore_step, cuts_at_what_the_loop_applied) {
  const stream_id offset{100, 0};
  const stream_id e1{100, 1}, e2{101, 0}, e3{102, 0};
  // The reader has not started, or has not applied the client's own offset.
  EXPECT_EQ(next_restore_step(offset, e2, std::nullopt, 1, 100), restore_step::wait);
  EXPECT_EQ(next_restore_step(offset, e2, stream_id{99, 5}, 1, 100), restore_step::wait);
  // Applied exactly the offset, nothing read after it: replay nothing.
  EXPECT_EQ(next_restore_step(offset, offset, offset, 1, 100), restore_step::replay);
  // The range read past what the loop applied: replay up to applied.
  EXPECT_EQ(next_restore_step(offset, e3, e2, 1, 100), restore_step::replay);
  EXPECT_EQ(next_restore_step(offset, e2, e2, 1, 100), restore_step::replay);
  // The loop applied entries the range has not read: read on, up to the bound.
  EXPECT_EQ(next_restore_step(offset, e1, e3, 1, 100), restore_step::read_more);
  EXPECT_EQ(next_restore_step(offset, offset, e1, 99, 100), restore_step::read_more);
  EXPECT_EQ(next_restore_step(offset, offset, e1, 100, 100), restore_step::refuse);
}

redis_reply text(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::string;
  r.str = std::move(s);
  return r;
}
redis_reply array(std::vector<redis_reply> elements) {
  redis_reply r;
  r.type = redis_reply::kind::array;
  r.elements = std::move(elements);
  return r;
}

TEST(parse_entries, reads_an_xrange_reply_and_refuses_other_shapes) {
  const redis_reply good = array({
      array({text("5-1"), array({text("uid"), text("u"), text("nsp"), text("/"), text("type"), text("4"),
                                 text("data"), text(R"({"opts":{"rooms":["a"]},"rooms":["b"]})")})}),
      array({text("5-2"), array({text("uid"), text("u"), text("type"), text("99")})}),  // not understood, still read
  });
  const auto entries = parse_entries(good);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(to_string((*entries)[0].id), "5-1");
  ASSERT_TRUE((*entries)[0].message);
  EXPECT_EQ((*entries)[0].message->type, sio::message_type::sockets_join);
  EXPECT_EQ(to_string((*entries)[1].id), "5-2");
  EXPECT_FALSE((*entries)[1].message);
  EXPECT_TRUE(parse_entries(array({})));                                               // empty range
  EXPECT_FALSE(parse_entries(text("5-1")));                                            // not an array
  EXPECT_FALSE(parse_entries(array({array({text("5-1")})})));                         // no fields
  EXPECT_FALSE(parse_entries(array({array({text("x-1"), array({})})})));              // a bad id
  EXPECT_FALSE(parse_entries(array({array({text("5-1"), array({text("uid")})})})));   // an odd field count
  EXPECT_FALSE(parse_entries(array({array({text("5-1"), text("uid")})})));            // fields not an array
}

TEST(glob_literal, escapes_what_a_redis_pattern_would_expand) {
  EXPECT_EQ(glob_literal("socket.io#/chat#"), "socket.io#/chat#");
  EXPECT_EQ(glob_literal("socket.io#/a*b?[c]\\#"), "socket.io#/a\\*b\\?\\[c\\]\\\\#");
}

}  // namespace
