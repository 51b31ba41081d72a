#include "decode_command.hpp"

#include "input.hpp"
#include "packet_json.hpp"
#include "socketio_lines.hpp"

#include <eio/socketio/assembler.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

namespace eio::tool {
namespace {

struct decode_arguments {
  wire_arguments wire;
  decode_options limits;
  bool skip_utf8_check = false;
  std::string path = "-";
  bool socketio = false;
  socketio::decode_options socketio_limits;
  std::vector<std::string> attachment_paths;
};

const char* const decode_footer = R"text(Examples:
  printf '4hello\0362' | eiotool decode
      {"type":"message","data":"hello"}
      {"type":"ping","data":""}
  eiotool decode --eio 3 capture.txt
  eiotool decode --eio 3 --binary xhr2-payload.bin
  printf '4hi' | eiotool decode --form websocket

  printf '42["message","hello"]' | eiotool decode --socketio --form websocket
      {"type":"EVENT","nsp":"/","data":["message","hello"]}
  printf '451-["up",{"_placeholder":true,"num":0}]\036bAQID' | eiotool decode --socketio
      {"type":"BINARY_EVENT","nsp":"/","data":["up",{"_placeholder":true,"num":0}],"attachments":["AQID"]}
  eiotool decode --socketio --form websocket text-frame.txt --attachment frame2.bin

Binary packets print their data in base64 with "binary":true. On malformed
input the packets before the error are still printed, then stderr says
"error at byte N: <reason> (<name>)".
--socketio: Engine.IO messages are Socket.IO packets (text) and their
attachments (binary, in base64 under "attachments"); other Engine.IO packets
print as without it. Attachments sent as separate WebSocket frames go in
--attachment files, in order.
Exit status: 0 decoded, 1 malformed or unreadable input, 2 bad usage.)text";

// CLI11 2.1 reads "-1" (or a number past SIZE_MAX) into a size_t as a huge
// limit without a word; a typo must not switch a limit off.
const CLI::Validator whole_number(
    [](std::string& text) {
      std::size_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc() && end == text.data() + text.size()) return std::string();
      return "'" + text + "' is not a whole number up to " + std::to_string(SIZE_MAX);
    },
    "", "whole number");

std::string describe(const decode_error& error) {
  return "error at byte " + std::to_string(error.offset) + ": " + error.code.message() + " (" +
         std::string(errc_name(error.code)) + ")\n";
}

std::string describe_socketio(std::size_t message, const socketio::decode_error& error) {
  return "error in message " + std::to_string(message) + " at byte " + std::to_string(error.offset) + ": " +
         error.code.message() + " (" + std::string(socketio::errc_name(error.code)) + ")\n";
}

// The Socket.IO layer over decoded Engine.IO packets: returns false after
// appending the error to `err`.
class socketio_lines {
public:
  explicit socketio_lines(const socketio::decode_options& limits) : decoder_(limits), assembler_(limits) {}

  bool add(const packet& p, std::string& out, std::string& err) {
    ++message_;
    if (p.type != packet_type::message) {
      append_packet_json(p, out);
      out += '\n';
      return true;
    }
    socketio::feed_result result;
    if (p.binary) {
      result = assembler_.on_binary(p.data, socketio::millis(0), message_out_);
    } else {
      socketio::packet text;
      socketio::payload_info info;
      if (const socketio::decode_error error = decoder_.decode(p.data, text, info)) {
        err += describe_socketio(message_, error);
        return false;
      }
      result = assembler_.on_packet(text, info, socketio::millis(0), message_out_);
    }
    if (result.error) {
      err += describe_socketio(message_, result.error);
      return false;
    }
    if (result.complete) {
      append_socketio_json(message_out_.header, message_out_.attachments, out);
      out += '\n';
    }
    return true;
  }

  bool finish(std::string& err) {
    if (!assembler_.pending()) return true;
    err += "error: the input ends while a packet waits for attachments\n";
    return false;
  }

private:
  socketio::decoder decoder_;
  socketio::assembler assembler_;
  socketio::message message_out_;
  std::size_t message_ = 0;
};

}  // namespace

