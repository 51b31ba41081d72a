// eio::socketio server: namespaces (socket.io's Namespace, lib/namespace.ts).
//
// namespace_config is what the application sets up before serving, shared
// by every loop: middlewares, connection handlers, handlers of events from
// other servers. namespace_runtime is the namespace on one loop: its sockets
// there, its adapter, and the operations on sockets of every node (emit,
// to/except, fetch_sockets, ...). Handlers get the runtime one from
// socket::nsp() or runtime::of().
#pragma once

#include <eio/socketio/adapter.hpp>
#include <eio/socketio/broadcast.hpp>
#include <eio/socketio/callbacks.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eio::socketio {

class socket;
class runtime;
class server;
namespace detail {
struct runtime_impl;
struct access;
}

enum class room_event : std::uint8_t { create_room, delete_room, join_room, leave_room };

// Runs before a socket connects, in order of use(); next() admits it,
// next(error) refuses it with a CONNECT_ERROR. May answer later (a timer):
// packets for the namespace meanwhile close the connection, as in the
// reference.
using middleware = std::function<void(socket& s, next_function next)>;
using connection_handler = std::function<void(socket& s)>;
// An event another node sent with server_side_emit; `ack` answers it (its
// first argument goes back) when the sender asked.
using server_event_handler = std::function<void(namespace_runtime& nsp, const args_view& args, ack_handle ack)>;
// The adapter's room events; `socket_id` is empty for create and delete.
using room_handler =
    std::function<void(namespace_runtime& nsp, room_event event, const std::string& room, const std::string& socket_id)>;
// Decides whether a dynamic namespace `name` exists, now or later (a timer
// of `rt`, the loop asking): answer(true) creates it (once, whoever asks
// first).
using namespace_predicate = std::function<void(runtime& rt, std::string_view name, const value& auth,
                                               std::function<void(bool allow)> answer)>;

// Handlers are called on many loops at once when there are several: they
// must be safe to call concurrently (typically: they only touch the socket
// or namespace they are given). Set everything up before serving: these
// calls are not synchronised with the loops.
class namespace_config {
public:
  const std::string& name() const noexcept { return name_; }
  namespace_config& use(middleware fn);
  namespace_config& on_connection(connection_handler fn);
  // Reserved: "connect", "connection", "new_namespace" (ignored).
  namespace_config& on(std::string event, server_event_handler fn);
  namespace_config& on_room_event(room_handler fn);

  // A parent (from server::of(regex) or of(predicate)): its children, the
  // namespaces it admits, start with its middlewares and handlers.
  bool is_parent() const noexcept { return static_cast<bool>(regex_) || static_cast<bool>(predicate_); }

private:
  friend class server;
  friend struct detail::access;
  explicit namespace_config(std::string name) : name_(std::move(name)) {}

  std::string name_;
  std::vector<middleware> middlewares_;
  std::vector<connection_handler> connection_handlers_;
  std::vector<std::pair<std::string, server_event_handler>> server_handlers_;
  std::vector<room_handler> room_handlers_;
  std::optional<std::regex> regex_;
  namespace_predicate predicate_;
};

class namespace_runtime {
public:
  ~namespace_runtime();
  namespace_runtime(const namespace_runtime&) = delete;
  namespace_runtime& operator=(const namespace_runtime&) = delete;

  const std::string& name() const noexcept;
  const namespace_config& config() const noexcept { return *config_; }
  socketio::runtime& owner() const noexcept;
  socketio::adapter& adapter() noexcept { return *adapter_; }

  // This loop's connected sockets.
  std::size_t socket_count() const noexcept { return sockets_.size(); }
  socket* find_socket(const std::string& id) const;
  void for_each_socket(const std::function<void(socket&)>& fn) const;

  // ---- operations on sockets of every node (a broadcast_operator for all)
  broadcast_operator to(const std::string& room) { return all().to(room); }
  broadcast_operator to(const std::vector<std::string>& rooms) { return all().to(rooms); }
  broadcast_operator in(const std::string& room) { return all().to(room); }
  broadcast_operator except(const std::string& room) { return all().except(room); }
  broadcast_operator volatile_() { return all().volatile_(); }
  broadcast_operator local() { return all().local(); }
  broadcast_operator compress(bool compress) { return all().compress(compress); }
  broadcast_operator timeout(std::chrono::milliseconds timeout) { return all().timeout(timeout); }
  std::error_code emit(std::string_view event, const value& args = value::array()) { return all().emit(event, args); }
  std::error_code emit(std::string_view event, const args_view& args) { return all().emit(event, args); }
  void fetch_sockets(fetch_callback done) { all().fetch_sockets(std::move(done)); }
  void sockets_join(const std::vector<std::string>& rooms) { all().sockets_join(rooms); }
  void sockets_leave(const std::vector<std::string>& rooms) { all().sockets_leave(rooms); }
  void disconnect_sockets(bool close = false) { all().disconnect_sockets(close); }

  // ---- to the other nodes (serverSideEmit): their namespace_config::on handlers
  // Errors: reserved_event_name ("connect", "connection", "new_namespace",
  // and the packet-level reserved names), invalid_utf8.
  std::error_code server_side_emit(std::string_view event, const value& args = value::array());
  // `done` once every other node answered, or after `timeout` (default
  // server_options::request_timeout) with "timeout reached: only N responses
  // received out of M" and what came; with no other node, at once with none.
  std::error_code server_side_emit_with_ack(std::string_view event, const value& args, responses_callback done,
                                            std::optional<std::chrono::milliseconds> timeout = std::nullopt);

private:
  friend struct detail::access;
  friend struct detail::runtime_impl;
  friend class in_memory_adapter;
  namespace_runtime(detail::runtime_impl& rt, const namespace_config& config);
  broadcast_operator all() { return broadcast_operator(*this); }

  detail::runtime_impl* rt_;
  const namespace_config* config_;
  std::unordered_map<std::string, std::shared_ptr<socket>> sockets_;  // connected, by id
  std::unique_ptr<socketio::adapter> adapter_;
  std::uint64_t next_ack_id_ = 0;  // socket.io's nsp._ids
};

}  // namespace eio::socketio
