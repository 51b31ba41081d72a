// eio::socketio server: the adapter, the part of a namespace that knows
// rooms and reaches sockets, shaped like socket.io-adapter's Adapter
// (socket.io-adapter 2.5, lib/in-memory-adapter.ts).
//
// Each namespace has one adapter per event loop (per eio::socketio::runtime).
// The namespace calls it for every room change and every operation on a set
// of sockets ({rooms, except, flags}: broadcast, fetch, join, leave,
// disconnect); the adapter applies it to the sockets of its own loop and,
// for a cluster adapter (cluster.hpp), also sends it to the other nodes (the
// other loops of this process, other processes). It also keeps or forwards
// what connection state recovery needs (persist_session/restore_session).
//
// in_memory_adapter is the default for a single loop; cluster_adapter
// (cluster.hpp) extends it. An adapter runs on its loop's thread only; every
// callback it is given is called on that thread.
#pragma once

#include <eio/server.hpp>
#include <eio/socketio/args.hpp>
#include <eio/socketio/handshake.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace eio::socketio {

class namespace_runtime;
class socket;
struct cluster_message;

// socket.io-adapter's BroadcastFlags.
struct broadcast_flags {
  bool is_volatile = false;  // dropped for a socket that cannot take it now (send_options::is_volatile)
  bool compress = true;      // accepted; eio compresses per transport settings, not per packet
  bool local = false;        // this node only: not sent to the other nodes of a cluster
  std::optional<std::chrono::milliseconds> timeout;  // acks: how long to wait for them
};

// Which sockets an operation applies to (socket.io-adapter's
// BroadcastOptions): those in any of `rooms` (all sockets of the namespace
// when empty) and in none of `except`. Each socket counts once.
struct broadcast_options {
  std::vector<std::string> rooms;
  std::vector<std::string> except;
  broadcast_flags flags;
};

// An EVENT as adapters carry it: the packet's data array as JSON text
// (["name", args...], binary values as placeholders numbered from 0) and
// the attachments the placeholders name. The namespace is the adapter's.
struct event_packet {
  std::string data;
  std::vector<attachment> attachments;
};

// A socket as fetch_sockets() describes it (socket.io's SocketDetails),
// from whichever node holds it.
struct socket_details {
  std::string id;
  socketio::handshake handshake;
  std::vector<std::string> rooms;
  value data;
};

// What a socket leaves behind when it disconnects for a reason that allows
// recovery (socket.io-adapter's SessionToPersist).
struct session_to_persist {
  std::string sid;
  std::string pid;
  std::vector<std::string> rooms;
  value data;
};

// A session found again: the socket's id, rooms and data, and the packets it
// missed since the offset its client gave, oldest first, each with its offset
// as the last argument (socket.io-adapter's Session).
struct restored_session {
  session_to_persist session;
  std::vector<event_packet> missed_packets;
};

// Why an operation that waits for other nodes or clients ended early: null
// when everything came. The messages are the reference's ("operation has
// timed out", "timeout reached: only 1 responses received out of 2").
using operation_error = std::optional<std::string>;

using fetch_sockets_callback = std::function<void(const operation_error& error, std::vector<socket_details> sockets)>;
// One response per node (server_side_emit) or per client (broadcast with
// acks): the first argument of each ack, or none when it had none.
using responses_callback = std::function<void(const operation_error& error, std::vector<wire_args> responses)>;
using restore_callback = std::function<void(std::optional<restored_session> session)>;

class adapter {
public:
  virtual ~adapter() = default;

  // ---- the rooms of this loop's sockets (also the ones still in middleware)
  virtual void add_all(const std::string& id, const std::vector<std::string>& rooms) = 0;
  virtual void del(const std::string& id, const std::string& room) = 0;
  virtual void del_all(const std::string& id) = 0;
  // The rooms socket `id` is in (empty when unknown), in no particular order.
  virtual std::vector<std::string> socket_rooms(const std::string& id) const = 0;
  // How many rooms this loop's sockets are in, and each with its members
  // (ids sorted), for inspection.
  virtual std::size_t room_count() const = 0;
  virtual std::map<std::string, std::vector<std::string>> rooms() const = 0;

  // ---- operations on the sockets `opts` selects, on every node unless opts.flags.local

