// The JSON-line form of a packet, written by `eiotool decode` and read by
// `eiotool encode`, one object per line:
//   {"type":"message","data":"hello"}
//   {"type":"message","data":"AQID","binary":true}   (data in base64)
// The same shape as the packets in tests/vectors/*.json, so a vector's
// packets can be pasted into `eiotool encode`.
#pragma once

#include <eio/parser.hpp>

#include <string>
#include <string_view>

namespace eio::tool {

// A packet that owns its bytes, as read from a JSON line.
struct json_packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string data;  // text (UTF-8) or, when binary, the decoded bytes

  packet view() const { return packet{type, binary, data}; }
};

// Appends the JSON form of `p` to `out`, without a newline. Text keeps its
// UTF-8 as is; only what JSON requires is escaped (RFC 8259 section 7). Text
// that is not UTF-8 (possible only when the decoder was told not to check)
// has each bad sequence replaced by U+FFFD, as a JavaScript peer shows it,
// because a JSON string cannot carry it.
void append_packet_json(const packet& p, std::string& out);

// Parses one line into `out`. Takes an object with "type" (a packet type
// name), optional "data" (a string, default empty) and optional "binary" (a
// boolean, default false); any other key is rejected so that a misspelt
// "binary" is not silently ignored. On failure returns false with `reason`
// set to a message for people.
bool parse_packet_json(std::string_view line, json_packet& out, std::string& reason);

}  // namespace eio::tool
