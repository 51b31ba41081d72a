// eio::socketio_redis: the notepack dialect against bytes notepack.io 3
// wrote, the ClusterAdapter message shapes, the URL parser, and the Redis
// client against a real redis-server (Debian's) started here on a free port
// of 127.0.0.1: commands, the three kinds of subscription, Redis going away
// and coming back, AUTH (password, ACL user, a wrong password), SELECT, and
// an IPv6 literal.
#include <eio/socketio_redis/redis_client.hpp>
#include <eio/socketio_redis/wire.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace eio::socketio_redis;
using json = nlohmann::json;
namespace sio = eio::socketio;
using namespace std::chrono_literals;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// notepack.io 3.1 (the adapter's parser):
//   encode(["uid1",{type:2,data:["ev",Buffer.from([1,2,3]),{a:1.5,b:undefined,c:-7,d:null,e:true}],nsp:"/"},
//           {rooms:["r"],except:[],flags:{}}])
constexpr std::string_view notepack_broadcast =
    "93a47569643183a47479706502a46461746193a26576c40301020384a161cb3ff8000000000000a163f9a164c0a165c3a36e7370a12f83a57"
    "26f6f6d7391a172a665786365707490a5666c61677380";

TEST(notepack, decodes_what_the_adapter_publishes) {
  const auto v = from_msgpack(from_hex(notepack_broadcast));
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_array());
  EXPECT_EQ((*v)[0], "uid1");
  const json& data = (*v)[1]["data"];
  EXPECT_EQ(data[0], "ev");
  ASSERT_TRUE(data[1].is_binary());
  EXPECT_EQ(static_cast<const std::vector<std::uint8_t>&>(data[1].get_binary()), (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(data[2], (json{{"a", 1.5}, {"c", -7}, {"d", nullptr}, {"e", true}}));
  EXPECT_EQ((*v)[1]["nsp"], "/");
  EXPECT_EQ((*v)[2]["rooms"], json::array({"r"}));
}

TEST(notepack, encodes_like_notepack) {
  // Each value's bytes as notepack.io 3.1 writes them.
  EXPECT_EQ(to_msgpack(json(300)), from_hex("cd012c"));
  EXPECT_EQ(to_msgpack(json(-1)), from_hex("ff"));
  EXPECT_EQ(to_msgpack(json(1099511627776.0)), from_hex("cf0000010000000000"));  // 2**40, a double in JSON
  EXPECT_EQ(to_msgpack(json(-1099511627776)), from_hex("d3ffffff0000000000"));
  EXPECT_EQ(to_msgpack(json(1.5)), from_hex("cb3ff8000000000000"));
  EXPECT_EQ(to_msgpack(json::binary({1, 2, 3})), from_hex("c403010203"));
  EXPECT_EQ(to_msgpack(json("/")), from_hex("a12f"));
  // Keys in the order they are given (nlohmann::json sorts them): the
  // adapter's decoder does not care.
  const json round = *from_msgpack(from_hex(notepack_broadcast));
  EXPECT_EQ(*from_msgpack(to_msgpack(round)), round);
}

TEST(notepack, undefined_is_dropped_from_maps_and_null_in_arrays) {
  // notepack 2: fixext 1 type 0 for undefined.
  const auto v = from_msgpack(from_hex("82a178d40000a17991d40000"));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (json{{"y", json::array({nullptr})}}));
  // notepack 3: undefined keys left out, nil in arrays.
  EXPECT_EQ(*from_msgpack(from_hex("81a17991c0")), (json{{"y", json::array({nullptr})}}));
}

TEST(notepack, refuses_truncated_and_trailing_bytes) {
  EXPECT_FALSE(from_msgpack(from_hex("93a4756964")));
  EXPECT_FALSE(from_msgpack(from_hex("c0c0")));
  EXPECT_FALSE(from_msgpack(""));
  // Split at every offset: only the whole message decodes.
  const std::string whole = from_hex(notepack_broadcast);
  for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_FALSE(from_msgpack(whole.substr(0, i))) << i;
}

