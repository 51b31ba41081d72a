// `eiotool bench URL`: a load generator for Engine.IO servers (echo, idle,
// fanout and handshake loads), the client side of benchmarks/compare.
#pragma once

#include "command.hpp"

namespace CLI {
class App;
}

namespace eio::tool {

// Adds the `bench` subcommand to `app`; when it is chosen, `action` is set to
// run the load and print its figures.
void add_bench_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
