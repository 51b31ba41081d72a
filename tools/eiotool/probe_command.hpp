// `eiotool probe URL`: checks an Engine.IO endpoint step by step (connect,
// handshake, a second request with the same sid, the WebSocket upgrade,
// messages, heartbeat) and says what is wrong, in words or as JSON.
#pragma once

#include "command.hpp"

namespace CLI {
class App;
}

namespace eio::tool {

// Adds the `probe` subcommand to `app`. Exit status of the action: 0 every
// step passed, 1 the endpoint answered but a step failed (named in the
// verdict), 2 unreachable (or bad usage, from the parse).
void add_probe_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
