#include <eio/wire/url.hpp>

namespace eio::wire {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ipv6_char(char c) noexcept { return hex_value(c) >= 0 || c == ':' || c == '.'; }

}  // namespace

std::string url::authority() const {
  const bool default_port = (tls && port == 443) || (!tls && port == 80);
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::vector<std::pair<std::string, std::string>> url::query_params() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    out.emplace_back(percent_decode(item.substr(0, eq), true),
                     eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1), true));
  }
  return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

std::optional<url> parse_url(std::string_view text, std::string& error) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      error = "the URL has a space or a control character";
      return std::nullopt;
    }
  }
  url out;
  const std::size_t colon = text.find("://");
  if (colon != std::string_view::npos) {
    for (const char c : text.substr(0, colon)) out.scheme += lower(c);
  }
  if (out.scheme == "https" || out.scheme == "wss") {
    out.tls = true;
  } else if (out.scheme != "http" && out.scheme != "ws") {
    error = "the URL must start with http://, https://, ws:// or wss://";
    return std::nullopt;
  }
  std::string_view rest = text.substr(colon + 3);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    out.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (const std::size_t question = rest.find('?'); question != std::string_view::npos) {
    out.query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    error = "the URL must not carry a user name or password";
    return std::nullopt;
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    const std::string_view literal = authority.substr(1, close == std::string_view::npos ? 0 : close - 1);
    if (close == std::string_view::npos || literal.find(':') == std::string_view::npos) {
      error = "bad IPv6 address in the URL";
      return std::nullopt;
    }
    for (const char c : literal) {
      if (!is_ipv6_char(c)) {
        error = "bad IPv6 address in the URL";
        return std::nullopt;
      }
    }
    out.host = std::string(literal);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "bad IPv6 address in the URL";
        return std::nullopt;
      }
      port = after.substr(1);
      out.port_given = true;
    }
  } else {
    const std::size_t port_colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) {
      port = authority.substr(port_colon + 1);
      out.port_given = true;
    }
    if (out.host.find(':') != std::string::npos) {
      error = "an IPv6 address in a URL goes in brackets: [::1]";
      return std::nullopt;
    }
  }
  if (out.host.empty()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  if (out.port_given) {
    unsigned long value = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (const char c : port) {
      if (c < '0' || c > '9') ok = false;
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!ok || value == 0 || value > 65535) {
      error = "bad port in the URL";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  return out;
}

}  // namespace eio::wire
