// eio::socketio values: the application-facing form of packet data.
//
// An application reads and builds arguments as nlohmann::json values
// (https://github.com/nlohmann/json): typed access to strings, numbers,
// booleans, arrays and objects, and binary data as json::binary_t (a
// std::vector<std::uint8_t>), anywhere in the value. On the wire, binary
// travels apart: each one becomes {"_placeholder":true,"num":N} in the JSON
// text and its bytes attachment N (socket.io-parser deconstructPacket /
// reconstructPacket). These functions convert between the two.
//
//   value args = value::array({"hello", value::binary({1, 2, 3}), {{"n", 1}}});
//   std::string data;
//   std::vector<attachment> attachments;
//   make_event_data("upload", args, data, attachments);
//     // data: ["upload","hello",{"_placeholder":true,"num":0},{"n":1}]
//     // attachments: {{1,2,3}}; send as BINARY_EVENT with attachments.size()
//
//   value back;
//   from_wire(data, std::move(attachments), back);  // back[1].is_binary()
//
// Both nlohmann::json (keys sorted) and nlohmann::ordered_json (keys in
// insertion order, as JavaScript objects keep them) are accepted.
//
// A server's hot path (dispatch by event name, echo, relay, broadcast) needs
// none of this: decoder::decode gives the event name and the arguments as
// validated JSON text (payload_info), which append_event_data re-emits as is.
// Values are for the application's handlers.
#pragma once

#include <eio/socketio/packet.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio::socketio {

using value = nlohmann::json;

// Whether `v` holds binary data anywhere.
bool has_binary(const nlohmann::json& v);
bool has_binary(const nlohmann::ordered_json& v);

// Appends the JSON text of `v` to `out`, every binary replaced by a
// placeholder numbered in the order the reference's deconstructPacket visits
// them (depth first: arrays by index, objects in key order), and appends each
// binary's bytes to `attachments` in that order (placeholder num N refers to
// the N-th attachment appended by this call). Numbers that are not finite
// are written as null, as JSON.stringify does. The rvalue overloads move the
// bytes instead of copying them.
// Errors: invalid_utf8 (a string or key that is not UTF-8); `out` and
// `attachments` are then as before the call.
std::error_code to_wire(const nlohmann::json& v, std::string& out, std::vector<attachment>& attachments);
std::error_code to_wire(nlohmann::json&& v, std::string& out, std::vector<attachment>& attachments);
std::error_code to_wire(const nlohmann::ordered_json& v, std::string& out, std::vector<attachment>& attachments);
std::error_code to_wire(nlohmann::ordered_json&& v, std::string& out, std::vector<attachment>& attachments);

// Parses the JSON text `json` (the data of a packet that is not binary) into
// `out`. Placeholder-shaped objects stay plain objects, as the reference
// leaves them in packets that are not binary.
// Errors: invalid_json, json_too_deep (nesting past `max_depth`).
std::error_code from_wire(std::string_view json, nlohmann::json& out, std::size_t max_depth = decode_options{}.max_depth);
std::error_code from_wire(std::string_view json, nlohmann::ordered_json& out,
                          std::size_t max_depth = decode_options{}.max_depth);

// Parses the data of a binary packet and puts each attachment where its
// placeholder was, as json::binary_t (moved, not copied). The placeholder
// rules are decoder::scan's: each placeholder exactly
// {"_placeholder":true,"num":N} with N a non-negative integer below
// attachments.size(), each N once, every attachment used.
// Errors: invalid_json, json_too_deep, invalid_placeholder,
// placeholder_out_of_range, duplicate_placeholder, missing_placeholder.
// (JSON text cannot show duplicate keys once parsed: nlohmann, like
// JSON.parse, keeps the last. decoder::scan refuses them in placeholders;
// give this function data the decoder accepted.)
std::error_code from_wire(std::string_view json, std::vector<attachment> attachments, nlohmann::json& out,
                          std::size_t max_depth = decode_options{}.max_depth);
std::error_code from_wire(std::string_view json, std::vector<attachment> attachments, nlohmann::ordered_json& out,
                          std::size_t max_depth = decode_options{}.max_depth);

// The data of an EVENT named `name` with the arguments `args` (an array: its
// elements are the arguments; any other value is one argument): appends
// ["<name>",<args>...] to `out` and the attachments to `attachments`. The
// packet is a BINARY_EVENT when attachments were appended, else an EVENT.
// Errors: reserved_event_name and invalid_utf8 (check_event_name; the server
// must not emit reserved names), invalid_utf8 (in args). Nothing is appended
// on error.
std::error_code make_event_data(std::string_view name, const nlohmann::json& args, std::string& out,
                                std::vector<attachment>& attachments);
std::error_code make_event_data(std::string_view name, const nlohmann::ordered_json& args, std::string& out,
                                std::vector<attachment>& attachments);

}  // namespace eio::socketio
