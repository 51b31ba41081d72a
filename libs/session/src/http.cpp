#include "http.hpp"

#include <eio/base64.hpp>
#include <eio/utf8.hpp>

#include <cstdint>
#include <limits>
#include <random>

namespace eio::detail {
namespace {

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char upper_hex[] = "0123456789ABCDEF";
constexpr char lower_hex[] = "0123456789abcdef";
constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// Appends `bytes` with every ill-formed UTF-8 sequence replaced by U+FFFD, one
// per maximal subpart: what Node's Buffer.toString() and URLSearchParams do
// when percent-decoding yields bytes that are not UTF-8 ("%E9" -> U+FFFD).
void append_utf8_lenient(std::string_view bytes, std::string& out) {
  while (!bytes.empty()) {
    const std::size_t valid = utf8_valid_prefix(bytes);
    out.append(bytes.data(), valid);
    bytes.remove_prefix(valid);
    if (bytes.empty()) break;
    out.append(replacement_character);
    bytes.remove_prefix(utf8_maximal_subpart(bytes));
  }
}

// application/x-www-form-urlencoded decoding as Node's querystring.unescape
// (and the WHATWG URL standard, section 5.1): '+' is a space, "%XX" a byte, a
// '%' without two hex digits stays literal; the bytes are then read as UTF-8.
std::string form_decode(std::string_view text) {
  std::string bytes;
  bytes.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      bytes += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      bytes += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      bytes += c;
    }
  }
  if (utf8_valid_prefix(bytes) == bytes.size()) return bytes;
  std::string repaired;
  repaired.reserve(bytes.size() + 8);
  append_utf8_lenient(bytes, repaired);
  return repaired;
}

bool needs_decoding(std::string_view text) noexcept {
  return text.find_first_of("%+") != std::string_view::npos;
}

// The decoded value of the next parameter `name` in `query`, which is left
// holding what follows it; nullopt when there is none.
std::optional<std::string> next_query_value(std::string_view& query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    const std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
    if (pair.empty()) continue;  // "a=1&&b=2": Node skips the empty pair

    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const bool match = needs_decoding(key) ? form_decode(key) == name : key == name;
    if (!match) continue;
    if (eq == std::string_view::npos) return std::string{};
    return form_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

// JSON.stringify's string quoting (ECMA-262, QuoteJSONString): the short
// escapes, \u00XX in lower-case hex for the other control characters, every
// other byte as is. JSONP also escapes U+2028 and U+2029, which end a line in
// JavaScript before ES2019 and so cannot stand in a string literal there.
void append_quoted(std::string_view text, std::string& out, bool escape_line_separators) {
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char* escape = nullptr;
    switch (c) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '\b': escape = "\\b"; break;
      case '\f': escape = "\\f"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      default: break;
    }
    if (escape == nullptr && c < 0x20) {
      out.append(text.data() + run, i - run);
      out += "\\u00";
      out += lower_hex[c >> 4];
      out += lower_hex[c & 0xF];
      run = i + 1;
      continue;
    }
    if (escape == nullptr && escape_line_separators && c == 0xE2 && i + 2 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) == 0x80) {
      const auto last = static_cast<unsigned char>(text[i + 2]);
      if (last == 0xA8 || last == 0xA9) {
        out.append(text.data() + run, i - run);
        out += last == 0xA8 ? "\\u2028" : "\\u2029";
        i += 2;
        run = i + 1;
      }
      continue;
    }
    if (escape != nullptr) {
      out.append(text.data() + run, i - run);
      out += escape;
      run = i + 1;
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

// JavaScript's encodeURIComponent on UTF-8 bytes: everything but A-Z a-z 0-9
// and - _ . ! ~ * ' ( ) as %XX. The cookie package encodes values so.
void append_uri_component(std::string_view text, std::string& out) {
  constexpr std::string_view unreserved_marks = "-_.!~*'()";
  for (const char c : text) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || unreserved_marks.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += upper_hex[byte >> 4];
      out += upper_hex[byte & 0xF];
    }
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) joined += ',';
    joined += items[i];
  }
  return joined;
}

}  // namespace

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  // A repeated name has no single reference answer: querystring (engine.io
  // <= 6.6.4) makes it an array, URLSearchParams (6.6.5+) keeps the last.
  // The first is what http.hpp promises.
  return next_query_value(query, name);
}

void append_json_string(std::string_view text, std::string& out) { append_quoted(text, out, false); }

std::string jsonp_index(std::string_view j) {
  std::string digits;
  for (const char c : j) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits;
}

void append_jsonp(std::string_view index, std::string_view payload, std::string& out) {
  out += "___eio[";
  out.append(index);
  out += "](";
  append_quoted(payload, out, true);
  out += ");";
}

std::optional<std::string> jsonp_payload(std::string_view body) {
  // querystring.parse makes a repeated field an array, and the reference
  // then ignores the body (docs/node-reference-behaviour.md, 47).
  std::optional<std::string> d = next_query_value(body, "d");
  if (!d || next_query_value(body, "d")) return std::nullopt;

  // The engine.io v3 client writes a newline as backslash-n and an escaped
  // newline (backslash-n in the payload) as backslash-backslash-n. The
  // reference (lib/transports/polling-jsonp) undoes it with two global
  // regular expressions, applied one after the other, left to right:
  //   /(\\)?\\n/g -> "\n" unless the backslash was there ("\\\\n" kept whole)
  //   /\\\\n/g    -> "\\n"
  // Both passes are reproduced exactly, odd cases (three backslashes) too.
  const std::string& in = *d;
  std::string first;
  first.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    if (in.compare(i, 3, "\\\\n") == 0) {
      first.append("\\\\n");
      i += 3;
    } else if (in.compare(i, 2, "\\n") == 0) {
      first += '\n';
      i += 2;
    } else {
      first += in[i++];
    }
  }
  std::string second;
  second.reserve(first.size());
  for (std::size_t i = 0; i < first.size();) {
    if (first.compare(i, 3, "\\\\n") == 0) {
      second.append("\\n");
      i += 3;
    } else {
      second += first[i++];
    }
  }
  return second;
}

