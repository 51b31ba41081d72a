// eio::socketio server: a namespace spread over several nodes.
//
// A node is one eio::socketio::runtime: one event loop of this process, or a
// process elsewhere. cluster_adapter turns each adapter operation into a
// message to the other nodes, shaped like socket.io-adapter's ClusterAdapter
// (socket.io-adapter 2.5, lib/cluster-adapter.ts): {uid, nsp, type, data},
// types 1-13, requests with a requestId whose responses are counted against
// the number of nodes and that end with what came when the time is up
// ("timeout reached: only 1 responses received out of 2").
//
// How messages travel is a cluster_transport: publish to every other node,
// answer one node, know how many nodes there are. in_process_cluster.hpp has
// the one for the loops of one process; eio::socketio_redis's redis_node
// the one over Redis (wire-compatible with the Node adapters), which is why
// messages are plain data: the event's data as JSON text with placeholders plus attachments,
// room names, flags, socket details.
#pragma once

#include <eio/socketio/adapter.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio {

// socket.io-adapter's MessageType, same numbers.
enum class message_type : std::uint8_t {
  initial_heartbeat = 1,
  heartbeat = 2,
  broadcast = 3,
  sockets_join = 4,
  sockets_leave = 5,
  disconnect_sockets = 6,
  fetch_sockets = 7,
  fetch_sockets_response = 8,
  server_side_emit = 9,
  server_side_emit_response = 10,
  broadcast_client_count = 11,
  broadcast_ack = 12,
  adapter_close = 13,
};
// "BROADCAST", "FETCH_SOCKETS_RESPONSE", ...
std::string_view to_string(message_type type) noexcept;

// One message or response. Which fields a type uses (the rest stay empty):
//
//   type                       fields (the reference's data.<field>)
//   BROADCAST                  opts, packet (data [name, args...]), request_id when
//                              acks are wanted, offset (recovery, see below)
//   SOCKETS_JOIN/LEAVE         opts, rooms
//   DISCONNECT_SOCKETS         opts, close
//   FETCH_SOCKETS              opts, request_id
//   FETCH_SOCKETS_RESPONSE     request_id, sockets
//   SERVER_SIDE_EMIT           packet (data [name, args...]), request_id when answers are wanted
//   SERVER_SIDE_EMIT_RESPONSE  request_id, packet (one value: the answer's first argument)
//   BROADCAST_CLIENT_COUNT     request_id, client_count
//   BROADCAST_ACK              request_id, packet (one value: the client's first ack argument)
//   heartbeats, ADAPTER_CLOSE  nothing
//
// `offset`: a BROADCAST logged for connection state recovery carries the
// offset it was logged under, which every receiver appends as the last
// argument (the reference passes it beside the message: onMessage(message,
// offset)). `encoded`: in-process only, the packet as this namespace sends
// it (encoded once for every loop); other transports leave it empty.
struct cluster_message {
  std::string uid;  // the sending node
  std::string nsp;
  message_type type = message_type::heartbeat;
  std::string request_id;
  broadcast_options opts;
  event_packet packet;
  std::vector<std::string> rooms;
  bool close = false;
  std::vector<socket_details> sockets;
  std::size_t client_count = 0;
  std::string offset;
  std::vector<eio::shared_message> encoded;
};

// Receives messages for one node (a runtime is one).
class cluster_receiver {
public:
  virtual ~cluster_receiver() = default;
  // On the node's own thread, with its clock.
  virtual void on_cluster_message(const cluster_message& message, std::chrono::milliseconds now) = 0;
};

// How one node reaches the others. Called on the node's thread.
class cluster_transport {
public:
  virtual ~cluster_transport() = default;
  // This node's id (the messages' uid).
  virtual const std::string& uid() const = 0;
  // Delivers to every other node (not this one).
  virtual void publish(std::shared_ptr<const cluster_message> message) = 0;
  // Delivers a response to node `requester_uid` only.
  virtual void publish_response(const std::string& requester_uid, std::shared_ptr<const cluster_message> response) = 0;
  // Nodes in the cluster, this one included.
  virtual std::size_t node_count() const = 0;
  // Where this node's incoming messages go (null: dropped). Set by the
  // runtime for its lifetime.
  virtual void set_receiver(cluster_receiver* receiver) = 0;
};

// An in_memory_adapter that also tells the other nodes: each operation not
// flagged local is published, and each message from another node is applied
// to this node's sockets (answering requests).
class cluster_adapter : public in_memory_adapter {
public:
  cluster_adapter(namespace_runtime& nsp, cluster_transport& transport);
  ~cluster_adapter() override;

  std::size_t server_count() const override;
  void broadcast(event_packet packet, const broadcast_options& opts) override;
  void broadcast_with_ack(event_packet packet, const broadcast_options& opts,
                          std::function<void(std::size_t)> client_count,
                          std::function<void(wire_args)> ack) override;
  void fetch_sockets(const broadcast_options& opts, fetch_sockets_callback done) override;
  void add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) override;
  void del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) override;
  void disconnect_sockets(const broadcast_options& opts, bool close) override;
  void server_side_emit(event_packet packet) override;
  void server_side_emit_with_ack(event_packet packet, std::chrono::milliseconds timeout,
                                 responses_callback done) override;
  void on_cluster_message(const cluster_message& message) override;
  void close() override;

  // Requests waiting for responses (tests: none after they end).
  std::size_t pending_requests() const noexcept { return requests_.size() + ack_requests_.size(); }

protected:
  // For adapters over transports with a log of their own (Redis Streams).
  std::shared_ptr<cluster_message> make(message_type type) const;
  void publish(std::shared_ptr<cluster_message> message);
  // The local half of a BROADCAST without acks from `message`: with
  // connection state recovery its offset, when it has one and is not
  // volatile, goes last in the data (cluster-adapter.ts
  // addOffsetIfNecessary), then this loop's selected sockets get it.
  void apply_broadcast(const cluster_message& message);

private:
  struct request;  // fetch_sockets or server_side_emit_with_ack waiting for nodes
  struct ack_request {
    std::function<void(std::size_t)> client_count;
    std::function<void(wire_args)> ack;
  };

  void respond(const std::string& requester, std::shared_ptr<cluster_message> response);
  void on_response(const cluster_message& response);
  std::string new_request_id();

  cluster_transport& transport_;
  std::map<std::string, std::shared_ptr<request>> requests_;
  std::map<std::string, ack_request> ack_requests_;
  std::uint64_t next_request_ = 0;
};

}  // namespace eio::socketio