int run_decode(const decode_settings& settings, std::string_view input, std::string& out, std::string& err) {
  std::vector<packet> packets;
  decode_error error;
  // Both storages must outlive `packets`, whose views may point into them.
  std::string scratch;
  std::optional<payload_decoder> decoder;
  if (settings.form.websocket) {
    packet p;
    error = decode_frame(input, settings.form.binary ? frame_kind::binary : frame_kind::text, settings.form.version,
                         p, scratch, settings.limits);
    if (!error) packets.push_back(p);
  } else {
    decoder.emplace(settings.form.version, settings.form.binary ? payload_format::binary : payload_format::text,
                    settings.limits);
    error = decoder->decode(input, packets);
  }
  if (settings.socketio) {
    socketio_lines lines(settings.socketio_limits);
    for (const auto& p : packets) {
      if (!lines.add(p, out, err)) return exit_failure;
    }
    if (error) {
      err += describe(error);
      return exit_failure;
    }
    for (const auto& bytes : settings.attachments) {
      if (!lines.add(packet{packet_type::message, true, bytes}, out, err)) return exit_failure;
    }
    return lines.finish(err) ? exit_ok : exit_failure;
  }
  for (const auto& p : packets) {
    append_packet_json(p, out);
    out += '\n';
  }
  if (!error) return exit_ok;
  err += describe(error);
  return exit_failure;
}

void add_decode_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<decode_arguments>();
  CLI::App* command = app.add_subcommand("decode", "Decode an Engine.IO payload or WebSocket message into JSON lines");
  command->footer(decode_footer);
  add_wire_options(*command, args->wire,
                   "websocket: the message came in a binary frame; polling: a v3 binary (XHR2) payload");
  command->add_option("--max-payload", args->limits.max_payload_bytes, "Reject input longer than BYTES")
      ->type_name("BYTES")
      ->check(whole_number)
      ->capture_default_str();
  command->add_option("--max-packets", args->limits.max_packets, "Reject payloads with more packets")
      ->type_name("N")
      ->check(whole_number)
      ->capture_default_str();
  command->add_option("--max-length-digits", args->limits.max_length_digits, "v3: longest length prefix, in digits")
      ->type_name("N")
      ->check(whole_number)
      ->capture_default_str();
  command->add_flag("--no-validate-utf8", args->skip_utf8_check,
                    "Accept text that is not UTF-8 (printed with U+FFFD, as JavaScript shows it)");
  command->add_option("FILE", args->path, "Input file; - or none for standard input")->capture_default_str();
  command->add_flag("--socketio", args->socketio, "Decode the Engine.IO messages as Socket.IO packets and attachments");
  command->add_option("--max-attachments", args->socketio_limits.max_attachments,
                      "--socketio: most attachments one packet may announce")
      ->type_name("N")
      ->check(whole_number)
      ->capture_default_str();
  command->add_option("--attachment", args->attachment_paths,
                      "--socketio: a binary message (file) after the input; repeat for each, in order")
      ->type_name("FILE")
      ->allow_extra_args(false);  // one file per --attachment: FILE stays the input

  command->callback([args, &action] {
    decode_settings settings;
    settings.form = to_wire_form(args->wire);  // throws a usage error
    settings.limits = args->limits;
    settings.limits.validate_utf8 = !args->skip_utf8_check;
    settings.socketio = args->socketio;
    settings.socketio_limits = args->socketio_limits;
    if (!args->socketio && !args->attachment_paths.empty()) {
      throw CLI::ValidationError("--attachment", "needs --socketio");
    }
    action = [settings, path = args->path, attachment_paths = args->attachment_paths]() mutable {
      for (const auto& attachment_path : attachment_paths) settings.attachments.push_back(read_input(attachment_path));
      const std::string input = read_input(path);
      std::string out;
      std::string err;
      const int status = run_decode(settings, input, out, err);
      // Packets first: they came before the error in the input too.
      write_output(out);
      std::fputs(err.c_str(), stderr);
      return status;
    };
  });
}

}  // namespace eio::tool
