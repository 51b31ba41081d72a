// Internals of the Socket.IO server model: the per-loop runtime, the
// per-connection state, the per-socket state and the timer queue. Not
// installed.
#pragma once

#include <eio/server.hpp>
#include <eio/socketio/assembler.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/socket.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eio::socketio::detail {

using millis = std::chrono::milliseconds;

// The reference's disconnect reasons (socket.io lib/socket-types.ts).
namespace reason {
inline constexpr std::string_view transport_error = "transport error";
inline constexpr std::string_view transport_close = "transport close";
inline constexpr std::string_view forced_close = "forced close";
inline constexpr std::string_view ping_timeout = "ping timeout";
inline constexpr std::string_view parse_error = "parse error";
inline constexpr std::string_view server_shutting_down = "server shutting down";
inline constexpr std::string_view forced_server_close = "forced server close";
inline constexpr std::string_view client_namespace_disconnect = "client namespace disconnect";
inline constexpr std::string_view server_namespace_disconnect = "server namespace disconnect";
}  // namespace reason

// socket.ts RECOVERABLE_DISCONNECT_REASONS.
bool recoverable(std::string_view why) noexcept;

inline constexpr std::string_view timed_out = "operation has timed out";

// Timers of one runtime: (deadline, sequence) -> callback.
class timer_queue {
public:
  timer_id add(millis at, std::function<void()> fn);
  bool cancel(timer_id id);
  std::optional<millis> next() const noexcept;
  // Runs the timers due at `now` that existed when it was called.
  void run_due(millis now);
  std::size_t size() const noexcept { return timers_.size(); }

private:
  std::map<std::pair<millis, std::uint64_t>, std::function<void()>> timers_;
  std::uint64_t next_seq_ = 1;
};

struct connection;
struct runtime_impl;

// A listener of one kind; shared so that a call survives the listener list
// growing under it (a handler adding listeners).
template <class Handler>
struct listener {
  listener_id id = 0;
  std::string event;  // for event listeners
  Handler fn;
  bool once = false;
  bool removed = false;
};
template <class Handler>
using listener_list = std::vector<std::shared_ptr<listener<Handler>>>;

// An emit waiting for its ack: the callback, shared with its timeout timer,
// which reports the timeout even after the socket is gone (as the reference).
struct ack_wait {
  std::function<void(const operation_error&, const args_view&)> done;
  std::optional<timer_id> timer;
  bool finished = false;
  // One socket's emit (answered once), or a broadcast's, shared by every
  // socket it reached (each answers once through its own entry).
  bool single = true;
};

enum class socket_phase : std::uint8_t { joining, connected, gone };

// What socket.handshake is built from, on first use: the Engine.IO
// session's record (which the core keeps for the session's life, shared
// here) and the CONNECT's auth. Most sockets are never asked, and a built
// handshake costs about 0.8 KB of copied headers and query.
struct handshake_source {
  std::shared_ptr<const eio::session_handshake> record;
  value auth = value::object();
  std::chrono::milliseconds wall_clock_offset{0};
  bool secure = false;
};
socketio::handshake build_handshake(const handshake_source& source);

struct socket_state {
  socket* self = nullptr;
  runtime_impl* rt = nullptr;
  namespace_runtime* nsp = nullptr;
  connection* conn = nullptr;  // null once the connection is gone
  std::string id;
  std::string pid;  // "" without recovery (and for protocol v4)
  handshake_source handshake_from;
  std::unique_ptr<socketio::handshake> handshake;  // built by socket::handshake()
  value data = value::object();
  bool recovered = false;
  socket_phase phase = socket_phase::joining;
  bool closing = false;  // in its disconnecting/disconnect handlers

  listener_list<event_handler> listeners;
  listener_list<any_handler> any_listeners;
  listener_list<outgoing_handler> outgoing_listeners;
  std::vector<disconnect_handler> disconnecting_handlers;
  std::vector<disconnect_handler> disconnect_handlers;
  std::vector<error_handler> error_handlers;
  std::vector<event_middleware> middlewares;
  int dispatching = 0;  // listener lists are compacted only when 0
  std::unordered_map<std::uint64_t, std::shared_ptr<ack_wait>> acks;  // emits waiting for the client's ack
};

// A namespace being joined before its socket exists: the walk over parent
// namespaces, or a session restore. Shared with the callbacks that finish
// it; `conn` is null once the connection is gone.
struct join_token {
  connection* conn = nullptr;
  std::string name;
  value auth;
};

enum class slot_phase : std::uint8_t { checking, joining, connected };

struct namespace_slot {
  std::string name;
  slot_phase phase = slot_phase::checking;
  std::shared_ptr<socket> sock;      // joining (middlewares) and connected
  std::shared_ptr<join_token> token;  // checking (and restoring)
};

// One Engine.IO session, in the core's user-data slot.
struct connection {
  connection(runtime_impl& rt, const eio::connection_event& e, const decode_options& limits);
  ~connection();

  namespace_slot* find(std::string_view nsp) noexcept;
  void remove(std::string_view nsp) noexcept;
  std::size_t connected() const noexcept;

  runtime_impl& rt;
  eio::session_ref session;
  std::string engine_id;
  eio::protocol_version version;
  std::shared_ptr<const eio::session_handshake> hs;
  socketio::assembler assembler;
  std::optional<timer_id> connect_timer;
  std::optional<timer_id> attachment_timer;
  std::vector<namespace_slot> slots;
  bool closing = false;
};

struct runtime_impl {
  runtime_impl(runtime& self, server& config, eio::server& core, runtime_options options);
  ~runtime_impl();

  // ---- inputs (runtime.cpp)
  void on_event(eio::event& e);
  void on_connection(const eio::connection_event& e);
  void on_message(const eio::message_event& e);
  void on_close(const eio::close_event& e);

