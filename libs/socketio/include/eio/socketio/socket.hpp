// eio::socketio server: one client in one namespace (socket.io's Socket,
// lib/socket.ts).
//
// A socket lives on its connection's loop; every handler runs there, given
// the socket by reference, valid during the call. To reach a socket later
// (a timer), keep socket::weak_from_this() and lock it: it expires once the
// socket is gone. Sockets are made by the runtime; applications never
// create or destroy them.
#pragma once

#include <eio/server.hpp>
#include <eio/socketio/args.hpp>
#include <eio/socketio/broadcast.hpp>
#include <eio/socketio/callbacks.hpp>
#include <eio/socketio/handshake.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace eio::socketio {

class namespace_runtime;
class runtime;
class socket;
class socket_emitter;
namespace detail {
struct socket_state;
struct access;
}

// Names a listener added by on(), once(), on_any(), ...; for off().
using listener_id = std::uint64_t;

// An event from the client. `ack` answers it when the client asked (see
// ack_handle::wanted()); every listener of the event gets the same one.
using event_handler = std::function<void(socket& s, const args_view& args, ack_handle ack)>;
// Every event from the client, before middlewares and listeners (onAny).
using any_handler = std::function<void(socket& s, std::string_view event, const args_view& args, ack_handle ack)>;
// Every event sent to the client, broadcasts included (onAnyOutgoing).
using outgoing_handler = std::function<void(socket& s, std::string_view event, const args_view& args)>;
// `reason` is one of the reference's strings (socket.io DisconnectReason):
// "transport error", "transport close", "forced close", "ping timeout",
// "parse error", "server shutting down", "forced server close",
// "client namespace disconnect", "server namespace disconnect".
using disconnect_handler = std::function<void(socket& s, std::string_view reason, std::string_view description)>;
// An event middleware refused an event, or the connection failed to parse.
using error_handler = std::function<void(socket& s, const middleware_error& error)>;
// Runs for each event from the client, in order of use(), before its
// listeners; next() lets it through, next(error) drops it and calls the
// error handlers. May answer later: the event is kept until then.
using event_middleware = std::function<void(socket& s, std::string_view event, const args_view& args, next_function next)>;

class socket : public std::enable_shared_from_this<socket> {
public:
  ~socket();
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  // 20 characters (protocol v5); a v4 client's is its Engine.IO id, or
  // "<nsp>#<Engine.IO id>" outside "/".
  const std::string& id() const noexcept;
  namespace_runtime& nsp() const noexcept;
  socketio::runtime& owner() const noexcept;
  // Built on first use (from the Engine.IO session's handshake record).
  const socketio::handshake& handshake() const;
  // handshake().auth, without building the rest.
  const value& auth() const noexcept;
  // The application's data about this socket (socket.data), carried by
  // fetch_sockets() and connection state recovery. {} at first.
  value& data() noexcept;
  const value& data() const noexcept;
  // Restored by connection state recovery (same id, rooms and data).
  bool recovered() const noexcept;
  bool connected() const noexcept;
  // The Engine.IO session under it, and its id and protocol.
  eio::session_ref session() const noexcept;
  const std::string& engine_id() const noexcept;
  eio::protocol_version protocol() const noexcept;
  // The rooms it is in, its own id included.
  std::vector<std::string> rooms() const;

  void join(const std::string& room);
  void join(const std::vector<std::string>& rooms);
  void leave(const std::string& room);

  // ---- incoming events
  listener_id on(std::string event, event_handler handler);
  listener_id once(std::string event, event_handler handler);
  void off(std::string_view event, listener_id id);
  void off(std::string_view event);  // all listeners of `event`
  listener_id on_any(any_handler handler);
  void off_any(listener_id id);
  listener_id on_any_outgoing(outgoing_handler handler);
  void off_any_outgoing(listener_id id);
  // Event middlewares (socket.use).
  void use(event_middleware fn);

  // ---- lifecycle
  // "disconnecting" runs while the socket is still in its rooms, then it
  // leaves them, then "disconnect".
  void on_disconnecting(disconnect_handler handler);
  void on_disconnect(disconnect_handler handler);
  void on_error(error_handler handler);

  // ---- outgoing
  // Sends `event` to this client. Errors: reserved_event_name, invalid_utf8,
  // std::errc::not_connected (the socket is disconnected; nothing is sent).
  std::error_code emit(std::string_view event, const value& args = value::array());
  std::error_code emit(std::string_view event, const args_view& args);
  // With an ack: `done` once, with the client's arguments, or with
  // "operation has timed out" when timeout() was set and passed. Without a
  // timeout it waits as long as the socket lives.
  std::error_code emit_with_ack(std::string_view event, const value& args, ack_callback done);
  std::error_code emit_with_ack(std::string_view event, const args_view& args, ack_callback done);
  // Flags for one emit: socket.timeout(1000ms).emit_with_ack(...).
  socket_emitter timeout(std::chrono::milliseconds timeout);
  socket_emitter volatile_();
  socket_emitter compress(bool compress);

  // To others (this socket excluded), on every node.
  broadcast_operator broadcast();
  broadcast_operator to(const std::string& room);
  broadcast_operator to(const std::vector<std::string>& rooms);
  broadcast_operator in(const std::string& room) { return to(room); }
  broadcast_operator except(const std::string& room);
  broadcast_operator local();

  // Leaves the namespace: a DISCONNECT packet to the client, then
  // "server namespace disconnect". With close, every namespace of the
  // connection leaves and the connection closes.
  void disconnect(bool close = false);

private:
  friend struct detail::access;
  friend class socket_emitter;
  explicit socket(std::unique_ptr<detail::socket_state> state);
  std::error_code send_event(event_packet packet, const broadcast_flags& flags, ack_callback* done);

  std::unique_ptr<detail::socket_state> state_;
};

// One emit with flags (socket::timeout, volatile_, compress).
class socket_emitter {
public:
  socket_emitter timeout(std::chrono::milliseconds timeout) const;
  socket_emitter volatile_() const;
  socket_emitter compress(bool compress) const;
  std::error_code emit(std::string_view event, const value& args = value::array()) const;
  std::error_code emit(std::string_view event, const args_view& args) const;
  std::error_code emit_with_ack(std::string_view event, const value& args, ack_callback done) const;
  std::error_code emit_with_ack(std::string_view event, const args_view& args, ack_callback done) const;

private:
  friend class socket;
  socket_emitter(socket& s, broadcast_flags flags) : socket_(&s), flags_(std::move(flags)) {}
  socket* socket_;
  broadcast_flags flags_;
};

}  // namespace eio::socketio
