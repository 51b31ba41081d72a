#include <eio/parser.hpp>

#include <algorithm>
#include <cstring>

#include "packet_text.hpp"
#include "utf8.hpp"

namespace eio {

struct payload_decoder::progress {
  std::size_t consumed = 0;  // bytes of this feed()'s input wholly decoded
  detail::failure fail;
  bool done = false;

  // Records a failure at `local_offset` of this feed()'s input.
  void fail_at(errc e, std::size_t consumed_before, std::size_t local_offset) {
    fail = {e, consumed_before + local_offset};
  }
};

payload_decoder::payload_decoder(protocol_version version, payload_format format, decode_options options)
    : version_(version), format_(version == protocol_version::v4 ? payload_format::text : format), options_(options) {}

void payload_decoder::reset() noexcept {
  consumed_total_ = 0;
  packets_total_ = 0;
  failure_ = {};
  binary_storage_.clear();
}

decode_error payload_decoder::decode(std::string_view payload, std::vector<packet>& out) {
  reset();
  return feed(payload, true, out).error;
}

payload_decoder::feed_result payload_decoder::feed(std::string_view input, bool last, std::vector<packet>& out) {
  if (failure_) return {0, failure_, false};
  binary_storage_.clear();
  // Bytes past the limit are never looked at, so where the payload is split
  // cannot change which error comes first.
  const std::size_t allowed = options_.max_payload_bytes - consumed_total_;
  const bool over_limit = input.size() > allowed;
  if (over_limit) {
    input = input.substr(0, allowed);
    last = false;
  }
  progress state;
  if (format_ == payload_format::binary) {
    feed_v3_binary(input, last, out, state);
  } else if (version_ == protocol_version::v4) {
    feed_v4(input, last, out, state);
  } else {
    feed_v3_text(input, last, out, state);
  }
  if (over_limit && !state.fail) state.fail = {errc::payload_too_large, options_.max_payload_bytes};
  consumed_total_ += state.consumed;
  failure_ = state.fail.to_error();
  return {state.consumed, failure_, state.done};
}

// The packet is decoded straight into its place in `out`: building it on the
// stack and copying it in stalls on store forwarding, which cost more than
// the rest of decoding a small packet.
packet* payload_decoder::next_slot(std::size_t at, std::vector<packet>& out, progress& state) {
  if (packets_total_ == options_.max_packets) {
    state.fail = {errc::too_many_packets, at};
    return nullptr;
  }
  ++packets_total_;
  return &out.emplace_back();
}

bool payload_decoder::decode_packet_text(std::string_view text, std::size_t at, bool validate_utf8,
                                         std::size_t input_left, packet& out, progress& state) {
  if (text[0] == 'b') {
    // Decoded base64 is shorter than its text, so room for the rest of this
    // feed()'s input is never outgrown: the first b-packet of a feed() makes
    // the room, later ones find it (input_left only shrinks), and views into
    // the storage stay valid.
    binary_storage_.reserve(input_left + 4);
  }
  state.fail = detail::decode_text_packet(text, version_, at, validate_utf8, out, binary_storage_);
  return !state.fail;
}

namespace {

struct packet_extent {
  std::size_t end;  // the separator's index, or the input's size
  bool found;       // a separator ends the packet
  bool ascii;       // every byte before `end` is ASCII (UTF-8 needs no check)
};

// Where the v4 packet starting at `pos` ends. Most packets are short, so the
// first bytes are scanned a word at a time for the separator and for
// non-ASCII bytes at once; a long packet goes on with memchr, and its text
// is left to the vectorised UTF-8 check.
packet_extent find_packet_end(std::string_view input, std::size_t pos) noexcept {
  constexpr char separator = '\x1e';
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t size = input.size();
  const std::size_t short_end = std::min(size, pos + 128);
  bool ascii = true;
  std::size_t i = pos;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  for (; i + 8 <= short_end; i += 8) {
    const std::uint64_t word = detail::load8(p + i);
    const std::uint64_t x = word ^ (ones * static_cast<unsigned char>(separator));
    // The lowest flagged byte is exactly the first zero of x (the classic
    // "has a zero byte" test; its false positives lie only above a true zero).
    const std::uint64_t zero = (x - ones) & ~x & detail::high_bits;
    const std::uint64_t high = word & detail::high_bits;
    if (zero) {
      const std::size_t k = static_cast<std::size_t>(__builtin_ctzll(zero)) / 8;
      const std::uint64_t before = k == 0 ? 0 : (~0ull >> (64 - 8 * k));
      return {i + k, true, ascii && (high & before) == 0};
    }
    ascii = ascii && high == 0;
  }
#endif
  for (; i < short_end; ++i) {
    if (p[i] == static_cast<unsigned char>(separator)) return {i, true, ascii};
    ascii = ascii && p[i] < 0x80;
  }
  if (i == size) return {size, false, ascii};
  const void* found = std::memchr(p + i, separator, size - i);
  if (!found) return {size, false, false};
  return {static_cast<std::size_t>(static_cast<const unsigned char*>(found) - p), true, false};
}

}  // namespace

// v4: packets joined by the record separator (engine.io-protocol, "HTTP long-polling").
void payload_decoder::feed_v4(std::string_view input, bool last, std::vector<packet>& out, progress& state) {
  std::size_t pos = 0;
  for (;;) {
    // Here `pos` is the start of the payload or just past a separator.
    if (pos == input.size()) {
      if (last) state.fail_at(consumed_total_ + pos == 0 ? errc::empty_payload : errc::empty_packet, consumed_total_, pos);
      return;
    }
    const packet_extent extent = find_packet_end(input, pos);
    if (!extent.found && !last) return;  // the packet may go on in bytes not yet here
    const std::size_t end = extent.end;
    const std::size_t at = consumed_total_ + pos;
    if (end == pos) return state.fail_at(errc::empty_packet, consumed_total_, pos);
    packet* slot = next_slot(at, out, state);
    if (!slot) return;
    const char lead = input[pos];
    if (extent.ascii && lead >= '0' && lead <= '6') {  // plain text: nothing to check or transform
      slot->type = static_cast<packet_type>(lead - '0');
      slot->data = input.substr(pos + 1, end - pos - 1);
    } else if (!decode_packet_text(input.substr(pos, end - pos), at, options_.validate_utf8 && !extent.ascii,
                                   input.size() - pos, *slot, state)) {
      out.pop_back();
      return;
    }
    if (!extent.found) {
      state.consumed = end;
      state.done = true;
      return;
    }
    pos = end + 1;
    state.consumed = pos;
  }
}

// v3 text: "<length>:<packet>" where length counts UTF-16 code units, as
// JavaScript's String.length does (engine.io-protocol v3, "Payload").
void payload_decoder::feed_v3_text(std::string_view input, bool last, std::vector<packet>& out, progress& state) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t size = input.size();
  const auto fail = [&](errc e, std::size_t local_offset) { state.fail_at(e, consumed_total_, local_offset); };
  std::size_t pos = 0;
  for (;;) {
    if (pos == size) {
      if (last && consumed_total_ + pos == 0) return fail(errc::empty_payload, 0);
      state.done = last;
      return;
    }
    // The length prefix.
    const std::size_t length_at = pos;
    std::size_t length = 0;
    while (pos < size && bytes[pos] >= '0' && bytes[pos] <= '9') {
      if (pos - length_at == options_.max_length_digits) return fail(errc::length_too_long, pos);
      length = length * 10 + (bytes[pos] - '0');
      ++pos;
    }
    if (pos == size) return last ? fail(errc::truncated, pos) : void();
    if (bytes[pos] != ':' || pos == length_at) return fail(errc::invalid_length, pos);
    const std::size_t data_at = ++pos;
    // Walk `length` UTF-16 units of UTF-8 text.
    std::size_t units = 0;
    bool ascii = true;
    while (units < length) {
      if (pos == size) return last ? fail(errc::truncated, pos) : void();
      if (length - units >= 8 && size - pos >= 8 && (detail::load8(bytes + pos) & detail::high_bits) == 0) {
        pos += 8;
        units += 8;
        continue;
      }
      if (bytes[pos] < 0x80) {
        ++pos;
        ++units;
        continue;
      }
      ascii = false;
      const int sequence = detail::utf8_sequence_length(bytes + pos, size - pos);
      if (sequence == detail::sequence_incomplete) return last ? fail(errc::invalid_utf8, pos) : void();
      if (sequence == 0) return fail(errc::invalid_utf8, pos);
      const std::size_t width = sequence == 4 ? 2 : 1;  // a surrogate pair in UTF-16
      if (length - units < width) return fail(errc::length_splits_character, pos);
      pos += static_cast<std::size_t>(sequence);
      units += width;
    }
    // "0:" is an empty payload's encoding in the reference; it carries no packet.
    if (length > 0) {
      const std::size_t at = consumed_total_ + data_at;
      packet* slot = next_slot(at, out, state);
      if (!slot) return;
      const char lead = input[data_at];
      if (ascii && lead >= '0' && lead <= '6') {  // plain text: nothing to transform
        slot->type = static_cast<packet_type>(lead - '0');
        slot->data = input.substr(data_at + 1, pos - data_at - 1);
      } else if (!decode_packet_text(input.substr(data_at, pos - data_at), at, false, size - data_at, *slot, state)) {
        out.pop_back();
        return;
      }
    }
    state.consumed = pos;
  }
}

