// eio::socketio: the Socket.IO protocol v5 packet codec.
//
// Pure and sans-I/O like eio::parser: no clock, no threads, no global state.
// A Socket.IO packet travels as the data of one Engine.IO `message` packet
// (text), followed, for the two binary types, by one Engine.IO binary message
// per attachment. This header decodes and encodes the text part; the
// assembler (eio/socketio/assembler.hpp) joins a binary packet with its
// attachments, and eio/socketio/value.hpp converts arguments to and from an
// application value (nlohmann::json, binary included).
//
// The text form (socket.io-protocol README, "Packet encoding"):
//
//   <type>[<attachments>-][<nsp>,][<ack id>][JSON data]
//
//   type         one digit, 0..6 (packet_type)
//   attachments  BINARY_EVENT / BINARY_ACK only: decimal count, then '-'
//   nsp          present when the next byte is '/': runs to the first ',' or
//                to the end of the text ("40/admin" is legal); absent means "/"
//   ack id       the run of decimal digits that follows
//   data         the rest, JSON (RFC 8259), checked against the type's rule
//
// Decoding yields views into the caller's text (packet::nsp, packet::data)
// and, for EVENT and ACK data, what a server needs to dispatch without
// building a JSON document (payload_info: the event name, the byte range of
// the arguments, their count, the binary placeholders). JSON is validated
// with simdjson (On Demand); see README.md, "Dependencies", for the choice.
//
// Errors are values: a std::error_code of category socketio_category()
// ("eio.socketio") and the byte offset from the start of the text where
// decoding failed. Every value of errc is a remote violation (a peer sent
// it), except where its comment says "encoder", which reports local misuse.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio::socketio {

// Milliseconds on the caller's monotonic clock, from an epoch of its choice
// (the same type as eio::millis of eio::session).
using millis = std::chrono::milliseconds;

// The bytes of one binary attachment (the same container as
// nlohmann::json::binary_t's, so attachments move into values uncopied).
using attachment = std::vector<std::uint8_t>;

enum class packet_type : std::uint8_t {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

// "CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT",
// "BINARY_ACK": the names of socket.io-parser's PacketType.
std::string_view to_string(packet_type type) noexcept;
// The inverse of to_string; nullopt for any other name.
std::optional<packet_type> packet_type_from_name(std::string_view name) noexcept;
// BINARY_EVENT and BINARY_ACK: the types followed by attachments.
constexpr bool is_binary(packet_type type) noexcept {
  return type == packet_type::binary_event || type == packet_type::binary_ack;
}

// The largest ack id the protocol can carry: the reference reads it into a
// JavaScript number, exact up to 2^53 - 1 (Number.MAX_SAFE_INTEGER).
inline constexpr std::uint64_t max_safe_ack_id = (std::uint64_t{1} << 53) - 1;

// One Socket.IO packet, text part. Decoded packets view the caller's text.
struct packet {
  packet_type type = packet_type::event;
  std::string_view nsp = "/";       // always starts with '/'
  std::optional<std::uint64_t> id;  // the ack id
  std::size_t attachments = 0;      // binary types: how many binary messages follow (>= 1)
  std::string_view data;            // JSON text; empty when the packet has none
};

bool operator==(const packet& a, const packet& b) noexcept;
inline bool operator!=(const packet& a, const packet& b) noexcept { return !(a == b); }

enum class errc {
  empty_packet = 1,          // a text message with no bytes at all
  unknown_packet_type,       // the first byte is not '0'..'6'
  invalid_attachments,       // types 5/6: the count is missing, not decimal digits, 0,
                             // or not followed by '-'; encoder: a count on another
                             // type, or none on a binary type
  too_many_attachments,      // count above decode_options::max_attachments
  namespace_too_long,        // nsp longer than decode_options::max_namespace_bytes
  invalid_namespace,         // encoder: nsp empty, not starting with '/', or holding ','
  invalid_utf8,              // nsp not UTF-8; to_wire: a string value not UTF-8
  ack_id_too_large,          // ack id above decode_options::max_ack_id (encoder: above
                             // max_safe_ack_id)
  invalid_json,              // data is not JSON, or starts with whitespace (which the
                             // reference would read as part of the ack id)
  json_too_deep,             // arrays/objects nested deeper than decode_options::max_depth
  invalid_payload,           // JSON of the wrong shape for the packet type (see decoder)
  reserved_event_name,       // an EVENT named connect, connect_error, disconnect,
                             // disconnecting, newListener or removeListener (also the
                             // emit-side check, check_event_name)
  invalid_placeholder,       // binary types: a {"_placeholder":true,...} object that is
                             // not exactly {"_placeholder":true,"num":<integer >= 0>}
  placeholder_out_of_range,  // binary types: num >= the attachment count
  duplicate_placeholder,     // binary types: two placeholders with the same num
  missing_placeholder,       // binary types: an attachment no placeholder refers to
  duplicate_key,             // binary types: an object with the same key twice (JSON.parse
                             // keeps the last, which could hide a placeholder)
  unexpected_binary,         // assembler: a binary message with no packet waiting for it
  unexpected_text,           // assembler: a text packet while attachments are pending
  attachments_too_large,     // assembler: attachment bytes above max_attachment_bytes
  attachment_timeout,        // assembler: attachments not complete by the deadline
};

const std::error_category& socketio_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
// The identifier of `e` ("invalid_json"), stable for scripts and test vectors.
std::string_view errc_name(errc e) noexcept;
// errc_name of a code of socketio_category(); "unknown" for any other category.
std::string_view errc_name(const std::error_code& code) noexcept;
// The inverse of errc_name; nullopt for any other name.
std::optional<errc> errc_from_name(std::string_view name) noexcept;

// A decoding failure: what, and where. The offset counts bytes from the start
// of the text given to decode() (of the data given to scan()); for the
// assembler, from the start of the binary message it was given (0 for errors
// that concern the message as a whole).
struct decode_error {
  std::error_code code;
  std::size_t offset = 0;

  explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

// Limits; each has a test at the limit and one past it.
struct decode_options {
  // Attachments one binary packet may announce. 10 is the reference's
  // DecoderOptions.maxAttachments default (socket.io-parser 4.2.6, after
  // CVE-2026-33151); raise it for applications that send more.
  std::size_t max_attachments = 10;
  // Bytes of all attachments of one packet together (assembler). 10 MB:
  // ten attachments of the reference's default maxHttpBufferSize (1e6), so
  // the count and Engine.IO's own limit bite first; socketioxide's
  // max_incoming_binary_buf_size is the same.
  std::size_t max_attachment_bytes = 10'000'000;
  // How long a binary packet may wait for its attachments (assembler).
  // socketioxide's packet_completion_timeout; the reference has none.
  millis attachment_timeout{60'000};
  // Bytes of a namespace name. Protocol v5 namespaces are application-chosen
  // paths ("/", "/admin", "/tenant-<uuid>") without a query (v5 carries auth
  // in the CONNECT data, not in the namespace as v4 did); 256 bytes is well
  // above any of them and keeps each packet's namespace lookup cheap.
  std::size_t max_namespace_bytes = 256;
  // The largest ack id accepted; ids past 2^53 - 1 lose precision in the
  // reference, so a client never sends them.
  std::uint64_t max_ack_id = max_safe_ack_id;
  // Arrays and objects nested in one packet's data (the root counts as 1).
  // JSON.parse has no limit of its own; 128 is serde_json's (socketioxide).
  // The scan recurses once per level, so keep it to a few thousand at most.
  std::size_t max_depth = 128;
};

// How an EVENT's first element names it.
enum class event_name_kind : std::uint8_t {
  none,    // not an EVENT (or no data)
  string,  // the usual case: ["message", ...]
  number,  // allowed by the reference: [42, ...]; `name` is the number's JSON text
};

// What one validating pass over a packet's data found. Offsets count bytes
// from the start of the data.
struct payload_info {
  event_name_kind name_kind = event_name_kind::none;
  // EVENT / BINARY_EVENT: the event name. A string is unescaped: when its
  // JSON form has no backslash this views the data itself; otherwise it
  // views storage of the decoder (valid until its next call). A number is
  // its JSON text as sent ("1.5e3").
  std::string_view name;
  // EVENT / ACK (and binary): the arguments as JSON text, the elements of the
  // root array after the event name (EVENT) or all of them (ACK), without
  // the brackets, the separating comma or surrounding whitespace: for
  // `["m", 1, {"a":2}]` the range holds `1, {"a":2}`. Empty when there are
  // none. A server re-emits them under another name without re-serializing:
  // append_event_data(new_name, info.args(data), out).
  std::size_t args_offset = 0;
  std::size_t args_size = 0;
  std::size_t arg_count = 0;  // top-level arguments in that range
  // Binary placeholders: objects whose "_placeholder" key is `true`, at any
  // depth, with the keys in either order. Counted in every packet type; in a
  // binary packet each must be valid, name a distinct attachment, and every
  // attachment must be named (errors otherwise), while in other packets they
  // are plain objects (the reference reconstructs binary packets only).
  std::size_t placeholder_count = 0;
  std::size_t max_placeholder_num = 0;  // the largest valid num seen (0 if none)
  bool placeholders_valid = true;       // each one exactly {"_placeholder":true,"num":<integer>=0>}

  std::string_view args(std::string_view data) const noexcept { return data.substr(args_offset, args_size); }
};

namespace detail {
struct scanner;
}

// Decodes text packets. Holds the JSON scanner's reusable buffers: keep one
// per thread (or per event loop) and reuse it; after the first packets it
// allocates only when a packet is larger than any before. Not thread-safe.
// Per-connection state (attachments in flight) lives in eio::socketio::assembler.
// A moved-from decoder may only be assigned to or destroyed.
class decoder {
public:
  explicit decoder(decode_options options = {});
  ~decoder();
  decoder(decoder&&) noexcept;
  decoder& operator=(decoder&&) noexcept;
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;

