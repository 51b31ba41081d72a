// A binary event through eio::socketio alone: decode the text, assemble the
// attachment, restore the value. Links eio::socketio and nothing else of eio
// beyond what it brings (eio::parser, nlohmann_json, simdjson).
#include <eio/socketio/assembler.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>

#include <cstdio>

int main() {
  using namespace eio::socketio;
  decoder d;
  assembler a;
  packet p;
  payload_info info;
  message m;
  if (d.decode(R"(51-/admin,1["upload",{"_placeholder":true,"num":0}])", p, info) ||
      a.on_packet(p, info, millis(0), m).complete || !a.on_binary("\x01\x02", millis(1), m).complete ||
      m.info.name != "upload") {
    std::puts("eio_socketio_consumer: unexpected decode");
    return 1;
  }
  value args;
  if (from_wire("[" + std::string(m.info.args(m.header.data)) + "]", std::move(m.attachments), args) ||
      !args[0].is_binary() || args[0].get_binary().size() != 2) {
    std::puts("eio_socketio_consumer: unexpected value");
    return 1;
  }
  std::puts("eio_socketio_consumer: ok");
  return 0;
}