// Found by fuzz/redis_wire.cpp: a msgpack string that is not UTF-8 was kept
// as bytes, and a message holding one could not be encoded again as JSON
// (nlohmann's type_error 316): the answer to a peer's FETCH_SOCKETS with
// such a requestId threw on the loop thread (which logs it) and was lost.
// Strings are now read as Node reads them (Buffer.toString, what notepack
// uses): one U+FFFD for each ill-formed sequence, its maximal subpart.
TEST(notepack, strings_that_are_not_utf8_are_read_as_node_reads_them) {
  // Buffer.from(hex, "hex").toString() in Node 20.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"61ff62", "a\uFFFDb"},
      {"61f09f9862", "a\uFFFDb"},  // a 4-byte sequence cut short: one U+FFFD
      {"eda080", "\uFFFD\uFFFD\uFFFD"},  // a surrogate: three
      {"c0af", "\uFFFD\uFFFD"},  // an overlong form: two
      {"f4908080", "\uFFFD\uFFFD\uFFFD\uFFFD"},  // past U+10FFFF: four
      {"e0a0", "\uFFFD"},  // cut short by the end
      {"efbfbd", "\uFFFD"},
  };
  for (const auto& [hex, expected] : cases) {
    const std::string bytes = from_hex(hex);
    const auto v = from_msgpack(from_hex("d9") + static_cast<char>(bytes.size()) + bytes);
    ASSERT_TRUE(v) << hex;
    EXPECT_EQ(*v, json(std::string(expected))) << hex;
  }
  // Keys too.
  EXPECT_EQ(*from_msgpack(from_hex("81a2ff6101")), (json{{"\xEF\xBF\xBD" "a", 1}}));

  // {uid: "u", nsp: "/", type: 7, data: {requestId: <ff>}}: the answer encodes.
  const auto request =
      decode_cluster_message(from_hex("84a3756964a175a36e7370a12fa47479706507a46461746181a9726571756573744964a1ff"));
  ASSERT_TRUE(request);
  EXPECT_EQ(request->request_id, "\xEF\xBF\xBD");
  sio::cluster_message response;
  response.uid = "me";
  response.nsp = request->nsp;
  response.type = sio::message_type::fetch_sockets_response;
  response.request_id = request->request_id;
  std::string bytes;
  ASSERT_NO_THROW(bytes = encode_cluster_message(response));
  const auto back = decode_cluster_message(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->request_id, request->request_id);
}

// The largest the process's address space has been (VmPeak), in bytes; 0
// where /proc does not say.
std::size_t peak_virtual_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmPeak:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

// Caught by fuzz/redis_wire.cpp's allocation bound: msgpack-c allocates
// the elements a header announces as it reads the header, and the limit
// bounded each header alone. 136 nested map headers, each announcing a
// million pairs in a message of a million bytes, had it reserve 6.5 GB
// before finding the message short. Now refused before msgpack-c reads it.
TEST(notepack, headers_announcing_more_than_the_message_holds_cost_nothing) {
  std::string hostile;
  for (int i = 0; i < 136; ++i) hostile += from_hex("df000f4240");  // map 32, 1,000,000 pairs
  hostile.resize(1'000'000, '\0');
  const std::size_t before = peak_virtual_bytes();
  EXPECT_FALSE(from_msgpack(hostile));
  EXPECT_FALSE(decode_cluster_message(hostile));
  EXPECT_LT(peak_virtual_bytes() - before, std::size_t{256} << 20);
  // What is announced and there decodes, to the last byte.
  const std::string whole = from_hex("92dc0002c0c0dd00000001df0000000101c3");  // [[nil,nil],[{1:true}]]
  EXPECT_FALSE(from_msgpack(whole));  // an integer key: not a JavaScript object
  EXPECT_TRUE(from_msgpack(from_hex("92dc0002c0c0dd00000001df00000001a16bc3")));
  EXPECT_FALSE(from_msgpack(from_hex("92dc0002c0c0dd00000001df00000001a16b")));
}

