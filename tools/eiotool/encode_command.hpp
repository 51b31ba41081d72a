// `eiotool encode`: JSON lines in (decode's output), wire bytes out.
#pragma once

#include "command.hpp"
#include "wire_options.hpp"

#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace eio::tool {

// Encodes the packets in `lines` (one JSON object per line, blank lines
// skipped) in `form` and appends the bytes to `out`: a polling payload, or
// exactly one WebSocket message. On bad input appends
// "error at line N: <reason>\n" to `err` and returns exit_failure, with
// nothing appended to `out`.
// With `socketio`, a line may also be a Socket.IO packet (socketio_lines.hpp):
// it becomes an Engine.IO message with its text, followed by one binary
// message per attachment (which the websocket form, one message, cannot hold).
int run_encode(const wire_form& form, std::string_view lines, std::string& out, std::string& err,
               bool socketio = false);

// Adds the `encode` subcommand to `app`; when it is chosen, `action` is set
// to read the input and run it.
void add_encode_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
