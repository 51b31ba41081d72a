// `eiotool decode`: wire bytes in, one JSON line per packet out.
#pragma once

#include "command.hpp"
#include "wire_options.hpp"

#include <eio/parser.hpp>

#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace eio::tool {

struct decode_settings {
  wire_form form;
  decode_options limits;
};

// Decodes `input` (a whole payload, or one WebSocket message) and appends a
// JSON line per packet to `out`. On a decode error, the packets before it are
// still appended, `err` gets "error at byte N: <reason> (<errc name>)\n", and
// the result is exit_failure; otherwise exit_ok.
int run_decode(const decode_settings& settings, std::string_view input, std::string& out, std::string& err);

// Adds the `decode` subcommand to `app`; when it is chosen, `action` is set
// to read the input and run it.
void add_decode_command(CLI::App& app, command_action& action);

}  // namespace eio::tool
