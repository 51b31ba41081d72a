// `eiotool decode`: wire bytes in, one JSON line per packet out.
#pragma once

#include "command.hpp"
#include "wire_options.hpp"

#include <eio/parser.hpp>
#include <eio/socketio/packet.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace eio::tool {

struct decode_settings {
  wire_form form;
  decode_options limits;
  // --socketio: the Engine.IO message packets carry Socket.IO packets (text)
  // and their attachments (binary), decoded with these limits.
  bool socketio = false;
  socketio::decode_options socketio_limits;
  // --attachment: binary messages that follow the input (WebSocket frames
  // after the one message the input holds).
  std::vector<std::string> attachments;
};

// Decodes `input` (a whole payload, or one WebSocket message) and appends a
// JSON line per packet to `out`. On a decode error, the packets before it are
// still appended, `err` gets "error at byte N: <reason> (<errc name>)\n", and
// the result is exit_failure; otherwise exit_ok.
// With settings.socketio, each Engine.IO message becomes Socket.IO: a text
// message is a Socket.IO packet, printed as its socketio_lines.hpp line once
// its attachments (the binary messages that follow, then
// settings.attachments) are in; other Engine.IO packets print as above. A
// Socket.IO error appends "error in message M at byte N: <reason> (<errc
// name>)\n" (M counts the Engine.IO packets from 1, then the attachments),
// as does input that ends while attachments are still due.
int run_decode(const decode_settings& settings, std::string_view input, std::string& out, std::string& err);

// Adds the `decode` subcommand to `app`; when it is chosen, `action` is set
// to read the input and run it.
void add_decode_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
