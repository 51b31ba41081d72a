#include "fuzz_socketio.hpp"

#include <eio/base64.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>
#include <eio/websocket_codec.hpp>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace eio::tool::fuzz {
namespace {

namespace sio = eio::socketio;

// One Engine.IO message of a case: a Socket.IO text packet (without the
// Engine.IO '4') or one binary attachment.
struct message {
  bool binary = false;
  std::string bytes;
};

message text(std::string t) { return {false, std::move(t)}; }
message binary(std::string b) { return {true, std::move(b)}; }

// ------------------------------------------------------------ valid packets (the codec)

std::string encoded(sio::packet_type type, std::string_view nsp, std::optional<std::uint64_t> id, std::size_t attachments,
                    std::string_view data) {
  sio::packet p;
  p.type = type;
  p.nsp = nsp;
  p.id = id;
  p.attachments = attachments;
  p.data = data;
  std::string out;
  sio::encode(p, out);  // the generators below only give it what it accepts
  return out;
}

const std::array<std::string_view, 18> event_names = {
    "echo",    "message", "message-with-ack", "join",  "leave",         "set-data",    "whoami", "broadcast", "to-room",
    "ask",     "broadcast-ask", "fetch-sockets", "sockets-join", "stats", "sse", "unknown", "__proto__", "toString"};

const std::array<std::string_view, 16> odd_strings = {
    "__proto__", "constructor", "r1", "toString", "hasOwnProperty", "bench", "", "%00",
    "\xc3\xa9t\xc3\xa9", "-1", "0", "NaN", "undefined", "null", "/", "_placeholder"};

// A random argument: every JSON type, nested, binary anywhere.
sio::value random_value(rng& random, int depth) {
  switch (random.below(depth > 3 ? 6 : 9)) {
    case 0: return nullptr;
    case 1: return random.chance(50);
    case 2: return static_cast<std::int64_t>(random.next() >> random.below(64));
    case 3: return static_cast<double>(random.next() % 100000) / 7.0;
    case 4: return std::string(random.pick(odd_strings));
    case 5: {
      std::string bytes(random.below(64), '\0');
      for (auto& ch : bytes) ch = static_cast<char>(random.below(256));
      return sio::value::binary(sio::attachment(bytes.begin(), bytes.end()));
    }
    case 6: {
      sio::value a = sio::value::array();
      for (std::uint64_t i = random.below(4); i > 0; --i) a.push_back(random_value(random, depth + 1));
      return a;
    }
    case 7: {
      sio::value o = sio::value::object();
      for (std::uint64_t i = random.below(4); i > 0; --i) o[std::string(random.pick(odd_strings))] = random_value(random, depth + 1);
      return o;
    }
    default: return std::string(random.below(200), 'a' + static_cast<char>(random.below(26)));
  }
}

// A valid EVENT (BINARY_EVENT when an argument is binary) and its attachments.
std::vector<message> valid_event(rng& random, std::string_view nsp, std::optional<std::uint64_t> id) {
  sio::value args = sio::value::array();
  const std::string_view name = random.pick(event_names);
  if (name == "join" || name == "leave" || name == "to-room" || name == "fetch-sockets" || name == "sockets-join") {
    args.push_back(std::string(random.pick(odd_strings)));
  } else if (name == "ask" || name == "broadcast-ask") {
    args.push_back(static_cast<std::int64_t>(random.below(300)));  // the ack timeout, in ms
  }
  for (std::uint64_t i = random.below(4); i > 0; --i) args.push_back(random_value(random, 1));
  std::string data;
  std::vector<sio::attachment> attachments;
  if (sio::make_event_data(name, args, data, attachments)) return {};
  std::vector<message> out;
  out.push_back(text(encoded(attachments.empty() ? sio::packet_type::event : sio::packet_type::binary_event, nsp, id,
                             attachments.size(), data)));
  for (auto& a : attachments) out.push_back(binary(std::string(a.begin(), a.end())));
  return out;
}

// A valid ACK (BINARY_ACK when binary) answering `id`.
std::vector<message> valid_ack(rng& random, std::string_view nsp, std::uint64_t id) {
  sio::value args = sio::value::array();
  for (std::uint64_t i = random.below(3); i > 0; --i) args.push_back(random_value(random, 1));
  std::string data;
  std::vector<sio::attachment> attachments;
  if (sio::to_wire(args, data, attachments)) return {};
  std::vector<message> out;
  out.push_back(text(encoded(attachments.empty() ? sio::packet_type::ack : sio::packet_type::binary_ack, nsp, id,
                             attachments.size(), data)));
  for (auto& a : attachments) out.push_back(binary(std::string(a.begin(), a.end())));
  return out;
}

std::string connect_data(rng& random) {
  if (random.chance(70)) return {};
  sio::value auth = sio::value::object();
  if (random.chance(50)) auth["token"] = random.chance(50) ? "letmein" : "nope";
  if (random.chance(30)) auth[std::string(random.pick(odd_strings))] = random_value(random, 2);
  std::string data;
  std::vector<sio::attachment> ignored;
  sio::to_wire(auth, data, ignored);
  return data;
}

std::string connect_packet(rng& random, std::string_view nsp) {
  return encoded(sio::packet_type::connect, nsp, std::nullopt, 0, connect_data(random));
}

std::string long_digits(rng& random, std::size_t n) {
  std::string out(n, '0');
  for (auto& ch : out) ch = static_cast<char>('0' + random.below(10));
  if (!out.empty() && random.chance(50)) out[0] = '9';
  return out;
}

// Sizes that are usually small and sometimes up to `max`.
std::size_t size_up_to(rng& random, std::size_t max) {
  const std::size_t bits = random.below(64) < 50 ? random.below(8) : random.below(21);
  return std::min<std::size_t>(max, (std::size_t{1} << bits) + random.below(std::size_t{1} << bits));
}

std::string namespace_name(rng& random) {
  switch (random.below(10)) {
    case 0: return "/";
    case 1: return "/custom";
    case 2: return "/admin";
    case 3: return "/slow";
    case 4: {
      std::string n = "/dyn-";
      const std::size_t length = random.chance(80) ? 1 + random.below(64) : 65 + random.below(200);
      for (std::size_t i = 0; i < length; ++i) n += "abcXYZ019_-"[random.below(11)];
      return n;
    }
    case 5: return "/" + std::string(size_up_to(random, 1 << 20), 'n');  // up to a megabyte
    case 6: return "/nope";
    case 7: return "/\xc3\xa9";
    case 8: return "/x?query=1";
    default: return "/" + std::string(random.pick(odd_strings));
  }
}

// Bytes the mutations insert: pieces of Socket.IO packets and JSON.
const std::array<std::string_view, 24> tokens = {
    "{\"_placeholder\":true,\"num\":0}", "\"_placeholder\"", "\"num\":", "-", ",", "/", "[", "]", "{", "}", "\"",
    "\\u", "\\ud800", "1e400", "9007199254740993", "null", "\xff", "\xc0\x80", "\x1e", "\x00", "45", "1-", "/admin,",
    "[\"echo\""};

void mutate(std::string& bytes, rng& random) {
  const unsigned edits = 1 + static_cast<unsigned>(random.below(4));
  for (unsigned n = 0; n < edits; ++n) {
    const std::size_t at = bytes.empty() ? 0 : random.below(bytes.size() + 1);
    switch (random.below(6)) {
      case 0:
        if (at < bytes.size()) bytes[at] = static_cast<char>(bytes[at] ^ (1u << random.below(8)));
        break;
      case 1:
        if (at < bytes.size()) bytes[at] = static_cast<char>(random.below(256));
        break;
      case 2:
        if (at < bytes.size()) bytes.erase(at, 1 + random.below(std::min<std::size_t>(16, bytes.size() - at)));
        break;
      case 3: bytes.insert(at, random.pick(tokens)); break;
      case 4: bytes.insert(at, bytes.substr(at, random.below(64))); break;
      default: bytes.resize(at); break;
    }
  }
}

// ------------------------------------------------------------ the generators

using generated = std::pair<std::string, std::vector<message>>;  // name, messages

generated packet_types(rng& random) {
  std::vector<message> m = valid_event(random, "/", std::nullopt);
  if (m.empty()) m.push_back(text("2[\"echo\"]"));
  const std::array<char, 12> firsts = {'0', '1', '2', '3', '4', '5', '6', '7', '9', 'a', ' ', '-'};
  m.front().bytes[0] = random.pick(firsts);
  if (random.chance(20)) m.front().bytes.resize(1);
  return {"packet type", std::move(m)};
}

generated attachment_counts(rng& random) {
  std::vector<message> m;
  const std::size_t real = 1 + random.below(3);
  sio::value args = sio::value::array();
  for (std::size_t i = 0; i < real; ++i) args.push_back(sio::value::binary(sio::attachment(random.below(16), 0x42)));
  std::string data;
  std::vector<sio::attachment> attachments;
  sio::make_event_data("echo", args, data, attachments);
  std::string count;
  switch (random.below(9)) {
    case 0: count = std::to_string(real + 1) + "-"; break;
    case 1: count = std::to_string(real - 1) + "-"; break;
    case 2: count = "11-"; break;
    case 3: count = "11-"; break;
    case 4: count = "4294967296-"; break;
    case 5: count = long_digits(random, size_up_to(random, 100000)) + "-"; break;
    case 6: count = ""; break;
    case 7: count = std::to_string(real); break;  // no '-'
    default: count = "-" + std::to_string(real) + "-"; break;
  }
  m.push_back(text((random.chance(50) ? "5" : "6") + count + (random.chance(80) ? "" : "7") + data));
  const std::size_t sent = random.chance(70) ? real : random.below(12);
  for (std::size_t i = 0; i < sent; ++i) m.push_back(binary(std::string(random.below(16), 'x')));
  return {"attachment count " + count, std::move(m)};
}

generated placeholders(rng& random) {
  const std::array<std::string_view, 14> nums = {"-1", "1.5", "\"0\"", "\"splice\"", "99", "1e400", "null", "true",
                                                 "0", "1", "4294967296", "-0", "0.0", "[0]"};
  const std::string_view num = random.pick(nums);
  std::string placeholder;
  switch (random.below(5)) {
    case 0: placeholder = "{\"_placeholder\":true,\"num\":" + std::string(num) + "}"; break;
    case 1: placeholder = "{\"num\":" + std::string(num) + ",\"_placeholder\":true}"; break;
    case 2: placeholder = "{\"_placeholder\":true,\"num\":0,\"extra\":1}"; break;
    case 3: placeholder = "{\"_placeholder\":true,\"num\":0,\"_placeholder\":false}"; break;
    default: placeholder = "{\"_placeholder\":\"yes\",\"num\":0}"; break;
  }
  std::string args;
  const unsigned copies = 1 + static_cast<unsigned>(random.below(3));
  for (unsigned i = 0; i < copies; ++i) {
    if (i) args += ',';
    args += random.chance(30) ? "{\"deep\":[" + placeholder + "]}" : placeholder;
  }
  std::string data;
  sio::append_event_data(random.chance(80) ? "echo" : "message", args, data);
  const std::size_t count = 1 + random.below(3);
  std::vector<message> m;
  m.push_back(text((random.chance(80) ? "5" : "6") + std::to_string(count) + "-" + (random.chance(30) ? "1" : "") + data));
  for (std::size_t i = 0; i < count; ++i) m.push_back(binary("ab"));
  if (random.chance(20)) m.front().bytes[0] = '2';  // a placeholder in a packet that is not binary
  return {"placeholder num " + std::string(num), std::move(m)};
}

generated namespaces(rng& random) {
  const std::string nsp = namespace_name(random);
  std::vector<message> m;
  if (random.chance(60)) m.push_back(text("0" + nsp + (random.chance(50) ? "," : "") + connect_data(random)));
  std::vector<message> event = valid_event(random, "/", random.chance(30) ? std::optional<std::uint64_t>(1) : std::nullopt);
  if (!event.empty()) {
    // The namespace goes in by hand: the codec refuses what is not one.
    std::string& t = event.front().bytes;
    std::size_t at = 1;
    if (t[0] == '5' || t[0] == '6') at = t.find('-') + 1;
    t.insert(at, nsp + (random.chance(85) ? "," : ""));
  }
  m.insert(m.end(), event.begin(), event.end());
  if (random.chance(30)) m.push_back(text("1" + nsp + ","));
  return {"namespace of " + std::to_string(nsp.size()) + " bytes", std::move(m)};
}

generated ack_ids(rng& random) {
  std::string id;
  switch (random.below(7)) {
    case 0: id = "9007199254740991"; break;
    case 1: id = "9007199254740992"; break;
    case 2: id = "18446744073709551616"; break;
    case 3: id = long_digits(random, size_up_to(random, 1 << 20)); break;  // up to a megabyte of digits
    case 4: id = "000000001"; break;
    case 5: id = "0"; break;
    default: id = std::to_string(random.below(1000)); break;
  }
  std::vector<message> m;
  if (random.chance(30)) {
    // Answer the server's own question (ids from 0), then again, late.
    sio::value args = sio::value::array({static_cast<std::int64_t>(random.below(50)), "q"});
    std::string data;
    std::vector<sio::attachment> none;
    sio::make_event_data("ask", args, data, none);
    m.push_back(text(encoded(sio::packet_type::event, "/", std::nullopt, 0, data)));
    id = std::to_string(random.below(3));
  }
  std::string data;
  std::vector<sio::attachment> none;
  sio::make_event_data("echo", sio::value::array({"x"}), data, none);
  switch (random.below(3)) {
    case 0: m.push_back(text("2" + id + data)); break;
    case 1: m.push_back(text("3" + id + "[\"a\"]")); break;
    default: m.push_back(text("3" + id + "[]")); m.push_back(text("3" + id + "[1]")); break;
  }
  return {"ack id of " + std::to_string(id.size()) + " digits", std::move(m)};
}

generated json_edges(rng& random) {
  const std::array<std::string_view, 30> datas = {
      "[]", "{}", "[null]", "[\"a\"", "[{\"toString\":\"x\"}]", "[\"connect\"]", "[\"disconnect\"]",
      "[\"disconnecting\"]", "[\"newListener\"]", "[\"__proto__\"]", "[\"echo\",1e400]", "[\"echo\",\"\\ud800\"]",
      " [\"echo\"]", "[\"echo\"] x", "[\"echo\",{\"a\":1,\"a\":2}]", "[1.5,2]", "[-0]", "[\"echo\",\"\\u0000\"]",
      "[\"echo\",\"\xff\xfe\"]", "[123456789012345678901234567890]", "[true]", "[\"echo\",{\"__proto__\":{\"x\":1}}]",
      "\"echo\"", "[\"echo\",]", "[,\"echo\"]", "[\"echo\" \"x\"]", "[\"echo\",NaN]", "[\"echo\",Infinity]",
      "[\"echo\",'x']", "[\"ec\\u0068o\",1]"};
  std::string data;
  if (random.chance(15)) {
    // Deep nesting: far past our max_depth (128), but at most 2,000 levels:
    // socket.io 4.8 echoing an array nested ~100,000 deep dies of a stack
    // overflow in socket.io-parser's hasBinary (found by this fuzzer,
    // 2026-12-06), which would end every run against the reference early.
    const std::size_t depth = size_up_to(random, 2000);
    data = "[\"echo\"," + std::string(depth, '[') + std::string(random.chance(80) ? depth : depth / 2, ']') + "]";
  } else {
    data = std::string(random.pick(datas));
  }
  std::string id = random.chance(40) ? std::to_string(random.below(100)) : "";
  const char type = "20346"[random.below(random.chance(70) ? 1 : 5)];
  std::string packet(1, type);
  if (type == '5' || type == '6') packet += "1-";
  std::vector<message> m;
  m.push_back(text(packet + id + data));
  return {"JSON " + std::string(data.substr(0, 24)), std::move(m)};
}

generated binary_order(rng& random) {
  // A valid binary event with 1..4 attachments, then out of order.
  sio::value args = sio::value::array();
  const std::size_t n = 1 + random.below(4);
  for (std::size_t i = 0; i < n; ++i) args.push_back({{"f", sio::value::binary(sio::attachment(1 + random.below(32), static_cast<std::uint8_t>(i)))}});
  std::string data;
  std::vector<sio::attachment> attachments;
  sio::make_event_data(random.chance(50) ? "echo" : "message", args, data, attachments);
  const std::optional<std::uint64_t> id = random.chance(40) ? std::optional<std::uint64_t>(random.below(10)) : std::nullopt;
  message head = text(encoded(sio::packet_type::binary_event, "/", id, attachments.size(), data));
  std::vector<message> bins;
  for (auto& a : attachments) bins.push_back(binary(std::string(a.begin(), a.end())));
  std::vector<message> m;
  std::string name;
  switch (random.below(6)) {
    case 0:
      name = "attachments before the packet";
      m = bins;
      m.push_back(head);
      break;
    case 1:
      name = "text while attachments are pending";
      m.push_back(head);
      m.insert(m.end(), bins.begin(), bins.begin() + static_cast<std::ptrdiff_t>(random.below(bins.size())));
      m.push_back(text(encoded(sio::packet_type::event, "/", std::nullopt, 0, "[\"echo\",1]")));
      break;
    case 2:
      name = "an extra attachment";
      m.push_back(head);
      m.insert(m.end(), bins.begin(), bins.end());
      m.push_back(binary("extra"));
      break;
    case 3:
      name = "two binary packets interleaved";
      m.push_back(head);
      m.push_back(head);
      m.insert(m.end(), bins.begin(), bins.end());
      m.insert(m.end(), bins.begin(), bins.end());
      break;
    case 4:
      name = "attachments withheld";
      m.push_back(head);
      m.insert(m.end(), bins.begin(), bins.end() - 1);
      break;
    default:
      name = "attachments shuffled";
      m.push_back(head);
      for (std::size_t i = bins.size(); i > 1; --i) std::swap(bins[i - 1], bins[random.below(i)]);
      m.insert(m.end(), bins.begin(), bins.end());
      break;
  }
  return {"binary order: " + name, std::move(m)};
}

generated connects(rng& random) {
  std::vector<message> m;
  std::string name;
  switch (random.below(7)) {
    case 0:
      name = "a second CONNECT to /";
      m.push_back(text(connect_packet(random, "/")));
      break;
    case 1: {
      name = "CONNECT with data of another type";
      const std::array<std::string_view, 6> datas = {"\"x\"", "[]", "null", "1", "{", "{\"token\":\"letmein\"}x"};
      m.push_back(text("0/custom," + std::string(random.pick(datas))));
      break;
    }
    case 2:
      name = "CONNECT to /admin";
      m.push_back(text(connect_packet(random, "/admin")));
      for (auto& more : valid_event(random, "/admin", std::nullopt)) m.push_back(std::move(more));
      break;
    case 3:
      name = "DISCONNECT, then events";
      m.push_back(text("1"));
      m.push_back(text(encoded(sio::packet_type::event, "/", std::nullopt, 0, "[\"echo\",1]")));
      break;
    case 4:
      name = "a packet for a namespace not joined";
      m.push_back(text(encoded(sio::packet_type::event, "/custom", std::nullopt, 0, "[\"echo\",1]")));
      break;
    case 5:
      name = "CONNECT_ERROR from the client";
      m.push_back(text(random.chance(50) ? "4{\"message\":\"x\"}" : "4\"x\""));
      break;
    default:
      name = "many namespaces";
      for (std::uint64_t i = 1 + random.below(20); i > 0; --i) m.push_back(text(connect_packet(random, namespace_name(random))));
      break;
  }
  return {name, std::move(m)};
}

generated byte_mutations(rng& random) {
  std::vector<message> m;
  for (std::uint64_t i = 1 + random.below(3); i > 0; --i) {
    std::vector<message> more = random.chance(70) ? valid_event(random, "/", random.chance(50) ? std::optional<std::uint64_t>(i) : std::nullopt)
                                                  : valid_ack(random, "/", random.below(5));
    m.insert(m.end(), more.begin(), more.end());
  }
  if (m.empty()) m.push_back(text("2[\"echo\"]"));
  mutate(m[random.below(m.size())].bytes, random);
  return {"mutated packets", std::move(m)};
}

generated valid_traffic(rng& random) {
  std::vector<message> m;
  for (std::uint64_t i = 1 + random.below(5); i > 0; --i) {
    std::vector<message> more = valid_event(random, "/", random.chance(50) ? std::optional<std::uint64_t>(i) : std::nullopt);
    m.insert(m.end(), more.begin(), more.end());
  }
  return {"valid events", std::move(m)};
}

// ------------------------------------------------------------ delivery

std::string get_request(const std::string& target_path, const target_info& target, const std::vector<std::string>& headers) {
  std::string out = "GET " + target_path + " HTTP/1.1\r\nHost: " + target.host_header + "\r\n";
  for (const auto& h : headers) out += h + "\r\n";
  return out + "\r\n";
}

std::string post_request(const std::string& target_path, const target_info& target, std::string_view body) {
  std::string out = "POST " + target_path + " HTTP/1.1\r\nHost: " + target.host_header +
                    "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  return out;
}

std::string frame(const message& m, rng& random) {
  std::string out;
  const auto mask = static_cast<std::uint32_t>(random.next());
  if (m.binary) {
    websocket::append_masked_frame(websocket::opcode::binary, m.bytes, mask, out);
  } else {
    websocket::append_masked_frame(websocket::opcode::text, "4" + m.bytes, mask, out);
  }
  return out;
}

std::string polling_packet(const message& m) {
  if (!m.binary) return "4" + m.bytes;
  std::string out = "b";
  base64_encode(m.bytes, out);
  return out;
}

}  // namespace

