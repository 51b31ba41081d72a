// `eiotool serve`: an Engine.IO server whose application echoes every
// message to its sender and relays "broadcast:<text>" to every session.
#pragma once

#include "command.hpp"

namespace CLI {
class App;
}

namespace eio::tool {

// Adds the `serve` subcommand to `app`; when it is chosen, `action` is set to
// run the server until SIGINT or SIGTERM.
void add_serve_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
