// eio::socketio_redis: one Socket.IO node of a cluster on Redis, the
// cluster_transport of one eio::socketio::runtime (one event loop), wire-
// compatible with the Node adapters:
//
//   classic  @socket.io/redis-adapter 8.x createAdapter(): broadcasts PUBLISHed
//            as notepack [uid, packet, opts] on socket.io#<nsp># (or
//            socket.io#<nsp>#<room># for exactly one room, PSUBSCRIBEd as
//            socket.io#<nsp>#*); requests 0-9 on socket.io-request#<nsp>#,
//            responses on socket.io-response#<nsp># (and #<uid>#); the node
//            count is PUBSUB NUMSUB of the request channel.
//   sharded  @socket.io/redis-adapter 8.x createShardedAdapter() (Redis 7):
//            ClusterAdapter messages {uid, nsp, type, data} (JSON, notepack
//            when binary) SPUBLISHed on socket.io#<nsp># or
//            socket.io#<nsp>#<room># (dynamic mode: exactly one room that is
//            not 20 characters long), responses on socket.io#<nsp>#<uid>#;
//            the node count is PUBSUB SHARDNUMSUB socket.io#<nsp>#.
//   streams  @socket.io/redis-streams-adapter 0.3: broadcasts and room
//            operations appended to the stream "socket.io" (or one of
//            stream_count streams, by namespace hash) (XADD MAXLEN ~,
//            fields uid, nsp, type, data) and read by every node (XREAD on a
//            connection of its own, stream_reader.hpp); requests and
//            responses PUBLISHed as msgpack on socket.io#<nsp># and
//            socket.io#<nsp>#<uid>#. Connection state recovery across nodes:
//            the offset is the entry's id, sessions are kept under
//            sio:session:<pid> (SET PX), restored with GETDEL and XRANGE.
//            With recovery on, this node's own broadcasts reach its sockets
//            when read back from the stream, not before: every node then
//            delivers in stream order, which is what lets a restore know
//            which entries its loop has already applied (docs in
//            streams.cpp). Needs Redis 6.2 (GETDEL, exclusive XRANGE).
//
// A node is one loop: a process with several loops is several nodes (each
// with its uid and its two Redis connections, commands and pub/sub, and for
// the streams adapter a reader's client too: its XREAD connection and an
// idle pub/sub one; counted by NUMSUB), which is
// what a Node process per core with the adapter looks like to the cluster.
// `post` must drop its tasks once the loop has stopped: the Redis threads
// may still post while the node is being destroyed.
//
//   eio::socketio_redis::redis_node node(options, [&](eio::socketio::loop_task t) {
//     poco.post(k, [t = std::move(t)](eio::loop_context& c) { t(c.now); });
//   });
//   runtime_options o;
//   o.cluster = &node;
//   o.make_adapter = [&](eio::socketio::namespace_runtime& n) { return node.make_adapter(n); };
//
// Every method but the constructor and destructor is called on the loop's
// thread. Messages from Redis are decoded on the client's I/O thread and
// posted to the loop.
#pragma once

#include <eio/socketio/adapter.hpp>
#include <eio/socketio/cluster.hpp>
#include <eio/socketio/in_process_cluster.hpp>
#include <eio/socketio_redis/redis_client.hpp>
#include <eio/socketio_redis/wire.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio_redis {

class stream_reader;
struct stream_entry;

enum class adapter_kind { classic, sharded, streams };

// "classic", "sharded", "streams"; nullopt otherwise.
std::optional<adapter_kind> parse_adapter_kind(std::string_view name);

// The sharded adapter's subscriptionMode: which rooms get a channel of their
// own. dynamic: public rooms (not socket ids); dynamic_private: every room,
// a socket's own room too; fixed (the reference's "static"): none, every
// message goes on socket.io#<nsp>#. Every node of a cluster must use the
// same mode: a node publishes a one-room broadcast on the room's channel
// only in the modes that subscribe it.
enum class subscription_mode { dynamic, dynamic_private, fixed };
// "dynamic", "dynamic-private", "static"; nullopt otherwise.
std::optional<subscription_mode> parse_subscription_mode(std::string_view name);

struct redis_adapter_options {
  adapter_kind kind = adapter_kind::classic;
  // The adapters' `key` (classic) / `channelPrefix` (sharded).
  std::string key = "socket.io";
  // sharded: subscriptionMode.
  subscription_mode mode = subscription_mode::dynamic;
  redis_client_options client;
  // How often the node count is asked of Redis (NUMSUB / SHARDNUMSUB).
  std::chrono::milliseconds server_count_interval{500};

  // streams: the stream (streamName) or, with stream_count > 1, the streams
  // namespaces are spread over by hash (streamCount: stream_for_namespace),
  // its approximate length bound (maxLen, XADD MAXLEN ~), XREAD's COUNT and
  // BLOCK (readCount, blockTimeInMs), the prefix of session keys
  // (sessionKeyPrefix), as the reference's defaults. Every node of a cluster
  // must use the same stream_name and stream_count.
  std::string stream_name = "socket.io";
  std::size_t stream_count = 1;
  std::size_t stream_max_len = 10'000;
  std::size_t stream_read_count = 100;
  std::chrono::milliseconds stream_block_time{5000};
  std::string session_key_prefix = "sio:session:";
  // streams: a restore reads the entries after the client's offset in
  // pages of restore_page_size, at most restore_max_pages of them; past
  // that the client gets a new session rather than a partial replay (the
  // reference stops after 100 pages and replays what it read).
  std::size_t restore_page_size = 1000;
  std::size_t restore_max_pages = 100;
  // streams: how long a restore waits for this node's stream reader to
  // start or to catch up with the client's offset (a lagging loop), before
  // the client gets a new session.
  std::chrono::milliseconds restore_wait{5000};
};