fuzz_case socketio_case(rng& random, const target_info& target, session_need session, const std::string& sid) {
  fuzz_case c;
  c.what = category::socketio;
  generated g;
  switch (random.below(10)) {
    case 0: g = packet_types(random); break;
    case 1: g = attachment_counts(random); break;
    case 2: g = placeholders(random); break;
    case 3: g = namespaces(random); break;
    case 4: g = ack_ids(random); break;
    case 5: g = json_edges(random); break;
    case 6: g = binary_order(random); break;
    case 7: g = connects(random); break;
    case 8: g = byte_mutations(random); break;
    default: g = valid_traffic(random); break;
  }
  std::vector<message> messages;
  // Usually connected first. The reference answers a CONNECT a tick later
  // (its middlewares are asynchronous) and closes a connection whose packet
  // for "/" comes before that: the rest waits 5 ms, as a client waits for
  // the answer.
  const bool connected = !random.chance(10);
  if (connected) messages.push_back(text(connect_packet(random, "/")));
  messages.insert(messages.end(), g.second.begin(), g.second.end());
  const unsigned connect_wait = connected ? 5 : 0;
  const bool polling = session != session_need::none && !sid.empty() && random.chance(40);
  if (polling) {
    c.name = g.first + " (polling)";
    c.session = session;
    const std::string target_path = target.path + "?EIO=4&transport=polling&sid=" + sid;
    std::size_t first = 0;
    if (connected && random.chance(90)) {
      c.chunks.push_back({0, 0, post_request(target_path, target, polling_packet(messages[0]))});
      first = 1;
    }
    const unsigned wait = first ? connect_wait : 0;
    if (random.chance(50)) {
      // One payload.
      std::string body;
      for (std::size_t i = first; i < messages.size(); ++i) body += (body.empty() ? "" : "\x1e") + polling_packet(messages[i]);
      if (!body.empty()) c.chunks.push_back({0, wait, post_request(target_path, target, body)});
    } else {
      // A POST per message, on one keep-alive connection.
      for (std::size_t i = first; i < messages.size(); ++i) {
        c.chunks.push_back({0, i == first ? wait : 0u, post_request(target_path, target, polling_packet(messages[i]))});
      }
    }
    return c;
  }
  c.name = g.first + " (websocket)";
  c.session = session_need::none;
  c.chunks.push_back({0, 0, get_request(target.path + "?EIO=4&transport=websocket", target,
                                         {"Upgrade: websocket", "Connection: Upgrade",
                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"})});
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const unsigned pause = i == 0 ? 3u : i == 1 ? connect_wait : static_cast<unsigned>(random.chance(10) ? random.below(20) : 0);
    c.chunks.push_back({0, pause, frame(messages[i], random)});
  }
  return c;
}

// ------------------------------------------------------------ the control socket

std::string socketio_control::target(const std::string& sid) const {
  return path_ + "?EIO=4&transport=polling" + (sid.empty() ? "" : "&sid=" + sid);
}

bool socketio_control::poll_until(const std::string& sid,
                                  const std::function<bool(std::string_view sio, std::string& error)>& done,
                                  std::string& error) {
  for (int poll = 0; poll < 6; ++poll) {
    int status = 0;
    std::string body;
    if (!exchange_("GET", target(sid), {}, status, body, error)) {
      error = "poll: " + error;
      return false;
    }
    if (status != 200) {
      error = "poll answered " + std::to_string(status) + " " + body.substr(0, 80);
      return false;
    }
    bool finished = false;
    std::size_t at = 0;
    while (at <= body.size()) {
      const auto end = std::min(body.find('\x1e', at), body.size());
      const std::string_view packet(body.data() + at, end - at);
      at = end + 1;
      if (packet == "2") {  // the server's ping: answer it as a client must
        int pong_status = 0;
        std::string ignored;
        if (!exchange_("POST", target(sid), "3", pong_status, ignored, error) || pong_status != 200) {
          error = "pong refused: " + (pong_status ? std::to_string(pong_status) : error);
          return false;
        }
        ++pings_;
      } else if (packet == "1") {
        error = "the session was closed by the server";
        return false;
      } else if (!packet.empty() && packet[0] == '4') {
        if (done(packet.substr(1), error)) finished = true;
        if (!error.empty()) return false;
      }
    }
    if (finished) return true;
  }
  if (error.empty()) error = "no answer after 6 polls";
  return false;
}

std::string socketio_control::connect(std::string& error) {
  int status = 0;
  std::string body;
  if (!exchange_("GET", target({}), {}, status, body, error)) return {};
  constexpr std::string_view key = "\"sid\":\"";
  const auto at = body.find(key);
  const auto end = at == std::string::npos ? at : body.find('"', at + key.size());
  if (status != 200 || body.empty() || body[0] != '0' || end == std::string::npos) {
    error = "handshake answered " + std::to_string(status) + " " + body.substr(0, 80);
    return {};
  }
  std::string sid = body.substr(at + key.size(), end - at - key.size());
  std::string connect = "4";
  sio::packet p;
  p.type = sio::packet_type::connect;
  sio::encode(p, connect);
  if (!exchange_("POST", target(sid), connect, status, body, error) || status != 200) {
    error = "CONNECT POST: " + (status ? std::to_string(status) + " " + body.substr(0, 80) : error);
    return {};
  }
  sio::decoder decoder;
  const bool answered = poll_until(
      sid,
      [&](std::string_view text, std::string& why) {
        sio::packet answer;
        if (decoder.decode(text, answer)) return false;  // not ours to judge here
        if (answer.nsp != "/") return false;
        if (answer.type == sio::packet_type::connect_error) why = "CONNECT refused: " + std::string(text.substr(0, 80));
        return answer.type == sio::packet_type::connect;
      },
      error);
  if (!answered) {
    error = "CONNECT: " + error;
    return {};
  }
  return sid;
}

bool socketio_control::open(std::string& error) {
  sid_ = connect(error);
  return !sid_.empty();
}

bool socketio_control::fresh_connect(std::string& error) {
  const std::string sid = connect(error);
  if (sid.empty()) return false;
  int status = 0;
  std::string ignored, close_error;
  exchange_("POST", target(sid), "1", status, ignored, close_error);
  return true;
}

bool socketio_control::check(std::string& error) {
  const std::uint64_t id = ++serial_;
  std::string argument;
  sio::append_json_string("ctl-" + std::to_string(id), argument);
  std::string data;
  sio::append_event_data("echo", argument, data);
  sio::packet p;
  p.type = sio::packet_type::event;
  p.id = id;
  p.data = data;
  std::string packet = "4";
  sio::encode(p, packet);
  int status = 0;
  std::string body;
  if (!exchange_("POST", target(sid_), packet, status, body, error) || status != 200) {
    error = "control socket: emit POST: " + (status ? std::to_string(status) + " " + body.substr(0, 80) : error);
    return false;
  }
  sio::decoder decoder;
  const bool acked = poll_until(
      sid_,
      [&](std::string_view text, std::string& why) {
        sio::packet answer;
        sio::payload_info info;
        // A packet the codec refuses is not ours to judge: a case can make
        // the server relay one (an object with "_placeholder":true in an
        // event broadcast to every socket, say). A broken ack shows as no ack.
        if (decoder.decode(text, answer, info)) return false;
        if (answer.type == sio::packet_type::disconnect && answer.nsp == "/") {
          why = "DISCONNECT from the server";
          return false;
        }
        if (answer.type != sio::packet_type::ack || answer.id != id) return false;  // broadcasts, asks: not ours
        if (answer.nsp != "/" || info.arg_count != 1 || info.args(answer.data) != argument) {
          why = "the ack differs from the emit: " + std::string(text.substr(0, 80));
          return false;
        }
        return true;
      },
      error);
  if (!acked) {
    error = "control socket: " + error;
    return false;
  }
  ++acks_;
  return true;
}

}  // namespace eio::tool::fuzz
