// Decodes the protocol specification's example payload with nothing but
// eio::parser and the standard library.
#include <eio/parser.hpp>

#include <cstdio>

int main() {
  eio::payload_decoder decoder(eio::protocol_version::v4, eio::payload_format::text);
  std::vector<eio::packet> packets;
  if (decoder.decode("4hello\x1e" "bAQIDBA==", packets) || packets.size() != 2 || packets[0].data != "hello" ||
      packets[1].data != "\x01\x02\x03\x04") {
    std::puts("eio_consumer: unexpected decode");
    return 1;
  }
  std::puts("eio_consumer: ok");
  return 0;
}