  // Nodes in the cluster, this one included (1 without a cluster).
  virtual std::size_t server_count() const = 0;
  // Sends EVENT `packet` to each selected socket once. With connection state
  // recovery, a packet without ack and not volatile is logged first and its
  // offset appended as its last argument.
  virtual void broadcast(event_packet packet, const broadcast_options& opts) = 0;
  // The same, each client asked for an ack: `client_count` is called once
  // per node with how many sockets it sent it to, `ack` once per client ack.
  virtual void broadcast_with_ack(event_packet packet, const broadcast_options& opts,
                                  std::function<void(std::size_t client_count)> client_count,
                                  std::function<void(wire_args response)> ack) = 0;
  // The selected sockets, from every node; `done` once, with an error and
  // what had come when a node did not answer within opts.flags.timeout
  // (default server_options::request_timeout).
  virtual void fetch_sockets(const broadcast_options& opts, fetch_sockets_callback done) = 0;
  virtual void add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) = 0;
  virtual void del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) = 0;
  virtual void disconnect_sockets(const broadcast_options& opts, bool close) = 0;

  // ---- between servers (socket.io's serverSideEmit): the other nodes only

  // `packet`'s data is [name, args...]. Without a cluster there is nobody to
  // tell: nothing happens (the reference logs a warning).
  virtual void server_side_emit(event_packet packet) = 0;
  // Each other node's handler may answer once (its first argument); `done`
  // once every node answered, or at `timeout` with what came.
  virtual void server_side_emit_with_ack(event_packet packet, std::chrono::milliseconds timeout,
                                         responses_callback done) = 0;

  // ---- connection state recovery
  virtual void persist_session(session_to_persist session) = 0;
  // `done` (now or later) with the session and its missed packets, or
  // nullopt: unknown pid, expired session, or an offset no longer known.
  virtual void restore_session(const std::string& pid, const std::string& offset, restore_callback done) = 0;

  // A message from another node of the cluster (cluster.hpp); ignored by
  // adapters that are not part of one.
  virtual void on_cluster_message(const cluster_message&) {}
  // The namespace goes away (the runtime is destroyed).
  virtual void close() {}
};

// The default adapter: rooms and sockets of one loop, nothing else
// (socket.io-adapter's Adapter, and SessionAwareAdapter when the server has
// connection state recovery: the packet log and the sessions are in the
// server's session_store, shared by every loop of the process).
class in_memory_adapter : public adapter {
public:
  explicit in_memory_adapter(namespace_runtime& nsp);

  void add_all(const std::string& id, const std::vector<std::string>& rooms) override;
  void del(const std::string& id, const std::string& room) override;
  void del_all(const std::string& id) override;
  std::vector<std::string> socket_rooms(const std::string& id) const override;
  std::size_t room_count() const override { return rooms_.size(); }
  std::map<std::string, std::vector<std::string>> rooms() const override;

  std::size_t server_count() const override { return 1; }
  void broadcast(event_packet packet, const broadcast_options& opts) override;
  void broadcast_with_ack(event_packet packet, const broadcast_options& opts,
                          std::function<void(std::size_t)> client_count,
                          std::function<void(wire_args)> ack) override;
  void fetch_sockets(const broadcast_options& opts, fetch_sockets_callback done) override;
  void add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) override;
  void del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) override;
  void disconnect_sockets(const broadcast_options& opts, bool close) override;
  void server_side_emit(event_packet) override {}
  void server_side_emit_with_ack(event_packet, std::chrono::milliseconds, responses_callback done) override;
  void persist_session(session_to_persist session) override;
  void restore_session(const std::string& pid, const std::string& offset, restore_callback done) override;

protected:
  // The local half of each operation, for adapters built on this one.
  // `encoded`: the packet as this namespace sends it, when a peer already
  // encoded it (the in-process cluster), else empty.
  void local_broadcast(const event_packet& packet, const broadcast_options& opts,
                       const std::vector<eio::shared_message>* encoded = nullptr);
  // Sends `packet` to `targets` (from select()), with ack id `id` when set;
  // uses `encoded` when given and there is no id, else encodes (once).
  void deliver_to(std::vector<socket*> targets, const event_packet& packet, const broadcast_options& opts,
                  const std::vector<eio::shared_message>* encoded, std::optional<std::uint64_t> id = std::nullopt);
  std::size_t local_broadcast_with_ack(const event_packet& packet, const broadcast_options& opts,
                                       std::function<void(wire_args)> ack);
  std::vector<socket_details> local_fetch_sockets(const broadcast_options& opts) const;
  void local_add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms);
  void local_del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms);
  void local_disconnect_sockets(const broadcast_options& opts, bool close);
  // With connection state recovery, logs `packet` (an EVENT without ack
  // that is not volatile) in the session store and appends its offset as
  // its last argument; returns the offset ("" when not logged).
  std::string log_for_recovery(event_packet& packet, const broadcast_options& opts);
  // Appends `offset` as the packet's last argument.
  static void append_offset(event_packet& packet, std::string_view offset);
  // The sockets `opts` selects on this loop, each once, connected only.
  std::vector<socket*> select(const broadcast_options& opts) const;

  namespace_runtime& nsp_;

private:
  void remove_from_room(const std::string& room, const std::string& id);

  std::unordered_map<std::string, std::unordered_set<std::string>> rooms_;  // room -> socket ids
  std::unordered_map<std::string, std::unordered_set<std::string>> sids_;   // socket id -> rooms
};

}  // namespace eio::socketio
