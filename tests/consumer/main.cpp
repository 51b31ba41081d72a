// Decodes the protocol specification's example payload and runs a polling
// handshake with nothing but eio::session, eio::parser and the standard library.
#include <eio/parser.hpp>
#include <eio/server.hpp>

#include <cstdio>

int main() {
  eio::payload_decoder decoder(eio::protocol_version::v4, eio::payload_format::text);
  std::vector<eio::packet> packets;
  if (decoder.decode("4hello\x1e" "bAQIDBA==", packets) || packets.size() != 2 || packets[0].data != "hello" ||
      packets[1].data != "\x01\x02\x03\x04") {
    std::puts("eio_consumer: unexpected decode");
    return 1;
  }
  eio::server server;
  eio::http_request handshake;
  handshake.method = "GET";
  handshake.path = "/engine.io/";
  handshake.query = "EIO=4&transport=polling";
  server.handle_request(1, handshake, eio::millis(0));
  const auto response = server.next_action();
  if (!response || !std::holds_alternative<eio::http_response>(*response) ||
      std::get<eio::http_response>(*response).body.rfind("0{\"sid\":", 0) != 0) {
    std::puts("eio_consumer: unexpected handshake");
    return 1;
  }
  std::puts("eio_consumer: ok");
  return 0;
}
