// The JSON scanner behind decoder::scan: one validating pass with simdjson's
// On Demand API over a padded copy of the data (simdjson reads up to
// SIMDJSON_PADDING bytes past the end, which the caller's buffer may not
// have). Internal: simdjson stays out of the public headers.
#pragma once

#include <eio/socketio/packet.hpp>

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio::detail {

struct scanner {
  explicit scanner(std::size_t max_depth);

  decode_error scan(std::string_view data, packet_type type, std::size_t attachments, std::size_t max_depth,
                    payload_info& info);

  simdjson::ondemand::parser parser;
  std::string padded;               // the data, then SIMDJSON_PADDING zero bytes
  std::vector<std::uint64_t> seen;  // bit N: a placeholder named attachment N
  // Binary packets: the keys of the objects being walked, innermost last
  // (views into the parser's string buffer, valid for the document).
  std::vector<std::string_view> keys;
};

}  // namespace eio::socketio::detail
