// An HTTP/1.1 response reader, sans I/O and without copies, in the manner of
// picohttpparser: read_response() looks at the bytes received so far and says
// whether they hold a whole response (and how many bytes it took), need more,
// or are not an HTTP response. The status line and headers are views into
// the input; so is the body, except a chunked one, which is joined into the
// view's own buffer (kept between calls, so a reader reused for every
// response allocates nothing in steady state).
//
// Where the body ends (RFC 9112 section 6.3): no body for 1xx, 204 and 304
// answers and for an answer to HEAD (read_options::no_body); a 101 ends at
// its head (what follows is the upgraded protocol's); chunked by its
// chunks (trailer fields skipped); by Content-Length; else at the end of the
// connection (`eof`). One reader for the client and every tool.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eio::wire {

struct http_response_view {
  int status = 0;
  int minor_version = 1;  // HTTP/1.<minor_version>
  std::string_view reason;
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // name, value (trimmed)
  std::string_view body;
  bool keep_alive = true;  // the connection stays open after it (RFC 9112 section 9.3)
  std::size_t head_bytes = 0;  // the status line and headers with the empty line

  // The first header named `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;

  std::string chunked_body;  // the joined chunks, when the body was chunked
};

struct response_limits {
  std::size_t max_head_bytes = 64 * 1024;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
};

struct response_read_options {
  bool no_body = false;    // the answer to a HEAD request
  bool head_only = false;  // stop at the head: `consumed` ends there, body left empty
};

enum class response_status {
  complete,   // `out` describes the response; `consumed` bytes made it
  need_more,  // the input ends inside it: call again with more (or eof)
  error,      // not an HTTP/1.x response, or over a limit: `error` says what
};

struct response_read {
  response_status status = response_status::need_more;
  std::size_t consumed = 0;
  const char* error = "";  // static
};

// Reads one response from the front of `in`. `eof`: the connection has
// ended, so `in` is all there will be (a body that runs to the end of the
// connection is then complete; a cut one is an error). Views in `out` are
// valid as long as `in`'s bytes (and `out` itself, for a chunked body).
response_read read_response(std::string_view in, bool eof, http_response_view& out, const response_limits& limits = {},
                            response_read_options options = {});

}  // namespace eio::wire
