// zlib compression for any adapter, sans I/O: bytes in, bytes out.
//
// Two uses, both as the Node reference server does them:
//  - HTTP response compression of polling responses (engine.io's
//    `httpCompression`, on for bodies of `http_compression_threshold` bytes
//    or more): choose_encoding() reads Accept-Encoding, compress_body()
//    compresses one body at once.
//  - permessage-deflate for WebSocket (RFC 7692, engine.io's
//    `perMessageDeflate`, off by default): negotiate_permessage_deflate()
//    reads the client's Sec-WebSocket-Extensions offers, and a
//    permessage_deflate object compresses outgoing and inflates incoming
//    messages of one connection.
//
// Needs zlib: without it (eio::wire built with EIO_WIRE_ZLIB=OFF) nothing
// compresses (compression_available() is false, compress_body fails,
// negotiate_permessage_deflate declines every offer). Nothing here throws
// except std::bad_alloc.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace eio::wire {

// Whether eio::wire was built with zlib (option EIO_WIRE_ZLIB, on when
// zlib is found).
bool compression_available() noexcept;

// ---------------------------------------------------------------------------
// HTTP response compression

// Bodies smaller than this are sent as they are (engine.io's default
// `httpCompression.threshold`).
inline constexpr std::size_t http_compression_threshold = 1024;

enum class http_encoding { identity, gzip, deflate };

// The Content-Encoding value of `encoding`: "gzip", "deflate", or "" for
// identity (send no Content-Encoding header then).
std::string_view content_encoding_name(http_encoding encoding) noexcept;

// The coding to answer a request with, from its Accept-Encoding value (RFC
// 9110 section 12.5.3): a comma-separated list of codings, each with an
// optional ";q=" weight (0 to 1, at most three decimals; q=0 means "not
// acceptable"). Names are case-insensitive, "x-gzip" counts as gzip (section
// 8.4.1.3), "*" stands for every coding not named. gzip wins over deflate
// when both are acceptable with the same weight, the higher weight wins
// otherwise. Elements that do not parse (a bad weight, say) are ignored.
// identity when neither gzip nor deflate is acceptable, and for an empty or
// absent header (pass "" then).
http_encoding choose_encoding(std::string_view accept_encoding);

// Compresses `in` in one go into `out` (its contents replaced) with zlib's
// default level, as Node's zlib does: gzip is the gzip format (RFC 1952),
// deflate is the zlib format (RFC 1950), which is what HTTP's "deflate"
// means (RFC 9110 section 8.4.1.2). identity copies `in`. Returns false (out
// unspecified) if zlib fails, which only happens when it cannot allocate.
bool compress_body(http_encoding encoding, std::string_view in, std::string& out);

// ---------------------------------------------------------------------------
// permessage-deflate (RFC 7692)
//
// For the caller (the frame layer, RFC 7692 section 6):
//  - A compressed message has RSV1 set on its first frame only (never on
//    continuation frames); the payload of all its frames together is what
//    decompress() takes. websocket::frame_reader accepts RSV1 when built with
//    allow_compressed and reports it as frame_event::compressed; it does not
//    check UTF-8 of compressed text messages, so check the decompressed text
//    (close 1007 if it is not UTF-8).
//  - Control frames (close, ping, pong) are never compressed.
//  - The frame reader's message limit counts compressed bytes; the limit on
//    the decompressed message is decompress()'s `max_size`.
//  - The server may send any message uncompressed (RSV1 clear), e.g. small
//    ones; with context takeover that does not disturb the compressor.

