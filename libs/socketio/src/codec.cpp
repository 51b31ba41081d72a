// The text form of a Socket.IO packet: decoder::decode (the header, then the
// scanner for the data) and encode.
#include <eio/socketio/packet.hpp>
#include <eio/utf8.hpp>

#include "scanner.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

namespace eio::socketio {
namespace {

constexpr std::array<std::string_view, 6> reserved_event_names{
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

decode_error make_error(errc e, std::size_t offset) { return {make_error_code(e), offset}; }

// Reads the decimal digits at text[i...] into `value`, failing as soon as the
// value would pass `max`: the offending digit's offset goes to `at`. Linear,
// whatever the number of digits.
bool read_decimal(std::string_view text, std::size_t& i, std::uint64_t max, std::uint64_t& value, std::size_t& at) {
  value = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    const auto d = static_cast<std::uint64_t>(text[i] - '0');
    if (d > max || value > (max - d) / 10) {  // value * 10 + d > max, without overflow
      at = i;
      return false;
    }
    value = value * 10 + d;
  }
  return true;
}

void append_decimal(std::uint64_t value, std::string& out) {
  char digits[20];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

}  // namespace

bool is_reserved_event_name(std::string_view name) noexcept {
  for (const auto reserved : reserved_event_names) {
    if (name == reserved) return true;
  }
  return false;
}

std::error_code check_event_name(std::string_view name) noexcept {
  if (is_reserved_event_name(name)) return errc::reserved_event_name;
  if (utf8_valid_prefix(name) != name.size()) return errc::invalid_utf8;
  return {};
}

decoder::decoder(decode_options options)
    : options_(options), scanner_(std::make_unique<detail::scanner>(options.max_depth)) {}
decoder::~decoder() = default;
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;

decode_error decoder::scan(std::string_view data, packet_type type, std::size_t attachments, payload_info& info) {
  return scanner_->scan(data, type, attachments, options_.max_depth, info);
}

decode_error decoder::decode(std::string_view text, packet& out) {
  payload_info info;
  return decode(text, out, info);
}

decode_error decoder::decode(std::string_view text, packet& out, payload_info& info) {
  // socket.io-parser 4.2.6, lib/index.ts, Decoder.decodeString, step by step.
  out = packet{};
  if (text.empty()) return make_error(errc::empty_packet, 0);
  if (text[0] < '0' || text[0] > '6') return make_error(errc::unknown_packet_type, 0);
  out.type = static_cast<packet_type>(text[0] - '0');
  std::size_t i = 1;

  // "<count>-" for the binary types. The reference takes anything Number()
  // reads as an integer ("0x3", " 3", "3.0"); we take decimal digits only.
  // It refuses a count below 1 ("Illegal attachments") and above
  // maxAttachments ("too many attachments").
  if (is_binary(out.type)) {
    if (i >= text.size() || !is_digit(text[i])) return make_error(errc::invalid_attachments, i);
    std::uint64_t count = 0;
    std::size_t at = 0;
    const std::uint64_t max = options_.max_attachments;
    if (!read_decimal(text, i, max, count, at)) return make_error(errc::too_many_attachments, at);
    if (i >= text.size() || text[i] != '-') return make_error(errc::invalid_attachments, i);
    if (count == 0) return make_error(errc::invalid_attachments, 1);
    out.attachments = static_cast<std::size_t>(count);
    ++i;
  }

  // The namespace: from '/' to the first ',' (consumed) or to the end. Only
  // the first max_namespace_bytes + 1 bytes are looked at.
  if (i < text.size() && text[i] == '/') {
    const std::size_t start = i;
    const std::size_t left = text.size() - start;
    const std::size_t max = options_.max_namespace_bytes;
    const std::size_t window = max < left ? max + 1 : left;
    const void* comma = std::memchr(text.data() + start, ',', window);
    std::size_t end = 0;
    if (comma != nullptr) {
      end = static_cast<std::size_t>(static_cast<const char*>(comma) - text.data());
      i = end + 1;
    } else if (left <= max) {
      end = text.size();
      i = end;
    } else {
      return make_error(errc::namespace_too_long, start + max);
    }
    out.nsp = text.substr(start, end - start);
    const std::size_t valid = utf8_valid_prefix(out.nsp);
    if (valid != out.nsp.size()) return make_error(errc::invalid_utf8, start + valid);
  }

  // The ack id: the digits that follow. The reference also counts a space as
  // a digit (Number(" ") == " "); we don't (see the data below).
  if (i < text.size() && is_digit(text[i])) {
    std::uint64_t id = 0;
    std::size_t at = 0;
    if (!read_decimal(text, i, options_.max_ack_id, id, at)) return make_error(errc::ack_id_too_large, at);
    out.id = id;
  }

  // The data (the scan refuses leading whitespace: see there).
  out.data = text.substr(i);
  decode_error error = scanner_->scan(out.data, out.type, out.attachments, options_.max_depth, info);
  if (error) error.offset += i;
  return error;
}

std::error_code encode(const packet& p, std::string& out) {
  if (static_cast<unsigned>(p.type) > 6) return errc::unknown_packet_type;
  if (p.nsp.empty() || p.nsp.front() != '/' || p.nsp.find(',') != std::string_view::npos) {
    return errc::invalid_namespace;
  }
  if (utf8_valid_prefix(p.nsp) != p.nsp.size()) return errc::invalid_utf8;
  if (is_binary(p.type) ? p.attachments == 0 : p.attachments != 0) return errc::invalid_attachments;
  if (p.id && *p.id > max_safe_ack_id) return errc::ack_id_too_large;

  out += static_cast<char>('0' + static_cast<int>(p.type));
  if (is_binary(p.type)) {
    append_decimal(p.attachments, out);
    out += '-';
  }
  if (p.nsp != "/") {
    out += p.nsp;
    out += ',';
  }
  if (p.id) append_decimal(*p.id, out);
  out += p.data;
  return {};
}

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // bytes copied as they are, appended in one go
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

std::error_code append_event_data(std::string_view name, std::string_view args, std::string& out) {
  if (const std::error_code error = check_event_name(name)) return error;
  out += '[';
  append_json_string(name, out);
  if (!args.empty()) {
    out += ',';
    out += args;
  }
  out += ']';
  return {};
}

}  // namespace eio::socketio
