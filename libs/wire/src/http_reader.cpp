// The HTTP/1.1 request reader (see http_reader.hpp). Section numbers are RFC
// 9112 (HTTP/1.1) unless they say RFC 9110 (HTTP semantics).
#include <eio/wire/http_reader.hpp>
#include <eio/wire/http_text.hpp>

#include <algorithm>
#include <limits>

namespace eio::wire {
namespace {

// RFC 9110 section 5.6.2: tchar, the characters of a method or field name.
bool is_tchar(unsigned char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Control characters other than HTAB: never in a field value or chunk
// extension (RFC 9110 section 5.5; a bare CR or LF is one of them).
bool is_forbidden_ctl(unsigned char c) noexcept { return (c < 0x20 && c != '\t') || c == 0x7F; }

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

int hex_value(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each element of a comma-separated list, trimmed, empty
// ones skipped (RFC 9110 section 5.6.1); stops early when f returns false.
template <typename F>
bool for_each_element(std::string_view list, F&& f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !f(element)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

struct field_line {
  std::string_view name;
  std::string_view value;
  const char* error = nullptr;  // why the line is malformed, or null
};

// Section 5: field-line = field-name ":" OWS field-value OWS, the line's CRLF
// already removed.
field_line parse_field_line(std::string_view line) noexcept {
  field_line f;
  if (!line.empty() && is_ows(line.front())) {
    f.error = "obs-fold (line starting with whitespace)";  // section 5.2: reject with 400
    return f;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    f.error = "field line without a colon";
    return f;
  }
  f.name = line.substr(0, colon);
  if (f.name.empty()) {
    f.error = "empty field name";
    return f;
  }
  for (const char c : f.name) {
    if (is_ows(c)) {
      f.error = "whitespace before the colon";  // section 5.1: MUST reject with 400
      return f;
    }
    if (!is_tchar(static_cast<unsigned char>(c))) {
      f.error = "invalid character in a field name";
      return f;
    }
  }
  f.value = trim_ows(line.substr(colon + 1));
  for (const char c : f.value) {
    if (is_forbidden_ctl(static_cast<unsigned char>(c))) {
      f.error = "control character in a field value";
      return f;
    }
  }
  return f;
}

// Content-Length (RFC 9110 section 8.6): 1*DIGIT, or a list of identical
// values. Sets `error` on anything else, including a value over SIZE_MAX.
void read_content_length(std::string_view value, std::optional<std::size_t>& length, const char*& error) {
  bool any = false;
  for_each_element(value, [&](std::string_view element) {
    any = true;
    std::size_t n = 0;
    for (const char c : element) {
      if (c < '0' || c > '9') {
        error = "Content-Length is not a number";
        return false;
      }
      const auto digit = static_cast<std::size_t>(c - '0');
      if (n > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
        error = "Content-Length overflows";
        return false;
      }
      n = n * 10 + digit;
    }
    if (length && *length != n) {
      error = "differing Content-Length values";  // section 6.3 rule 5
      return false;
    }
    length = n;
    return true;
  });
  if (!any && !error) error = "empty Content-Length";
}

}  // namespace

http_read_result http_reader::fail(int status, std::string_view reason, std::size_t consumed, std::size_t offset) {
  state_ = state::failed;
  error_ = {status, reason, offset};
  if (!has_head_) head_bytes_.clear();  // a read head stays: raw_head() after a 413 at the head
  return {http_read_event::error, consumed, error_};
}

http_read_result http_reader::feed(std::string_view in) {
  switch (state_) {
    case state::reading_head:
      return read_head(in);
    case state::reading_body:
      return read_body(in);
    case state::complete:
      return {};
    case state::failed:
      return {http_read_event::error, 0, error_};
  }
  return {};
}

void http_reader::reset_for_next() noexcept {
  if (state_ == state::failed) return;
  state_ = state::reading_head;
  has_head_ = false;
  discard_ = false;
  head_ = {};
  body_.clear();
  head_bytes_.clear();
  head_bytes_.shrink_to_fit();  // a connection idles with nothing buffered
  head_started_ = false;
  crlf_run_ = 0;
  message_bytes_ = 0;
  body_read_ = 0;
  content_left_ = 0;
  chunk_ = chunk_state::size_first;
  chunk_left_ = 0;
  chunk_line_bytes_ = 0;
  trailer_line_.clear();
  trailer_bytes_ = 0;
  trailer_count_ = 0;
}

// Buffers the head until the empty line that ends it, never more than
// max_header_bytes of it; empty lines before the request line count (section
// 2.2 lets a server ignore them, and they still cost memory).
http_read_result http_reader::read_head(std::string_view in) {
  std::size_t used = 0;
  while (used < in.size()) {
    if (head_bytes_.size() >= limits_.max_header_bytes) {
      return fail(431, "head over max_header_bytes", used, message_bytes_);
    }
    const char c = in[used++];
    head_bytes_.push_back(c);
    ++message_bytes_;
    if (!head_started_) {
      if (c != '\r' && c != '\n') head_started_ = true;
      continue;
    }
    // How much of "\r\n\r\n" the head now ends with.
    switch (crlf_run_) {
      case 0: crlf_run_ = c == '\r' ? 1 : 0; break;
      case 1: crlf_run_ = c == '\n' ? 2 : c == '\r' ? 1 : 0; break;
      case 2: crlf_run_ = c == '\r' ? 3 : 0; break;
      default: crlf_run_ = c == '\n' ? 4 : c == '\r' ? 1 : 0; break;
    }
    if (crlf_run_ == 4) return parse_head(used);
  }
  return {http_read_event::need_more, used, {}};
}

// Parses a complete head (it ends with CRLF CRLF) and sets up the body.
http_read_result http_reader::parse_head(std::size_t consumed) {
  const std::string_view h = head_bytes_;
  std::size_t pos = 0;
  auto bad = [&](int status, std::string_view reason, std::size_t at) { return fail(status, reason, consumed, at); };

  while (h[pos] == '\r' || h[pos] == '\n') {  // leading empty lines, each a CRLF
    if (h.compare(pos, 2, "\r\n") != 0) return bad(400, "bare CR or LF before the request line", pos);
    pos += 2;
  }
  // Every line ends at its first CR, which must be followed by LF; a bare LF
  // inside a line is a control character and rejected below.
  auto next_line = [&](std::string_view& line) {
    const std::size_t cr = h.find('\r', pos);  // found: the head ends with CRLF CRLF
    line = h.substr(pos, cr - pos);
    if (h[cr + 1] != '\n') return false;
    pos = cr + 2;
    return true;
  };

  // Section 3: request-line = method SP request-target SP HTTP-version.
  std::string_view line;
  const std::size_t line_start = pos;
  if (!next_line(line)) return bad(400, "bare CR in the request line", line_start);
  const std::size_t sp1 = line.find(' ');
  const std::string_view method = line.substr(0, sp1);
  if (method.empty()) return bad(400, "missing method", line_start);
  for (const char c : method) {
    if (!is_tchar(static_cast<unsigned char>(c))) return bad(400, "invalid method", line_start);
  }
  if (sp1 == std::string_view::npos) return bad(400, "request line without a target", line_start);
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad(400, "request line without a version", line_start);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty()) return bad(400, "empty request target", line_start);
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return bad(400, "invalid character in the request target", line_start);
  }
  // Section 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[5] < '0' || version[5] > '9' ||
      version[6] != '.' || version[7] < '0' || version[7] > '9') {
    return bad(400, "bad HTTP version", line_start);
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return bad(505, "HTTP version not supported", line_start);
  }

