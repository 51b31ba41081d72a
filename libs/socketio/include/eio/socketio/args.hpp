// eio::socketio server: event arguments as the wire carries them.
//
// The server's hot path builds no JSON document: a handler gets the
// arguments of an event as the JSON text the client sent (validated by the
// decoder) plus its binary attachments, and converts them to nlohmann values
// only when it asks (args_view::values()). Emitting takes either values
// (converted once, binary anywhere) or arguments already in wire form
// (wire_args, or an args_view to relay what a client sent without
// re-serializing it).
//
// "Arguments" are the elements of a packet's data array after the event name
// (EVENT) or all of them (ACK), as JSON text without the brackets: for
// `["chat","hi",{"n":1}]` the arguments are `"hi",{"n":1}`. Binary values
// are {"_placeholder":true,"num":N} objects numbered from 0 within the
// arguments, N naming attachments[N].
#pragma once

#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio::socketio {

// Arguments that own their bytes: built from values, copied from a view to
// keep past a handler, or carried between nodes of a cluster.
struct wire_args {
  std::string json;  // zero or more comma-separated JSON values
  std::vector<attachment> attachments;

  bool empty() const noexcept { return json.empty(); }
};

// `args` as wire arguments: an array gives one argument per element (an empty
// array none), any other value is one argument (wrap an array you want sent
// as one argument: value::array({list})). Binary anywhere becomes
// attachments. Errors: invalid_utf8 (a string that is not UTF-8); `out` is
// then empty.
std::error_code make_wire_args(const value& args, wire_args& out);
// The same for exactly one value, whatever its type (an ack's response).
std::error_code make_wire_value(const value& v, wire_args& out);

// A view of arguments: the text and attachments of a packet being handled.
// Valid during the handler call that received it (copy with to_wire() to
// keep them longer). values() parses once, on first use, and caches.
class args_view {
public:
  args_view() = default;
  // `json`: comma-separated values; `attachments` may be null when there are
  // none; `count`: how many values, when known (else counted on demand).
  args_view(std::string_view json, const std::vector<attachment>* attachments,
            std::optional<std::size_t> count = std::nullopt) noexcept
      : json_(json), attachments_(attachments), count_(count) {}
  explicit args_view(const wire_args& owned) noexcept : json_(owned.json), attachments_(&owned.attachments) {}

  std::string_view json() const noexcept { return json_; }
  const std::vector<attachment>& attachments() const noexcept;
  bool empty() const noexcept { return json_.empty(); }
  // How many arguments.
  std::size_t size() const;

  // The arguments as one array value, binary restored (json::binary_t).
  // The text was validated when it arrived, so this does not fail for input
  // from a client; for text from elsewhere that is not JSON it is an empty
  // array.
  const value& values() const;
  // values()[i]; a null value past the end.
  const value& operator[](std::size_t i) const;

  // An owned copy.
  wire_args to_wire() const;

private:
  std::string_view json_;
  const std::vector<attachment>* attachments_ = nullptr;
  mutable std::optional<std::size_t> count_;
  mutable std::optional<value> values_;
};

}  // namespace eio::socketio
