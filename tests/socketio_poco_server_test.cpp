// eio::socketio served on Poco both ways: poco_socketio_server (way A, event
// loops) and poco_socketio_attachment (way B, on a Poco HTTPServer), each
// driven by our client (poco_manager): an acknowledged echo; a server-side
// emit with an ack that times out (the runtime's timers run by the
// adapter's); and the server shut down and destroyed while the client is
// still connected (every session closed, no callback into what is gone:
// run under ASan and UBSan in CI).
#include <eio/socketio_poco_client.hpp>
#include <eio/socketio_poco_server.hpp>
#include <eio/socketio/socket.hpp>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace eio {
namespace {

using namespace std::chrono_literals;
namespace sc = socketio::client;
using socketio::value;

// The application: "echo" acks its arguments; "ask-nobody" asks the client
// a question it never answers and acks what became of it.
void install(socketio::server& io) {
  io.of("/").on_connection([](socketio::socket& s) {
    s.on("echo", [](socketio::socket&, const socketio::args_view& args, socketio::ack_handle ack) { ack(args); });
    s.on("ask-nobody", [](socketio::socket& self, const socketio::args_view&, socketio::ack_handle ack) {
      self.timeout(200ms).emit_with_ack("unanswered", value::array(),
                                        [ack](const socketio::operation_error& error, const socketio::args_view&) {
                                          ack(value::array({error ? *error : std::string("answered")}));
                                        });
    });
  });
}

value get(std::future<value> f) {
  if (f.wait_for(10s) != std::future_status::ready) throw std::runtime_error("no acknowledgement in time");
  return f.get();
}

// What a client sees of the application at `url`; returns with the client
// still connected (the caller shuts the server down under it).
void exercise(sc::poco_manager& io) {
  sc::poco_socket s = io.socket("/");
  s.on("unanswered", [](const value&) {});  // no ack: the server's wait times out
  s.connect();
  EXPECT_EQ(get(s.emit_with_ack("echo", value::array({1, "two", value::binary({3})}))),
            value::array({1, "two", value::binary({3})}));
  const auto t0 = std::chrono::steady_clock::now();
  const value answer = get(s.emit_with_ack("ask-nobody", value::array()));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 190ms);
  ASSERT_TRUE(answer.is_array() && answer.size() == 1 && answer[0].is_string()) << answer.dump();
  EXPECT_NE(answer[0], "answered");
  EXPECT_TRUE(s.connected());
}

TEST(socketio_poco_server, way_a_event_loops) {
  socketio::server io;
  install(io);
  poco_server_options listen;
  listen.host = "127.0.0.1";
  listen.port = 0;
  listen.threads = 2;
  listen.core.path = "/socket.io/";
  poco_socketio_server server(io, listen);
  std::thread loops([&] { server.run(); });
  {
    sc::poco_manager client("http://127.0.0.1:" + std::to_string(server.engine_io().port()));
    exercise(client);
    server.stop();  // with the client connected
    loops.join();
  }
}

class not_found_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override { return nullptr; }
};

TEST(socketio_poco_server, way_b_attached_to_an_http_server) {
  socketio::server io;
  install(io);
  auto attachment = std::make_unique<poco_socketio_attachment>(io, [] {
    poco_attached_server_options o;
    o.core.path = "/socket.io/";
    return o;
  }());
  Poco::ThreadPool pool(2, 64);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(64);
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServer http(new poco_request_handler_factory(attachment->engine_io(), new not_found_factory), pool, socket,
                             params);
  http.start();
  {
    sc::poco_manager client("http://127.0.0.1:" + std::to_string(socket.address().port()));
    exercise(client);
    // With the client connected: the attachment goes first (its sessions
    // closed, the runtime gone), while the HTTPServer's threads may still
    // hold the attached server's state; then the HTTPServer stops.
    attachment.reset();
    http.stopAll(true);
  }
  pool.joinAll();
}

}  // namespace
}  // namespace eio
