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
//
// A node is one loop: a process with several loops is several nodes (each
// with its uid and its two Redis connections, all counted by NUMSUB), which
// is what a Node process per core with the adapter looks like to the cluster.
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

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace eio::socketio_redis {

enum class adapter_kind { classic, sharded };

// "classic", "sharded"; nullopt otherwise.
std::optional<adapter_kind> parse_adapter_kind(std::string_view name);

struct redis_adapter_options {
  adapter_kind kind = adapter_kind::classic;
  // The adapters' `key` (classic) / `channelPrefix` (sharded).
  std::string key = "socket.io";
  redis_client_options client;
  // How often the node count is asked of Redis (NUMSUB / SHARDNUMSUB).
  std::chrono::milliseconds server_count_interval{500};
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

private:
  class adapter_impl;
  friend class adapter_impl;
  void add_namespace(const std::string& nsp, adapter_impl* a);
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

  redis_adapter_options options_;
  std::function<void(socketio::loop_task)> post_;
  std::string uid_;
  socketio::cluster_receiver* receiver_ = nullptr;  // loop thread
  std::map<std::string, adapter_impl*> adapters_;    // loop thread
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;  // per namespace, guarded
  std::map<std::string, int> namespaces_;      // subscribed namespaces, guarded (the I/O thread reads them)
  // Requests from classic peers that we answer through our cluster_adapter:
  // requestId -> the classic request type it came as (0 SOCKETS, 5 REMOTE_FETCH, ...).
  std::map<std::string, int> classic_requests_;  // guarded
  std::atomic<std::size_t> count_{1};
  std::unique_ptr<redis_client> client_;
  std::atomic<redis_client*> ready_{nullptr};  // client_, once stored
};

}  // namespace eio::socketio_redis
