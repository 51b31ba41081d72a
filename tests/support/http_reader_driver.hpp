// Drives eio::wire::http_reader over a byte stream the way an adapter does,
// cut into reads of a chosen size, and records what it read in a comparable
// form. Shared by tests/http_reader_test.cpp and fuzz/http_reader.cpp.
#pragma once

#include <eio/wire/http_reader.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace eio::test {

// One event, with what came with it.
struct http_record {
  wire::http_read_event event = wire::http_read_event::need_more;
  // head (also kept with a 413 that has a head)
  std::string method, path, query;
  std::vector<std::pair<std::string, std::string>> headers;
  int minor_version = 0;
  bool keep_alive = false, chunked = false, expects_body = false;
  std::optional<std::size_t> content_length;
  // body_done
  std::string body;
  // error
  int status = 0;
  std::string reason;
  std::size_t offset = 0;

  friend bool operator==(const http_record& a, const http_record& b) {
    return a.event == b.event && a.method == b.method && a.path == b.path && a.query == b.query &&
           a.headers == b.headers && a.minor_version == b.minor_version && a.keep_alive == b.keep_alive &&
           a.chunked == b.chunked && a.expects_body == b.expects_body && a.content_length == b.content_length &&
           a.body == b.body && a.status == b.status && a.reason == b.reason && a.offset == b.offset;
  }
  friend bool operator!=(const http_record& a, const http_record& b) { return !(a == b); }
};

// Everything read from one stream.
struct http_transcript {
  std::vector<http_record> events;
  std::size_t consumed = 0;  // bytes of the stream consumed in all
  // Invariants seen along the way (checked by the callers).
  bool consumed_within_input = true;
  bool head_within_limit = true;
  bool body_within_limit = true;

  friend bool operator==(const http_transcript& a, const http_transcript& b) {
    return a.events == b.events && a.consumed == b.consumed;
  }
  friend bool operator!=(const http_transcript& a, const http_transcript& b) { return !(a == b); }
};

inline const char* to_string(wire::http_read_event e) {
  switch (e) {
    case wire::http_read_event::need_more: return "need_more";
    case wire::http_read_event::head: return "head";
    case wire::http_read_event::body_done: return "body_done";
    case wire::http_read_event::error: return "error";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, const http_record& r) {
  os << to_string(r.event);
  if (r.event == wire::http_read_event::head || (r.event == wire::http_read_event::error && !r.method.empty())) {
    os << " " << r.method << " " << r.path << (r.query.empty() ? "" : "?") << r.query << " HTTP/1."
       << r.minor_version << " headers=" << r.headers.size() << (r.keep_alive ? " keep-alive" : " close")
       << (r.chunked ? " chunked" : "") << (r.expects_body ? " body" : "");
    if (r.content_length) os << " length=" << *r.content_length;
  }
  if (r.event == wire::http_read_event::body_done) os << " body=" << r.body.size() << "B";
  if (r.event == wire::http_read_event::error) os << " " << r.status << " '" << r.reason << "' at " << r.offset;
  return os;
}

inline std::ostream& operator<<(std::ostream& os, const http_transcript& t) {
  os << "{consumed " << t.consumed << ":";
  for (const auto& e : t.events) os << " [" << e << "]";
  return os << "}";
}

inline void record_head(const wire::http_head& h, http_record& r) {
  r.method = h.request.method;
  r.path = h.request.path;
  r.query = h.request.query;
  for (const auto& f : h.request.headers) r.headers.emplace_back(f.name, f.value);
  r.minor_version = h.minor_version;
  r.keep_alive = h.keep_alive;
  r.chunked = h.chunked;
  r.expects_body = h.expects_body;
  r.content_length = h.content_length;
}

// Reads `stream` in reads of `step` bytes (the last one shorter), as an
// adapter would: the unconsumed bytes stay in its buffer, each read is
// appended, and after a complete request it resets the reader for the next
// one. Stops at the first error. With `discard`, bodies are discarded.
// Each feed() gets a fresh copy of the buffer, so a reader that kept a view
// into an earlier one shows up under ASan.
inline http_transcript read_stream(std::string_view stream, std::size_t step, wire::http_reader_limits limits = {},
                                   bool discard = false) {
  wire::http_reader reader(limits);
  http_transcript t;
  std::string buffer;
  std::size_t fed = 0;
  step = std::max<std::size_t>(step, 1);
  for (;;) {
    const std::size_t take = std::min(step, stream.size() - fed);
    buffer.append(stream.substr(fed, take));
    fed += take;
    for (;;) {
      const std::string copy = buffer;
      const wire::http_read_result r = reader.feed(copy);
      if (r.consumed > copy.size()) t.consumed_within_input = false;
      const std::size_t used = std::min(r.consumed, copy.size());
      buffer.erase(0, used);
      t.consumed += used;
      if (reader.buffered_head_bytes() > limits.max_header_bytes) t.head_within_limit = false;
      if (reader.body().size() > limits.max_body_bytes) t.body_within_limit = false;
      if (r.event == wire::http_read_event::need_more) {
        if (!buffer.empty()) t.consumed_within_input = false;  // need_more consumes everything
        break;
      }
      http_record rec;
      rec.event = r.event;
      if (r.event == wire::http_read_event::error) {
        if (reader.has_head()) record_head(reader.head(), rec);
        rec.status = r.error.status;
        rec.reason = std::string(r.error.reason);
        rec.offset = r.error.offset;
        t.events.push_back(std::move(rec));
        return t;
      }
      if (r.event == wire::http_read_event::head) {
        record_head(reader.head(), rec);
        t.events.push_back(std::move(rec));
        if (reader.head().expects_body) {
          if (discard) reader.discard_body();
          continue;
        }
      } else {  // body_done
        rec.body = reader.body();
        t.events.push_back(std::move(rec));
      }
      reader.reset_for_next();
    }
    if (fed == stream.size()) return t;
  }
}

}  // namespace eio::test
