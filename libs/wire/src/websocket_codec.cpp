#include <eio/utf8.hpp>
#include <eio/websocket_codec.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace eio::websocket {
namespace {

bool is_control(opcode op) { return static_cast<std::uint8_t>(op) >= 0x8; }

bool is_known(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

// Close codes a peer may send (RFC 6455 section 7.4; 1004-1006 and 1015 are
// reserved for reporting, never for the wire).
bool is_valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

std::uint64_t read_big_endian(const unsigned char* p, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

// Writes `count` bytes of `from` to `out` (which may be `from`), unmasked
// with `mask` (its bytes in wire order) starting `offset` bytes into the
// payload (section 5.3).
void unmask(const unsigned char* from, unsigned char* out, std::size_t count, std::uint32_t mask, std::size_t offset) {
  unsigned char key[4];
  for (std::size_t k = 0; k < 4; ++k) key[k] = static_cast<unsigned char>(mask >> (24 - 8 * ((k + offset) % 4)));
  // Eight bytes at a time with the key repeated, then the rest.
  std::uint64_t key8 = 0;
  std::memcpy(&key8, key, 4);
  std::memcpy(reinterpret_cast<unsigned char*>(&key8) + 4, key, 4);
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, from + i, 8);
    word ^= key8;
    std::memcpy(out + i, &word, 8);
  }
  for (; i < count; ++i) out[i] = from[i] ^ key[i % 4];
}

void append_unmasked(const unsigned char* from, std::size_t count, std::uint32_t mask, std::size_t offset,
                     std::string& to) {
  const std::size_t start = to.size();
  to.resize(start + count);
  unmask(from, reinterpret_cast<unsigned char*>(to.data() + start), count, mask, offset);
}

}  // namespace

frame_event frame_reader::fail(std::uint16_t code, const char* reason) {
  finished_ = true;
  final_ = frame_event{};
  final_.what = frame_event::kind::error;
  final_.close_code = code;
  final_.reason = reason;
  return final_;
}

std::size_t frame_reader::read(std::string_view input, frame_event& out) { return read(input, nullptr, out); }

std::size_t frame_reader::read_in_place(char* input, std::size_t size, frame_event& out) {
  return read(std::string_view(input, size), input, out);
}

std::string frame_reader::take_message() noexcept {
  std::string taken = std::move(message_);
  message_ = std::string();
  return taken;
}

