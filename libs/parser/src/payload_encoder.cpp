#include <eio/base64.hpp>
#include <eio/parser.hpp>

#include <cassert>
#include <charconv>

#include "utf8.hpp"

namespace eio {
namespace {

char type_digit(packet_type type) { return static_cast<char>('0' + static_cast<int>(type)); }

void append_decimal(std::size_t value, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

std::size_t text_units(std::string_view data) {
  return detail::utf16_length(reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

void encode_v4(const packet* packets, std::size_t count, std::string& out) {
  std::size_t size = count;
  for (std::size_t i = 0; i < count; ++i) {
    size += packets[i].binary ? base64_encoded_size(packets[i].data.size()) + 1 : packets[i].data.size() + 1;
  }
  out.reserve(out.size() + size);
  for (std::size_t i = 0; i < count; ++i) {
    const packet& p = packets[i];
    if (i > 0) out += '\x1e';
    if (p.binary) {
      assert(p.type == packet_type::message);  // v4 carries binary only in messages
      out += 'b';
      base64_encode(p.data, out);
    } else {
      out += type_digit(p.type);
      out += p.data;
    }
  }
}

// "<length>:<packet>", length in UTF-16 units of the packet as a JS string.
void encode_v3_text(const packet* packets, std::size_t count, std::string& out) {
  if (count == 0) {
    out += "0:";
    return;
  }
  for (std::size_t i = 0; i < count; ++i) {
    const packet& p = packets[i];
    if (p.binary) {
      append_decimal(2 + base64_encoded_size(p.data.size()), out);
      out += ":b";
      out += type_digit(p.type);
      base64_encode(p.data, out);
    } else {
      append_decimal(1 + text_units(p.data), out);
      out += ':';
      out += type_digit(p.type);
      out += p.data;
    }
  }
}

// <0 text | 1 binary> <length, one byte per decimal digit> 0xFF <packet>,
// length in bytes of the packet (type included).
void encode_v3_binary(const packet* packets, std::size_t count, std::string& out) {
  for (std::size_t i = 0; i < count; ++i) {
    const packet& p = packets[i];
    out += p.binary ? '\x01' : '\x00';
    const std::size_t digits_at = out.size();
    append_decimal(1 + p.data.size(), out);
    for (std::size_t d = digits_at; d < out.size(); ++d) out[d] = static_cast<char>(out[d] - '0');
    out += '\xff';
    out += p.binary ? static_cast<char>(p.type) : type_digit(p.type);
    out += p.data;
  }
}

}  // namespace

payload_format encode_payload(const packet* packets, std::size_t count, protocol_version version,
                              bool binary_supported, std::string& out) {
  if (version == protocol_version::v4) {
    encode_v4(packets, count, out);
    return payload_format::text;
  }
  bool any_binary = false;
  for (std::size_t i = 0; i < count && !any_binary; ++i) any_binary = packets[i].binary;
  if (binary_supported && any_binary) {
    encode_v3_binary(packets, count, out);
    return payload_format::binary;
  }
  encode_v3_text(packets, count, out);
  return payload_format::text;
}

}  // namespace eio