  http_head head;
  head.minor_version = version[7] - '0';
  head.request.method = std::string(method);
  const std::size_t question = target.find('?');
  head.request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) head.request.query = std::string(target.substr(question + 1));

  // Section 5: field lines up to the empty line.
  bool transfer_encoding = false;
  std::size_t codings = 0, chunked_codings = 0;
  bool other_coding = false;
  bool connection_close = false, connection_keep_alive = false;
  const char* length_error = nullptr;
  std::size_t length_error_at = 0;
  std::size_t host_fields = 0, second_host_at = 0;
  for (;;) {
    const std::size_t field_start = pos;
    if (!next_line(line)) return bad(400, "bare CR in a field line", field_start);
    if (line.empty()) break;
    if (head.request.headers.size() >= limits_.max_header_count) return bad(431, "too many header fields", field_start);
    const field_line f = parse_field_line(line);
    if (f.error) return bad(400, f.error, field_start);
    if (ascii_iequals(f.name, "content-length")) {
      if (!length_error) {
        read_content_length(f.value, head.content_length, length_error);
        length_error_at = field_start;
      }
    } else if (ascii_iequals(f.name, "transfer-encoding")) {
      transfer_encoding = true;
      for_each_element(f.value, [&](std::string_view coding) {
        ++codings;
        if (ascii_iequals(coding, "chunked")) {
          ++chunked_codings;
        } else {
          other_coding = true;
        }
        return true;
      });
    } else if (ascii_iequals(f.name, "host")) {
      if (++host_fields == 2) second_host_at = field_start;
    } else if (ascii_iequals(f.name, "connection")) {
      for_each_element(f.value, [&](std::string_view option) {
        if (ascii_iequals(option, "close")) connection_close = true;
        if (ascii_iequals(option, "keep-alive")) connection_keep_alive = true;
        return true;
      });
    }
    head.request.headers.push_back({std::string(f.name), std::string(f.value)});
  }

