// The HTTP/1.1 request reader of eio::transport_poco, sans I/O (internal).
//
// Bytes in, events out, in the manner of picohttpparser: feed() takes the
// bytes the caller has not had consumed yet, consumes as many as it can up to
// the next event, and says what happened. No socket, no clock, no exception:
// the adapter owns those. Standard library and <eio/server.hpp> (for the
// http_request struct) only.
//
// One request at a time, as the adapter answers them (RFC 9112 section 9.3:
// no pipelined requests are processed in parallel, but their bytes may be
// buffered behind the current one):
//
//   reading_head --head--> [reading_body --body_done-->] complete
//        ^                                                   |
//        +------------------- reset_for_next() --------------+
//   any state --error--> failed (stays failed: close the connection)
//
// The head is parsed here (request line and field lines, RFC 9112 sections
// 3 and 5) rather than by Poco::Net::HTTPRequest, because the framing rules
// that keep requests from being smuggled past us are stricter than Poco's:
// no obs-fold, no bare CR or LF, exactly one Content-Length value, no
// Content-Length next to Transfer-Encoding, chunked as the only coding, and
// exactly one Host in HTTP/1.1.
#pragma once

#include <eio/server.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eio::wire {

struct http_reader_limits {
  // The head: the request line, field lines and the empty line that ends
  // them, with any empty lines before the request line (RFC 9112 section 2.2).
  // A head of exactly this many bytes is read; one byte more is a 431.
  std::size_t max_header_bytes = 16 * 1024;
  // Field lines in the head, and separately in a chunked body's trailer
  // section; one more is a 431.
  std::size_t max_header_count = 100;
  // The body, by Content-Length (413 at the head) or by the sum of the chunk
  // sizes (413 at the first chunk-size line that goes over).
  std::size_t max_body_bytes = 1'000'000;
  // A chunk-size line with its extensions and CRLF; one byte more is a 400.
  std::size_t max_chunk_line_bytes = 4096;
};

// The head of a request, and how its body is framed (RFC 9112 section 6).
struct http_head {
  http_request request;  // method, path, query, headers; body and remote_address left empty
  int minor_version = 1;  // HTTP/1.<minor_version>: 0 or 1
  // Whether the connection stays open after the answer (RFC 9112 section
  // 9.3): HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
  // "Connection: keep-alive" (and not close).
  bool keep_alive = true;
  bool chunked = false;                       // Transfer-Encoding: chunked
  std::optional<std::size_t> content_length;  // the Content-Length value, if sent
  bool expects_body = false;                  // chunked, or Content-Length > 0
};

// Why a request was rejected: answer `status` and close the connection.
struct http_reader_error {
  int status = 0;          // 400, 413, 431, 501 (transfer coding), 505 (HTTP version)
  std::string_view reason;  // a short static description, for logs and tests
  std::size_t offset = 0;   // bytes of this request (since reset) read before the fault
};

enum class http_read_event : std::uint8_t {
  need_more,  // every byte given was consumed: feed more
  head,       // head() is ready; consumed ends at its last byte
  body_done,  // body() holds the whole body; consumed ends at its last byte
  error,      // error says why; the reader stays failed
};

struct http_read_result {
  http_read_event event = http_read_event::need_more;
  std::size_t consumed = 0;  // bytes of the input used by this call, never more than it had
  http_reader_error error;   // with event == error
};

class http_reader {
public:
  explicit http_reader(http_reader_limits limits = {}) noexcept : limits_(limits) {}