// Found by fuzz/redis_wire.cpp under UBSan: msgpack-c's pack_double packs
// integral doubles as integers, converting 2^64 to uint64_t (undefined).
// Floats are packed as notepack packs JavaScript numbers: integers as
// integers while 64 bits hold them, anything else as float 64.
TEST(notepack, numbers_past_64_bits_pack_as_float64) {
  EXPECT_EQ(to_msgpack(json(18446744073709551616.0)), from_hex("cb43f0000000000000"));  // 2^64
  EXPECT_EQ(to_msgpack(json(1e19)), from_hex("cf8ac7230489e80000"));                  // as notepack writes it
  EXPECT_EQ(to_msgpack(json(-9223372036854775808.0)), from_hex("d38000000000000000"));  // -2^63
  EXPECT_EQ(to_msgpack(json(-1e300)), from_hex("cbfe37e43c8800759c"));
  EXPECT_EQ(to_msgpack(json(std::numeric_limits<double>::infinity())), from_hex("cb7ff0000000000000"));
  EXPECT_EQ(to_msgpack(json(-0.0)), from_hex("00"));
  const auto back = from_msgpack(from_hex("cb43f0000000000000"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->get<double>(), 18446744073709551616.0);
}

// Found by fuzz/redis_wire.cpp: a float 64 that is an integer (1.0) was
// written "1.0" in the event's JSON text, and "1" once the message had been
// packed again (as an integer, as notepack packs it): the same message
// decoded to two texts. It is a JavaScript number: 1, as JSON.stringify
// writes it.
TEST(notepack, floats_that_are_integers_read_as_integers) {
  EXPECT_EQ(from_msgpack(from_hex("cb3ff0000000000000"))->dump(), "1");
  EXPECT_EQ(from_msgpack(from_hex("cb8000000000000000"))->dump(), "0");            // -0
  EXPECT_EQ(from_msgpack(from_hex("cbc1fffefa00000000"))->dump(), "-8588861440");
  EXPECT_EQ(from_msgpack(from_hex("cb43e0000000000000"))->dump(), "9223372036854775808");  // 2^63
  EXPECT_EQ(from_msgpack(from_hex("ca3fc00000"))->dump(), "1.5");                  // float 32
  EXPECT_EQ(from_msgpack(from_hex("cb43f0000000000000"))->dump(), "1.8446744073709552e+19");  // 2^64
  // {uid: "u", nsp: "/", type: 3, data: {packet: {data: ["ev", <01>, 1.0]}}}
  const auto m = decode_cluster_message(
      from_hex("84a3756964a175a36e7370a12fa47479706503a46461746181a67061636b657481a46461746193a26576c40101"
               "cb3ff0000000000000"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->packet.data, R"(["ev",{"_placeholder":true,"num":0},1])");
  const auto back = decode_cluster_message(encode_cluster_message(*m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->packet.data, m->packet.data);
}

sio::event_packet event(std::string data, std::vector<sio::attachment> attachments = {}) {
  sio::event_packet p;
  p.data = std::move(data);
  p.attachments = std::move(attachments);
  return p;
}

TEST(cluster_message, broadcast_as_the_sharded_adapter_publishes_it) {
  sio::cluster_message m;
  m.uid = "0123456789abcdef";
  m.nsp = "/";
  m.type = sio::message_type::broadcast;
  m.opts.rooms = {"r1"};
  m.opts.except = {"x"};
  m.packet = event(R"(["hello",1,{"a":[true]}])");
  const std::string bytes = encode_cluster_message(m);
  EXPECT_EQ(json::parse(bytes), json::parse(R"({"uid":"0123456789abcdef","nsp":"/","type":3,"data":{
      "opts":{"rooms":["r1"],"except":["x"],"flags":{}},"packet":{"type":2,"data":["hello",1,{"a":[true]}]}}})"));
  const auto back = decode_cluster_message(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, sio::message_type::broadcast);
  EXPECT_EQ(back->uid, m.uid);
  EXPECT_EQ(back->opts.rooms, m.opts.rooms);
  EXPECT_EQ(back->opts.except, m.opts.except);
  EXPECT_EQ(json::parse(back->packet.data), json::parse(m.packet.data));
}

TEST(cluster_message, binary_goes_as_msgpack_and_comes_back) {
  sio::cluster_message m;
  m.uid = "u";
  m.nsp = "/custom";
  m.type = sio::message_type::broadcast;
  m.request_id = "42";
  m.opts.flags.timeout = 1500ms;
  m.packet = event(R"(["bin",{"_placeholder":true,"num":0}])", {sio::attachment{0, 255, 0x7b}});
  const std::string bytes = encode_cluster_message(m);
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes[0], '{');
  const auto v = from_msgpack(bytes);
  ASSERT_TRUE(v);
  EXPECT_TRUE((*v)["data"]["packet"]["data"][1].is_binary());
  EXPECT_EQ((*v)["data"]["opts"]["flags"]["timeout"], 1500);
  const auto back = decode_cluster_message(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->request_id, "42");
  EXPECT_EQ(back->nsp, "/custom");
  ASSERT_EQ(back->packet.attachments.size(), 1u);
  EXPECT_EQ(back->packet.attachments[0], (sio::attachment{0, 255, 0x7b}));
  EXPECT_EQ(back->opts.flags.timeout, 1500ms);
}

TEST(cluster_message, every_type_round_trips) {
  using sio::message_type;
  for (int t = 1; t <= 13; ++t) {
    sio::cluster_message m;
    m.uid = "abc";
    m.nsp = "/";
    m.type = static_cast<message_type>(t);
    m.request_id = "7";
    m.opts.rooms = {"a"};
    m.rooms = {"b"};
    m.close = true;
    m.client_count = 3;
    sio::socket_details s;
    s.id = "01234567890123456789";
    s.rooms = {"a", s.id};
    s.data = json{{"k", 1}};
    s.handshake.headers = {{"host", "h"}};
    s.handshake.query = {{"EIO", "4"}};
    s.handshake.issued = 1700000000000;
    m.sockets = {s};
    const bool one_value = m.type == message_type::server_side_emit_response || m.type == message_type::broadcast_ack;
    m.packet = event(one_value ? R"({"v":1})" : R"(["ev",2])");
    const auto back = decode_cluster_message(encode_cluster_message(m));
    ASSERT_TRUE(back) << t;
    EXPECT_EQ(back->type, m.type);
    switch (m.type) {
      case message_type::sockets_join:
      case message_type::sockets_leave: EXPECT_EQ(back->rooms, m.rooms); break;
      case message_type::disconnect_sockets: EXPECT_TRUE(back->close); break;
      case message_type::fetch_sockets: EXPECT_EQ(back->request_id, "7"); break;
      case message_type::fetch_sockets_response:
        ASSERT_EQ(back->sockets.size(), 1u);
        EXPECT_EQ(back->sockets[0].id, s.id);
        EXPECT_EQ(back->sockets[0].data, s.data);
        EXPECT_EQ(back->sockets[0].handshake.headers, s.handshake.headers);
        EXPECT_EQ(back->sockets[0].handshake.issued, s.handshake.issued);
        break;
      case message_type::broadcast_client_count: EXPECT_EQ(back->client_count, 3u); break;
      case message_type::server_side_emit_response:
      case message_type::broadcast_ack:
      case message_type::server_side_emit:
        EXPECT_EQ(json::parse("[" + back->packet.data + "]"), json::parse("[" + m.packet.data + "]"));
        break;
      default: break;
    }
  }
}

TEST(cluster_message, refuses_what_it_does_not_know) {
  EXPECT_FALSE(decode_cluster_message(""));
  EXPECT_FALSE(decode_cluster_message("{"));
  EXPECT_FALSE(decode_cluster_message(R"({"uid":"x","nsp":"/","type":99})"));
  EXPECT_FALSE(decode_cluster_message(R"({"uid":"x","nsp":"/","type":3,"data":{}})"));
  EXPECT_FALSE(decode_cluster_message(R"({"uid":"x","nsp":"/","type":3,"data":{"packet":{"data":[1]}}})"));
  EXPECT_FALSE(decode_cluster_message(from_hex("c1")));
}

// Seen writing fuzz/redis_wire.cpp (whose invariant catches it): the type
// was read with get<int>(), so a type of 2^32 + 3 was BROADCAST. The
// reference compares numbers: 4.0 is SOCKETS_JOIN, 2^32 + 3 is nothing.
TEST(cluster_message, the_type_is_compared_as_a_number) {
  // {uid: "u", nsp: "/", type: <t>, data: {rooms: ["a"]}}
  const auto with_type = [](std::string_view type) {
    return from_hex(std::string("84a3756964a175a36e7370a12fa474797065") + std::string(type) +
                    "a46461746181a5726f6f6d7391a161");
  };
  EXPECT_TRUE(decode_cluster_message(with_type("04")));
  EXPECT_FALSE(decode_cluster_message(with_type("cf0000000100000004")));  // 2^32 + 4
  EXPECT_FALSE(decode_cluster_message(with_type("d3ffffffff00000004")));  // -(2^32) + 4
  EXPECT_FALSE(decode_cluster_message(with_type("cb4012000000000000")));  // 4.5
  const auto as_float = decode_cluster_message(with_type("cb4010000000000000"));  // 4.0
  ASSERT_TRUE(as_float);
  EXPECT_EQ(as_float->type, sio::message_type::sockets_join);
  EXPECT_EQ(as_float->rooms, std::vector<std::string>{"a"});
  EXPECT_TRUE(decode_cluster_message(R"({"uid":"u","nsp":"/","type":4.0,"data":{"rooms":["a"]}})"));
}

// Found by fuzz/redis_wire.cpp: requestId was read for every type, though
// cluster_message's fields a type does not use stay empty.
TEST(cluster_message, fields_a_type_does_not_use_stay_empty) {
  auto m = decode_cluster_message(R"({"uid":"u","nsp":"/","type":4,"data":{"requestId":"7","rooms":["a"]}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request_id, "");
  m = decode_cluster_message(R"({"uid":"u","nsp":"/","type":2,"data":{"requestId":"7"}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request_id, "");
  m = decode_cluster_message(R"({"uid":"u","nsp":"/","type":7,"data":{"requestId":"7"}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request_id, "7");
}

// Seen writing fuzz/redis_wire.cpp (whose round trip catches it): an event
// nested deeper than a client may send (128) but within what a peer may
// (max_peer_depth with the envelope) decoded, then went out again as an
// empty array, which no node reads: event_to_value parsed it with the
// client's limit.
TEST(cluster_message, an_event_as_deep_as_a_peer_may_send_goes_out_again) {
  const auto nested = [](std::size_t depth) {
    return "{\"uid\":\"x\",\"nsp\":\"/\",\"type\":9,\"data\":{\"packet\":[\"e\"," + std::string(depth, '[') +
           std::string(depth, ']') + "]}}";
  };
  // Levels: the message, data, packet, then the event's.
  EXPECT_FALSE(decode_cluster_message(nested(max_peer_depth - 2)));
  const auto m = decode_cluster_message(nested(max_peer_depth - 3));
  ASSERT_TRUE(m);
  const auto back = decode_cluster_message(encode_cluster_message(*m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->packet.data, m->packet.data);
  // An answer (one value) too.
  sio::cluster_message answer;
  answer.type = sio::message_type::server_side_emit_response;
  answer.request_id = "1";
  answer.packet.data = std::string(max_peer_depth - 2, '[') + std::string(max_peer_depth - 2, ']');
  const auto answer_back = decode_cluster_message(encode_cluster_message(answer));
  ASSERT_TRUE(answer_back);
  EXPECT_EQ(answer_back->packet.data, answer.packet.data);
}

// What a peer publishes nests no deeper than a client may send (plus the
// message's envelope): deeper is refused, as JSON and as msgpack, and never
// recursed into without bound (a stack overflow would end the process).
TEST(cluster_message, refuses_nesting_past_the_limit_without_recursing_on_it) {
  const auto nested = [](std::size_t depth) {
    return "{\"uid\":\"x\",\"nsp\":\"/\",\"type\":9,\"data\":{\"packet\":[\"e\"," + std::string(depth, '[') + "1" +
           std::string(depth, ']') + "]}}";
  };
  EXPECT_TRUE(decode_cluster_message(nested(100)));
  EXPECT_FALSE(decode_cluster_message(nested(200)));
  EXPECT_FALSE(decode_cluster_message(nested(1'000'000)));
  EXPECT_FALSE(from_json_text(std::string(1'000'000, '[') + std::string(1'000'000, ']')));
  // msgpack: a million nested one-element arrays (0x91 each), and an array
  // header announcing 2^32-1 elements in a 5-byte message.
  EXPECT_FALSE(from_msgpack(std::string(1'000'000, '\x91') + '\x01'));
  EXPECT_FALSE(from_msgpack(from_hex("ddffffffff")));
}

TEST(redis_url, parses) {
  auto e = parse_redis_url("redis://10.0.0.1:6380");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "10.0.0.1");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "");
  EXPECT_EQ(e->database, 0);
  e = parse_redis_url("localhost");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 6379);
  e = parse_redis_url("127.0.0.1:6380");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 6380);
  e = parse_redis_url("REDIS://h/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "h");
  EXPECT_EQ(e->database, 0);
}

TEST(redis_url, parses_credentials_and_database) {
  auto e = parse_redis_url("redis://:secret@127.0.0.1:6380/2");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->username, "");
  EXPECT_EQ(e->password, "secret");
  EXPECT_EQ(e->database, 2);
  e = parse_redis_url("redis://user:secret@host:6379");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "host");
  EXPECT_EQ(e->username, "user");
  EXPECT_EQ(e->password, "secret");
  EXPECT_EQ(e->database, 0);
  e = parse_redis_url("redis://user@host");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->username, "user");
  EXPECT_EQ(e->password, "");
  EXPECT_EQ(e->port, 6379);
  // Percent-encoded (RFC 3986 section 3.2.1); the first ':' ends the user.
  e = parse_redis_url("redis://us%3Aer:p%40ss%3Aw%2Frd%25:x@h/15");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->username, "us:er");
  EXPECT_EQ(e->password, "p@ss:w/rd%:x");
  EXPECT_EQ(e->database, 15);
  // As Node's URL reads it: the last '@' ends the user information.
  e = parse_redis_url("redis://:p@ss@h");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->password, "p@ss");
  EXPECT_EQ(e->host, "h");
  e = parse_redis_url("redis://h/2147483647");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->database, 2147483647);
}

