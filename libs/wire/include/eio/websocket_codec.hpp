// RFC 6455 framing, sans I/O: the server side of a WebSocket connection
// (and the masked frames of the client side, for eio::poco_client).
//
// Poco's WebSocket reads whole frames with blocking calls, which a reactor
// that never blocks cannot use; this codec takes whatever bytes arrived and
// says what they mean. It reads client frames (masked, RFC 6455 section 5.3),
// joins fragmented messages (5.4), enforces the control-frame rules (5.5),
// checks UTF-8 of text messages and close reasons (8.1) and the message size
// limit, and writes unmasked server frames. Standard library and eio::parser
// only.
#pragma once

#include <eio/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eio::websocket {

// Close codes this codec sends (RFC 6455 section 7.4.1).
inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_invalid_data = 1007;  // text that is not UTF-8
inline constexpr std::uint16_t close_too_big = 1009;

// How many frames one data message may come in. RFC 6455 section 5.4 sets
// no bound, but every fragment costs a frame decode: 20,000 one-byte
// fragments cost as much as 20,000 messages while counting as 20 KB against
// the size limit. Browsers send messages whole; 1,024 leaves room for any
// client that streams one in pieces.
inline constexpr std::size_t default_max_fragments_per_message = 1024;

enum class opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// What a read() found.
struct frame_event {
  enum class kind : std::uint8_t {
    need_more,  // nothing complete yet: call again with more bytes
    message,    // a whole data message: `message_kind`, `data`
    ping,       // answer with a pong carrying `data`
    pong,
    close,      // the peer's close: `close_code` (1005 when it sent none), `data` = reason
    error,      // the peer broke the protocol: close with `close_code`, `reason` says why
  };
  kind what = kind::need_more;
  frame_kind message_kind = frame_kind::text;
  // A message whose first frame had RSV1 set: `data` is compressed
  // (permessage-deflate, RFC 7692 section 6) and, if text, not yet checked
  // for UTF-8. Only with frame_reader's allow_compressed.
  bool compressed = false;
  // Valid until the next read(); with in_input, as long as the input's
  // bytes are (see read_in_place).
  std::string_view data;
  bool in_input = false;  // a message read in place: `data` views the caller's input
  std::uint16_t close_code = 0;
  const char* reason = "";  // static, or held by the reader (the fragment count's)
};

// Reads a client's byte stream. Like eio::payload_decoder::feed, each read()
// is given every byte not yet consumed and says how many it consumed; it
// stops at the first event so the caller can act on it (answer a ping, say).
//
// RSV bits are a protocol error unless `allow_compressed` (permessage-deflate
// was negotiated): then RSV1 is allowed on the first frame of a data message
// (RFC 7692 section 6.1), still not on continuation or control frames, and
// the message is reported with `compressed` set. max_message_bytes then
// counts the compressed bytes.
//
// A data message in more than `max_fragments_per_message` frames (its first
// frame and its continuations; control frames between them do not count) is
// an error with close_too_big, found at the header of the frame past the
// limit. 0 is read as 1: unfragmented messages only.
class frame_reader {
public:
  explicit frame_reader(std::size_t max_message_bytes = 1'000'000, bool require_masked = true,
                        bool allow_compressed = false,
                        std::size_t max_fragments_per_message = default_max_fragments_per_message) noexcept
      : max_message_bytes_(max_message_bytes),
        max_fragments_(max_fragments_per_message > 0 ? max_fragments_per_message : 1),
        require_masked_(require_masked),
        allow_compressed_(allow_compressed) {}

  // Consumes a prefix of `input` and reports at most one event. After an
  // error or a close, read() consumes nothing more and repeats that event.
  // Message data is copied into the reader's own buffer.
  std::size_t read(std::string_view input, frame_event& out);
  // The same over bytes the reader may change: a whole single-frame message
  // in `input` is unmasked where it lies and reported as a view of it
  // (in_input), valid as long as those bytes are: no copy (uWebSockets
  // does the same).
  std::size_t read_in_place(char* input, std::size_t size, frame_event& out);
  // The buffer behind the last message event that was not in_input, moved
  // out for the caller to keep; the reader starts a fresh one.
  std::string take_message() noexcept;

private:
  std::size_t read(std::string_view input, char* writable, frame_event& out);
  frame_event fail(std::uint16_t code, const char* reason);
  bool finish_frame(frame_event& out);

  std::size_t max_message_bytes_;
  std::size_t max_fragments_;
  bool require_masked_;
  bool allow_compressed_;
  // The frame being read.
  bool in_frame_ = false;
  bool fin_ = false;
  opcode op_ = opcode::continuation;
  std::uint64_t remaining_ = 0;  // payload bytes still to come
  std::uint32_t mask_ = 0;
  std::size_t mask_offset_ = 0;  // payload bytes unmasked so far (mask key rotation)
  // A fragmented data message in progress, and its kind.
  bool in_message_ = false;
  std::size_t fragments_ = 0;  // frames of it so far
  frame_kind message_kind_ = frame_kind::text;
  bool message_compressed_ = false;
  std::string message_;
  std::string control_;  // a control frame's payload (at most 125 bytes)
  std::string fragments_reason_;  // the error's reason when a message has too many fragments
  bool finished_ = false;
  frame_event final_;  // repeated after an error or close
};

// Appends an unmasked server frame header for a `length`-byte payload; the
// payload follows it on the wire. Returns the header's size (2, 4 or 10).
// `compressed` sets RSV1: only on the first frame of a message compressed
// with the negotiated permessage-deflate (RFC 7692 section 6.1).
std::size_t append_frame_header(opcode op, bool fin, std::uint64_t length, std::string& out, bool compressed = false);

// Appends a whole unmasked frame.
void append_frame(opcode op, std::string_view payload, std::string& out);

// Appends a close frame with `code` and a reason (cut to fit 125 bytes).
void append_close_frame(std::uint16_t code, std::string_view reason, std::string& out);

// The client role (RFC 6455 section 5.3: every client frame is masked).
// Read a server's frames with frame_reader(limit, /*require_masked=*/false).
// `mask_key` is the frame's masking key, its first byte the most significant;
// the caller draws it fresh for every frame from a strong source (section
// 10.3), the codec stays free of randomness.
void append_masked_frame(opcode op, std::string_view payload, std::uint32_t mask_key, std::string& out);

// Appends a masked close frame with `code` and a reason (cut to fit 125 bytes).
void append_masked_close_frame(std::uint16_t code, std::string_view reason, std::uint32_t mask_key, std::string& out);

}  // namespace eio::websocket