  // Reads `in`: the bytes received and not consumed by an earlier call. The
  // result says how many it consumed (the caller drops them) and stops at the
  // first event, so bytes after a head or a body (the body, the next request)
  // stay with the caller. The same bytes give the same events and errors
  // however they are cut into feed() calls.
  //
  //   need_more  everything was consumed; nothing complete yet.
  //   head       the head is complete. If head().expects_body, keep feeding
  //              (after discard_body() if the body is not wanted) until
  //              body_done; otherwise the request is complete.
  //   body_done  the body is complete (chunked: the trailer section too).
  //   error      the request is rejected; see http_reader_error. When the
  //              status is 413 and the head was complete (Content-Length over
  //              the limit, or chunks adding up to more), has_head() is true
  //              and head() describes the request, so the adapter can answer
  //              in the request's terms. A failed reader consumes nothing
  //              and returns the same error again.
  //
  // Head errors (at the end of the head, or on the byte that takes it over
  // max_header_bytes): 400 for a malformed request line or field line (bad
  // method token, request target, or version syntax; a field line without a
  // colon, whitespace before the colon, an empty name, obs-fold, a control
  // character, a bare CR or LF), several differing Content-Length values or a
  // value that is not digits or overflows, Content-Length with
  // Transfer-Encoding, Transfer-Encoding in an HTTP/1.0 request, an HTTP/1.1
  // request without a Host field or any request with more than one (RFC
  // 9112 section 3.2; HTTP/1.0 may go without); 431 for a
  // head over max_header_bytes or more than max_header_count field lines;
  // 501 for a transfer coding other than exactly "chunked"; 505 for an
  // HTTP version other than 1.0 and 1.1; 413 for Content-Length over
  // max_body_bytes. Body errors: 400 for a bad chunk size, chunk-size line
  // or extension, a missing CRLF, or a malformed trailer line; 413 when the
  // chunk sizes add up to more than max_body_bytes; 431 for a trailer
  // section over max_header_bytes or max_header_count.
  //
  // Calling feed() when the request is complete (before reset_for_next()) is
  // a caller bug: it consumes nothing and returns need_more.
  http_read_result feed(std::string_view in);

  // After the head: read the body's framing but keep none of its bytes (a
  // request answered without its body, on a connection kept alive). The
  // limits still apply; body_done comes with body() empty.
  void discard_body() noexcept { discard_ = true; }

  // Forgets the request just read and waits for the next one's head. Not
  // after an error: a failed connection is closed, not reused.
  void reset_for_next() noexcept;

  bool has_head() const noexcept { return has_head_; }
  http_head& head() noexcept { return head_; }  // the caller may move from it
  const http_head& head() const noexcept { return head_; }
  std::string& body() noexcept { return body_; }  // the caller may move from it
  const std::string& body() const noexcept { return body_; }

  bool complete() const noexcept { return state_ == state::complete; }
  bool failed() const noexcept { return state_ == state::failed; }
  // Head bytes held, while waiting for the rest of the head and, once it is
  // read, until reset_for_next(): at most limits.max_header_bytes.
  std::size_t buffered_head_bytes() const noexcept { return head_bytes_.size(); }
  // The head exactly as it came (with any empty lines before it), from the
  // head event until reset_for_next(), and after a 413 with has_head().
  std::string_view raw_head() const noexcept { return head_bytes_; }
  const http_reader_limits& limits() const noexcept { return limits_; }

private:
  enum class state : std::uint8_t { reading_head, reading_body, complete, failed };
  // Where a chunked body is (RFC 9112 section 7.1), one byte at a time
  // except for chunk data.
  enum class chunk_state : std::uint8_t {
    size_first,  // the first hex digit of a chunk size
    size,        // more hex digits, BWS, ';' or CR
    size_bws,    // whitespace after the size: more of it, ';' or CR
    extension,   // after ';': anything but a control character, up to CR
    size_lf,     // the LF of the chunk-size line
    data,        // `chunk_left_` bytes of data
    data_cr,     // the CRLF after the data
    data_lf,
    trailer,     // a trailer field line, up to CR (an empty one ends the body)
    trailer_lf,
  };

  http_read_result fail(int status, std::string_view reason, std::size_t consumed, std::size_t offset);
  http_read_result read_head(std::string_view in);
  http_read_result parse_head(std::size_t consumed);
  http_read_result read_body(std::string_view in);
  http_read_result read_chunked(std::string_view in);

  http_reader_limits limits_;
  state state_ = state::reading_head;
  bool has_head_ = false;
  bool discard_ = false;
  http_head head_;
  std::string body_;
  http_reader_error error_;

  // The head as it arrives, and how far the scan for its end has got.
  std::string head_bytes_;
  bool head_started_ = false;  // a byte other than the CR and LF of leading empty lines seen
  std::uint8_t crlf_run_ = 0;  // how much of "\r\n\r\n" ends head_bytes_

  std::size_t message_bytes_ = 0;  // of this request, for error offsets
  std::size_t body_read_ = 0;      // body bytes read, kept or not
  std::size_t content_left_ = 0;   // Content-Length body bytes still to read
  chunk_state chunk_ = chunk_state::size_first;
  std::size_t chunk_left_ = 0;
  std::size_t chunk_line_bytes_ = 0;
  std::string trailer_line_;
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_count_ = 0;
};

}  // namespace eio::wire