// v3 binary (XHR2): <0|1> <length digits as bytes 0..9> 0xFF <packet>.
void payload_decoder::feed_v3_binary(std::string_view input, bool last, std::vector<packet>& out, progress& state) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t size = input.size();
  const auto fail = [&](errc e, std::size_t local_offset) { state.fail_at(e, consumed_total_, local_offset); };
  std::size_t pos = 0;
  for (;;) {
    if (pos == size) {
      if (last && consumed_total_ + pos == 0) return fail(errc::empty_payload, 0);
      state.done = last;
      return;
    }
    const bool is_text = bytes[pos] == 0;
    if (bytes[pos] > 1) return fail(errc::invalid_payload_marker, pos);
    const std::size_t length_at = ++pos;
    std::size_t length = 0;
    while (pos < size && bytes[pos] != 0xFF) {
      if (bytes[pos] > 9) return fail(errc::invalid_length, pos);
      if (pos - length_at == options_.max_length_digits) return fail(errc::length_too_long, pos);
      length = length * 10 + bytes[pos];
      ++pos;
    }
    if (pos == size) return last ? fail(errc::truncated, pos) : void();
    if (pos == length_at) return fail(errc::invalid_length, pos);
    const std::size_t data_at = ++pos;
    if (size - data_at < length) return last ? fail(errc::truncated, size) : void();
    const std::string_view body = input.substr(data_at, length);
    const std::size_t at = consumed_total_ + data_at;
    if (body.empty()) return fail(errc::empty_packet, data_at);
    packet* slot = next_slot(at, out, state);
    if (!slot) return;
    if (is_text) {
      if (!decode_packet_text(body, at, options_.validate_utf8, size - data_at, *slot, state)) {
        out.pop_back();
        return;
      }
    } else {
      const auto type = static_cast<unsigned char>(body[0]);
      if (type > 6) {
        out.pop_back();
        return fail(errc::unknown_packet_type, data_at);
      }
      *slot = packet{static_cast<packet_type>(type), true, body.substr(1)};
    }
    pos = data_at + length;
    state.consumed = pos;
  }
}

}  // namespace eio