  // Section 6: the body's framing. A request where two readers could see
  // different bodies is refused outright (section 6.3, "request smuggling").
  if (length_error) return bad(400, length_error, length_error_at);
  if (transfer_encoding) {
    if (head.content_length) return bad(400, "both Content-Length and Transfer-Encoding", h.size());
    if (head.minor_version == 0) return bad(400, "Transfer-Encoding in an HTTP/1.0 request", h.size());
    if (other_coding) return bad(501, "transfer coding other than chunked", h.size());
    if (codings != 1 || chunked_codings != 1) return bad(400, "chunked must be the only transfer coding, once", h.size());
    head.chunked = true;
  }
  // Section 3.2: no Host in HTTP/1.1, or two in any version, is a 400; before
  // the 413 below, so such a request is refused whatever its body.
  if (const char* problem = host_field_problem(host_fields, head.minor_version == 1)) {
    return bad(400, problem, host_fields > 1 ? second_host_at : h.size());
  }
  const std::size_t length = head.content_length.value_or(0);
  head.expects_body = head.chunked || length > 0;
  // Section 9.3: persistence.
  head.keep_alive = head.minor_version == 1 ? !connection_close : connection_keep_alive && !connection_close;

  head_ = std::move(head);
  has_head_ = true;
  // head_bytes_ stays until reset_for_next(): raw_head() (the adapter hands
  // a request to another thread as the bytes it came as).
  if (length > limits_.max_body_bytes) return fail(413, "Content-Length over max_body_bytes", consumed, h.size());
  content_left_ = length;
  state_ = head_.expects_body ? state::reading_body : state::complete;
  return {http_read_event::head, consumed, {}};
}

http_read_result http_reader::read_body(std::string_view in) {
  if (head_.chunked) return read_chunked(in);
  const std::size_t take = std::min(content_left_, in.size());
  if (!discard_) body_.append(in.data(), take);
  content_left_ -= take;
  body_read_ += take;
  message_bytes_ += take;
  if (content_left_ > 0) return {http_read_event::need_more, take, {}};
  state_ = state::complete;
  return {http_read_event::body_done, take, {}};
}

