// libFuzzer target: eio::wire::connections, the connection layer under
// every adapter, with its eio::server core and a connection_io in memory.
//
// First byte: how the stream is cut into reads (1 + byte % 61 bytes each,
// 0: whole) and how far the clock moves between reads (bits 6-7: 0, 10 ms,
// 1 s, 20 s). Second byte: the socket's appetite for output (0: takes
// everything, else at most that many bytes a write, would_block between).
// The rest is one client's byte stream: requests, an upgrade, frames.
//
// Invariants, beyond no crash (and no leak or use after free under ASan):
// - every connection_io call names a connection that is open (opened and not
//   closed), and close comes once;
// - the connection's unsent bytes never pass max_output_bytes;
// - once the peer has ended, the connection is gone;
// - the handler's message events view bytes that are alive (ASan checks it:
//   each message is read whole).
#include <eio/wire/connections.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

struct memory_io final : eio::wire::connection_io {
  std::set<eio::connection_id> open;
  std::set<eio::connection_id> closed;
  std::size_t appetite = 0;  // 0: unbounded
  bool blocked = false;      // the last write filled the socket
  std::string written;
  long send(eio::connection_id id, const iovec* pieces, std::size_t count) override {
    check(open.count(id) == 1, "send to a connection that is not open");
    if (blocked) {
      blocked = false;
      return would_block;
    }
    long n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t take = pieces[i].iov_len;
      if (appetite && static_cast<std::size_t>(n) + take > appetite) take = appetite - static_cast<std::size_t>(n);
      if (written.size() < (1 << 20)) written.append(static_cast<const char*>(pieces[i].iov_base), take);
      n += static_cast<long>(take);
      if (appetite && static_cast<std::size_t>(n) >= appetite) {
        blocked = true;
        break;
      }
    }
    return n;
  }
  void want_write(eio::connection_id id, bool) override { check(open.count(id) == 1, "want_write on a closed connection"); }
  bool shutdown_send(eio::connection_id id) override {
    check(open.count(id) == 1, "shutdown_send on a closed connection");
    return true;
  }
  void close(eio::connection_id id) override {
    check(open.erase(id) == 1, "close of a connection that is not open");
    closed.insert(id);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step = data[0] % 64 == 0 ? size : 1 + data[0] % 61;
  const eio::millis ticks[] = {eio::millis(0), eio::millis(10), eio::millis(1000), eio::millis(20'000)};
  const eio::millis tick = ticks[data[0] >> 6];
  eio::server_options core_options;
  core_options.max_http_buffer_size = 4096;
  eio::server core(core_options);
  memory_io io;
  io.appetite = data[1];
  eio::wire::connection_options options;
  options.max_header_bytes = 2048;
  options.max_output_bytes = 64 * 1024;
  options.per_message_deflate = true;
  std::size_t message_bytes = 0;
  eio::wire::connections wire(core, io, options, [&](eio::server& c, eio::event& e, eio::millis now) {
    if (auto* m = std::get_if<eio::message_event>(&e)) {
      for (const char ch : m->data) message_bytes += static_cast<unsigned char>(ch) & 1;  // read every byte
      c.send(m->session, m->data, m->kind, now);  // echo: the direct path and actions both
    }
  });
  eio::millis now{1'000'000};
  const eio::connection_id id = wire.open(now, "127.0.0.1:9");
  io.open.insert(id);
  wire.start(id, now);
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  while (!stream.empty()) {
    const std::string_view read = stream.substr(0, step);
    stream.remove_prefix(read.size());
    wire.received(id, read, now);
    wire.input_done(id, now);
    wire.pump(now);
    check(wire.unsent_bytes(id) <= options.max_output_bytes, "output past max_output_bytes");
    if (wire.contains(id)) wire.writable(id, now);
    wire.pump(now);
    now += tick;
    wire.on_timeout(now);
  }
  for (int i = 0; i < 4 && wire.contains(id); ++i) {
    now += eio::millis(30'000);
    wire.writable(id, now);
    wire.on_timeout(now);
  }
  if (wire.contains(id)) wire.peer_closed(id, now);
  wire.pump(now);
  check(!wire.contains(id) && io.open.empty(), "the connection outlived its peer");
  (void)message_bytes;
  return 0;
}
