// What every eiotool subcommand shares: how it hands main() the work to do,
// and the exit statuses scripts can rely on.
#pragma once

#include <functional>

namespace eio::tool {

// Exit statuses. 2 for bad usage follows the getopt/grep convention, so a
// script can tell "you called me wrong" from "the input is malformed".
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // malformed input, unreadable file
inline constexpr int exit_usage = 2;    // bad options or arguments

// Set by the chosen subcommand while the command line is parsed; main() runs
// it afterwards, outside CLI11's parse, so that the command's own errors are
// never mistaken for usage errors.
using command_action = std::function<int()>;

}  // namespace eio::tool