TEST(redis_url, parses_ipv6_literals) {
  auto e = parse_redis_url("redis://[::1]:6379");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6379);
  e = parse_redis_url("redis://:pw@[2001:db8::7]/3");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "2001:db8::7");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->password, "pw");
  EXPECT_EQ(e->database, 3);
  e = parse_redis_url("[::ffff:127.0.0.1]:7000");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::ffff:127.0.0.1");
  EXPECT_EQ(e->port, 7000);
}

TEST(redis_url, refuses_what_is_malformed) {
  for (const char* url : {
           "", "redis://", "redis://:6379", "redis://:secret@", "redis://:secret@:6379",  // no host
           "redis://h:0", "redis://h:65536", "redis://h:99999999", "redis://h:x", "redis://h:", "redis://h:-1",
           "redis://h:+1", "redis://h:1:2",                                                      // ports
           "redis://h/x", "redis://h/-1", "redis://h/+1", "redis://h/2/", "redis://h//", "redis://h/2147483648",
           "redis://h/1.5",                                                                      // databases
           "redis://::1", "redis://::1:6379", "redis://[::1", "redis://::1]:6379", "redis://[::1]x",
           "redis://[::1]:", "redis://[]:1", "redis://[h]:1", "redis://[127.0.0.1]", "redis://h[::1]",  // IPv6
           "rediss://h:6380", "REDISS://h", "http://h:1", "unix:///tmp/redis.sock",              // schemes
           "redis://h:1?db=2", "redis://h#x", "redis://h 1", "redis://h\t",                    // the rest
       }) {
    EXPECT_FALSE(parse_redis_url(url)) << url;
  }
}

