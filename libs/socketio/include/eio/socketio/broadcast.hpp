// eio::socketio server: operations on a set of sockets, on every node
// (socket.io's BroadcastOperator and RemoteSocket, lib/broadcast-operator.ts).
//
//   nsp.to("room1").to("room2").except("room3").emit("news", args);
//   socket.broadcast().emit("joined", args);            // all but the sender
//   nsp.timeout(1000ms).emit_with_ack("ping", {}, [](const operation_error& e, std::vector<wire_args> r) {});
//   nsp.in("room1").fetch_sockets([](const operation_error& e, std::vector<remote_socket> sockets) {});
//
// Each call returns a new operator; the chain is a union of rooms minus a
// union of rooms, each socket reached once. Use an operator on the loop
// whose namespace_runtime made it, while that runtime lives.
#pragma once

#include <eio/socketio/adapter.hpp>
#include <eio/socketio/args.hpp>
#include <eio/socketio/callbacks.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio::socketio {

class namespace_runtime;
class remote_socket;

using fetch_callback = std::function<void(const operation_error& error, std::vector<remote_socket> sockets)>;

class broadcast_operator {
public:
  explicit broadcast_operator(namespace_runtime& nsp, broadcast_options options = {});

  broadcast_operator to(const std::string& room) const;
  broadcast_operator to(const std::vector<std::string>& rooms) const;
  broadcast_operator in(const std::string& room) const { return to(room); }
  broadcast_operator in(const std::vector<std::string>& rooms) const { return to(rooms); }
  broadcast_operator except(const std::string& room) const;
  broadcast_operator except(const std::vector<std::string>& rooms) const;
  // Flags: dropped for a socket that cannot take it now; compressed (accepted,
  // no effect: eio compresses per transport); this node only; the acks' deadline.
  broadcast_operator volatile_() const;
  broadcast_operator compress(bool compress) const;
  broadcast_operator local() const;
  broadcast_operator timeout(std::chrono::milliseconds timeout) const;

  // Sends event `event` with `args` (make_wire_args' rules) or with
  // arguments already in wire form (relayed as they are). Errors:
  // reserved_event_name, invalid_utf8; nothing is sent then. Encoded once
  // for all receivers, and not at all when this node has none.
  std::error_code emit(std::string_view event, const value& args = value::array()) const;
  std::error_code emit(std::string_view event, const args_view& args) const;
  // Asks every receiver for an ack: `done` once, when every node said how
  // many clients it reached and all of them answered, or at the deadline
  // (timeout(), else server_options::request_timeout) with the error
  // "operation has timed out" and the answers that came. Each answer is the
  // client's first ack argument.
  std::error_code emit_with_ack(std::string_view event, const value& args, responses_callback done) const;
  std::error_code emit_with_ack(std::string_view event, const args_view& args, responses_callback done) const;

  // The selected sockets of every node (fetchSockets).
  void fetch_sockets(fetch_callback done) const;
  // Makes the selected sockets, on every node, join or leave rooms.
  void sockets_join(const std::vector<std::string>& rooms) const;
  void sockets_join(const std::string& room) const { sockets_join(std::vector<std::string>{room}); }
  void sockets_leave(const std::vector<std::string>& rooms) const;
  void sockets_leave(const std::string& room) const { sockets_leave(std::vector<std::string>{room}); }
  // Disconnects them (socket::disconnect(close) on each).
  void disconnect_sockets(bool close = false) const;

  const broadcast_options& options() const noexcept { return options_; }

private:
  friend class remote_socket;
  std::error_code emit_packet(event_packet packet, responses_callback* done) const;

  namespace_runtime* nsp_;
  broadcast_options options_;
};

// A socket of any node, as fetch_sockets() found it (socket.io's
// RemoteSocket): its details then, and operations that reach it wherever it
// is now.
class remote_socket {
public:
  remote_socket(namespace_runtime& nsp, socket_details details);

  const std::string& id() const noexcept { return details_.id; }
  const socketio::handshake& handshake() const noexcept { return details_.handshake; }
  const std::vector<std::string>& rooms() const noexcept { return details_.rooms; }
  const value& data() const noexcept { return details_.data; }
  const socket_details& details() const noexcept { return details_; }

  std::error_code emit(std::string_view event, const value& args = value::array()) const;
  // With an ack, as socket::emit_with_ack: the client's arguments, or
  // "operation has timed out" after `timeout`.
  std::error_code emit_with_ack(std::string_view event, const value& args, std::chrono::milliseconds timeout,
                                ack_callback done) const;
  void join(const std::string& room) const;
  void join(const std::vector<std::string>& rooms) const;
  void leave(const std::string& room) const;
  void disconnect(bool close = false) const;

private:
  broadcast_operator self() const;

  namespace_runtime* nsp_;
  socket_details details_;
};

}  // namespace eio::socketio
