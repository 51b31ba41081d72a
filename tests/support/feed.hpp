// Drives a payload_decoder the way a network reader does: bytes arrive in
// pieces, the caller keeps the unconsumed tail and appends what comes next.
// Header-only and standard-library-only so the fuzz targets share it.
#pragma once

#include <eio/parser.hpp>

#include "owned_packet.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace eio {
// GoogleTest prints packets with this (found by argument-dependent lookup).
inline void PrintTo(const packet& p, std::ostream* os) {
  *os << to_string(p.type) << (p.binary ? "(binary, " : "(text, ") << p.data.size() << " bytes)";
  if (!p.binary && p.data.size() <= 60) *os << " \"" << p.data << "\"";
}
}  // namespace eio

namespace eio::test {

struct fed_payload {
  std::vector<owned_packet> packets;  // owned copies: views die with the next feed()
  decode_error error;

  bool same_as(const fed_payload& other) const {
    return packets == other.packets && error.code == other.error.code && error.offset == other.error.offset;
  }
};

// Feeds `payload` cut before each offset in `cuts` (ascending, inside the
// payload), a new decoder with `options`. Checks the feed() contract itself:
// consumed never exceeds what was given, and a successful last feed()
// consumes everything and says done.
inline fed_payload feed_in_pieces(std::string_view payload, const std::vector<std::size_t>& cuts,
                                  protocol_version version, payload_format format, const decode_options& options,
                                  bool* contract_ok = nullptr) {
  payload_decoder decoder(version, format, options);
  fed_payload result;
  std::string buffer;
  std::vector<packet> packets;
  std::size_t begin = 0;
  bool ok = true;
  for (std::size_t piece = 0; piece <= cuts.size(); ++piece) {
    const std::size_t end = piece < cuts.size() ? cuts[piece] : payload.size();
    const bool last = piece == cuts.size();
    buffer.append(payload.substr(begin, end - begin));
    begin = end;
    packets.clear();
    const auto fed = decoder.feed(buffer, last, packets);
    append_owned(packets, result.packets);
    if (fed.consumed > buffer.size()) ok = false;
    if (fed.error) {
      result.error = fed.error;
      break;
    }
    if (last && (!fed.done || fed.consumed != buffer.size())) ok = false;
    buffer.erase(0, fed.consumed);
  }
  if (contract_ok) *contract_ok = ok;
  return result;
}

inline fed_payload decode_whole(std::string_view payload, protocol_version version, payload_format format,
                                const decode_options& options) {
  return feed_in_pieces(payload, {}, version, format, options);
}

}  // namespace eio::test
