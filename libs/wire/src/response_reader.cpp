#include <eio/wire/response_reader.hpp>

namespace eio::wire {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether comma-separated `list` names `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

response_read fail(const char* why) { return {response_status::error, 0, why}; }

// A chunked body from `in` (after the head) into out.chunked_body.
response_read read_chunked(std::string_view in, std::size_t at, bool eof, http_response_view& out,
                           const response_limits& limits) {
  out.chunked_body.clear();
  for (;;) {
    const std::size_t line_end = in.find("\r\n", at);
    if (line_end == std::string_view::npos) {
      if (in.size() - at > 4096) return fail("chunk-size line too long");
      return eof ? fail("the connection ended inside a chunked body") : response_read{};
    }
    std::size_t size = 0;
    std::size_t digits = 0;
    for (std::size_t i = at; i < line_end && hex_value(in[i]) >= 0; ++i, ++digits) {
      if (size > (limits.max_body_bytes >> 4)) return fail("chunked body over the limit");
      size = size * 16 + static_cast<std::size_t>(hex_value(in[i]));
    }
    if (digits == 0) return fail("bad chunk size");
    at = line_end + 2;
    if (size == 0) {  // the last chunk, then trailer lines up to an empty one
      for (;;) {
        const std::size_t end = in.find("\r\n", at);
        if (end == std::string_view::npos) return eof ? fail("the connection ended inside the trailer") : response_read{};
        const bool empty = end == at;
        at = end + 2;
        if (empty) break;
      }
      out.body = out.chunked_body;
      return {response_status::complete, at, ""};
    }
    if (out.chunked_body.size() + size > limits.max_body_bytes) return fail("chunked body over the limit");
    if (in.size() < at + size + 2) return eof ? fail("the connection ended inside a chunk") : response_read{};
    if (in.substr(at + size, 2) != "\r\n") return fail("no CRLF after a chunk");
    out.chunked_body.append(in.substr(at, size));
    at += size + 2;
  }
}

}  // namespace

std::optional<std::string_view> http_response_view::header(std::string_view name) const noexcept {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

response_read read_response(std::string_view in, bool eof, http_response_view& out, const response_limits& limits,
                            response_read_options options) {
  const std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (in.size() > limits.max_head_bytes) return fail("response head over the limit");
    if (in.size() >= 5 && in.substr(0, 5) != "HTTP/") return fail("not an HTTP response");
    return eof ? fail(in.empty() ? "the connection ended before a response" : "the connection ended inside the response head")
               : response_read{};
  }
  if (head_end + 4 > limits.max_head_bytes) return fail("response head over the limit");
  // Status line: HTTP/1.x SP 3DIGIT [SP reason] (RFC 9112 section 4).
  const std::size_t line_end = in.find("\r\n");
  const std::string_view status_line = in.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[7] < '0' || status_line[7] > '9' ||
      status_line[8] != ' ') {
    return fail("not an HTTP/1.x response");
  }
  out.minor_version = status_line[7] - '0';
  out.status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') return fail("bad status code");
    out.status = out.status * 10 + (status_line[i] - '0');
  }
  if (status_line.size() > 12 && status_line[12] != ' ') return fail("bad status line");
  out.reason = status_line.size() > 13 ? status_line.substr(13) : std::string_view{};
  out.headers.clear();
  out.body = {};
  out.head_bytes = head_end + 4;
  std::optional<std::size_t> content_length;
  bool chunked = false;
  bool close = false;
  bool keep_alive_token = false;
  for (std::size_t at = line_end + 2; at < head_end + 2;) {
    const std::size_t end = in.find("\r\n", at);
    const std::string_view line = in.substr(at, end - at);
    at = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("bad header line");
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    out.headers.emplace_back(name, value);
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      if (value.empty()) return fail("bad Content-Length");
      for (const char c : value) {
        if (c < '0' || c > '9' || n > limits.max_body_bytes) return fail("bad Content-Length");
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      if (content_length && *content_length != n) return fail("two Content-Length values");
      content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = has_token(value, "chunked");
    } else if (iequals(name, "connection")) {
      close |= has_token(value, "close");
      keep_alive_token |= has_token(value, "keep-alive");
    }
  }
  out.keep_alive = !close && (out.minor_version >= 1 || keep_alive_token);
  const std::size_t body_at = head_end + 4;
  if (options.head_only) return {response_status::complete, body_at, ""};
  if (options.no_body || out.status / 100 == 1 || out.status == 204 || out.status == 304) {
    return {response_status::complete, body_at, ""};
  }
  if (chunked) return read_chunked(in, body_at, eof, out, limits);
  if (content_length) {
    if (*content_length > limits.max_body_bytes) return fail("body over the limit");
    if (in.size() - body_at < *content_length) return eof ? fail("the connection ended inside the body") : response_read{};
    out.body = in.substr(body_at, *content_length);
    return {response_status::complete, body_at + *content_length, ""};
  }
  // Delimited by the end of the connection.
  if (in.size() - body_at > limits.max_body_bytes) return fail("body over the limit");
  if (!eof) return {};
  out.keep_alive = false;
  out.body = in.substr(body_at);
  return {response_status::complete, in.size(), ""};
}

}  // namespace eio::wire
