// `eiotool emit`: publish an event (or a socketsJoin, socketsLeave,
// disconnectSockets, serverSideEmit) into a Socket.IO cluster on Redis, as
// @socket.io/redis-emitter does, without being a server.
#pragma once

#include "command.hpp"

namespace CLI {
class App;
}

namespace eio::tool {

void add_emit_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
