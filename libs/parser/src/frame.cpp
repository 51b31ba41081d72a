#include <eio/base64.hpp>
#include <eio/parser.hpp>

#include <cassert>

#include "packet_text.hpp"
#include "utf8.hpp"

namespace eio {
namespace detail {

failure decode_text_packet(std::string_view text, protocol_version version, std::size_t at, bool validate_utf8,
                           packet& out, std::string& storage) {
  assert(!text.empty());
  const char lead = text[0];
  if (lead == 'b') {
    // v4: "b<base64>" is a binary message. v3: "b<type digit><base64>".
    std::size_t data_at = 1;
    packet_type type = packet_type::message;
    if (version == protocol_version::v3) {
      if (text.size() < 2 || text[1] < '0' || text[1] > '6') return {errc::unknown_packet_type, at + 1};
      type = static_cast<packet_type>(text[1] - '0');
      data_at = 2;
    }
    const std::string_view encoded = text.substr(data_at);
    const std::size_t start = storage.size();
    assert(storage.capacity() - start >= base64_max_decoded_size(encoded.size()) || start == 0);
    storage.resize(start + base64_max_decoded_size(encoded.size()));
    bool ok = false;
    std::size_t bad = 0;
    const std::size_t written = base64_decode_into(encoded, storage.data() + start, ok, bad);
    storage.resize(start + written);
    if (!ok) return {errc::invalid_base64, at + data_at + bad};
    out = packet{type, true, std::string_view(storage.data() + start, written)};
    return {};
  }
  if (lead < '0' || lead > '6') return {errc::unknown_packet_type, at};
  const std::string_view data = text.substr(1);
  if (validate_utf8) {
    const std::size_t bad = find_invalid_utf8(reinterpret_cast<const unsigned char*>(data.data()), data.size());
    if (bad != data.size()) return {errc::invalid_utf8, at + 1 + bad};
  }
  out = packet{static_cast<packet_type>(lead - '0'), false, data};
  return {};
}

}  // namespace detail

decode_error decode_frame(std::string_view frame, frame_kind kind, protocol_version version, packet& out,
                          std::string& scratch, const decode_options& options) {
  using detail::failure;
  if (frame.size() > options.max_payload_bytes) return failure{errc::payload_too_large, options.max_payload_bytes}.to_error();
  if (kind == frame_kind::binary) {
    if (version == protocol_version::v4) {  // v4 binary frames are message data, nothing else
      out = packet{packet_type::message, true, frame};
      return {};
    }
    if (frame.empty()) return failure{errc::empty_packet, 0}.to_error();
    const auto type = static_cast<unsigned char>(frame[0]);
    if (type > 6) return failure{errc::unknown_packet_type, 0}.to_error();
    out = packet{static_cast<packet_type>(type), true, frame.substr(1)};
    return {};
  }
  if (frame.empty()) return failure{errc::empty_packet, 0}.to_error();
  scratch.clear();
  return detail::decode_text_packet(frame, version, 0, options.validate_utf8, out, scratch).to_error();
}

bool layout_frame(const packet& p, protocol_version version, bool binary_supported, frame_layout& out) noexcept {
  if (!p.binary) {
    out = frame_layout{frame_kind::text, true, static_cast<char>('0' + static_cast<int>(p.type))};
    return true;
  }
  if (!binary_supported) return false;
  // v4 has binary data only in message packets (engine.io-protocol, "Packet encoding").
  assert(version == protocol_version::v3 || p.type == packet_type::message);
  out = frame_layout{frame_kind::binary, version == protocol_version::v3, static_cast<char>(p.type)};
  return true;
}

frame_kind encode_frame(const packet& p, protocol_version version, bool binary_supported, std::string& out) {
  frame_layout layout;
  if (layout_frame(p, version, binary_supported, layout)) {
    out += layout.prefix();
    out += p.data;
    return layout.kind;
  }
  out += 'b';
  if (version == protocol_version::v3) out += static_cast<char>('0' + static_cast<int>(p.type));
  base64_encode(p.data, out);
  return frame_kind::text;
}

}  // namespace eio
