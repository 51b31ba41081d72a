// eio::socketio::assembler: joins a binary packet with its attachments.
//
// A BINARY_EVENT or BINARY_ACK announces N attachments in its text; the next
// N Engine.IO binary messages on the same connection are those attachments,
// in order (socket.io-parser Decoder.add and BinaryReconstructor). Keep one
// assembler per connection, and feed it every decoded text packet and every
// binary message of that connection in the order they arrived.
//
// Sans-I/O: every call takes `now`, on the caller's clock; the assembler
// never reads a clock. A packet waiting for attachments has a deadline
// (decode_options::attachment_timeout after its text arrived): ask
// next_deadline(), and call on_timeout(now) when it passes. A packet that is
// late is refused even if on_timeout() was never called.
//
// Any error is a protocol violation on the connection: the reference closes
// it ("parse error"). After an error the assembler has dropped whatever was
// pending and the input that failed, and is ready for a new packet.
#pragma once

#include <eio/socketio/packet.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio {

// A complete Socket.IO packet: its text part, what the decoder found in its
// data, and its attachments (binary types only; the caller may move them out).
struct message {
  packet header;
  payload_info info;
  std::vector<attachment> attachments;
};

// What a feed produced. complete: `out` holds a whole packet. Otherwise,
// without an error, the assembler is waiting for more attachments.
struct feed_result {
  decode_error error;
  bool complete = false;
};

class assembler {
public:
  // Uses max_attachment_bytes and attachment_timeout of `options` (the
  // decoder enforces the count).
  explicit assembler(decode_options options = {});

  // A text packet, as decoder::decode returned it with its payload_info.
  //  - Not binary: complete at once; `out.header` and `out.info` are `p` and
  //    `info` as given (views into the caller's text; nothing is copied) and
  //    `out.attachments` is emptied.
  //  - Binary: copies the packet (its views need not outlive this call) and
  //    waits for p.attachments binary messages; `out` is untouched.
  // Errors (offset 0): attachment_timeout (a pending packet is past its
  // deadline), unexpected_text (a packet is still waiting for attachments:
  // the reference throws "got plaintext data when reconstructing a packet").
  feed_result on_packet(const packet& p, const payload_info& info, millis now, message& out);

  // One binary message. When it is the last attachment the packet is
  // complete: `out.header` and `out.info` view storage of this assembler,
  // valid until its next call, and `out.attachments` holds the attachments in
  // order. Errors: unexpected_binary (offset 0: no packet is waiting; the
  // reference throws "got binary data when not reconstructing a packet"),
  // attachment_timeout (offset 0), attachments_too_large (offset of the first
  // byte past max_attachment_bytes within `bytes`).
  feed_result on_binary(std::string_view bytes, millis now, message& out);

  // When the pending packet's attachments are due; nullopt if none is pending.
  std::optional<millis> next_deadline() const noexcept;

  // Drops the pending packet and returns attachment_timeout if its deadline
  // is at or before `now`; otherwise does nothing and returns no error.
  decode_error on_timeout(millis now);

  // A packet is waiting for attachments.
  bool pending() const noexcept { return pending_; }
  // Attachment bytes held for the pending packet.
  std::size_t pending_bytes() const noexcept { return pending_bytes_; }

  // Drops the pending packet, if any.
  void reset() noexcept;

private:
  decode_error fail(errc e, std::size_t offset) noexcept;

  decode_options options_;
  bool pending_ = false;
  millis deadline_{0};
  std::size_t pending_bytes_ = 0;
  // The pending packet, owned: its text part and the unescaped event name.
  packet header_;
  payload_info info_;
  std::string nsp_;
  std::string data_;
  std::string name_;
  std::vector<attachment> attachments_;
};

}  // namespace eio::socketio
