// libFuzzer target: the HTTP/1.1 request reader of eio::wire
// (eio::wire::http_reader, libs/wire/src/http_reader.cpp).
//
// First byte: the limits (bits 0-1 max_header_bytes, 2-3 max_header_count,
// 4-5 max_body_bytes, 6-7 max_chunk_line_bytes; index 0 is the default, see
// the tables below). The rest is a client byte stream, read as an adapter
// reads it: requests one after the other, the reader reset after each.
//
// Invariants, beyond no crash:
// - the events (heads, bodies, errors with status, reason and offset) and the
//   bytes consumed do not depend on how the stream is cut into reads: whole,
//   reads of an input-chosen size, and, up to 4096 bytes, one byte at a time;
// - consumed never exceeds the bytes given, and need_more consumes them all;
// - the buffered head never exceeds max_header_bytes, a body never exceeds
//   max_body_bytes, and without an error the whole stream is consumed;
// - errors are 400, 413, 431, 501 or 505 with a reason; an error comes with
//   the head only when it is a 413 or follows the head event;
// - discarding bodies gives the same events with empty bodies;
// - every request read, written out again canonically (one field line per
//   header, the body as it was framed), reads back as the same head and body.
#include "http_reader_driver.hpp"  // tests/support

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace {

using eio::wire::http_read_event;
using eio::wire::http_reader_limits;
using eio::test::http_record;
using eio::test::http_transcript;
using eio::test::read_stream;

constexpr std::size_t header_bytes[] = {16 * 1024, 48, 128, 400};
constexpr std::size_t header_counts[] = {100, 0, 1, 4};
constexpr std::size_t body_bytes[] = {1'000'000, 0, 7, 100};
constexpr std::size_t chunk_line_bytes[] = {4096, 3, 8, 40};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void check_same(const http_transcript& whole, const http_transcript& other, const char* how) {
  if (whole == other) return;
  std::ostringstream out;
  out << "reading " << how << " differs from reading the whole stream\n  whole: " << whole << "\n  " << how << ": "
      << other << "\n";
  std::fputs(out.str().c_str(), stderr);
  std::abort();
}

void check_invariants(const http_transcript& t, std::size_t stream_size, const http_reader_limits& limits) {
  check(t.consumed_within_input, "consumed more than given, or need_more left bytes");
  check(t.head_within_limit, "buffered head over max_header_bytes");
  check(t.body_within_limit, "body over max_body_bytes");
  check(t.consumed <= stream_size, "consumed more than the stream");
  const bool failed = !t.events.empty() && t.events.back().event == http_read_event::error;
  if (!failed) check(t.consumed == stream_size, "stream not consumed without an error");
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    const http_record& r = t.events[i];
    if (r.event == http_read_event::body_done) check(r.body.size() <= limits.max_body_bytes, "body over the limit");
    if (r.event == http_read_event::head) check(r.headers.size() <= limits.max_header_count, "too many headers");
    if (r.event != http_read_event::error) continue;
    check(r.status == 400 || r.status == 413 || r.status == 431 || r.status == 501 || r.status == 505,
          "unexpected status");
    check(!r.reason.empty(), "error without a reason");
    check(r.method.empty() || r.status == 413 || (i > 0 && t.events[i - 1].event == http_read_event::head),
          "a head kept with a head error");
  }
}

// The request as a client could have sent it, written canonically.
std::string rewrite(const http_record& head, const std::string* body) {
  // An empty path and query came from the target "?".
  const bool question = !head.query.empty() || head.path.empty();
  std::string out = head.method + " " + head.path + (question ? "?" : "") + head.query + " HTTP/1." +
                    std::to_string(head.minor_version) + "\r\n";
  for (const auto& [name, value] : head.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!body) return out;
  if (head.chunked) {
    if (!body->empty()) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", body->size());
      out += size + *body + "\r\n";
    }
    out += "0\r\n\r\n";
  } else {
    out += *body;
  }
  return out;
}

// FNV-1a: a split position that follows the input, so a mutation that keeps
// the stream but moves the split is one the fuzzer can find.
std::uint64_t input_hash(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  http_reader_limits limits;
  limits.max_header_bytes = header_bytes[data[0] & 3];
  limits.max_header_count = header_counts[(data[0] >> 2) & 3];
  limits.max_body_bytes = body_bytes[(data[0] >> 4) & 3];
  limits.max_chunk_line_bytes = chunk_line_bytes[(data[0] >> 6) & 3];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  const http_transcript whole = read_stream(stream, stream.size() + 1, limits);
  check_invariants(whole, stream.size(), limits);

  // Reads of an input-chosen size (at least one split point when the stream
  // has two bytes), then one byte at a time.
  const std::size_t step = stream.size() < 2 ? 1 : 1 + input_hash(stream) % (stream.size() - 1);
  const http_transcript split = read_stream(stream, step, limits);
  check_invariants(split, stream.size(), limits);
  check_same(whole, split, "in reads of an input-chosen size");
  if (stream.size() <= 4096) {
    const http_transcript bytewise = read_stream(stream, 1, limits);
    check_invariants(bytewise, stream.size(), limits);
    check_same(whole, bytewise, "one byte at a time");
  }

  // Discarding bodies changes nothing but the bodies.
  http_transcript discarded = read_stream(stream, step, limits, true);
  check_invariants(discarded, stream.size(), limits);
  http_transcript expected = whole;
  for (http_record& r : expected.events) {
    if (r.event == http_read_event::body_done) r.body.clear();
  }
  check_same(expected, discarded, "with bodies discarded");

  // Every complete request, rewritten, reads back the same. The head may
  // grow ("name:value" becomes "name: value"), so only the body limit stays.
  http_reader_limits roomy = limits;
  roomy.max_header_bytes = 1 << 20;
  roomy.max_chunk_line_bytes = 64;
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    const http_record& head = whole.events[i];
    if (head.event != http_read_event::head) continue;
    const bool has_body = head.expects_body;
    if (has_body && (i + 1 >= whole.events.size() || whole.events[i + 1].event != http_read_event::body_done)) break;
    const std::string* body = has_body ? &whole.events[i + 1].body : nullptr;
    const std::string again = rewrite(head, body);
    const http_transcript reread = read_stream(again, again.size() + 1, roomy);
    http_transcript want;
    want.events.push_back(head);
    if (body) want.events.push_back(whole.events[i + 1]);
    want.consumed = again.size();
    check_same(want, reread, "a rewritten request");
  }
  return 0;
}
