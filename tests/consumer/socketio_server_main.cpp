// The Socket.IO server model through eio::socketio_server alone (it brings
// eio::socketio and eio::session): a WebSocket session on a core, a CONNECT,
// an event echoed by a handler.
#include <eio/server.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/socket.hpp>

#include <cstdio>
#include <string>
#include <variant>

int main() {
  using namespace eio::socketio;
  server io;
  io.on_connection([](socket& s) {
    s.on("ping", [](socket& self, const args_view& args, ack_handle) { self.emit("pong", args); });
  });
  eio::server core;
  runtime rt(io, core);
  const millis now(1000);
  eio::http_request r;
  r.method = "GET";
  r.path = "/engine.io/";
  r.query = "EIO=4&transport=websocket";
  r.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
  core.handle_websocket(1, r, now);
  std::string last;
  auto drain = [&] {
    while (auto e = core.next_event()) rt.on_event(*e, now);
    while (auto a = core.next_action()) {
      if (auto* w = std::get_if<eio::websocket_send>(&*a)) last = w->data;
    }
  };
  drain();
  core.websocket_message(1, eio::frame_kind::text, "40", now);
  drain();
  core.websocket_message(1, eio::frame_kind::text, "42[\"ping\",1]", now);
  drain();
  if (last != "42[\"pong\",1]") {
    std::printf("eio_socketio_server_consumer: unexpected %s\n", last.c_str());
    return 1;
  }
  std::puts("eio_socketio_server_consumer: ok");
  return 0;
}
