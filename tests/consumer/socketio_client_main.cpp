// A Socket.IO client session through eio::socketio_client alone (no Poco):
// the manager opens a WebSocket, the scripted server answers, the socket
// connects and gets an event.
#include <eio/socketio/client/manager.hpp>

#include <cstdio>
#include <string>
#include <variant>

int main() {
  namespace sc = eio::socketio::client;
  sc::manager_options options;
  options.transports = {eio::transport_kind::websocket};
  sc::manager io(options);
  std::string got;
  sc::socket& s = io.socket("/", eio::millis(0));
  s.on("hello", [&got](const eio::socketio::value& args) { got = args[0].get<std::string>(); });
  eio::connection_id ws = 0;
  while (auto a = io.next_action()) {
    if (auto* o = std::get_if<eio::client_websocket_open>(&*a)) ws = o->connection;
  }
  io.websocket_opened(ws, eio::millis(1));
  io.websocket_message(ws, eio::frame_kind::text, R"(0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000})",
                       eio::millis(2));
  io.websocket_message(ws, eio::frame_kind::text, R"(40{"sid":"s"})", eio::millis(3));
  io.websocket_message(ws, eio::frame_kind::text, R"(42["hello","world"])", eio::millis(4));
  if (!s.connected() || got != "world") {
    std::puts("eio_socketio_client_consumer: unexpected session");
    return 1;
  }
  std::puts("eio_socketio_client_consumer: ok");
  return 0;
}
