#include <eio/wire/http_text.hpp>

#include <eio/base64.hpp>
#include <eio/server.hpp>

#include <array>
#include <cstdint>

namespace eio::wire {

bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (ascii_iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

namespace {

std::uint32_t rotate_left(std::uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }

// One 64-byte block into the state (FIPS 180-4 section 6.1.2).
void sha1_block(std::array<std::uint32_t, 5>& h, const unsigned char* block) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 80; ++i) w[i] = rotate_left(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f = 0;
    std::uint32_t k = 0;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    const std::uint32_t t = rotate_left(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rotate_left(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace

std::string sha1(std::string_view data) {
  std::array<std::uint32_t, 5> h{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t whole = data.size() - data.size() % 64;
  for (std::size_t i = 0; i < whole; i += 64) sha1_block(h, bytes + i);
  // The tail, a 1 bit, zeros, and the length in bits (big-endian) to fill
  // one or two blocks (section 5.1.1).
  unsigned char tail[128] = {};
  const std::size_t left = data.size() - whole;
  for (std::size_t i = 0; i < left; ++i) tail[i] = bytes[whole + i];
  tail[left] = 0x80;
  const std::size_t tail_size = left + 9 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - static_cast<std::size_t>(i)] = static_cast<unsigned char>(bits >> (8 * i));
  for (std::size_t i = 0; i < tail_size; i += 64) sha1_block(h, tail + i);
  std::string digest(20, '\0');
  for (std::size_t i = 0; i < 20; ++i) digest[i] = static_cast<char>(h[i / 4] >> (24 - 8 * (i % 4)));
  return digest;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_status_line(int status, std::string& out) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
}

std::string websocket_accept_value(std::string_view key) {
  std::string out;
  base64_encode(sha1(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), out);
  return out;
}

std::optional<upgrade_refusal> check_websocket_upgrade(const http_request& request, bool has_body) {
  const auto version = request.header_value("sec-websocket-version");
  if (!version || *version != "13") return upgrade_refusal{"Unsupported WebSocket version", true};
  const auto key = request.header_value("sec-websocket-key");
  const auto connection = request.header_value("connection");
  std::string decoded;
  std::size_t bad = 0;
  if (request.method != "GET" || has_body || !key || !base64_decode(*key, decoded, bad) || decoded.size() != 16 ||
      !connection || !has_token(*connection, "upgrade")) {
    return upgrade_refusal{"Bad WebSocket handshake", false};
  }
  return std::nullopt;
}

}  // namespace eio::wire
