// The options that pick a wire form, shared by decode and encode so both
// spell them the same: --eio 3|4, --form polling|websocket, --binary.
#pragma once

#include <eio/parser.hpp>

#include <string>

namespace CLI {
class App;
}

namespace eio::tool {

struct wire_form {
  protocol_version version = protocol_version::v4;
  bool websocket = false;  // one WebSocket message, else a polling payload
  // websocket: the message is a binary frame (decode) / binary frames may be
  // sent (encode). polling: a v3 binary (XHR2) payload / the client takes one.
  bool binary = false;
};

// The raw option values, kept apart from wire_form because CLI11 fills them
// in before we can check how they combine.
struct wire_arguments {
  int eio = 4;
  std::string form = "polling";
  bool binary = false;
};

// Adds --eio, --form and --binary to `command`. `binary_help` says what
// --binary means for this command.
void add_wire_options(CLI::App& command, wire_arguments& arguments, const std::string& binary_help);

// Checks how the options combine and returns the form. Throws
// CLI::ValidationError (a usage error) for --binary on a v4 polling payload,
// which has no binary form.
wire_form to_wire_form(const wire_arguments& arguments);

}  // namespace eio::tool
