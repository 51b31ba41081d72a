// eio::socketio_redis: the bytes the Node Redis adapters put on Redis, to
// and from our cluster messages. Pure functions, no I/O.
//
// msgpack is notepack.io's dialect (what @socket.io/redis-adapter and the
// sharded adapter use): Buffers as bin, JavaScript numbers as ints when
// integral (and within 64 bits) else float64, `undefined` (fixext 1, type 0:
// d4 00 00) dropped from maps and null in arrays. Strings are read as Node
// reads them (Buffer.toString): each ill-formed UTF-8 sequence becomes one
// U+FFFD, so every string from a peer is UTF-8. Encoding and decoding are
// msgpack-c's (Debian's libmsgpack-cxx); these functions only map values.
#pragma once

#include <eio/socketio/cluster.hpp>
#include <eio/socketio_redis/redis_client.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eio::socketio_redis {

// `v` as notepack would encode the JavaScript value it stands for
// (json::binary_t is a Buffer).
std::string to_msgpack(const nlohmann::json& v);
// How deep a value from a peer may nest: a client's limit
// (decode_options::max_depth) plus the message's own envelope, so that an
// event one node accepted travels to the others.
inline constexpr std::size_t max_peer_depth = 128 + 8;
// nullopt when `bytes` is not one complete msgpack value (or nests deeper
// than max_peer_depth, or its arrays and maps together announce more values
// than it holds: refused before anything is allocated for them).
std::optional<nlohmann::json> from_msgpack(std::string_view bytes);
// nullopt when `text` is not one JSON value (or nests deeper than
// max_peer_depth): parsed with eio::socketio's checks, never recursing
// without bound on what a peer sent.
std::optional<nlohmann::json> from_json_text(std::string_view text);

// ---- ClusterAdapter messages (socket.io-adapter lib/cluster-adapter.ts):
// {uid, nsp, type, data}, as the sharded adapter publishes them: JSON, or
// msgpack when the message carries binary (sharded-adapter.ts encode()).

// The message as a JavaScript value (binary as json::binary_t).
nlohmann::json cluster_message_to_value(const socketio::cluster_message& m);
// nullopt when it is not a message we understand (unknown type, bad shape).
// The fields the type does not use (see cluster_message) stay empty.
std::optional<socketio::cluster_message> cluster_message_from_value(const nlohmann::json& v);

std::string encode_cluster_message(const socketio::cluster_message& m);
// JSON when the first byte is '{' (0x7b), msgpack otherwise, as the
// reference sniffs it.
std::optional<socketio::cluster_message> decode_cluster_message(std::string_view bytes);

// ---- the Streams adapter (@socket.io/redis-streams-adapter 0.3, lib/adapter.ts)

// A stream entry's id, "<milliseconds>-<sequence>": what XADD returns and
// what connection state recovery hands clients as their offset.
struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  friend bool operator<(const stream_id& a, const stream_id& b) {
    return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
  }
  friend bool operator<=(const stream_id& a, const stream_id& b) { return !(b < a); }
  friend bool operator==(const stream_id& a, const stream_id& b) { return a.ms == b.ms && a.seq == b.seq; }
};
// nullopt unless `text` is digits '-' digits, each fitting 64 bits (the
// reference's /^[0-9]+-[0-9]+$/, with the range checked).
std::optional<stream_id> parse_stream_id(std::string_view text);
std::string to_string(const stream_id& id);

// The stream namespace `nsp` is written to (adapter.ts computeStreamName):
// `name` when there is one stream, else name + "-" + hashCode(nsp) % count,
// where hashCode is Java's over the UTF-16 code units, in int32, and % keeps
// JavaScript's sign: a suffix can be negative ("socket.io--1").
std::string stream_for_namespace(std::string_view nsp, std::string_view name, std::size_t count);
// Every stream a node reads with `count` streams: name-0 .. name-(count-1)
// as the reference reads, and name--1 .. name--(count-1) it writes for
// namespaces with a negative hash but never reads (so ours hear them).
std::vector<std::string> streams_to_read(std::string_view name, std::size_t count);

using stream_fields = std::vector<std::pair<std::string, std::string>>;
// The fields XADD writes for `m` (adapter.ts encode()): uid, nsp, type as
// decimal text, and data: the message's data as JSON text, or the base64
// of its msgpack when a binary-capable type carries binary.
stream_fields to_stream_fields(const socketio::cluster_message& m);
// And back (adapter.ts decode(): data starting with '{' is JSON, else
// base64 msgpack); nullopt when it is not a message we understand. uid and
// nsp are read as node-redis reads them, as UTF-8 with U+FFFD.
std::optional<socketio::cluster_message> from_stream_fields(const stream_fields& fields);

struct stream_entry {
  stream_id id;
  // nullopt when the fields are not a message we understand (still an entry
  // read: the position moves past it).
  std::optional<socketio::cluster_message> message;
};
// The entries of an XRANGE reply, or of one stream of an XREAD reply, in
// order; nullopt when the reply is not shaped like one.
std::optional<std::vector<stream_entry>> parse_entries(const redis_reply& entries);

// What a restore does next, having read the stream after the client's
// `offset` up to `reached` (`offset` itself before any entry) in `pages`
// pages, when its loop has applied the entries up to `applied` (nullopt:
// the loop's reader has not started):
//   wait       the reader has not started, or has not yet applied the
//              client's own offset (its entries up to there would reach
//              the socket again)
//   read_more  the loop applied entries the range has not read: they
//              reached nobody before the socket existed, so they are replayed
//   refuse     that would take more than max_pages pages
//   replay     the entries read up to `applied`; the reader brings the rest
enum class restore_step { wait, read_more, refuse, replay };
restore_step next_restore_step(stream_id offset, stream_id reached, std::optional<stream_id> applied,
                               std::size_t pages, std::size_t max_pages);

// The value kept under sio:session:<pid>: the base64 of the msgpack of
// {sid, pid, rooms, data} (adapter.ts persistSession), and back.
std::string encode_session(const socketio::session_to_persist& session);
std::optional<socketio::session_to_persist> decode_session(std::string_view text);

// `text` escaped so that a Redis glob pattern (PSUBSCRIBE) matches it
// literally: the classic adapter subscribes "socket.io#<nsp>#*", and a
// namespace named "/a*" must not also take in every "/a..." namespace's
// channels (whose messages would then arrive twice). The reference does not
// escape.
std::string glob_literal(std::string_view text);

// ---- pieces shared with the classic adapter's requests

// {rooms: [...], except: [...], flags: {...}} (socket.io-adapter's
// BroadcastOptions as JSON: rooms and except are Sets serialized as arrays).
nlohmann::json options_to_value(const socketio::broadcast_options& opts);
socketio::broadcast_options options_from_value(const nlohmann::json& v);
// [name, args...] with binary in place, from an event_packet, and back.
nlohmann::json event_to_value(const socketio::event_packet& p);
std::optional<socketio::event_packet> event_from_value(const nlohmann::json& v);
// One value (an ack's first argument) from wire_args-shaped JSON text with
// placeholders; nullopt when there is none. And back.
std::optional<nlohmann::json> single_to_value(const socketio::event_packet& p);
socketio::event_packet single_from_value(const nlohmann::json* v);
nlohmann::json socket_to_value(const socketio::socket_details& s);
socketio::socket_details socket_from_value(const nlohmann::json& v);

}  // namespace eio::socketio_redis