// ---- against a real redis-server

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Whether [::1] can be bound here (some containers have no IPv6 at all).
bool has_ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool can_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// redis-server on 127.0.0.1:port, no persistence, stopped by the destructor.
// `options` go after ours and win where they overlap (in redis.conf the last
// line of a setting counts): {"--requirepass", "secret"}, {"--bind",
// "127.0.0.1", "::1"}. start() after stop() starts it again with the same.
class redis_server {
public:
  explicit redis_server(int port, std::vector<std::string> options = {}) : port_(port), options_(std::move(options)) {
    start();
  }
  ~redis_server() { stop(); }
  void start() {
    const char* program = std::getenv("EIO_REDIS_SERVER");
    const std::string p = std::to_string(port_);
    const char* path = program ? program : "redis-server";
    // Built before fork(): the child of a process with threads (the clients')
    // should not allocate.
    std::vector<const char*> argv{path, "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--loglevel", "warning"};
    for (const auto& option : options_) argv.push_back(option.c_str());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execvp(path, const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !can_connect(port_); ++i) std::this_thread::sleep_for(25ms);
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  bool up() const { return can_connect(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

private:
  int port_;
  std::vector<std::string> options_;
  pid_t pid_ = -1;
};

struct inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::tuple<subscription_kind, std::string, std::string>> messages;
  std::vector<std::string> log;

  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return messages.size() >= n; });
  }
};

