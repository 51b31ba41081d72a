// eio::socketio server: where connection state recovery keeps what it needs
// (socket.io-adapter's SessionAwareAdapter, lib/in-memory-adapter.ts): the
// log of packets broadcast, each with an offset, and the sessions of sockets
// that disconnected for a recoverable reason.
//
// One store serves every loop of a process (a client may reconnect to
// another loop than the one it left), so it is thread-safe. Times are the
// callers' `now`: every loop must use the same monotonic clock.
#pragma once

#include <eio/socketio/adapter.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eio::socketio {

// Whether a packet broadcast to `rooms` except `except` would have reached
// a socket in `session_rooms` (in-memory-adapter.ts shouldIncludePacket):
// in one of the rooms (or to all when there are none), in none of the
// excepted. Also for stores kept elsewhere (the Redis Streams adapter).
bool session_reaches(const std::vector<std::string>& session_rooms, const std::vector<std::string>& rooms,
                     const std::vector<std::string>& except);

class session_store {
public:
  virtual ~session_store() = default;
  // Logs `packet`, broadcast in namespace `nsp` to the sockets `opts` selects,
  // under a new offset: appends the offset to the packet as its last argument
  // and returns it.
  virtual std::string append(std::string_view nsp, const broadcast_options& opts, event_packet& packet,
                             std::chrono::milliseconds now) = 0;
  // Keeps `session` of namespace `nsp` until it is restored or expires.
  virtual void persist(std::string_view nsp, session_to_persist session, std::chrono::milliseconds now) = 0;
  // The session of `pid` and the packets logged after `offset` that its
  // rooms would have received, in order; nullopt when the pid is unknown or
  // expired, or the offset is no longer in the log. A session is restored
  // at most once (it is removed).
  virtual std::optional<restored_session> restore(std::string_view nsp, std::string_view pid, std::string_view offset,
                                                  std::chrono::milliseconds now) = 0;
};

struct session_store_options {
  // How long a session and a logged packet are kept (the reference's
  // maxDisconnectionDuration).
  std::chrono::milliseconds max_disconnection_duration{120'000};
  // Bytes of logged packets (data and attachments) kept per namespace; past
  // it the oldest go first, and a client whose offset went with them gets
  // a new socket. The reference bounds the log by age only.
  std::size_t max_log_bytes = 64 * 1024 * 1024;
  // Sessions kept per namespace; past it the oldest go first.
  std::size_t max_sessions = 100'000;
};

// The store in this process's memory, behind one mutex.
class in_process_session_store final : public session_store {
public:
  explicit in_process_session_store(session_store_options options = {});

  std::string append(std::string_view nsp, const broadcast_options& opts, event_packet& packet,
                     std::chrono::milliseconds now) override;
  void persist(std::string_view nsp, session_to_persist session, std::chrono::milliseconds now) override;
  std::optional<restored_session> restore(std::string_view nsp, std::string_view pid, std::string_view offset,
                                          std::chrono::milliseconds now) override;

  // For tests and monitoring.
  std::size_t logged_packets(std::string_view nsp) const;
  std::size_t logged_bytes(std::string_view nsp) const;
  std::size_t sessions(std::string_view nsp) const;

private:
  struct logged_packet {
    std::uint64_t offset = 0;
    std::chrono::milliseconds emitted_at{0};
    std::vector<std::string> rooms;
    std::vector<std::string> except;
    event_packet packet;
    std::size_t bytes = 0;
  };
  struct stored_session {
    session_to_persist session;
    std::chrono::milliseconds disconnected_at{0};
    std::uint64_t order = 0;
  };
  struct namespace_log {
    std::deque<logged_packet> packets;  // offsets increasing
    std::size_t bytes = 0;
    std::unordered_map<std::string, stored_session> sessions;  // by pid
    std::deque<std::pair<std::uint64_t, std::string>> session_order;  // (order, pid), oldest first
  };

  namespace_log& log_of(std::string_view nsp);
  const namespace_log* find_log(std::string_view nsp) const;
  void purge(namespace_log& log, std::chrono::milliseconds now);

  session_store_options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, namespace_log> logs_;
  std::uint64_t next_offset_ = 1;
  std::uint64_t next_order_ = 1;
};

}  // namespace eio::socketio
