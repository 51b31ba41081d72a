// eio::socketio_redis (internal): the reading end of the Redis Streams
// adapter. XREAD BLOCK holds its connection until an entry comes or the
// block time passes, so the reader has a redis_client of its own (the
// node's client keeps serving commands and pub/sub meanwhile), as the
// reference has a duplicated client per stream.
//
// It reads every stream of the cluster with one XREAD. On its first
// connection it asks where each stream ends (XREVRANGE ... COUNT 1) and
// reads from there; after a lost connection it goes on from the last entry
// it read, so nothing appended meanwhile is skipped (unless MAXLEN trimmed
// it first).
#pragma once

#include <eio/socketio_redis/redis_client.hpp>
#include <eio/socketio_redis/wire.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eio::socketio_redis {

class stream_reader {
public:
  struct options {
    redis_client_options client;
    std::vector<std::string> streams;
    std::size_t read_count = 100;                  // XREAD COUNT (readCount)
    std::chrono::milliseconds block_time{5000};    // XREAD BLOCK (blockTimeInMs)
  };
  // All on the reader's I/O thread: `started` once per stream, with the
  // position reading starts after; `read` with each non-empty batch of a
  // stream, in stream order.
  struct handlers {
    std::function<void(const std::string& stream, stream_id)> started;
    std::function<void(const std::string& stream, std::vector<stream_entry>)> read;
  };

  stream_reader(options opts, handlers h);
  ~stream_reader();  // stops the reader's thread: no handler runs after it

  const redis_client_stats& stats() const noexcept;

private:
  void start();
  void read_next();
  void on_read(const redis_reply& reply);

  options options_;
  handlers handlers_;
  // The reader's I/O thread only:
  std::vector<std::optional<stream_id>> positions_;  // per stream, as options_.streams
  std::size_t positions_asked_ = 0;                  // XREVRANGE replies still to come
  bool reading_ = false;
  std::unique_ptr<redis_client> client_;
  std::atomic<redis_client*> ready_{nullptr};  // client_, once stored (the I/O thread reads it)
  std::atomic<bool> stopping_{false};           // the destructor runs: no new command, no handler
};

}  // namespace eio::socketio_redis