  // ---- the connection-level state machine (connection.cpp)
  void handle(connection& conn, socketio::message& m);
  void connect(connection& conn, std::string name, value auth);
  void walk_parents(const std::shared_ptr<join_token>& token, std::size_t index);
  void join(connection& conn, const namespace_config& config, value auth);
  void create_socket(connection& conn, namespace_runtime& nsp, value auth, std::optional<restored_session> session);
  void run_middlewares(const std::shared_ptr<socket>& s, std::size_t index);
  void admit(const std::shared_ptr<socket>& s);
  void refuse(const std::shared_ptr<socket>& s, const middleware_error& error);
  void refuse_namespace(connection& conn, const std::string& name);
  // A remote violation or a limit: the whole connection closes.
  void violation(connection& conn, std::string_view socket_reason, const std::string& description);
  void close_connection(connection& conn, std::string_view socket_reason, std::string_view description);
  void on_connect_timeout(connection& conn);
  void on_attachment_timeout(connection& conn);
  void arm_attachment_timer(connection& conn);

  // ---- sockets (socket.cpp)
  void socket_packet(const std::shared_ptr<socket>& s, socketio::message& m);
  void socket_event(const std::shared_ptr<socket>& s, socketio::message& m);
  void socket_ack(socket_state& st, socketio::message& m);
  void dispatch(const std::shared_ptr<socket>& s, std::string_view event, const args_view& args, const ack_handle& ack);
  void socket_close(const std::shared_ptr<socket>& s, std::string_view why, std::string_view description);
  void socket_cleanup(socket_state& st);
  void notify_outgoing(socket& s, const event_packet& packet);
  ack_handle ack_for(const std::shared_ptr<socket>& s, std::uint64_t id);

  // ---- sending (send.cpp)
  // Sends one packet to `conn`: its text, then its attachments (a batch).
  bool send_packet(connection& conn, const packet& p, const std::vector<attachment>* attachments,
                   bool is_volatile = false);
  // EVENT `data` (binary when it has attachments) to `conn` in namespace `nsp`.
  bool send_event(connection& conn, std::string_view nsp, const event_packet& packet, std::optional<std::uint64_t> id,
                  bool is_volatile);
  // The Engine.IO messages of EVENT `packet` in namespace `nsp`, each shared.
  std::vector<eio::shared_message> encode_event(std::string_view nsp, const event_packet& packet,
                                                std::optional<std::uint64_t> id);
  // Sends encoded messages to every socket of `targets` at once.
  void deliver(const std::vector<socket*>& targets, const std::vector<eio::shared_message>& parts, bool is_volatile);

  // ---- namespaces
  namespace_runtime& namespace_for(const namespace_config& config);
  namespace_runtime* find_namespace(std::string_view name);
  std::unique_ptr<adapter> make_adapter(namespace_runtime& nsp);
  bool recovery() const noexcept { return config.options().connection_state_recovery.has_value(); }

  runtime& self;
  server& config;
  eio::server& core;
  runtime_options options;
  socketio::decoder decoder;
  millis now{0};
  timer_queue timers;
  std::map<std::string, std::unique_ptr<namespace_runtime>, std::less<>> namespaces;
  std::size_t connections = 0;
  socketio::message assembled;  // the assembler's output, reused
  std::string scratch;          // encoded packets, reused
  std::vector<eio::session_ref> sessions;  // broadcast receivers, reused
};

// The one door from the public classes to the internals.
struct access {
  static socket_state& state(socket& s) noexcept { return *s.state_; }
  static const socket_state& state(const socket& s) noexcept { return *s.state_; }
  static std::shared_ptr<socket> make_socket(std::unique_ptr<socket_state> state);
  static runtime_impl& impl(runtime& r) noexcept { return *r.impl_; }
  static runtime_impl& impl(namespace_runtime& n) noexcept { return *n.rt_; }
  static std::unordered_map<std::string, std::shared_ptr<socket>>& sockets(namespace_runtime& n) noexcept {
    return n.sockets_;
  }
  static std::uint64_t next_ack_id(namespace_runtime& n) noexcept { return n.next_ack_id_++; }
  static std::unique_ptr<namespace_runtime> make_namespace(runtime_impl& rt, const namespace_config& config);
  static void set_adapter(namespace_runtime& n, std::unique_ptr<adapter> a) { n.adapter_ = std::move(a); }
  static const std::vector<middleware>& middlewares(const namespace_config& c) noexcept { return c.middlewares_; }
  static const std::vector<connection_handler>& connection_handlers(const namespace_config& c) noexcept {
    return c.connection_handlers_;
  }
  static const std::vector<std::pair<std::string, server_event_handler>>& server_handlers(
      const namespace_config& c) noexcept {
    return c.server_handlers_;
  }
  static const std::vector<room_handler>& room_handlers(const namespace_config& c) noexcept {
    return c.room_handlers_;
  }
  static const std::optional<std::regex>& regex(const namespace_config& c) noexcept { return c.regex_; }
  static const namespace_predicate& predicate(const namespace_config& c) noexcept { return c.predicate_; }
};

// "<what> at <offset>" for a decode error.
std::string describe(const decode_error& error);
// The [name, args...] data of an event, from a value or from wire arguments.
std::error_code make_event(std::string_view name, const value& args, event_packet& out);
std::error_code make_event(std::string_view name, const args_view& args, event_packet& out);
// The arguments (after the name) of event data that this server built.
std::string_view event_args(std::string_view data) noexcept;
// The name of event data that this server built (unescaped copy).
std::string event_name(std::string_view data);
// The first value of `args` (for acks and server-side answers: only the
// first argument travels), or none.
wire_args first_arg(const args_view& args);

}  // namespace eio::socketio::detail
