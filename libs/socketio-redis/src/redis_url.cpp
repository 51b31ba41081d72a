// parse_redis_url: redis://[user[:password]@]host[:port][/db], the URL form
// that node-redis and ioredis take, read by RFC 3986's rules.
#include <eio/socketio_redis/redis_client.hpp>

#include <eio/wire/url.hpp>

#include <arpa/inet.h>

#include <climits>

namespace eio::socketio_redis {
namespace {

// `text` as a decimal number no greater than `max`; nullopt for anything
// else (empty, a sign, a space, too many digits).
std::optional<int> decimal(std::string_view text, int max) {
  if (text.empty()) return std::nullopt;
  long long value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > max) return std::nullopt;
  }
  return static_cast<int>(value);
}

bool is_ipv6_address(const std::string& text) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// The scheme before "://", in lower case (RFC 3986 section 3.1: schemes are
// case-insensitive); empty when there is none.
std::string scheme_of(std::string_view url) {
  const std::size_t end = url.find("://");
  std::string out;
  if (end == std::string_view::npos) return out;
  for (const char c : url.substr(0, end)) out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// "host", "host:port", "[v6]" or "[v6]:port" into `out`; false when malformed.
bool parse_host_and_port(std::string_view text, redis_endpoint& out) {
  std::string_view port;
  bool port_given = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_address(out.host)) return false;
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      port_given = true;
    }
  } else {
    const std::size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      port_given = true;
    }
    // A second ':' is an IPv6 address without its brackets; a ']' has no '['.
    if (port.find(':') != std::string_view::npos || text.find_first_of("[]") != std::string_view::npos) return false;
  }
  if (out.host.empty()) return false;
  if (port_given) {
    const auto number = decimal(port, 65535);
    if (!number || *number == 0) return false;
    out.port = *number;
  }
  return true;
}

}  // namespace

std::optional<redis_endpoint> parse_redis_url(std::string_view url) {
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '?' || c == '#') return std::nullopt;
  }
  const std::string scheme = scheme_of(url);
  // "rediss" (TLS) is refused like any other scheme: hiredis 0.14 has no TLS.
  if (!scheme.empty() && scheme != "redis") return std::nullopt;
  if (!scheme.empty()) url.remove_prefix(scheme.size() + 3);

  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash + 1);

  redis_endpoint out;
  // The last '@' ends the user information, as WHATWG URL (Node's) reads it:
  // an unencoded '@' in a password still works.
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    out.username = wire::percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) out.password = wire::percent_decode(userinfo.substr(colon + 1));
    authority.remove_prefix(at + 1);
  }
  if (!parse_host_and_port(authority, out)) return std::nullopt;
  if (!path.empty()) {
    const auto database = decimal(path, INT_MAX);
    if (!database) return std::nullopt;
    out.database = *database;
  }
  return out;
}

}  // namespace eio::socketio_redis
