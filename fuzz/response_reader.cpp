// libFuzzer target: the HTTP/1.1 response reader of eio::wire
// (eio::wire::read_response, the one reader of poco_client and eiotool).
//
// First byte: options (bit 0 no_body, bit 1 head_only, bits 2-3 the limits:
// index 0 the defaults, then small ones). The rest is a server's byte
// stream, read as a client reads it: responses one after the other.
//
// Invariants, beyond no crash:
// - consumed never exceeds the input, and a complete response consumes at
//   least its head; views lie inside the input (or the chunked buffer);
// - a prefix of the stream never reads as complete with another length
//   than the whole stream gives (the bytes after a response do not change
//   it), unless the body runs to the end of the connection;
// - the status is three digits; the body is within max_body_bytes.
#include <eio/wire/response_reader.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr eio::wire::response_limits limits_table[] = {{}, {64, 16}, {200, 0}, {1024, 100}};

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  eio::wire::response_read_options options;
  options.no_body = (data[0] & 1) != 0;
  options.head_only = (data[0] & 2) != 0;
  const eio::wire::response_limits& limits = limits_table[(data[0] >> 2) & 3];
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  eio::wire::http_response_view view;
  eio::wire::http_response_view prefix_view;
  for (int responses = 0; responses < 64 && !stream.empty(); ++responses) {
    const auto whole = eio::wire::read_response(stream, true, view, limits, options);
    check(whole.status != eio::wire::response_status::need_more, "need_more at the end of the connection");
    if (whole.status == eio::wire::response_status::error) break;
    check(whole.consumed <= stream.size() && whole.consumed >= view.head_bytes, "consumed outside the response");
    check(view.status >= 0 && view.status <= 999, "status past three digits");
    check(view.body.size() <= limits.max_body_bytes, "body over the limit");
    check(inside(view.reason, stream), "reason outside the input");
    check(inside(view.body, stream) || view.body.data() == view.chunked_body.data(), "body outside its buffers");
    for (const auto& [name, value] : view.headers) check(inside(name, stream) && inside(value, stream), "header outside");
    const bool to_eof = whole.consumed == stream.size() && !options.head_only && !options.no_body && !view.header("content-length") &&
                        !view.header("transfer-encoding") && view.status / 100 != 1 && view.status != 204 && view.status != 304;
    // Every prefix: need_more, an error, or the same response.
    for (std::size_t cut = 0; cut < stream.size() && cut < 2048; cut += 1 + cut / 16) {
      const auto part = eio::wire::read_response(stream.substr(0, cut), false, prefix_view, limits, options);
      if (part.status == eio::wire::response_status::complete) {
        check(!to_eof, "a body to the end of the connection read as complete before it");
        check(part.consumed == whole.consumed && prefix_view.status == view.status, "a prefix read differently");
      }
    }
    stream.remove_prefix(whole.consumed);
    if (whole.consumed == 0) break;
  }
  return 0;
}
