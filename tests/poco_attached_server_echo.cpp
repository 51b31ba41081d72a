// An application with its own Poco::Net::HTTPServer and eio::poco_attached_server
// attached at /engine.io/ (echoing every message), for the Node test of the
// official client (tests/interop/poco_attached_server_clients.test.mjs). Prints
// "port N" once listening; shuts down when stdin reaches end of file.
// `--max-payload N` sets the core's max_http_buffer_size (the raw-frame
// tests, tests/interop/poco_attached_server_raw_frames.test.mjs).
#include <eio/poco_attached_server.hpp>

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <iostream>
#include <string>

namespace {

class hello_handler : public Poco::Net::HTTPRequestHandler {
public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("text/plain");
    response.sendBuffer("hello from the app", 18);
  }
};

class app_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new hello_handler;
  }
};

}  // namespace

int main(int argc, char** argv) {
  eio::server_options options;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--max-payload") options.max_http_buffer_size = std::stoul(argv[++i]);
  }
  eio::poco_attached_server engine(options, [](eio::server& core, eio::event& e, eio::millis now) {
    if (const auto* message = std::get_if<eio::message_event>(&e)) {
      core.send(message->session, message->data, message->kind, now);
    }
  });
  Poco::ThreadPool pool(2, 64);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(64);
  params->setMaxQueued(128);
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServer http(new eio::poco_request_handler_factory(engine, new app_factory), pool, socket, params);
  http.start();
  std::cout << "port " << socket.address().port() << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
  }
  engine.shutdown();
  http.stopAll(true);
  pool.joinAll();
  return 0;
}
