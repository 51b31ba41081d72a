// Way A: eio::poco_server listens on an address and echoes every message.
//
//   listen_echo [--port P]    (prints "port N" once listening; SIGINT or SIGTERM stops it)
//
// The README's snippet for way A is the marked part below, word for word
// (scripts/check-readme-snippets keeps them identical).
#include "example_support.hpp"

#include <eio/poco_server.hpp>

#include <cstdio>
#include <thread>

int main(int argc, char** argv) {
  example::block_stop_signals();
  // [readme:listen]
  eio::poco_server_options options;
  options.port = example::port_argument(argc, argv, 3000);
  options.threads = 0;                            // one loop per core
  eio::cors_options cors;
  cors.origins = {"https://app.example"};         // CORS, credentials allowed for listed origins
  cors.credentials = true;
  options.core.cors = cors;
  options.core.headers = [](const eio::http_request&, eio::header_list& h) {
    h.push_back({"X-Served-By", "eio"});          // custom headers on every polling answer and 101
  };
  // options.tls_certificate_file = "cert.pem";   // optional: https:// and wss://
  // options.tls_private_key_file = "key.pem";

  eio::poco_server server(options, [](eio::loop_context& loop, eio::event& e) {
    if (auto* m = std::get_if<eio::message_event>(&e)) {
      loop.core.send(m->session, m->data, m->kind, loop.now);  // echo, on the session's own loop
      eio::session_handle h = loop.handle(m->session);          // to reach it later from any thread:
      (void)h;                                                  //   loop.owner.send(h, "later");
    }
  });
  std::printf("listening on port %u\n", server.port());
  std::fflush(stdout);
  std::thread stopper([&server] {
    example::wait_for_stop_signal();  // SIGINT, SIGTERM
    server.stop();                    // safe from any thread, and from a signal handler
  });
  server.run();  // until server.stop(); then closes every session and drains
  // [/readme:listen]
  stopper.join();
  return 0;
}
