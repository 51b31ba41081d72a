#include "wire_options.hpp"

#include <CLI/CLI.hpp>

namespace eio::tool {

void add_wire_options(CLI::App& command, wire_arguments& arguments, const std::string& binary_help) {
  command.add_option("--eio", arguments.eio, "Engine.IO protocol version")
      ->check(CLI::IsMember({3, 4}))
      ->capture_default_str();
  command.add_option("--form", arguments.form, "polling: an HTTP long-polling payload; websocket: one WebSocket message")
      ->check(CLI::IsMember({"polling", "websocket"}))
      ->capture_default_str();
  command.add_flag("--binary", arguments.binary, binary_help);
}

wire_form to_wire_form(const wire_arguments& arguments) {
  wire_form form;
  form.version = arguments.eio == 3 ? protocol_version::v3 : protocol_version::v4;
  form.websocket = arguments.form == "websocket";
  form.binary = arguments.binary;
  // v4 carries binary packets in text payloads as b<base64> (protocol README,
  // "HTTP long-polling"); silently ignoring --binary would hide a mistake.
  if (form.binary && !form.websocket && form.version == protocol_version::v4) {
    throw CLI::ValidationError("--binary", "v4 polling payloads are always text; --binary needs --eio 3 or --form websocket");
  }
  return form;
}

}  // namespace eio::tool
