// The Socket.IO load generator behind `eiotool bench --socketio`: raw
// Socket.IO v5 clients over Engine.IO v4 (the same sockets, epoll loops and
// figures as load.hpp), talking to the demo application of `eiotool serve
// --socketio` (tests/interop/socketio_demo_app.mjs):
//
//   echo       42["echo",<data>] answered by 42["echo",<data>]; with acks
//              42<id>["echo",<data>] answered by 43<id>[<data>]; binary data
//              travels as one attachment (451-..., 461-<id>...).
//   fanout     C receivers join room "bench" (42<id>["join","bench"], acked);
//              a sender emits 42["to-room","bench","<seq>:<time>:..."], each
//              receiver gets 42["room-message","<seq>:<time>:..."].
//   idle       C sockets connected to "/", answering pings.
//   handshake  polling: the Engine.IO handshake, CONNECT ("40" by POST, the
//              answer by GET), then a close ("1" by POST), over and over.
//
// Every packet is built and checked with eio::socketio's codec; an answer
// that differs from what was sent counts as a mismatch (an error).
#pragma once

#include "load.hpp"

namespace eio::tool::bench {

struct socketio_load_options {
  load_options load;       // mode, transport, sizes, threads... as for Engine.IO
  bool acks = false;       // echo: ask for an ack instead of an echoed event
  std::string room = "bench";  // fanout: the room the receivers join
};

// Runs the load; throws std::runtime_error when it cannot start at all.
load_result run_socketio_load(const socketio_load_options& options);

}  // namespace eio::tool::bench