std::size_t frame_reader::read(std::string_view input, char* writable, frame_event& out) {
  out = frame_event{};
  if (finished_) {
    out = final_;
    return 0;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t pos = 0;
  const auto error = [&](std::uint16_t code, const char* reason) {
    out = fail(code, reason);
    return pos;
  };
  for (;;) {
    if (!in_frame_) {
      if (input.size() - pos < 2) return pos;
      const unsigned char b0 = p[pos];
      const unsigned char b1 = p[pos + 1];
      const auto op = static_cast<std::uint8_t>(b0 & 0x0F);
      const bool fin = (b0 & 0x80) != 0;
      const bool masked = (b1 & 0x80) != 0;
      const std::uint8_t length7 = b1 & 0x7F;
      // What the first two bytes decide fails at once (section 5.2).
      // RSV1 only marks a compressed message's first frame (RFC 7692 section 6.1).
      const bool rsv1 = (b0 & 0x40) != 0;
      if ((b0 & 0x30) || (rsv1 && !allow_compressed_)) return error(close_protocol_error, "reserved bits set");
      if (!is_known(op)) return error(close_protocol_error, "unknown opcode");
      if (rsv1 && op != 1 && op != 2) return error(close_protocol_error, "RSV1 on a control or continuation frame");
      if (require_masked_ && !masked) return error(close_protocol_error, "client frame not masked");
      const bool control = is_control(static_cast<opcode>(op));
      if (control && !fin) return error(close_protocol_error, "fragmented control frame");
      if (control && length7 > 125) return error(close_protocol_error, "control frame over 125 bytes");
      const std::size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
      const std::size_t header = 2 + length_bytes + (masked ? 4 : 0);
      if (input.size() - pos < header) return pos;
      const std::uint64_t length = length_bytes ? read_big_endian(p + pos + 2, length_bytes) : length7;
      if (length_bytes == 8 && (length >> 63)) return error(close_protocol_error, "length over 2^63");
      if (op == 0 && !in_message_) return error(close_protocol_error, "continuation without a message");
      if ((op == 1 || op == 2) && in_message_) return error(close_protocol_error, "new message inside a fragmented one");
      // Section 5.4 puts no bound on the fragments of a message; each costs a
      // frame decode, so their number is bounded like the message's size.
      if (op == 0 && fragments_ >= max_fragments_) {
        fragments_reason_ = "message in more than " + std::to_string(max_fragments_) + " fragments";
        return error(close_too_big, fragments_reason_.c_str());
      }
      // Checked against the message so far, before any payload is stored.
      const std::size_t so_far = op == 0 ? message_.size() : 0;
      if (!control && length > max_message_bytes_ - std::min(so_far, max_message_bytes_)) {
        return error(close_too_big, "message too big");
      }
      if (op == 0) ++fragments_;
      // The common case: a whole unfragmented message lies in the input. It
      // is reported where it lies (unmasked in place), not copied.
      if (writable && (op == 1 || op == 2) && fin && input.size() - pos - header >= length) {
        const std::size_t at = pos + header;
        const auto n = static_cast<std::size_t>(length);
        if (masked) {
          const std::uint32_t mask = static_cast<std::uint32_t>(read_big_endian(p + pos + 2 + length_bytes, 4));
          unmask(p + at, reinterpret_cast<unsigned char*>(writable + at), n, mask, 0);
        }
        const std::string_view payload = input.substr(at, n);
        pos = at + n;
        if (op == 1 && !rsv1 && utf8_valid_prefix(payload) != payload.size()) {
          return error(close_invalid_data, "text message not UTF-8");
        }
        out.what = frame_event::kind::message;
        out.message_kind = op == 1 ? frame_kind::text : frame_kind::binary;
        out.compressed = rsv1;
        out.data = payload;
        out.in_input = true;
        return pos;
      }
      if (op == 1 || op == 2) {
        in_message_ = true;
        fragments_ = 1;
        message_kind_ = op == 1 ? frame_kind::text : frame_kind::binary;
        message_compressed_ = rsv1;
        message_.clear();
      }
      if (control) control_.clear();
      in_frame_ = true;
      fin_ = fin;
      op_ = static_cast<opcode>(op);
      remaining_ = length;
      mask_ = masked ? static_cast<std::uint32_t>(read_big_endian(p + pos + 2 + length_bytes, 4)) : 0;
      mask_offset_ = 0;
      pos += header;
    }
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
    append_unmasked(p + pos, take, mask_, mask_offset_, is_control(op_) ? control_ : message_);
    pos += take;
    remaining_ -= take;
    mask_offset_ += take;
    if (remaining_ > 0) return pos;
    in_frame_ = false;
    if (finish_frame(out)) return pos;
  }
}

// A frame's payload is complete: report it, or (a non-final fragment) go on.
bool frame_reader::finish_frame(frame_event& out) {
  switch (op_) {
    case opcode::ping:
    case opcode::pong:
      out.what = op_ == opcode::ping ? frame_event::kind::ping : frame_event::kind::pong;
      out.data = control_;
      return true;
    case opcode::close: {
      if (control_.size() == 1) {
        out = fail(close_protocol_error, "close payload of one byte");
        return true;
      }
      out.what = frame_event::kind::close;
      out.close_code = 1005;  // "no status received" (section 7.4.1)
      if (control_.size() >= 2) {
        out.close_code = static_cast<std::uint16_t>(read_big_endian(reinterpret_cast<const unsigned char*>(control_.data()), 2));
        out.data = std::string_view(control_).substr(2);
        if (!is_valid_close_code(out.close_code)) {
          out = fail(close_protocol_error, "invalid close code");
          return true;
        }
        if (utf8_valid_prefix(out.data) != out.data.size()) {
          out = fail(close_invalid_data, "close reason not UTF-8");
          return true;
        }
      }
      finished_ = true;
      final_ = out;
      return true;
    }
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
      if (!fin_) return false;
      in_message_ = false;
      // Compressed text is checked by the caller once inflated.
      if (message_kind_ == frame_kind::text && !message_compressed_ && utf8_valid_prefix(message_) != message_.size()) {
        out = fail(close_invalid_data, "text message not UTF-8");
        return true;
      }
      out.what = frame_event::kind::message;
      out.message_kind = message_kind_;
      out.compressed = message_compressed_;
      out.data = message_;
      return true;
  }
  return false;
}

std::size_t append_frame_header(opcode op, bool fin, std::uint64_t length, std::string& out, bool compressed) {
  out += static_cast<char>((fin ? 0x80 : 0x00) | (compressed ? 0x40 : 0x00) | static_cast<std::uint8_t>(op));
  if (length < 126) {
    out += static_cast<char>(length);
    return 2;
  }
  const std::size_t bytes = length <= 0xFFFF ? 2 : 8;
  out += static_cast<char>(bytes == 2 ? 126 : 127);
  for (std::size_t i = bytes; i-- > 0;) out += static_cast<char>((length >> (8 * i)) & 0xFF);
  return 2 + bytes;
}

void append_frame(opcode op, std::string_view payload, std::string& out) {
  append_frame_header(op, true, payload.size(), out);
  out += payload;
}

namespace {

// 125 bytes of close payload at most: the code and up to 123 bytes of
// reason, cut at a character boundary so the reason stays UTF-8.
std::string close_payload(std::uint16_t code, std::string_view reason) {
  if (reason.size() > 123) {
    reason = reason.substr(0, 123);
    reason = reason.substr(0, utf8_valid_prefix(reason));
  }
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload += reason;
  return payload;
}

}  // namespace

void append_close_frame(std::uint16_t code, std::string_view reason, std::string& out) {
  append_frame(opcode::close, close_payload(code, reason), out);
}

void append_masked_frame(opcode op, std::string_view payload, std::uint32_t mask_key, std::string& out) {
  append_frame_header(op, true, payload.size(), out);
  out[out.size() - 1 - (payload.size() < 126 ? 0 : payload.size() <= 0xFFFF ? 2 : 8)] |= static_cast<char>(0x80);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((mask_key >> shift) & 0xFF);
  // Masking is its own inverse (section 5.3).
  append_unmasked(reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mask_key, 0, out);
}

void append_masked_close_frame(std::uint16_t code, std::string_view reason, std::uint32_t mask_key, std::string& out) {
  append_masked_frame(opcode::close, close_payload(code, reason), mask_key, out);
}

}  // namespace eio::websocket
