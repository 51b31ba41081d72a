// The JSON-line form of a Socket.IO packet, written by `eiotool decode
// --socketio` and read by `eiotool encode --socketio`, one object per line:
//   {"type":"EVENT","nsp":"/admin","id":12,"data":["message","hello"]}
//   {"type":"BINARY_EVENT","nsp":"/","data":["up",{"_placeholder":true,"num":0}],"attachments":["AQID"]}
// "type" is socket.io-parser's PacketType name (upper case, so it never
// clashes with the lower-case Engine.IO names of packet_json.hpp); "id" and
// "data" are present when the packet has them; "data" is the packet's JSON
// itself; "attachments" (binary types) holds each attachment in base64.
#pragma once

#include <eio/socketio/packet.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio::tool {

// Appends the JSON line of `p` and its attachments to `out`, without a
// newline. `p.data` is JSON the decoder accepted; it is copied as is, except
// that line breaks between its tokens become spaces (JSON strings cannot hold
// raw ones), so the object stays on one line.
void append_socketio_json(const socketio::packet& p, const std::vector<socketio::attachment>& attachments,
                          std::string& out);

// A Socket.IO packet that owns its bytes, as read from a JSON line.
struct json_socketio_packet {
  socketio::packet_type type = socketio::packet_type::event;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  std::string data;  // compact JSON, empty when the line has no "data"
  std::vector<socketio::attachment> attachments;

  socketio::packet view() const {
    return socketio::packet{type, nsp, id, is_binary(type) ? attachments.size() : 0, data};
  }
};

// Whether `line` is a JSON object whose "type" is a Socket.IO packet type
// name; false for anything else (an Engine.IO line, or not JSON at all).
bool is_socketio_line(std::string_view line);

// Parses one line into `out`: "type" (required), "nsp" (a string, default
// "/"), "id" (a whole number), "data" (any JSON value, written back
// compactly), "attachments" (binary types only: an array of base64 strings).
// Any other key is refused. The packet must then encode and decode as
// Socket.IO (socketio::encode and the decoder with limits raised): an EVENT
// needs a name, a BINARY_EVENT as many placeholders as attachments, and so
// on. On failure returns false with `reason` set to a message for people.
bool parse_socketio_json(std::string_view line, json_socketio_packet& out, std::string& reason);

}  // namespace eio::tool
