#include "encode_command.hpp"

#include "input.hpp"
#include "packet_json.hpp"
#include "socketio_lines.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <vector>

namespace eio::tool {
namespace {

struct encode_arguments {
  wire_arguments wire;
  std::string path = "-";
  bool socketio = false;
};

const char* const encode_footer = R"text(Examples:
  printf '%s\n' '{"type":"message","data":"hello"}' '{"type":"ping"}' | eiotool encode
      4hello<0x1e>2
  eiotool decode --eio 3 capture.txt | eiotool encode --eio 3
  echo '{"type":"message","data":"AQID","binary":true}' | eiotool encode --form websocket --binary
  echo '{"type":"EVENT","nsp":"/chat","data":["message","hi"]}' | eiotool encode --socketio --form websocket
      42/chat,["message","hi"]
  eiotool decode --socketio capture.txt | eiotool encode --socketio

Input: one JSON object per line, as `eiotool decode` prints them: "type" (a
packet type name), "data" (optional; base64 when "binary" is true), "binary"
(optional). Blank lines are skipped. The websocket form takes exactly one
packet. Binary packets are sent as b<base64> unless --binary; even then the
output is a binary frame or v3 binary payload only when a packet is binary,
as the reference server does.
--socketio: lines may also be Socket.IO packets, as `eiotool decode --socketio`
prints them: "type" (CONNECT, EVENT, BINARY_EVENT, ...), "nsp" (default "/"),
"id", "data" (any JSON), "attachments" (base64 strings). Each becomes an
Engine.IO message, then one binary message per attachment. The packet must
be valid Socket.IO (an EVENT needs a name, a BINARY_EVENT one placeholder per
attachment, ...).
Exit status: 0 encoded, 1 bad or unreadable input, 2 bad usage.)text";

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

int run_encode(const wire_form& form, std::string_view lines, std::string& out, std::string& err, bool socketio) {
  std::vector<json_packet> parsed;
  std::size_t line_number = 0;
  while (!lines.empty()) {
    const std::size_t end = lines.find('\n');
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    ++line_number;
    if (is_blank(line)) continue;
    std::string reason;
    json_packet p;
    if (socketio && is_socketio_line(line)) {
      json_socketio_packet sio;
      if (!parse_socketio_json(line, sio, reason)) {
        err += "error at line " + std::to_string(line_number) + ": " + reason + "\n";
        return exit_failure;
      }
      if (form.websocket && !sio.attachments.empty()) {
        err += "error at line " + std::to_string(line_number) +
               ": the websocket form takes one message; attachments need the polling form\n";
        return exit_failure;
      }
      // Checked by parse_socketio_json: it encodes.
      p.type = packet_type::message;
      (void)socketio::encode(sio.view(), p.data);
      if (form.websocket && !parsed.empty()) {
        err += "error at line " + std::to_string(line_number) + ": the websocket form takes exactly one packet\n";
        return exit_failure;
      }
      parsed.push_back(std::move(p));
      for (auto& bytes : sio.attachments) {
        parsed.push_back(json_packet{packet_type::message, true, std::string(bytes.begin(), bytes.end())});
      }
      continue;
    }
    if (!parse_packet_json(line, p, reason)) {
      err += "error at line " + std::to_string(line_number) + ": " + reason + "\n";
      return exit_failure;
    }
    // A WebSocket message carries one packet (protocol README, "WebSocket").
    if (form.websocket && !parsed.empty()) {
      err += "error at line " + std::to_string(line_number) + ": the websocket form takes exactly one packet\n";
      return exit_failure;
    }
    parsed.push_back(std::move(p));
  }
  if (form.websocket && parsed.empty()) {
    err += "error: the websocket form takes exactly one packet, the input has none\n";
    return exit_failure;
  }

  // Views are taken only now: `parsed` no longer moves its strings around.
  std::vector<packet> packets;
  packets.reserve(parsed.size());
  for (const auto& p : parsed) packets.push_back(p.view());
  if (form.websocket) {
    encode_frame(packets.front(), form.version, form.binary, out);
  } else {
    encode_payload(packets, form.version, form.binary, out);
  }
  return exit_ok;
}

void add_encode_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<encode_arguments>();
  CLI::App* command = app.add_subcommand("encode", "Encode JSON lines (decode's output) into an Engine.IO payload or message");
  command->footer(encode_footer);
  add_wire_options(*command, args->wire,
                   "websocket: send binary packets as binary frames; polling: the v3 client takes binary (XHR2) payloads");
  command->add_option("FILE", args->path, "Input file; - or none for standard input")->capture_default_str();
  command->add_flag("--socketio", args->socketio, "Lines may also be Socket.IO packets (as decode --socketio prints)");

  command->callback([args, &action] {
    const wire_form form = to_wire_form(args->wire);  // throws a usage error
    action = [form, path = args->path, socketio = args->socketio] {
      const std::string input = read_input(path);
      std::string out;
      std::string err;
      const int status = run_encode(form, input, out, err, socketio);
      write_output(out);
      std::fputs(err.c_str(), stderr);
      return status;
    };
  });
}

}  // namespace eio::tool