// Section 7.1: chunked-body = *chunk last-chunk trailer-section CRLF.
http_read_result http_reader::read_chunked(std::string_view in) {
  std::size_t used = 0;
  while (used < in.size()) {
    if (chunk_ == chunk_state::data) {
      const std::size_t take = std::min(chunk_left_, in.size() - used);
      if (!discard_) body_.append(in.data() + used, take);
      used += take;
      chunk_left_ -= take;
      body_read_ += take;
      message_bytes_ += take;
      if (chunk_left_ == 0) chunk_ = chunk_state::data_cr;
      continue;
    }
    const auto c = static_cast<unsigned char>(in[used++]);
    const std::size_t at = message_bytes_++;
    auto bad = [&](int status, std::string_view reason) { return fail(status, reason, used, at); };
    const bool size_line = chunk_ == chunk_state::size_first || chunk_ == chunk_state::size ||
                           chunk_ == chunk_state::size_bws || chunk_ == chunk_state::extension ||
                           chunk_ == chunk_state::size_lf;
    if (size_line && ++chunk_line_bytes_ > limits_.max_chunk_line_bytes) return bad(400, "chunk-size line too long");
    const bool trailer = chunk_ == chunk_state::trailer || chunk_ == chunk_state::trailer_lf;
    if (trailer && ++trailer_bytes_ > limits_.max_header_bytes) return bad(431, "trailer section over max_header_bytes");
    switch (chunk_) {
      case chunk_state::size_first:
      case chunk_state::size: {
        const int digit = hex_value(c);
        if (digit >= 0) {
          // The sum of the chunk sizes stays within the limit (which also
          // keeps chunk_left_ from overflowing), checked digit by digit.
          const std::size_t room = limits_.max_body_bytes - body_read_;
          const auto d = static_cast<std::size_t>(digit);
          if (d > room || chunk_left_ > (room - d) / 16) {
            return bad(413, "chunked body over max_body_bytes");
          }
          chunk_left_ = chunk_left_ * 16 + static_cast<std::size_t>(digit);
          chunk_ = chunk_state::size;
        } else if (chunk_ == chunk_state::size_first) {
          return bad(400, "chunk size is not a hex number");
        } else if (c == '\r') {
          chunk_ = chunk_state::size_lf;
        } else if (c == ';') {
          chunk_ = chunk_state::extension;
        } else if (is_ows(static_cast<char>(c))) {
          chunk_ = chunk_state::size_bws;
        } else {
          return bad(400, "bad character after the chunk size");
        }
        break;
      }
      case chunk_state::size_bws:  // BWS is only allowed before ";" (chunk-ext)
        if (c == ';') {
          chunk_ = chunk_state::extension;
        } else if (!is_ows(static_cast<char>(c))) {
          return bad(400, "whitespace after the chunk size without an extension");
        }
        break;
      case chunk_state::extension:  // extensions are ignored (section 7.1.1), but bounded and CTL-free
        if (c == '\r') {
          chunk_ = chunk_state::size_lf;
        } else if (is_forbidden_ctl(c)) {
          return bad(400, "control character in a chunk extension");
        }
        break;
      case chunk_state::size_lf:
        if (c != '\n') return bad(400, "chunk-size line without CRLF");
        chunk_line_bytes_ = 0;
        chunk_ = chunk_left_ == 0 ? chunk_state::trailer : chunk_state::data;
        break;
      case chunk_state::data:
        break;  // handled above
      case chunk_state::data_cr:
        if (c != '\r') return bad(400, "chunk data without CRLF");
        chunk_ = chunk_state::data_lf;
        break;
      case chunk_state::data_lf:
        if (c != '\n') return bad(400, "chunk data without CRLF");
        chunk_ = chunk_state::size_first;
        break;
      case chunk_state::trailer:
        if (c == '\r') {
          chunk_ = chunk_state::trailer_lf;
        } else {
          trailer_line_.push_back(static_cast<char>(c));  // bounded by max_header_bytes above
        }
        break;
      case chunk_state::trailer_lf:
        if (c != '\n') return bad(400, "bare CR in the trailer section");
        if (trailer_line_.empty()) {
          state_ = state::complete;
          return {http_read_event::body_done, used, {}};
        }
        // Section 7.1.2: trailer fields are field lines; they are read and
        // dropped (Engine.IO has no use for them).
        if (++trailer_count_ > limits_.max_header_count) return bad(431, "too many trailer fields");
        if (const field_line f = parse_field_line(trailer_line_); f.error) return bad(400, f.error);
        trailer_line_.clear();
        chunk_ = chunk_state::trailer;
        break;
    }
  }
  return {http_read_event::need_more, used, {}};
}

}  // namespace eio::wire
