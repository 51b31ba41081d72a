// Way B: eio::poco_attached_server attached to an application's own
// Poco::Net::HTTPServer, at /engine.io/, echoing every message; every other
// path goes to the application's own factory ("hello from the app").
//
//   attached_echo [--port P] [--max-payload BYTES]
//
// Prints "port N" once listening; SIGINT or SIGTERM stops it. The tests of
// way B run against it (tests/interop/poco_attached_server_clients.test.mjs,
// poco_attached_server_raw_frames.test.mjs).
//
// The README's snippet for way B is the marked part below, word for word.
#include "example_support.hpp"

#include <eio/poco_attached_server.hpp>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <cstdio>

namespace {

// The application's own routes.
class hello_handler : public Poco::Net::HTTPRequestHandler {
public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("text/plain");
    response.sendBuffer("hello from the app", 18);
  }
};

class MyAppFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new hello_handler;
  }
};

}  // namespace

int main(int argc, char** argv) {
  example::block_stop_signals();
  const std::uint16_t port = example::port_argument(argc, argv, 8080);
  const std::size_t max_payload = example::number_argument(argc, argv, "--max-payload", 1'000'000);
  // [readme:attach]
  eio::server_options options;  // the core's: path, timeouts, limits, CORS, ...
  options.max_http_buffer_size = max_payload;
  // The application's event handler runs with the server's lock held: don't
  // block in it; answer through `core` (or eio.send() from any other thread).
  eio::poco_attached_server eio(options, [](eio::server& core, eio::event& e, eio::millis now) {
    if (auto* m = std::get_if<eio::message_event>(&e)) core.send(m->session, m->data, m->kind, now);  // echo
  });

  // Every pending long-poll and every WebSocket holds one thread of the pool:
  // size it for the sessions you expect, plus your ordinary requests.
  Poco::ThreadPool pool(4, 1000);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(1000);
  params->setMaxQueued(1000);

  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  Poco::Net::HTTPServer http(
      new eio::poco_request_handler_factory(eio, new MyAppFactory),  // /engine.io/ -> eio, the rest -> MyAppFactory
      pool, socket, params);
  http.start();
  // ... later, from any thread:
  //   eio.send(session, "hello");   eio.close(session);
  std::printf("port %u\n", socket.address().port());
  std::fflush(stdout);
  example::wait_for_stop_signal();
  eio.shutdown();   // closes every session: held polls answered, WebSockets sent a close frame
  http.stopAll(true);
  // [/readme:attach]
  pool.joinAll();
  return 0;
}
