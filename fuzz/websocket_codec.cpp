// libFuzzer target: the RFC 6455 frame reader (eio::websocket::frame_reader).
// First byte: the message size limit; the rest is a client byte stream.
// Invariants, beyond no crash:
// - the events do not depend on how the stream is cut into reads;
// - a message never exceeds the limit; a text message and a close reason are UTF-8;
// - after an error or close nothing more is read;
// - every event survives the writer: frames written back (unmasked) read
//   back as the same events.
#include <eio/utf8.hpp>
#include <eio/websocket_codec.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using eio::websocket::frame_event;

struct seen {
  frame_event::kind what;
  eio::frame_kind message_kind;
  std::string data;
  std::uint16_t code;
  bool operator==(const seen& o) const {
    return what == o.what && message_kind == o.message_kind && data == o.data && code == o.code;
  }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<seen> read_all(std::string_view stream, std::size_t step, std::size_t limit, bool require_masked) {
  eio::websocket::frame_reader reader(limit, require_masked);
  std::vector<seen> events;
  std::string buffer;
  std::size_t fed = 0;
  for (;;) {
    const std::size_t take = std::min(step, stream.size() - fed);
    buffer.append(stream.substr(fed, take));
    fed += take;
    for (;;) {
      frame_event e;
      const std::size_t used = reader.read(buffer, e);
      check(used <= buffer.size(), "consumed more than given");
      buffer.erase(0, used);
      if (e.what == frame_event::kind::need_more) break;
      const bool message = e.what == frame_event::kind::message;
      events.push_back({e.what, message ? e.message_kind : eio::frame_kind::text, std::string(e.data), e.close_code});
      if (message) check(e.data.size() <= limit, "message over the limit");
      if (message && e.message_kind == eio::frame_kind::text) check(eio::utf8_valid_prefix(e.data) == e.data.size(), "text not UTF-8");
      if (e.what == frame_event::kind::error || e.what == frame_event::kind::close) {
        frame_event again;
        check(reader.read(buffer, again) == 0 && again.what == e.what, "read past the end");
        return events;
      }
    }
    if (fed == stream.size()) return events;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t limit = 1 + data[0] * 16u;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<seen> whole = read_all(stream, stream.size() + 1, limit, true);
  const std::size_t step = 1 + (size % 13);
  check(read_all(stream, step, limit, true) == whole, "events depend on the read size");
  if (stream.size() <= 512) check(read_all(stream, 1, limit, true) == whole, "events differ byte by byte");

  // Written back by the server-side writer and read again (unmasked frames).
  std::string written;
  std::vector<seen> expected;
  for (const seen& s : whole) {
    using kind = frame_event::kind;
    if (s.what == kind::message) {
      eio::websocket::append_frame(s.message_kind == eio::frame_kind::text ? eio::websocket::opcode::text
                                                                           : eio::websocket::opcode::binary,
                                   s.data, written);
    } else if (s.what == kind::ping || s.what == kind::pong) {
      eio::websocket::append_frame(s.what == kind::ping ? eio::websocket::opcode::ping : eio::websocket::opcode::pong,
                                   s.data, written);
    } else if (s.what == kind::close && s.code != 1005) {
      eio::websocket::append_close_frame(s.code, s.data, written);
    } else {
      break;  // errors and code-less closes have no frame of their own
    }
    expected.push_back(s);
  }
  const std::vector<seen> again = read_all(written, written.size() + 1, limit, false);
  check(again == expected, "the writer's frames read back differently");
  return 0;
}
