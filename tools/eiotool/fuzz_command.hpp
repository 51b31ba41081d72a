// `eiotool fuzz URL`: a black-box protocol fuzzer against a live Engine.IO
// server. Cases come from fuzz_cases.cpp; this file sends them, checks after
// each that the server still works, saves reproducers and prints the summary.
#pragma once

#include "command.hpp"

namespace CLI {
class App;
}

namespace eio::tool {

// Adds the `fuzz` subcommand to `app`; when it is chosen, `action` is set to
// run it. Exit status: 0 no case broke the server, 1 one did (or a replayed
// reproducer broke it again), 2 bad usage or an unreachable target.
void add_fuzz_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