// What the server is willing to do. A server that does not want
// permessage-deflate does not call negotiate_permessage_deflate().
struct permessage_deflate_config {
  // Ask the client to reset its compressor after every message, so the
  // server's decompressor keeps no history between messages (memory).
  bool client_no_context_takeover = false;
  // Reset our compressor after every message (memory; worse compression).
  bool server_no_context_takeover = false;
  // The largest LZ77 window (2^bits bytes) our compressor uses, 8 to 15.
  // zlib's raw deflate has no 256-byte window, so 8 compresses with 9 (see
  // permessage_deflate::compress: that stays within 256 bytes).
  int server_max_window_bits = 15;
  // The window the client's compressor may use at most, 8 to 15; below 15
  // only clients that offer client_max_window_bits are accepted (as Node's
  // `ws` does), since only those can be told.
  int client_max_window_bits = 15;
  // zlib's compression level (-1 = zlib's default, 0 to 9) and memLevel (1
  // to 9), as Node's `zlibDeflateOptions`.
  int level = -1;
  int mem_level = 8;
};

// The agreed parameters (RFC 7692 section 7.1), server role: "server" is us.
struct permessage_deflate_params {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;  // 8 to 15
  int client_max_window_bits = 15;  // 8 to 15
  // Whether the response names the window sizes (always, when the offer did
  // for server_max_window_bits; when the offer allowed and we limit it for
  // client_max_window_bits).
  bool send_server_max_window_bits = false;
  bool send_client_max_window_bits = false;
  // Compressor settings taken from the config, not negotiated.
  int level = -1;
  int mem_level = 8;

  // The response's Sec-WebSocket-Extensions value, e.g.
  // "permessage-deflate; server_no_context_takeover; client_max_window_bits=10".
  std::string header_value() const;
};

// Reads the client's Sec-WebSocket-Extensions value (RFC 6455 section 9.1;
// several header lines joined with ", ") and accepts the first
// permessage-deflate offer this server can honour (RFC 7692 section 5).
// Other extensions are skipped. An offer is declined, and the next one
// tried, if it has a parameter RFC 7692 does not define for offers, a
// parameter twice, a value that is not allowed (window bits outside 8..15,
// a value on a flag, none on server_max_window_bits), or asks for
// client_max_window_bits when the client did not offer it (see the config).
// nullopt when no offer is
// accepted or the header does not parse (then no offer is trusted): answer
// without the extension, the connection goes on uncompressed.
std::optional<permessage_deflate_params> negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                                                      const permessage_deflate_config& config);

enum class inflate_result {
  ok,       // `out` holds the whole message
  too_big,  // the message inflates to more than max_size: close with 1009
  corrupt,  // not a valid DEFLATE stream (or zlib out of memory): close with 1007
};

// One connection's compressor and decompressor (server role). After
// too_big or corrupt the connection is to be closed: the decompressor's
// history no longer matches the client's. A moved-from object may only be
// destroyed or assigned to.
class permessage_deflate {
public:
  explicit permessage_deflate(const permessage_deflate_params& params);
  ~permessage_deflate();
  permessage_deflate(permessage_deflate&&) noexcept;
  permessage_deflate& operator=(permessage_deflate&&) noexcept;
  permessage_deflate(const permessage_deflate&) = delete;
  permessage_deflate& operator=(const permessage_deflate&) = delete;

  // Compresses one whole message into `out` (contents replaced): the
  // payload to send with RSV1 set (section 7.2.1: deflate, Z_SYNC_FLUSH,
  // the final 00 00 ff ff removed). Returns false if zlib fails (only when
  // it cannot allocate); the connection should then be closed (1011).
  bool compress(std::string_view message, std::string& out);

  // Inflates one whole compressed message (the joined payloads of its
  // frames) into `out` (contents replaced), section 7.2.2. Stops as soon as
  // the output would pass `max_size` bytes: neither `out` nor its buffer
  // grows past max_size, and at most one 16 KiB chunk more is inflated,
  // whatever the compression ratio (the zip-bomb guard). A block with BFINAL
  // set may end the sender's stream mid-message (section 7.2.3.4); what
  // follows starts a new one. A payload cut short inflates to what it holds
  // (DEFLATE cannot tell); the next message will then likely be corrupt.
  inflate_result decompress(std::string_view payload, std::size_t max_size, std::string& out);

  const permessage_deflate_params& params() const noexcept { return params_; }

private:
  struct streams;
  permessage_deflate_params params_;
  std::unique_ptr<streams> streams_;
};

}  // namespace eio::wire