void append_cors_headers(const cors_options& cors, const http_request& request, bool preflight, header_list& out) {
  // With a list of origins (or reflection) the answer depends on the
  // request's Origin, allowed or not: caches must key on it (RFC 9110
  // section 12.5.5), as the cors package says on every answer.
  const bool depends_on_origin = !cors.any_origin || cors.reflect_any_origin;
  const std::optional<std::string_view> origin = find_header(request.headers, "Origin");
  bool listed = origin && !origin->empty() && cors.any_origin;
  if (origin && !cors.any_origin) {
    for (const auto& allowed : cors.origins) listed = listed || allowed == *origin;
  }
  if (!listed) {
    if (depends_on_origin) out.push_back({"Vary", "Origin"});
    return;
  }
  const bool echo_origin = !cors.any_origin || cors.reflect_any_origin;
  // Browsers refuse "Access-Control-Allow-Origin: *" together with
  // "Access-Control-Allow-Credentials: true" (Fetch standard, CORS check), so
  // with any_origin and no reflect_any_origin we send "*" alone: requests
  // without credentials work, credentialed ones fail in the browser as they
  // would anyway. The npm cors package would send both headers.
  const bool credentials = cors.credentials && echo_origin;
  // As the cors package does: when the allowed headers are unset, the
  // preflight answer depends on Access-Control-Request-Headers too.
  const bool reflect_request_headers = preflight && cors.allowed_headers.empty();

  out.push_back({"Access-Control-Allow-Origin", echo_origin ? std::string{*origin} : std::string{"*"}});
  if (echo_origin || reflect_request_headers) {
    std::string vary;
    if (echo_origin) vary = "Origin";
    if (reflect_request_headers) vary += vary.empty() ? "Access-Control-Request-Headers" : ", Access-Control-Request-Headers";
    out.push_back({"Vary", std::move(vary)});
  }
  if (credentials) out.push_back({"Access-Control-Allow-Credentials", "true"});
  if (preflight) {
    if (std::string methods = join(cors.methods); !methods.empty()) {
      out.push_back({"Access-Control-Allow-Methods", std::move(methods)});
    }
    std::string allowed = join(cors.allowed_headers);
    if (reflect_request_headers) {
      allowed = std::string{find_header(request.headers, "Access-Control-Request-Headers").value_or("")};
    }
    if (!allowed.empty()) out.push_back({"Access-Control-Allow-Headers", std::move(allowed)});
    if (cors.max_age_seconds) out.push_back({"Access-Control-Max-Age", std::to_string(*cors.max_age_seconds)});
  }
  if (std::string exposed = join(cors.exposed_headers); !exposed.empty()) {
    out.push_back({"Access-Control-Expose-Headers", std::move(exposed)});
  }
}

std::string set_cookie_value(const cookie_options& cookie, std::string_view sid) {
  // The attribute order and spelling of the cookie package's serialize(),
  // which the reference uses; the value is encodeURIComponent'ed there too, so
  // an application's generate_id cannot smuggle in ';' or a line break.
  std::string value = cookie.name;
  value += '=';
  append_uri_component(sid, value);
  if (!cookie.path.empty()) {
    value += "; Path=";
    value += cookie.path;
  }
  if (cookie.http_only) value += "; HttpOnly";
  if (!cookie.same_site.empty()) {
    value += "; SameSite=";
    // The cookie package accepts the three values in any case and writes
    // them capitalised; anything else is passed on as configured.
    if (ascii_iequals(cookie.same_site, "lax")) {
      value += "Lax";
    } else if (ascii_iequals(cookie.same_site, "strict")) {
      value += "Strict";
    } else if (ascii_iequals(cookie.same_site, "none")) {
      value += "None";
    } else {
      value += cookie.same_site;
    }
  }
  return value;
}

std::string random_session_id() {
  // One device per thread: std::random_device is not safe to share, and
  // opening it (a file on some platforms) once per handshake is waste. It
  // throws std::runtime_error when the platform has no entropy source.
  thread_local std::random_device device;
  static_assert(std::numeric_limits<std::random_device::result_type>::digits >= 32);

  constexpr std::size_t id_bytes = 15;  // 120 bits, 20 base64 characters, no padding
  char bytes[id_bytes];
  for (std::size_t i = 0; i < id_bytes; i += 4) {
    const auto word = static_cast<std::uint32_t>(device());
    for (std::size_t k = 0; k < 4 && i + k < id_bytes; ++k) bytes[i + k] = static_cast<char>(word >> (8 * k));
  }
  std::string id;
  id.reserve(base64_encoded_size(id_bytes));
  base64_encode(std::string_view{bytes, id_bytes}, id);
  // URL-safe alphabet (RFC 4648 section 5), as the reference's base64id.
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
}

}  // namespace eio::detail

std::string eio::random_session_id() { return detail::random_session_id(); }

bool eio::ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
  }
  return true;
}
