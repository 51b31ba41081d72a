// eio::socketio_redis: publish into a Socket.IO cluster on Redis without
// being a Socket.IO server, as @socket.io/redis-emitter 5.x does: a C++
// backend pushing events to browsers connected to Node (or our) servers
// that use the classic @socket.io/redis-adapter (createAdapter).
//
//   eio::socketio_redis::redis_emitter emitter({.endpoint = {"127.0.0.1", 6379}});
//   emitter.wait_connected(std::chrono::seconds(2));
//   emitter.emit({.nsp = "/", .rooms = {"room1"}}, "news", eio::socketio::value::array({"hello", 1}));
//   emitter.flush(std::chrono::seconds(2));   // every publish answered by Redis
//
// Messages are those of the emitter: uid "emitter", [uid, packet, opts] in
// notepack on socket.io#<nsp># (socket.io#<nsp>#<room># for exactly one
// room); socketsJoin/Leave, disconnectSockets and serverSideEmit (without
// acks, as the reference) as JSON requests on socket.io-request#<nsp>#.
// Thread-safe; the Redis client runs on a thread of its own.
#pragma once

#include <eio/socketio/value.hpp>
#include <eio/socketio_redis/redis_client.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace eio::socketio_redis {

struct emit_target {
  std::string nsp = "/";
  std::vector<std::string> rooms;   // empty: every socket of the namespace
  std::vector<std::string> except;
  bool is_volatile = false;
  bool compress = true;
};

class redis_emitter {
public:
  explicit redis_emitter(redis_client_options options, std::string key = "socket.io");
  ~redis_emitter();

  // Waits until Redis is reached; false at the timeout.
  bool wait_connected(std::chrono::milliseconds timeout);
  // Publishes EVENT `name` with `args` (an array: one argument per element;
  // binary as json::binary). Errors: reserved_event_name, invalid_utf8
  // (nothing is sent).
  std::error_code emit(const emit_target& to, std::string_view name, const socketio::value& args);
  // The rest publish requests as the emitter does; room names and `args`
  // must be UTF-8 (json::type_error otherwise, from the JSON encoding).
  void sockets_join(const emit_target& which, const std::vector<std::string>& rooms);
  void sockets_leave(const emit_target& which, const std::vector<std::string>& rooms);
  void disconnect_sockets(const emit_target& which, bool close);
  void server_side_emit(const std::string& nsp, std::string_view name, const socketio::value& args);
  // Waits until Redis answered every publish so far; false at the timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Publishes Redis answered, and how many subscribers received them in all
  // (PUBLISH's reply), and publishes lost (Redis unreachable).
  std::uint64_t published() const noexcept { return published_; }
  std::uint64_t receivers() const noexcept { return receivers_; }
  std::uint64_t lost() const noexcept { return lost_; }

private:
  void publish(std::string channel, std::string payload);

  std::string key_;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> receivers_{0};
  std::atomic<std::uint64_t> lost_{0};
  std::unique_ptr<redis_client> client_;
};

}  // namespace eio::socketio_redis
