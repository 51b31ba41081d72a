// eio::wire alone (no Poco on the link line): one handshake request through
// wire::connections to the core and back, with connection_io kept in memory.
#include <eio/wire/connections.hpp>

#include <cstdio>
#include <string>

namespace {

struct memory_io final : eio::wire::connection_io {
  std::string written;
  long send(eio::connection_id, const iovec* pieces, std::size_t count) override {
    long n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      written.append(static_cast<const char*>(pieces[i].iov_base), pieces[i].iov_len);
      n += static_cast<long>(pieces[i].iov_len);
    }
    return n;
  }
  void want_write(eio::connection_id, bool) override {}
  bool shutdown_send(eio::connection_id) override { return true; }
  void close(eio::connection_id) override {}
};

}  // namespace

int main() {
  eio::server core;
  memory_io io;
  eio::wire::connections wire(core, io, {}, [](eio::server&, eio::event&, eio::millis) {});
  const eio::millis now{1000};
  const eio::connection_id id = wire.open(now, "127.0.0.1:1");
  wire.start(id, now);
  wire.received(id, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n", now);
  wire.input_done(id, now);
  wire.pump(now);
  if (io.written.rfind("HTTP/1.1 200 OK\r\n", 0) != 0 || io.written.find("\r\n\r\n0{\"sid\":") == std::string::npos) {
    std::fprintf(stderr, "unexpected answer:\n%s\n", io.written.c_str());
    return 1;
  }
  return 0;
}