  // Decodes one whole text message (an Engine.IO message packet's data,
  // without its leading '4') into `out`, and its data into `info`. On
  // success `out` views `text`, and `info.name` views `text` or this
  // decoder (until its next call). On error `out` and `info` are unspecified.
  //
  // Errors, with the offset of the offending byte: empty_packet,
  // unknown_packet_type, invalid_attachments, too_many_attachments (the digit
  // that passes the limit), namespace_too_long (the first byte past the
  // limit), invalid_utf8 (in the namespace), ack_id_too_large (the digit that
  // passes the limit), and every error of scan() at its offset in `text`.
  // A million-digit count or id and a megabyte namespace fail in time linear
  // in the bytes looked at, which the limits bound.
  decode_error decode(std::string_view text, packet& out, payload_info& info);
  decode_error decode(std::string_view text, packet& out);

  // Validates `data` as the JSON data of a packet of `type` announcing
  // `attachments` (binary types; 0 for the others) in one pass, and fills
  // `info`. The rules are those of the reference decoder (socket.io-parser
  // 4.2.6 Decoder.isPayloadValid), stricter where noted:
  //   CONNECT         absent, or an object
  //   DISCONNECT      absent
  //   EVENT, BINARY_EVENT  an array whose first element is a number or a string
  //                   that is not reserved (is_reserved_event_name); absent is
  //                   refused (the reference lets "2" through with no name)
  //   ACK, BINARY_ACK absent (no arguments), or an array
  //   CONNECT_ERROR   absent, a string or an object
  // JSON is RFC 8259 with no extension, except that it may not start with
  // whitespace (the reference would read a space there as part of the ack
  // id: `42 [1]` is id 0 to it). Stricter than JSON.parse: a number
  // that overflows a double (1e400, Infinity to JavaScript) and a string
  // holding a lone UTF-16 surrogate ("\ud800", which UTF-8 cannot carry) are
  // refused; JSON.stringify writes neither for well-formed values (it writes
  // Infinity as null). Numbers that underflow (1e-400) are taken, as 0.
  // Binary types: every placeholder must be exactly
  // {"_placeholder":true,"num":N} (either key order, no other key, each key
  // once, N a non-negative integer literal), N < attachments, each N once,
  // and every attachment named; and no object may have a key twice. The
  // reference accepts extra keys (dropping them), num 1.5 (yielding
  // undefined), a reused num, an unnamed attachment and duplicate keys (the
  // last wins, so a placeholder can be shadowed); no encoder writes any of
  // those, and refusing them keeps an attachment from being copied many times
  // over and makes from_wire() agree with this scan on every packet it passed.
  //
  // Errors: invalid_json, json_too_deep, invalid_payload,
  // reserved_event_name, invalid_placeholder, placeholder_out_of_range,
  // duplicate_placeholder, missing_placeholder (offset: the end of the
  // data), duplicate_key (offset: the object); offsets count from the start
  // of `data`.
  decode_error scan(std::string_view data, packet_type type, std::size_t attachments, payload_info& info);

  const decode_options& options() const noexcept { return options_; }

private:
  decode_options options_;
  std::unique_ptr<detail::scanner> scanner_;
};

// Appends the text form of `p` to `out`, as the reference encoder writes it:
// the count and '-' for binary types, "<nsp>," unless nsp is "/", the ack id,
// then the data as given. Nothing is appended on error. The attachments
// themselves are sent after it, one Engine.IO binary message each.
//
// `p.data` must be JSON valid for the type (as a decoder or to_wire made
// it); it is not checked here (decoder::scan checks it). Errors (local
// misuse): invalid_namespace (empty, no leading '/', or a ',', which would
// end it on the wire), invalid_attachments (none on a binary type, some on
// another), ack_id_too_large (above max_safe_ack_id).
std::error_code encode(const packet& p, std::string& out);

// The reserved event names (socket.io-parser RESERVED_EVENTS): connect,
// connect_error, disconnect, disconnecting, newListener, removeListener.
bool is_reserved_event_name(std::string_view name) noexcept;

// The emit-side check: reserved_event_name for a reserved name (socket.io's
// emit() throws '"<name>" is a reserved event name'), invalid_utf8 for a name
// that is not UTF-8; otherwise no error.
std::error_code check_event_name(std::string_view name) noexcept;

// Appends the data of an EVENT named `name` with the arguments `args`, JSON
// text of zero or more comma-separated values taken as is (typically
// payload_info::args() of a decoded packet): ["<name>",<args>], or
// ["<name>"] when `args` is empty. `name` is escaped as JSON requires.
// Errors: those of check_event_name; nothing is appended then.
std::error_code append_event_data(std::string_view name, std::string_view args, std::string& out);

// Appends `text` as a JSON string: quotes, and escapes for '"', '\\' and
// control characters only (as JSON.stringify). Precondition: UTF-8.
void append_json_string(std::string_view text, std::string& out);

}  // namespace eio::socketio

namespace std {
template <>
struct is_error_code_enum<eio::socketio::errc> : true_type {};
}  // namespace std