class redis_node final : public socketio::cluster_transport {
public:
  // `post` runs a task on this node's loop, in order; callable from any thread.
  redis_node(redis_adapter_options options, std::function<void(socketio::loop_task)> post);
  ~redis_node() override;

  const std::string& uid() const override { return uid_; }
  void publish(std::shared_ptr<const socketio::cluster_message> message) override;
  void publish_response(const std::string& requester_uid,
                        std::shared_ptr<const socketio::cluster_message> response) override;
  // From Redis' subscriber count (the most of any namespace's); 1 while
  // Redis is unreachable.
  std::size_t node_count() const override;
  // The nodes subscribed to namespace `nsp`'s channel (refreshed every
  // server_count_interval); 1 while Redis is unreachable.
  std::size_t namespace_count(const std::string& nsp) const;
  void set_receiver(socketio::cluster_receiver* receiver) override { receiver_ = receiver; }

  // For runtime_options::make_adapter: a cluster_adapter over this node
  // that subscribes its namespace's channels (and, sharded, its rooms').
  std::unique_ptr<socketio::adapter> make_adapter(socketio::namespace_runtime& nsp);

  const redis_client_stats& stats() const noexcept { return client_->stats(); }

  // streams: the reader's connection (XREAD), null for the other kinds.
  const redis_client_stats* reader_stats() const noexcept;

private:
  class adapter_impl;
  class streams_adapter;
  struct restore_state;
  friend class adapter_impl;
  friend class streams_adapter;
  void add_namespace(const std::string& nsp, socketio::adapter* a);
  void remove_namespace(const std::string& nsp);
  void room_created(const std::string& nsp, const std::string& room);
  void room_deleted(const std::string& nsp, const std::string& room);
  void on_message(subscription_kind kind, std::string channel, std::string payload);
  void on_classic_request(const std::string& nsp, std::string_view payload);
  void on_classic_response(const std::string& nsp, std::string_view payload);
  void deliver(std::shared_ptr<socketio::cluster_message> m);
  void refresh_count();
  void send(std::string channel, std::string payload);
  std::string channel_nsp(std::string_view channel) const;

  // ---- streams (streams.cpp)
  std::unique_ptr<socketio::adapter> make_streams_adapter(socketio::namespace_runtime& nsp);
  void start_stream_reader();
  void append_to_stream(std::shared_ptr<const socketio::cluster_message> message);
  void on_stream_read(const std::string& stream, std::vector<stream_entry> entries);
  std::string stream_of(const std::string& nsp) const;
  void persist_session(const socketio::session_to_persist& session, std::chrono::milliseconds ttl);
  // The session (nullopt: unknown pid, offset gone, Redis unreachable) and
  // the stream's entries after the offset up to the last one this loop has
  // applied, on the loop with its clock.
  using restored_callback = std::function<void(std::optional<socketio::session_to_persist> session,
                                               std::vector<stream_entry> entries, std::chrono::milliseconds now)>;
  void restore_session(const std::string& nsp, const std::string& pid, stream_id offset, restored_callback done);
  void read_after(std::shared_ptr<restore_state> state, stream_id after);
  void continue_restore(const std::shared_ptr<restore_state>& state, std::chrono::milliseconds now);
  void retry_waiting_restores(std::chrono::milliseconds now);
  void deliver_own(const socketio::cluster_message& message, stream_id id, std::chrono::milliseconds now);

  redis_adapter_options options_;
  std::function<void(socketio::loop_task)> post_;
  std::string uid_;
  socketio::cluster_receiver* receiver_ = nullptr;  // loop thread
  std::map<std::string, socketio::adapter*> adapters_;  // loop thread
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;  // per namespace, guarded
  std::map<std::string, int> namespaces_;      // subscribed namespaces, guarded (the I/O thread reads them)
  // Requests from classic peers that we answer through our cluster_adapter:
  // requestId -> the classic request type it came as (0 SOCKETS, 5 REMOTE_FETCH, ...).
  std::map<std::string, int> classic_requests_;  // guarded
  std::atomic<std::size_t> count_{1};
  std::unique_ptr<redis_client> client_;
  std::atomic<redis_client*> ready_{nullptr};  // client_, once stored
  // streams:
  std::unique_ptr<stream_reader> reader_;
  // Loop thread: per stream, the last entry this loop has applied and where
  // the reader started; our broadcasts appended before the reader's start
  // was known; the restores waiting for the reader (their count is also
  // read by the I/O thread's periodic task, which gives up on them in time).
  std::map<std::string, stream_id> applied_;
  std::map<std::string, stream_id> started_at_;
  struct own_entry {
    stream_id id;
    std::shared_ptr<const socketio::cluster_message> message;
  };
  std::vector<own_entry> own_before_start_;
  std::vector<std::shared_ptr<restore_state>> restores_waiting_;
  std::atomic<std::size_t> waiting_restores_{0};
};

}  // namespace eio::socketio_redis
