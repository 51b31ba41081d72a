#include "socketio_lines.hpp"

#include <eio/base64.hpp>
#include <eio/socketio/value.hpp>

#include <limits>

namespace eio::tool {
namespace {

void append_base64(const socketio::attachment& bytes, std::string& out) {
  const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  out.reserve(out.size() + base64_encoded_size(view.size()) + 2);
  out += '"';
  base64_encode(view, out);
  out += '"';
}

std::string describe(const socketio::decode_error& e) {
  return e.code.message() + " at byte " + std::to_string(e.offset) + " of the packet (" +
         std::string(socketio::errc_name(e.code)) + ")";
}

}  // namespace

void append_socketio_json(const socketio::packet& p, const std::vector<socketio::attachment>& attachments,
                          std::string& out) {
  out += "{\"type\":";
  socketio::append_json_string(socketio::to_string(p.type), out);
  out += ",\"nsp\":";
  socketio::append_json_string(p.nsp, out);
  if (p.id) out += ",\"id\":" + std::to_string(*p.id);
  if (!p.data.empty()) {
    out += ",\"data\":";
    const std::size_t start = out.size();
    out += p.data;
    // Valid JSON holds raw CR and LF only as whitespace between tokens.
    for (std::size_t i = start; i < out.size(); ++i) {
      if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
    }
  }
  if (socketio::is_binary(p.type)) {
    out += ",\"attachments\":[";
    for (std::size_t i = 0; i < attachments.size(); ++i) {
      if (i > 0) out += ',';
      append_base64(attachments[i], out);
    }
    out += ']';
  }
  out += '}';
}

bool is_socketio_line(std::string_view line) {
  const nlohmann::json object = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (!object.is_object()) return false;
  const auto type = object.find("type");
  return type != object.end() && type->is_string() && socketio::packet_type_from_name(type->get<std::string>());
}

bool parse_socketio_json(std::string_view line, json_socketio_packet& out, std::string& reason) {
  nlohmann::ordered_json object;  // keeps the key order of "data" as written
  if (const std::error_code error = socketio::from_wire(line, object, 10'000)) {
    reason = "invalid JSON";
    return false;
  }
  if (!object.is_object()) {
    reason = "expected a JSON object";
    return false;
  }
  json_socketio_packet p;
  bool has_type = false;
  for (const auto& [key, value] : object.items()) {
    if (key == "type") {
      const auto type = value.is_string() ? socketio::packet_type_from_name(value.get<std::string>()) : std::nullopt;
      if (!type) {
        reason = "\"type\" must be one of CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK";
        return false;
      }
      p.type = *type;
      has_type = true;
    } else if (key == "nsp") {
      if (!value.is_string()) {
        reason = "\"nsp\" must be a string";
        return false;
      }
      p.nsp = value.get<std::string>();
    } else if (key == "id") {
      if (!value.is_number_unsigned()) {
        reason = "\"id\" must be a whole number";
        return false;
      }
      p.id = value.get<std::uint64_t>();
    } else if (key == "data") {
      std::vector<socketio::attachment> none;
      if (socketio::to_wire(value, p.data, none) || !none.empty()) {
        reason = "\"data\" cannot be written as JSON";
        return false;
      }
    } else if (key == "attachments") {
      if (!value.is_array()) {
        reason = "\"attachments\" must be an array of base64 strings";
        return false;
      }
      for (const auto& item : value) {
        std::string bytes;
        std::size_t bad = 0;
        if (!item.is_string() || !base64_decode(item.get<std::string>(), bytes, bad)) {
          reason = "\"attachments\" must be an array of base64 strings";
          return false;
        }
        p.attachments.emplace_back(bytes.begin(), bytes.end());
      }
    } else {
      reason = "unknown key \"" + key + "\" (expected type, nsp, id, data, attachments)";
      return false;
    }
  }
  if (!has_type) {
    reason = "missing \"type\"";
    return false;
  }
  if (!socketio::is_binary(p.type) && !p.attachments.empty()) {
    reason = "only BINARY_EVENT and BINARY_ACK have attachments";
    return false;
  }
  // What the packet becomes on the wire must decode: the encoder's checks,
  // then the decoder's with its limits raised (the line asks for them).
  const socketio::packet packet = p.view();
  std::string text;
  if (const std::error_code error = socketio::encode(packet, text)) {
    reason = "cannot encode: " + error.message() + " (" + std::string(socketio::errc_name(error)) + ")";
    return false;
  }
  socketio::decode_options limits;
  limits.max_attachments = std::numeric_limits<std::size_t>::max();
  limits.max_namespace_bytes = std::numeric_limits<std::size_t>::max();
  socketio::decoder decoder(limits);
  socketio::packet decoded;
  if (const socketio::decode_error error = decoder.decode(text, decoded)) {
    reason = "not a valid Socket.IO packet: " + describe(error);
    return false;
  }
  out = std::move(p);
  return true;
}

}  // namespace eio::tool
