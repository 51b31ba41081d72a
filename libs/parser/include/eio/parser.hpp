// eio::parser: the Engine.IO packet and payload codec, protocol v4 and v3.
//
// Pure: the C++17 standard library only, no I/O, no threads, no global state.
// Decoding yields views (`packet::data`) into the caller's input wherever the
// bytes need no transformation; only base64-carried binary data is decoded into
// storage owned by the decoder (or the caller's scratch string for frames).
// Errors are values: a `std::error_code` of category `eio::parser_category()`
// plus the byte offset where decoding failed.
//
// The wire forms (engine.io-protocol README, "Packet encoding"):
//   WebSocket, one packet per message:
//     v4 text frame   <type digit><data>        binary frame: raw message bytes
//     v3 text frame   <type digit><data>        binary frame: <type byte><data>
//     either, text    b<base64>  (v4: a binary message)  b<type digit><base64> (v3)
//   HTTP long-polling payloads:
//     v4              packets joined by '\x1e'; binary packets as b<base64>
//     v3 text         <length>:<packet> repeated; length in UTF-16 code units
//                     as JavaScript counts them; binary as b<type digit><base64>
//     v3 binary       (XHR2 clients) per packet: 0x00 (text) or 0x01 (binary),
//                     the decimal length as one byte per digit (0..9), 0xFF,
//                     then the packet; text packets as UTF-8, binary packets
//                     as <type byte><data>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio {

enum class protocol_version : std::uint8_t { v3 = 3, v4 = 4 };

enum class packet_type : std::uint8_t {
  open = 0,
  close = 1,
  ping = 2,
  pong = 3,
  message = 4,
  upgrade = 5,
  noop = 6,
};

// "open", "close", ... as the JavaScript parsers name them.
std::string_view to_string(packet_type type) noexcept;
// The inverse of to_string; nullopt for any other name.
std::optional<packet_type> packet_type_from_name(std::string_view name) noexcept;

// One Engine.IO packet. `data` is UTF-8 text when `binary` is false, raw bytes
// otherwise. A packet without data (a plain "2" ping) has empty `data`, exactly
// like one with empty data: the protocol cannot tell them apart.
struct packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string_view data;
};

bool operator==(const packet& a, const packet& b) noexcept;
inline bool operator!=(const packet& a, const packet& b) noexcept { return !(a == b); }

// Why decoding failed. Every value is a remote violation (malformed input);
// local misuse is not reported through errc.
enum class errc {
  empty_payload = 1,         // a payload with no bytes at all (the reference ignores an
                             // empty v3 binary body; it is never sent, so we refuse it)
  empty_packet,              // a packet without even a type: v4 "\x1e\x1e", a trailing
                             // '\x1e', an empty frame, a v3 binary packet of length 0
  unknown_packet_type,       // type digit/byte outside 0..6 (or not a digit)
  invalid_base64,            // b-packet data is not base64
  invalid_utf8,              // text that is not well-formed UTF-8
  invalid_length,            // v3: length missing or not decimal digits
  length_too_long,           // v3: more length digits than allowed
  truncated,                 // input ends before the packet it announces
  length_splits_character,   // v3: length ends inside a UTF-16 surrogate pair
  invalid_payload_marker,    // v3 binary payload: first byte not 0x00 / 0x01
  payload_too_large,         // more bytes than decode_options::max_payload_bytes
  too_many_packets,          // more packets than decode_options::max_packets
};

const std::error_category& parser_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
// The identifier of `e` ("invalid_base64"), stable for scripts and test vectors.
std::string_view errc_name(errc e) noexcept;
// errc_name of a code of parser_category(); "unknown" for any other category.
std::string_view errc_name(const std::error_code& code) noexcept;
// The inverse of errc_name; nullopt for any other name.
std::optional<errc> errc_from_name(std::string_view name) noexcept;

// A decoding failure: what, and where (a byte offset from the start of the
// frame or payload; for incremental decoding, from the start of the stream).
struct decode_error {
  std::error_code code;
  std::size_t offset = 0;

  explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

// Limits the decoder enforces; each has a test at the limit and one past it.
struct decode_options {
  // Bytes in one payload (defaults to the reference maxHttpBufferSize).
  std::size_t max_payload_bytes = 1'000'000;
  // Packets in one payload. The default is no tighter than the byte limit
  // (the smallest packet is 2 bytes), like the reference; lower it to bound
  // the work one request can cause.
  std::size_t max_packets = 500'000;
  // v3: decimal digits in one length prefix. Ten digits cannot overflow.
  std::size_t max_length_digits = 10;
  // Reject text that is not UTF-8. JavaScript decoders substitute U+FFFD
  // instead; a native peer gets a clear error.
  bool validate_utf8 = true;
};

// ---------------------------------------------------------------- WebSocket

enum class frame_kind : std::uint8_t { text, binary };

// Decodes one complete WebSocket message (fragments already joined) into
// `out`. `out.data` views `frame`, or `scratch` for a base64 `b` packet
// (scratch is overwritten). Errors: empty_packet (an empty frame where a
// type is needed: text frames, v3 binary frames), unknown_packet_type,
// invalid_base64, invalid_utf8 (text frames, if options.validate_utf8),
// payload_too_large.
decode_error decode_frame(std::string_view frame, frame_kind kind, protocol_version version,
                          packet& out, std::string& scratch, const decode_options& options = {});

// Appends the WebSocket form of `p` to `out` and returns the frame kind to
// send it as. Binary packets become binary frames when `binary_supported`,
// otherwise base64 text frames (v3 clients that asked for b64).
frame_kind encode_frame(const packet& p, protocol_version version, bool binary_supported,
                        std::string& out);

// The WebSocket form of `p` without copying its data, for a gather write:
// the message is prefix() (the type digit of a text frame, the type byte of
// a v3 binary frame, nothing for a v4 binary frame) followed by `p.data`.
struct frame_layout {
  frame_kind kind = frame_kind::text;
  bool has_prefix = false;
  char prefix_byte = 0;

  std::string_view prefix() const noexcept { return {&prefix_byte, has_prefix ? 1u : 0u}; }
};
// False when the frame needs its data transformed (base64: binary data
// without `binary_supported`); encode_frame() handles every case.
bool layout_frame(const packet& p, protocol_version version, bool binary_supported, frame_layout& out) noexcept;

// ------------------------------------------------------------- Long-polling

// text: v4 payloads, v3 string payloads. binary: v3 XHR2 binary payloads.
enum class payload_format : std::uint8_t { text, binary };

// Decodes a polling payload, whole or in pieces as the body arrives.
//
// picohttpparser-style: the caller owns the buffer. Each call to feed() gets
// every byte not yet consumed (the unconsumed tail of the previous call
// followed by what arrived since), appends every packet that lies wholly
// inside it, and says how many bytes it consumed. Results (packets, error
// code and offset) do not depend on how the payload was split.
class payload_decoder {
public:
  // v4 has text payloads only: with v4, `format` is ignored (format() says text).
  payload_decoder(protocol_version version, payload_format format, decode_options options = {});

  struct feed_result {
    std::size_t consumed = 0;  // bytes of `input` fully decoded
    decode_error error;        // set: stop, the payload is malformed
    bool done = false;         // `last` was given and the payload ended well
  };

  // `last`: `input` runs to the end of the payload. Packets decoded before an
  // error are still appended (the reference delivers them before closing).
  // Views in the appended packets stay valid while `input`'s bytes do and
  // until the next call to feed() or reset().
  feed_result feed(std::string_view input, bool last, std::vector<packet>& out);

  // Decodes one whole payload from the start (reset() + feed(payload, true)).
  decode_error decode(std::string_view payload, std::vector<packet>& out);

  // Forgets all progress; the next feed() starts a new payload.
  void reset() noexcept;

  protocol_version version() const noexcept { return version_; }
  payload_format format() const noexcept { return format_; }

private:
  struct progress;  // feed_result without std::error_code, cheap per packet
  void feed_v4(std::string_view input, bool last, std::vector<packet>& out, progress& state);
  void feed_v3_text(std::string_view input, bool last, std::vector<packet>& out, progress& state);
  void feed_v3_binary(std::string_view input, bool last, std::vector<packet>& out, progress& state);
  packet* next_slot(std::size_t at, std::vector<packet>& out, progress& state);
  bool decode_packet_text(std::string_view text, std::size_t at, bool validate_utf8, std::size_t input_left,
                          packet& out, progress& state);

  protocol_version version_;
  payload_format format_;
  decode_options options_;
  std::size_t consumed_total_ = 0;  // bytes consumed by earlier feed() calls
  std::size_t packets_total_ = 0;   // packets appended since reset()
  decode_error failure_;            // once set, every feed() returns it
  // Holds base64-decoded bytes. Reserved once per feed() to the input size
  // left when the first b-packet appears, so it never reallocates while
  // views into it are live (decoded base64 is always shorter than its text).
  std::string binary_storage_;
};

// Appends the polling payload carrying `count` packets starting at `packets`
// to `out` and returns its format (Content-Type: text/plain; charset=UTF-8 or
// application/octet-stream). v4 payloads are always text. v3 payloads are
// binary only when `binary_supported` and a packet is binary, as the
// reference does. An empty v3 text payload is "0:" as in the reference.
// Precondition: text data is UTF-8 (v3 lengths are counted from it).
payload_format encode_payload(const packet* packets, std::size_t count, protocol_version version,
                              bool binary_supported, std::string& out);

inline payload_format encode_payload(const std::vector<packet>& packets, protocol_version version,
                                     bool binary_supported, std::string& out) {
  return encode_payload(packets.data(), packets.size(), version, binary_supported, out);
}

}  // namespace eio

namespace std {
template <>
struct is_error_code_enum<eio::errc> : true_type {};
}  // namespace std