std::optional<redis_reply> call(redis_client& c, std::vector<std::string> argv) {
  std::promise<std::optional<redis_reply>> p;
  auto f = p.get_future();
  c.command(std::move(argv), [&p](const std::optional<redis_reply>& r) { p.set_value(r); });
  if (f.wait_for(5s) != std::future_status::ready) return std::nullopt;
  return f.get();
}

redis_client_options options_for(int port, inbox& box) {
  redis_client_options o;
  o.endpoint.port = port;
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  o.log = [&box](const std::string& line) {
    std::lock_guard<std::mutex> lock(box.mutex);
    box.log.push_back(line);
  };
  return o;
}

redis_client::message_handler collect(inbox& box) {
  return [&box](subscription_kind kind, std::string channel, std::string payload) {
    std::lock_guard<std::mutex> lock(box.mutex);
    box.messages.emplace_back(kind, std::move(channel), std::move(payload));
    box.changed.notify_all();
  };
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  return condition();
}

bool wait_connected(const redis_client& c, std::chrono::milliseconds timeout = 5000ms) {
  return eventually([&c] { return c.stats().connected.load(); }, timeout);
}

// Subscriptions are made in order on the other connection: true once Redis
// counts one subscriber to `channel`.
bool wait_subscribed(redis_client& c, const std::string& channel) {
  return eventually([&] {
    const auto r = call(c, {"PUBSUB", "NUMSUB", channel});
    return r && r->elements.size() == 2 && r->elements[1].integer == 1;
  });
}

