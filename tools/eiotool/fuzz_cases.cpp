#include "fuzz_cases.hpp"

#include "fuzz_socketio.hpp"

#include <eio/websocket_codec.hpp>

#include <algorithm>
#include <utility>

namespace eio::tool::fuzz {

// ------------------------------------------------------------ PRNG

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

rng::rng(std::uint64_t seed) noexcept {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t rng::next() noexcept {
  const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

// ------------------------------------------------------------ names

std::string_view to_string(category c) noexcept {
  switch (c) {
    case category::handshake: return "handshake";
    case category::http: return "http";
    case category::payload: return "payload";
    case category::sequence: return "sequence";
    case category::websocket: return "websocket";
    case category::mutation: return "mutation";
    case category::socketio: return "socketio";
  }
  return "?";
}

bool parse_category(std::string_view name, category& out) noexcept {
  if (name == to_string(category::socketio)) {
    out = category::socketio;
    return true;
  }
  for (category c : all_categories) {
    if (to_string(c) == name) {
      out = c;
      return true;
    }
  }
  return false;
}

std::string_view to_string(session_need n) noexcept {
  switch (n) {
    case session_need::none: return "none";
    case session_need::v4: return "v4";
    case session_need::v3: return "v3";
  }
  return "?";
}

namespace {

// ------------------------------------------------------------ building blocks

std::string random_bytes(rng& random, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random.below(256));
  return out;
}

std::string random_printable(rng& random, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(0x21 + random.below(0x5e));
  return out;
}

using param_list = std::vector<std::pair<std::string, std::string>>;

std::string query_target(const target_info& target, const param_list& params) {
  std::string out = target.path;
  char separator = '?';
  for (const auto& [name, value] : params) {
    out += separator;
    out += name;
    if (!value.empty() || name.empty()) {
      out += '=';
      out += value;
    }
    separator = '&';
  }
  return out;
}

std::string session_target(const target_info& target, session_need session, const std::string& sid,
                           std::string_view transport = "polling") {
  return query_target(target, {{"EIO", session == session_need::v3 ? "3" : "4"},
                               {"transport", std::string(transport)},
                               {"sid", sid}});
}

struct request_line {
  std::string method = "GET";
  std::string target;
  std::string version = "HTTP/1.1";
};

// An HTTP request: `headers` verbatim ("Name: value"), a Content-Length
// added for a body unless `content_length` is false.
std::string request(const request_line& line, const target_info& target, std::vector<std::string> headers,
                    std::string_view body = {}, bool content_length = true) {
  std::string out = line.method + " " + line.target + " " + line.version + "\r\n";
  out += "Host: " + target.host_header + "\r\n";
  for (const auto& h : headers) out += h + "\r\n";
  if (content_length && (!body.empty() || line.method == "POST")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(body);
  return out;
}

std::string get(const std::string& target_path, const target_info& target) {
  return request({"GET", target_path}, target, {});
}

std::string post(const std::string& target_path, const target_info& target, std::string_view body,
                 std::string_view content_type = "text/plain;charset=UTF-8") {
  return request({"POST", target_path}, target, {"Content-Type: " + std::string(content_type)}, body);
}

// RFC 6455 section 4.1; the key's value does not matter to a server.
std::string websocket_upgrade(const std::string& target_path, const target_info& target,
                              std::vector<std::string> extra = {}) {
  std::vector<std::string> headers = {"Upgrade: websocket", "Connection: Upgrade",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return request({"GET", target_path}, target, headers);
}

// A frame with every field chosen by the caller: first byte as given (FIN,
// RSV, opcode), masked or not, and a declared length that may lie.
std::string raw_frame(std::uint8_t first, bool masked, std::string_view payload, std::uint64_t declared,
                      std::uint32_t mask_key = 0x37fa213d) {
  std::string out;
  out += static_cast<char>(first);
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (declared < 126) {
    out += static_cast<char>(mask_bit | static_cast<char>(declared));
  } else if (declared <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(declared >> 8);
    out += static_cast<char>(declared & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((declared >> shift) & 0xff);
  }
  if (masked) {
    const std::uint8_t key[4] = {static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
                                 static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
    out.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i % 4]);
  } else {
    out.append(payload);
  }
  return out;
}

std::string text_frame(std::string_view payload, rng& random) {
  std::string out;
  websocket::append_masked_frame(websocket::opcode::text, payload, static_cast<std::uint32_t>(random.next()), out);
  return out;
}

// One Engine.IO payload of `count` packets as the session's version frames it.
std::string payload_of(const std::vector<std::string>& packets, session_need session) {
  std::string out;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (session == session_need::v3) {
      // v3: <length in characters>:<packet>; ASCII here, so bytes = characters.
      out += std::to_string(packets[i].size()) + ":" + packets[i];
    } else {
      if (i > 0) out += '\x1e';
      out += packets[i];
    }
  }
  return out;
}

const std::array<std::string_view, 16> odd_strings = {
    "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "",    "%00",
    "%ff%fe",    "-1",          "0",         "NaN",      "undefined",      "null",    "[]", "{}"};

std::string odd_value(rng& random) {
  switch (random.below(6)) {
    case 0: return std::string(random.pick(odd_strings));
    case 1: return std::string(1 + random.below(3) * random.below(4000), 'A');  // up to ~8 KB
    case 2: return random_printable(random, 1 + random.below(40));
    case 3: return "99999999999999999999";
    case 4: return std::to_string(static_cast<std::int64_t>(random.next()));
    default: return std::string(random.pick(odd_strings)) + random_printable(random, random.below(4));
  }
}

// ------------------------------------------------------------ handshake

fuzz_case handshake_case(rng& random, const target_info& target) {
  fuzz_case c;
  c.what = category::handshake;
  static const std::array<std::string_view, 10> methods = {"GET",   "GET",    "POST", "PUT",     "DELETE",
                                                           "PATCH", "OPTIONS", "HEAD", "TRACE", "G\x01T"};
  request_line line;
  line.method = std::string(random.pick(methods));
  param_list params;
  const auto maybe = [&](const char* name, std::string normal) {
    switch (random.below(4)) {
      case 0: return;  // missing
      case 1: params.emplace_back(name, odd_value(random)); return;
      default: params.emplace_back(name, std::move(normal)); return;
    }
  };
  maybe("EIO", random.chance(50) ? "4" : "3");
  maybe("transport", random.chance(70) ? "polling" : "websocket");
  if (random.chance(40)) maybe("sid", random_printable(random, 20));
  if (random.chance(20)) params.emplace_back("j", odd_value(random));    // JSONP (v3)
  if (random.chance(20)) params.emplace_back("b64", odd_value(random));  // v3 base64
  if (random.chance(10)) params.emplace_back(odd_value(random), odd_value(random));
  if (random.chance(10)) {  // duplicate parameters: which one wins?
    params.emplace_back("EIO", "4");
    params.emplace_back("EIO", odd_value(random));
  }
  if (random.chance(20)) {  // Fisher-Yates with our own generator (std::shuffle's draws vary by library)
    for (std::size_t i = params.size(); i > 1; --i) std::swap(params[i - 1], params[random.below(i)]);
  }
  line.target = query_target(target, params);
  if (random.chance(10)) {
    static const std::array<std::string_view, 6> paths = {"/engine.io", "/engine.io/../engine.io/", "/ENGINE.IO/",
                                                          "/engine.io/%2e%2e/", "//engine.io/", "*"};
    line.target = std::string(random.pick(paths)) + line.target.substr(target.path.size());
  }
  if (random.chance(10)) line.version = random.chance(50) ? "HTTP/1.0" : "HTTP/9.9";
  std::vector<std::string> headers;
  if (random.chance(25)) {
    headers = {"Upgrade: websocket", "Connection: Upgrade"};
    if (random.chance(80)) headers.push_back(random.chance(80) ? "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
                                                               : "Sec-WebSocket-Key: " + odd_value(random));
    if (random.chance(80)) headers.push_back(random.chance(80) ? "Sec-WebSocket-Version: 13"
                                                               : "Sec-WebSocket-Version: " + odd_value(random));
    if (random.chance(20)) headers.push_back("Sec-WebSocket-Extensions: permessage-deflate; " + odd_value(random));
  }
  if (random.chance(20)) headers.push_back("Origin: " + odd_value(random));
  if (random.chance(10)) headers.push_back("Cookie: io=" + odd_value(random));
  if (random.chance(10)) headers.push_back("Authorization: Bearer " + odd_value(random));
  std::string body;
  if (line.method == "POST" || random.chance(10)) body = "4hello";
  c.name = line.method + " " + line.target.substr(0, 80);
  c.chunks.push_back({0, 0, request(line, target, headers, body)});
  return c;
}

// ------------------------------------------------------------ HTTP framing

fuzz_case http_case(rng& random, const target_info& target) {
  fuzz_case c;
  c.what = category::http;
  const std::string handshake = query_target(target, {{"EIO", "4"}, {"transport", "polling"}});
  const auto add = [&](std::string name, std::string bytes) {
    c.name = std::move(name);
    c.chunks.push_back({0, 0, std::move(bytes)});
  };
  switch (random.below(14)) {
    case 0: {
      static const std::array<std::string_view, 7> lengths = {"99999999999999999999", "-1", "18446744073709551616",
                                                              "1e3", "0x10", " 5", "4294967296"};
      const std::string length(random.pick(lengths));
      add("Content-Length: " + length,
          request({"POST", handshake}, target, {"Content-Length: " + length}, "4hello", false));
      break;
    }
    case 1:
      add("conflicting Content-Length",
          request({"POST", handshake}, target, {"Content-Length: 6", "Content-Length: 60"}, "4hello", false));
      break;
    case 2:
      add("Content-Length with chunked",
          request({"POST", handshake}, target, {"Content-Length: 3", "Transfer-Encoding: chunked"},
                  "6\r\n4hello\r\n0\r\n\r\n", false));
      break;
    case 3: {
      static const std::array<std::string_view, 8> bodies = {
          "ffffffffffffffff\r\n4hello\r\n0\r\n\r\n", "-1\r\n4\r\n0\r\n\r\n",  "6;ext=\"x\r\n4hello\r\n0\r\n\r\n",
          "6\r\n4hello0\r\n\r\n",                    "6\n4hello\n0\n\n",        "0x6\r\n4hello\r\n0\r\n\r\n",
          "6\r\n4hello\r\n0\r\nX-Trailer: 1\r\n\r\n", "1\r\n4\r\n1\r\nh\r\n"};
      add("chunked abuse", request({"POST", handshake}, target, {"Transfer-Encoding: chunked"},
                                   random.pick(bodies), false));
      break;
    }
    case 4: {
      std::string body;
      const std::size_t chunks = 1 + random.below(3000);  // a body in many 1-byte chunks
      for (std::size_t i = 0; i < chunks; ++i) body += "1\r\nx\r\n";
      body += "0\r\n\r\n";
      add("many tiny chunks", request({"POST", handshake}, target, {"Transfer-Encoding: chunked"}, body, false));
      break;
    }
    case 5: {
      std::vector<std::string> headers;
      const std::size_t n = 50 + random.below(3000);
      for (std::size_t i = 0; i < n; ++i) headers.push_back("X-Flood-" + std::to_string(i) + ": " + std::string(8, 'f'));
      add("header flood " + std::to_string(n), request({"GET", handshake}, target, headers));
      break;
    }
    case 6: {
      const std::size_t n = 1000 + random.below(200'000);
      add("huge header " + std::to_string(n),
          request({"GET", handshake}, target, {"X-Huge: " + std::string(n, 'h')}));
      break;
    }
    case 7: {
      const std::size_t n = 1000 + random.below(100'000);
      add("huge target " + std::to_string(n), get(handshake + "&pad=" + std::string(n, 'p'), target));
      break;
    }
    case 8: {
      using namespace std::string_literals;  // ""s keeps the NUL in the header name
      static const std::array<std::string, 8> junk = {
          "GET / HTTP/1.1\nHost: x\n\n"s,
          "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"s,
          "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n folded: value\r\n\r\n"s,
          "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHo\0st: x\r\n\r\n"s,
          "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s,
          "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"s,
          "GET /engine.io/?EIO=4&transport=polling\r\n\r\n"s,
          "\r\n\r\n\r\n\r\nGET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"s};
      add("malformed request", random.pick(junk));
      break;
    }
    case 9:
      add("random bytes", random_bytes(random, 1 + random.below(4096)));
      break;
    case 10: {  // slow sender: the request in pieces, well under any header timeout
      const std::string bytes = request({"GET", handshake}, target, {"X-Slow: 1"});
      c.name = "slow sender";
      std::size_t at = 0;
      while (at < bytes.size()) {
        const std::size_t n = std::min<std::size_t>(1 + random.below(24), bytes.size() - at);
        c.chunks.push_back({0, static_cast<unsigned>(random.below(15)), bytes.substr(at, n)});
        at += n;
      }
      break;
    }
    case 11: {  // a request cut short: the server must not wait for it forever
      const std::string bytes = request({"POST", handshake}, target, {}, "4hello world");
      add("truncated request", bytes.substr(0, random.below(bytes.size())));
      break;
    }
    case 12: {  // many requests in one write
      std::string bytes;
      const std::size_t n = 2 + random.below(60);
      for (std::size_t i = 0; i < n; ++i) bytes += get(handshake, target);
      add("pipelined " + std::to_string(n), bytes);
      break;
    }
    default: {
      const std::size_t n = 1 + random.below(2000);
      std::string bytes;
      for (std::size_t i = 0; i < n; ++i) bytes += "\r\n";
      add("empty lines " + std::to_string(n), bytes + get(handshake, target));
      break;
    }
  }
  return c;
}

// ------------------------------------------------------------ payloads

std::string payload_body(rng& random, session_need session, std::string& name) {
  const bool v3 = session == session_need::v3;
  switch (random.below(12)) {
    case 0: name = "bad type"; return std::string(1, static_cast<char>('7' + random.below(50))) + "abc";
    case 1: name = "bad base64"; return v3 ? "6:b4AAA=" : std::string("b") + random_printable(random, 1 + random.below(9));
    case 2: {
      name = "separator abuse";
      static const std::array<std::string_view, 6> bodies = {"\x1e", "\x1e\x1e", "4a\x1e", "\x1e" "4a",
                                                             "4a\x1e\x1e\x1e" "4b", "::::"};
      return std::string(random.pick(bodies));
    }
    case 3: {
      name = "flood of tiny packets";
      std::vector<std::string> packets(1 + random.below(20000), "4");
      return payload_of(packets, session);
    }
    case 4: {
      name = "oversize body";
      return "4" + std::string(1'000'001 + random.below(100'000), 'o');
    }
    case 5: {
      name = "length mismatch";
      static const std::array<std::string_view, 9> bodies = {"5:4hello", "999:4x", "-1:4",  "3:4h\xc3\xa9llo",
                                                             "1:",       "::",     "2:4", "99999999999999999999:4",
                                                             "0:"};
      return std::string(random.pick(bodies));
    }
    case 6: name = "close packet"; return payload_of({"4bye", "1"}, session);
    case 7: name = "ping from the client"; return payload_of({"2", "2probe"}, session);
    case 8: name = "upgrade over polling"; return payload_of({"5", "6"}, session);
    case 9: name = "invalid UTF-8"; return "4\xff\xfe\xc0\x80\xed\xa0\x80";
    case 10: name = "random packets"; {
      std::vector<std::string> packets(1 + random.below(8));
      for (auto& p : packets) p = std::to_string(random.below(8)) + random_bytes(random, random.below(12));
      return payload_of(packets, session);
    }
    default: name = "empty body"; return "";
  }
}

fuzz_case payload_case(rng& random, const target_info& target, session_need session, const std::string& sid) {
  fuzz_case c;
  c.what = category::payload;
  c.session = session;
  std::string name;
  const std::string body = payload_body(random, session, name);
  std::string content_type = "text/plain;charset=UTF-8";
  if (session == session_need::v3 && random.chance(25)) {
    content_type = "application/octet-stream";  // v3 binary payloads: <0|1><digits><0xff><packet>
  }
  c.name = std::string(to_string(session)) + " " + name;
  c.chunks.push_back({0, 0, post(session_target(target, session, sid), target, body, content_type)});
  if (random.chance(50)) c.chunks.push_back({1, 0, get(session_target(target, session, sid), target)});
  return c;
}

// ------------------------------------------------------------ protocol sequences

fuzz_case sequence_case(rng& random, const target_info& target, session_need session, const std::string& sid) {
  fuzz_case c;
  c.what = category::sequence;
  c.session = session;
  const std::string polling = session_target(target, session, sid);
  const std::string ws = session_target(target, session, sid, "websocket");
  const auto on = [&](std::uint64_t connection, std::string bytes, std::uint64_t delay = 0) {
    c.chunks.push_back({static_cast<unsigned>(connection), static_cast<unsigned>(delay), std::move(bytes)});
  };
  switch (random.below(10)) {
    case 0:
      c.name = "double GET";
      on(0, get(polling, target));
      on(1, get(polling, target), 5);
      break;
    case 1: {
      c.name = "double POST";
      const std::string first = post(polling, target, "4first");
      on(0, first.substr(0, first.size() - 3));  // the first POST's body still arriving
      on(1, post(polling, target, "4second"), 5);
      on(0, first.substr(first.size() - 3), 5);
      break;
    }
    case 2:
      c.name = "packets before handshake";
      on(0, post(query_target(target, {{"EIO", "4"}, {"transport", "polling"}}), target, "4early"));
      break;
    case 3:
      c.name = "GET after close packet";
      on(0, post(polling, target, "1"));
      on(1, get(polling, target), 5);
      on(2, post(polling, target, "4late"), 5);
      break;
    case 4:
      c.name = "upgrade race";  // a poll held while the WebSocket probes and upgrades
      on(0, get(polling, target));
      on(1, websocket_upgrade(ws, target), 2);
      on(1, text_frame("2probe", random), 5);
      on(2, post(polling, target, "4during"), random.below(5));
      on(1, text_frame("5", random), random.below(5));
      on(1, text_frame("4after", random));
      break;
    case 5:
      c.name = "second websocket on a sid";
      on(0, websocket_upgrade(ws, target));
      on(0, text_frame("2probe", random), 5);
      on(1, websocket_upgrade(ws, target), 5);
      on(1, text_frame("2probe", random), 5);
      on(random.below(2), text_frame("5", random), 5);
      break;
    case 6:
      c.name = "close during upgrade";
      on(0, websocket_upgrade(ws, target));
      on(0, text_frame("2probe", random), 5);
      on(1, post(polling, target, "1"), random.below(10));
      on(0, text_frame("5", random), random.below(10));
      break;
    case 7:
      c.name = "upgrade packet without probe";
      on(0, websocket_upgrade(ws, target));
      on(0, text_frame("5", random), 5);
      on(0, text_frame("4x", random));
      break;
    case 8:
      c.name = "websocket then TCP reset";
      on(0, websocket_upgrade(ws, target));
      on(0, text_frame("2probe", random), 5);
      on(0, raw_frame(0x81, true, "", 1000), 1);  // a frame that never finishes, then the runner closes
      break;
    default:
      c.name = "requests on a closed session";
      on(0, post(polling, target, "1"));
      for (unsigned i = 1; i < 4; ++i) on(i, random.chance(50) ? get(polling, target) : post(polling, target, "4x"), 2);
      break;
  }
  return c;
}

// ------------------------------------------------------------ WebSocket frames

std::string frame_case_bytes(rng& random, std::string& name) {
  const auto masked_text = [&](std::string_view payload) { return text_frame(payload, random); };
  switch (random.below(13)) {
    case 0: {
      static const std::array<std::uint8_t, 10> opcodes = {0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf};
      const std::uint8_t op = random.pick(opcodes);
      name = "opcode 0x" + std::string(1, "0123456789abcdef"[op]);
      return raw_frame(static_cast<std::uint8_t>(0x80 | op), true, "4x", 2);
    }
    case 1: name = "unmasked"; return raw_frame(0x81, false, "4hello", 6);
    case 2: {
      const std::uint8_t rsv = static_cast<std::uint8_t>((1 + random.below(7)) << 4);
      name = "reserved bits";
      return raw_frame(static_cast<std::uint8_t>(0x81 | rsv), true, "4hello", 6);
    }
    case 3: name = "fragmented ping"; return raw_frame(0x09, true, "a", 1) + raw_frame(0x80, true, "b", 1);
    case 4: name = "control frame of 126 bytes"; return raw_frame(0x89, true, std::string(126, 'p'), 126);
    case 5: name = "invalid UTF-8 text"; return masked_text("4\xff\xfe\xed\xa0\x80");
    case 6: {
      static const std::array<std::uint64_t, 5> lengths = {0x8000000000000000ull, 0xffffffffffffffffull,
                                                           0x4000000000000000ull, 0x100000000ull, 2'000'000};
      const std::uint64_t length = random.pick(lengths);
      name = "declared length " + std::to_string(length);
      return raw_frame(0x82, true, "abc", length);
    }
    case 7: {
      name = "FIN=0 flood";
      std::string out = raw_frame(0x01, true, "4", 1);
      const std::size_t n = 100 + random.below(20'000);
      for (std::size_t i = 0; i < n; ++i) out += raw_frame(0x00, true, "aaaaaaaa", 8);
      return out;
    }
    case 8: name = "continuation without start"; return raw_frame(0x80, true, "4x", 2);
    case 9: {
      static const std::array<std::uint16_t, 6> codes = {0, 999, 1004, 1005, 1006, 5000};
      const std::uint16_t code = random.pick(codes);
      name = "close code " + std::to_string(code);
      std::string payload;
      payload += static_cast<char>(code >> 8);
      payload += static_cast<char>(code & 0xff);
      return raw_frame(0x88, true, payload, 2);
    }
    case 10: name = "close with one byte"; return raw_frame(0x88, true, "\x03", 1);
    case 11: name = "data frame interleaved in a fragmented message";
      return raw_frame(0x01, true, "4a", 2) + raw_frame(0x81, true, "4b", 2) + raw_frame(0x80, true, "c", 1);
    default: {
      name = "Engine.IO junk";
      static const std::array<std::string_view, 8> texts = {"2probe", "5", "3probe", "1", "0", "6", "", "4"};
      return masked_text(std::string(random.pick(texts)) + random_printable(random, random.below(8)));
    }
  }
}

fuzz_case websocket_case(rng& random, const target_info& target, session_need session, const std::string& sid) {
  fuzz_case c;
  c.what = category::websocket;
  c.session = session;
  // A WebSocket opened directly (no sid) or as the upgrade of the session.
  const std::string ws = session == session_need::none
                             ? query_target(target, {{"EIO", "4"}, {"transport", "websocket"}})
                             : session_target(target, session, sid, "websocket");
  std::string name;
  std::string frames = frame_case_bytes(random, name);
  c.name = name + (session == session_need::none ? " (websocket handshake)" : " (upgrade)");
  c.chunks.push_back({0, 0, websocket_upgrade(ws, target)});
  if (session != session_need::none && random.chance(60)) c.chunks.push_back({0, 3, text_frame("2probe", random)});
  c.chunks.push_back({0, 3, std::move(frames)});
  return c;
}

// ------------------------------------------------------------ mutations of valid traffic

void mutate(std::string& bytes, rng& random) {
  static const std::array<std::string_view, 12> tokens = {"\r\n", "\x1e", "EIO=", "sid=", ":", "%", "0",
                                                          "ffff", "\r\n\r\n", "&", "\xff", "\x80"};
  const std::size_t rounds = 1 + random.below(8);
  for (std::size_t r = 0; r < rounds && !bytes.empty(); ++r) {
    const std::size_t at = random.below(bytes.size());
    switch (random.below(6)) {
      case 0: bytes[at] = static_cast<char>(bytes[at] ^ (1u << random.below(8))); break;
      case 1: bytes[at] = static_cast<char>(random.below(256)); break;
      case 2: bytes.erase(at, 1 + random.below(std::min<std::size_t>(16, bytes.size() - at))); break;
      case 3: bytes.insert(at, random.pick(tokens)); break;
      case 4: bytes.insert(at, bytes.substr(at, random.below(64))); break;
      default: bytes.resize(at); break;
    }
  }
}

fuzz_case mutation_case(rng& random, const target_info& target, session_need session, const std::string& sid) {
  fuzz_case c;
  c.what = category::mutation;
  c.session = session;
  const std::string polling = session_target(target, session, sid);
  const std::string ws = session_target(target, session, sid, "websocket");
  std::vector<chunk> valid;
  switch (random.below(4)) {
    case 0:
      c.name = "mutated handshake";
      valid.push_back({0, 0, get(query_target(target, {{"EIO", "4"}, {"transport", "polling"}, {"t", "Nx1"}}), target)});
      break;
    case 1:
      c.name = "mutated POST";
      valid.push_back({0, 0, post(polling, target, payload_of({"4hello", "4world"}, session))});
      break;
    case 2:
      c.name = "mutated poll";
      valid.push_back({0, 0, get(polling, target)});
      break;
    default:
      c.name = "mutated upgrade";
      valid.push_back({0, 0, websocket_upgrade(ws, target)});
      valid.push_back({0, 3, text_frame("2probe", random)});
      valid.push_back({0, 3, text_frame("5", random)});
      valid.push_back({0, 0, text_frame("4hello", random)});
      break;
  }
  // Mutate one chunk (sometimes all of them).
  const bool all = random.chance(20);
  const std::size_t which = random.below(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    if (all || i == which) mutate(valid[i].bytes, random);
  }
  c.chunks = std::move(valid);
  return c;
}

}  // namespace

session_need session_for(category c, rng& random) {
  switch (c) {
    case category::handshake:
    case category::http: return session_need::none;
    case category::payload: return random.chance(50) ? session_need::v3 : session_need::v4;
    case category::websocket: return random.chance(30) ? session_need::none : session_need::v4;
    case category::sequence:
    case category::mutation: return random.chance(20) ? session_need::v3 : session_need::v4;
    case category::socketio: return session_need::v4;
  }
  return session_need::none;
}

fuzz_case make_case(category c, rng& random, const target_info& target, session_need session,
                    const std::string& sid) {
  switch (c) {
    case category::handshake: return handshake_case(random, target);
    case category::http: return http_case(random, target);
    case category::payload: return payload_case(random, target, session, sid);
    case category::sequence: return sequence_case(random, target, session, sid);
    case category::websocket: return websocket_case(random, target, session, sid);
    case category::mutation: return mutation_case(random, target, session, sid);
    case category::socketio: return socketio_case(random, target, session, sid);
  }
  return {};
}

}  // namespace eio::tool::fuzz
