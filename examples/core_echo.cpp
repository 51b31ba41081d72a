// Way C: pass requests in yourself. The sans-I/O core, eio::server, driven
// by hand: a handshake over polling, then a WebSocket for the same session,
// a message on it and its echo. Any HTTP/WebSocket stack does the same with
// the requests and frames it reads (examples/epoll_server.cpp shows one on
// eio::wire). Exits 0 when the echo came back.
//
// The README's snippet for way C is the marked part below, word for word.
#include <eio/server.hpp>

#include <cstdio>
#include <string>

int main() {
  std::string sid;
  bool echoed = false;
  // [readme:core]
  eio::server server;  // reference defaults: ping 25 s / 20 s, upgrade 10 s, 1e6-byte payloads
  auto now = [] { return std::chrono::duration_cast<eio::millis>(
                      std::chrono::steady_clock::now().time_since_epoch()); };

  // Your HTTP stack got a request on /engine.io/ (connection 7 is your handle for it):
  eio::http_request request;
  request.method = "GET";
  request.path = "/engine.io/";
  request.query = "EIO=4&transport=polling";
  server.handle_request(7, std::move(request), now());
  // Carry out what the core decided:
  while (auto a = server.next_action()) {
    if (auto* r = std::get_if<eio::http_response>(&*a)) { /* answer connection r->connection */
      sid = r->body.substr(9, 20);  // 0{"sid":"<sid>",...
    }
  }

  // A WebSocket upgrade for that session (after checking RFC 6455's headers), then its messages:
  eio::http_request upgrade;
  upgrade.method = "GET";
  upgrade.path = "/engine.io/";
  upgrade.query = "EIO=4&transport=websocket&sid=" + sid;
  server.handle_websocket(8, upgrade, now());
  server.websocket_message(8, eio::frame_kind::text, "2probe", now());
  server.websocket_message(8, eio::frame_kind::text, "5", now());
  server.websocket_message(8, eio::frame_kind::text, "4hello", now());

  // Tell the application:
  while (auto e = server.next_event()) {
    if (auto* m = std::get_if<eio::message_event>(&*e)) server.send(m->session, m->data, m->kind, now());
  }
  while (auto a = server.next_action()) {
    if (auto* w = std::get_if<eio::websocket_send>(&*a)) { /* send w->data (then *w->shared_tail) as a frame */
      echoed |= w->data == "4hello";
    }
    // http_response, websocket_accept, websocket_close
  }
  // Timers are a query:
  if (auto due = server.next_deadline()) { /* wake at *due, then */ server.on_timeout(now()); }
  // [/readme:core]
  std::printf("sid %s, echo %s\n", sid.c_str(), echoed ? "received" : "missing");
  return echoed ? 0 : 1;
}