bool logged(inbox& box, const std::string& text) {
  std::lock_guard<std::mutex> lock(box.mutex);
  for (const auto& line : box.log) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

class redis_client_test : public ::testing::Test {
protected:
  void SetUp() override { start_server(); }
  // A redis-server on a free port, with `options` (see redis_server).
  void start_server(std::vector<std::string> options = {}) {
    server_ = std::make_unique<redis_server>(free_port(), std::move(options));
    // redis-server is a test dependency (scripts/install-deps): without it the
    // test fails rather than passing unseen.
    if (!server_->up()) FAIL() << "redis-server did not start (is it installed?)";
  }
  std::unique_ptr<redis_server> server_;
};

TEST_F(redis_client_test, commands_and_every_kind_of_subscription) {
  inbox box;
  redis_client c(options_for(server_->port(), box), collect(box));
  ASSERT_TRUE(wait_connected(c));
  auto r = call(c, {"PING"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, redis_reply::kind::status);
  EXPECT_EQ(r->str, "PONG");
  const std::string binary("a\0\r\nb", 5);
  r = call(c, {"SET", "k", binary});
  ASSERT_TRUE(r);
  r = call(c, {"GET", "k"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, binary);

  c.subscribe(subscription_kind::channel, "plain");
  c.subscribe(subscription_kind::pattern, "pat#*");
  c.subscribe(subscription_kind::shard, "shard");
  // Subscriptions are made in order on the other connection: wait until
  // Redis counts them.
  for (int i = 0; i < 100; ++i) {
    r = call(c, {"PUBSUB", "SHARDNUMSUB", "shard"});
    if (r && r->elements.size() == 2 && r->elements[1].integer == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  call(c, {"PUBLISH", "plain", "p1"});
  call(c, {"PUBLISH", "pat#x", binary});
  call(c, {"SPUBLISH", "shard", "s1"});
  ASSERT_TRUE(box.wait_for(3));
  std::lock_guard<std::mutex> lock(box.mutex);
  EXPECT_EQ(box.messages[0], std::make_tuple(subscription_kind::channel, std::string("plain"), std::string("p1")));
  EXPECT_EQ(box.messages[1], std::make_tuple(subscription_kind::pattern, std::string("pat#x"), binary));
  EXPECT_EQ(box.messages[2], std::make_tuple(subscription_kind::shard, std::string("shard"), std::string("s1")));
  EXPECT_EQ(c.stats().messages, 3u);
}

TEST_F(redis_client_test, unreachable_redis_is_logged_counted_and_survived) {
  inbox box;
  const int port = server_->port();
  redis_client c(options_for(port, box), collect(box));
  ASSERT_TRUE(wait_connected(c));
  c.subscribe(subscription_kind::channel, "ch");
  server_->stop();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (c.stats().failed_attempts < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(c.stats().connected);
  EXPECT_GE(c.stats().failed_attempts, 2u);
  EXPECT_EQ(c.stats().connection_losses, 1u);
  // Commands meanwhile fail at once, and are counted.
  EXPECT_FALSE(call(c, {"PING"}));
  EXPECT_GE(c.stats().dropped_commands, 1u);
  EXPECT_TRUE(logged(box, "unreachable"));
  // Commands do not hurry the next attempt: the backoff holds under traffic.
  const std::uint64_t attempts_before = c.stats().failed_attempts;
  const auto burst_end = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < burst_end) {
    c.command({"PING"});
    std::this_thread::sleep_for(1ms);
  }
  // At most one attempt per 20 ms (the least backoff), and fewer as it grows.
  EXPECT_LE(c.stats().failed_attempts - attempts_before, 16u);
  server_->start();
  ASSERT_TRUE(wait_connected(c));
  // The subscription was made again.
  EXPECT_TRUE(wait_subscribed(c, "ch"));
  call(c, {"PUBLISH", "ch", "back"});
  ASSERT_TRUE(box.wait_for(1));
  EXPECT_EQ(c.stats().connections, 2u);
  EXPECT_TRUE(logged(box, "reachable again"));
}

TEST_F(redis_client_test, destroying_the_client_writes_what_was_given_first) {
  // A server shutting down persists its sessions and then destroys its
  // clients: the commands given before must reach Redis.
  inbox box;
  auto c = std::make_unique<redis_client>(options_for(server_->port(), box), collect(box));
  ASSERT_TRUE(wait_connected(*c));
  std::atomic<int> answered{0};
  std::atomic<int> ok{0};
  for (int i = 0; i < 1000; ++i) {
    c->command({"SET", "flushed:" + std::to_string(i), "x"}, [&](const std::optional<redis_reply>& r) {
      ++answered;
      if (r && r->str == "OK") ++ok;
    });
  }
  c.reset();
  EXPECT_EQ(answered, 1000);
  EXPECT_EQ(ok, 1000);
  redis_client check(options_for(server_->port(), box), collect(box));
  ASSERT_TRUE(wait_connected(check));
  const auto n = call(check, {"DBSIZE"});
  ASSERT_TRUE(n);
  EXPECT_EQ(n->integer, 1000);
}

TEST_F(redis_client_test, destroying_the_client_fails_what_redis_does_not_answer_in_time) {
  inbox box;
  redis_client_options o = options_for(server_->port(), box);
  o.flush_on_destroy = std::chrono::milliseconds(200);
  auto c = std::make_unique<redis_client>(o, collect(box));
  ASSERT_TRUE(wait_connected(*c));
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  // Redis stops answering (SIGSTOP): every callback still runs, with nullopt.
  ::kill(server_->pid(), SIGSTOP);
  for (int i = 0; i < 100; ++i) {
    c->command({"PING"}, [&](const std::optional<redis_reply>& r) {
      ++answered;
      if (!r) ++failed;
    });
  }
  c.reset();  // returns after flush_on_destroy, not when Redis answers
  ::kill(server_->pid(), SIGCONT);
  EXPECT_EQ(answered, 100);
  EXPECT_EQ(failed, 100);
}

// SELECT on the command connection, made again on every reconnection.
TEST_F(redis_client_test, commands_go_to_the_selected_database) {
  inbox box;
  const auto on_database = [&](int database) {
    redis_client_options o = options_for(server_->port(), box);
    o.endpoint.database = database;
    return o;
  };
  redis_client writer(on_database(2), collect(box));
  redis_client reader(on_database(2), collect(box));
  redis_client db0(on_database(0), collect(box));
  ASSERT_TRUE(wait_connected(writer));
  ASSERT_TRUE(wait_connected(reader));
  ASSERT_TRUE(wait_connected(db0));
  const auto check_key_in_db2 = [&](const std::string& value) {
    auto r = call(writer, {"SET", "k", value});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->str, "OK");
    r = call(reader, {"GET", "k"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, redis_reply::kind::string);
    EXPECT_EQ(r->str, value);
    r = call(db0, {"GET", "k"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, redis_reply::kind::nil);
    // Redis's own account: one key, in database 2.
    r = call(db0, {"INFO", "keyspace"});
    ASSERT_TRUE(r);
    EXPECT_NE(r->str.find("db2:keys=1,"), std::string::npos) << r->str;
    EXPECT_EQ(r->str.find("db0:"), std::string::npos) << r->str;
  };
  check_key_in_db2("before");
  // Pub/sub ignores databases (hence no SELECT on that connection): a
  // subscriber through database 2 hears a publisher on database 0.
  writer.subscribe(subscription_kind::channel, "across");
  ASSERT_TRUE(wait_subscribed(db0, "across"));
  call(db0, {"PUBLISH", "across", "heard"});
  ASSERT_TRUE(box.wait_for(1));
  // A new redis-server (empty): the reconnected clients select again.
  server_->stop();
  server_->start();
  ASSERT_TRUE(eventually([&] {
    return writer.stats().connections == 2 && reader.stats().connections == 2 && db0.stats().connections == 2;
  }));
  check_key_in_db2("after");
}

TEST_F(redis_client_test, a_refused_select_is_a_failed_attempt) {
  inbox box;
  redis_client_options o = options_for(server_->port(), box);
  o.endpoint.database = 99;  // redis-server has 16 databases
  redis_client c(o, collect(box));
  EXPECT_TRUE(eventually([&] { return c.stats().failed_attempts >= 2; }));
  EXPECT_EQ(c.stats().connections, 0u);
  EXPECT_FALSE(c.stats().connected);
  EXPECT_TRUE(logged(box, "refused SELECT 99 (ERR DB index is out of range)"));
}

// redis-server with a password for the default user (requirepass) and an
// ACL user whose password needs percent-encoding in a URL.
class redis_auth_test : public redis_client_test {
protected:
  static constexpr const char* alice_password = "p@ss:w/rd%";
  void SetUp() override {
    start_server({"--requirepass", "secret", "--user", "alice", "on", std::string(">") + alice_password, "~*", "&*",
                  "+@all"});
  }
};

TEST_F(redis_auth_test, the_password_opens_both_connections_every_time) {
  inbox box;
  redis_client_options o = options_for(server_->port(), box);
  o.endpoint.password = "secret";
  redis_client c(o, collect(box));
  ASSERT_TRUE(wait_connected(c));
  auto r = call(c, {"SET", "k", "v"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "OK");
  r = call(c, {"ACL", "WHOAMI"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "default");
  // Without AUTH on the subscription connection Redis would refuse the
  // SUBSCRIBE (NOAUTH) and nothing would arrive.
  c.subscribe(subscription_kind::channel, "ch");
  ASSERT_TRUE(wait_subscribed(c, "ch"));
  call(c, {"PUBLISH", "ch", "first"});
  ASSERT_TRUE(box.wait_for(1));
  // Both connections authenticate again after Redis comes back.
  server_->stop();
  server_->start();
  ASSERT_TRUE(eventually([&] { return c.stats().connections == 2; }));
  ASSERT_TRUE(wait_subscribed(c, "ch"));
  call(c, {"PUBLISH", "ch", "second"});
  ASSERT_TRUE(box.wait_for(2));
  std::lock_guard<std::mutex> lock(box.mutex);
  EXPECT_EQ(std::get<2>(box.messages[1]), "second");
}

TEST_F(redis_auth_test, an_acl_user_from_a_percent_encoded_url) {
  inbox box;
  const auto endpoint =
      parse_redis_url("redis://alice:p%40ss%3Aw%2Frd%25@127.0.0.1:" + std::to_string(server_->port()) + "/1");
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->password, alice_password);
  redis_client_options o = options_for(server_->port(), box);
  o.endpoint = *endpoint;
  redis_client c(o, collect(box));
  ASSERT_TRUE(wait_connected(c));
  auto r = call(c, {"ACL", "WHOAMI"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, "alice");
  r = call(c, {"CLIENT", "INFO"});
  ASSERT_TRUE(r);
  EXPECT_NE(r->str.find(" db=1 "), std::string::npos) << r->str;
  c.subscribe(subscription_kind::channel, "ch");
  ASSERT_TRUE(wait_subscribed(c, "ch"));
  call(c, {"PUBLISH", "ch", "to alice"});
  ASSERT_TRUE(box.wait_for(1));
}

TEST_F(redis_auth_test, a_wrong_password_is_a_failed_attempt_logged_without_the_password) {
  inbox box;
  redis_client_options o = options_for(server_->port(), box);
  o.endpoint.password = "not-the-secret-42";
  redis_client c(o, collect(box));
  EXPECT_TRUE(eventually([&] { return c.stats().failed_attempts >= 2; }));
  EXPECT_FALSE(c.stats().connected);
  EXPECT_EQ(c.stats().connections, 0u);
  EXPECT_FALSE(call(c, {"PING"}));  // failed at once, as when Redis is unreachable
  EXPECT_TRUE(logged(box, "refused authentication (WRONGPASS"));
  EXPECT_FALSE(logged(box, "not-the-secret-42"));
}

TEST_F(redis_client_test, connects_to_an_ipv6_literal) {
  const auto endpoint = parse_redis_url("redis://[::1]:" + std::to_string(server_->port()));
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "::1");
  // Connecting needs an IPv6 loopback, which some containers lack: there
  // the attempt must fail as any unreachable Redis does, counted and logged
  // with the address in brackets.
  if (!has_ipv6_loopback()) {
    inbox box;
    redis_client_options o = options_for(server_->port(), box);
    o.endpoint = *endpoint;
    redis_client c(o, collect(box));
    EXPECT_TRUE(eventually([&] { return c.stats().failed_attempts >= 1; }));
    EXPECT_FALSE(c.stats().connected);
    EXPECT_TRUE(logged(box, "[::1]:" + std::to_string(server_->port()) + " unreachable"));
    return;
  }
  ASSERT_NO_FATAL_FAILURE(start_server({"--bind", "127.0.0.1", "::1"}));
  inbox box;
  redis_client_options o = options_for(server_->port(), box);
  o.endpoint = *parse_redis_url("redis://[::1]:" + std::to_string(server_->port()));
  redis_client c(o, collect(box));
  ASSERT_TRUE(wait_connected(c));
  const auto r = call(c, {"CLIENT", "INFO"});
  ASSERT_TRUE(r);
  EXPECT_NE(r->str.find("laddr=[::1]:"), std::string::npos) << r->str;
  EXPECT_EQ(c.endpoint().host, "::1");
}

}  // namespace
