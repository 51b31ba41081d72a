// eio::socketio::client: a Socket.IO v5 client, sans I/O.
//
// The model of socket.io-client 4.8 (lib/manager.ts, lib/socket.ts), names in
// snake_case: a `manager` per server multiplexes `socket`s, one per
// namespace, over one Engine.IO session, and reconnects as the JavaScript
// Manager does. Like eio::client under it, it never reads a clock or touches
// a socket:
//
//   adapter                                   manager                  application
//   next_action() -> client_http_request, ...    |                        socket.on("chat", ...)
//   http_response_received(id, ...)  ->          | -> listeners ->        socket.emit("chat", args, now)
//   websocket_message(id, ...)       ->          |                        manager.socket("/admin", ...)
//   on_timeout(now) at next_deadline()  ->       |
//
// The adapter performs the actions (the eio::client actions of the current
// Engine.IO session, with connection ids unique across sessions) and reports
// their outcome with the inputs below, each with `now` on its monotonic clock.
// libs/socketio-poco runs it on Poco Net; tests run it with a fake clock.
//
// Listeners are called from inside the calls that cause them (an input, a
// timer, or an application call such as socket::disconnect), as the
// JavaScript client calls them from its event loop, and they may call back
// into the manager and its sockets. Packets that arrive are handled one
// after another once the input that brought them has been taken in (the
// JavaScript Manager defers each with nextTick): a listener of the first
// sees the state that packet made, not what later packets in the same poll
// did. A listener that throws: the exception leaves the input call that ran
// it; what was being delivered then is not resumed.
//
// Behaviour follows socket.io-client 4.8.3. Where we differ, on purpose:
//   - reconnection_attempts 0 and reconnection_delay 0 mean zero (the
//     JavaScript client reads both as "use the default");
//   - every acknowledgement callback hears of a disconnection or a timeout
//     (as emitWithAck's promise does); socket.io-client drops plain
//     callbacks silently on disconnection;
//   - the send buffer (emits while disconnected) is bounded
//     (socket_options::max_buffered_packets / max_buffered_bytes); past the
//     bound emit() returns errc::send_buffer_full;
//   - a volatile emit is dropped unless the socket is connected and the
//     Engine.IO session can take it at once (socket.io-client buffers a
//     volatile emit while a socket waits for its CONNECT answer);
//   - the event name is never taken as the recovery offset (4.8.3 takes the
//     last element of the event's array, the name itself when an event has
//     no argument, and recovery then fails);
//   - packets that arrived before the Engine.IO session closed are delivered
//     before "disconnect" (socket.io-client delivers them after the next
//     "connect", their nextTick having run after the close);
//   - no `retries` (at-least-once queue) and no `onAnyOutgoing` yet.
#pragma once

#include <eio/client.hpp>
#include <eio/socketio/assembler.hpp>
#include <eio/socketio/client/backoff.hpp>
#include <eio/socketio/client/errors.hpp>
#include <eio/socketio/value.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace eio::socketio::client {

using ::eio::connection_id;
using ::eio::frame_kind;
using ::eio::header_list;
using ::eio::millis;
using ::eio::transport_kind;

class manager;
class socket;

// Names a listener for off(); unique within a manager.
using listener_id = std::uint64_t;

inline constexpr std::uint64_t infinite_attempts = std::numeric_limits<std::uint64_t>::max();

// ---------------------------------------------------------------- options

struct manager_options {
  // The Engine.IO path on the server (socket.io-client's `path`, "/socket.io"
  // plus the trailing slash engine.io-client adds).
  std::string path = "/socket.io/";
  // Extra query parameters of every request (`query`), before EIO/transport/sid.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers of every HTTP request and WebSocket handshake (`extraHeaders`;
  // the adapter adds them to the WebSocket handshake).
  header_list extra_headers;
  // `transports`: the first one is where a session starts. {polling,
  // websocket} (the default): polling, then the upgrade to WebSocket when
  // `upgrade` and the server offers it; {websocket}: WebSocket only;
  // {polling}: polling only; {websocket, polling}: WebSocket only (as
  // socket.io-client without tryAllTransports). Must not be empty.
  std::vector<transport_kind> transports{transport_kind::polling, transport_kind::websocket};
  bool upgrade = true;

  // Reconnection (socket.io-client's defaults).
  bool reconnection = true;
  std::uint64_t reconnection_attempts = infinite_attempts;
  millis reconnection_delay{1000};
  millis reconnection_delay_max{5000};
  double randomization_factor = 0.5;
  // How long an Engine.IO connection may take to open (each attempt);
  // nullopt: no limit (socket.io-client's `timeout: false`). Past it the
  // attempt fails with the error "timeout".
  std::optional<millis> timeout{millis(20000)};
  // socket() connects the socket it makes (and opens the manager).
  bool auto_connect = true;

  // The jitter's randomness: numbers in [0, 1). Unset: a std::mt19937_64
  // seeded with random_seed, or, without one, from std::random_device.
  std::function<double()> random;
  std::optional<std::uint64_t> random_seed;

  // Limits on what the server sends (attachments per packet, their bytes
  // and completion time, namespace length, JSON depth): eio::socketio's.
  decode_options limits;
};

struct socket_options {
  // The CONNECT packet's data (socket.handshake.auth on the server): an
  // object, or nullopt for none. auth_provider, when set, is called for
  // each CONNECT instead (a token refreshed before every reconnection).
  // With connection state recovery, {"pid":..., "offset":...} come first
  // and keys of the same name in the auth replace their values
  // (Object.assign({pid, offset}, auth)).
  std::optional<value> auth;
  std::function<value()> auth_provider;
  // The acknowledgement timeout of every emit that asks for one and sets no
  // timeout of its own (`ackTimeout`); nullopt: none.
  std::optional<millis> ack_timeout;
  // Emits while disconnected wait in a buffer and go out on (re)connection,
  // in order. Past either bound emit() refuses with errc::send_buffer_full
  // (nothing is buffered, an acknowledgement callback is not kept).
  std::size_t max_buffered_packets = 10'000;
  std::size_t max_buffered_bytes = 10'000'000;  // packet text plus attachments
};

// How one emit goes.
struct emit_options {
  // socket.volatile: dropped (errc::volatile_dropped) unless the socket is
  // connected and the Engine.IO session can hand it to its transport now.
  bool is_volatile = false;
  // socket.timeout(ms): the acknowledgement's timeout; unset: the socket's
  // ack_timeout.
  std::optional<millis> timeout;
};

// ---------------------------------------------------------------- what listeners get

// An error as socket.io-client's ExtendedError: the server's CONNECT_ERROR
// ({"message":..., "data":...}: refused set, data when the server gave one),
// or a failure of the connection ("xhr poll error", "websocket error",
// "timeout", "parse error: ...").
struct error_info {
  std::string message;
  std::optional<value> data;
  bool refused = false;  // a CONNECT_ERROR from the server (namespace unknown, middleware refusal)
};

// Why a socket disconnected (socket.io-client's DisconnectReason strings).
enum class disconnect_reason : std::uint8_t {
  io_server_disconnect,  // "io server disconnect": the server disconnected this socket (no reconnection)
  io_client_disconnect,  // "io client disconnect": socket::disconnect() (no reconnection)
  ping_timeout,          // "ping timeout"
  transport_close,       // "transport close"
  transport_error,       // "transport error"
  parse_error,           // "parse error": the server sent a packet we could not decode
  forced_close,          // "forced close": manager::close()
};
std::string_view to_string(disconnect_reason reason) noexcept;

// The answer to an event the server emitted with an acknowledgement: call it
// once with the arguments (an array: each element one argument; any other
// value is one argument). Later calls do nothing, as do calls once the
// manager is gone. Copyable; callable after the listener returned (the
// packet then carries the time of the manager's latest input). An event
// without an acknowledgement gets a responder that sends nothing.
class ack_responder {
public:
  ack_responder() = default;
  // The server asked for an acknowledgement and none was sent yet.
  bool wanted() const noexcept;
  // Errors: those of to_wire (invalid_utf8); nothing is sent and the
  // responder stays usable.
  std::error_code operator()(const value& args = value::array()) const;

private:
  friend class socket;
  struct state;
  explicit ack_responder(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

using event_listener = std::function<void(const value& args, const ack_responder& ack)>;
using plain_event_listener = std::function<void(const value& args)>;
using any_listener = std::function<void(const std::string& event, const value& args, const ack_responder& ack)>;
// An acknowledgement: no error and the server's arguments (an array), or
// ack_timeout / disconnected and an empty array.
using ack_callback = std::function<void(std::error_code error, const value& args)>;

// An event's data ready for the wire: ["name",args...] with binary replaced
// by placeholders, and the attachments. make_outgoing_event builds it (any
// thread); socket::emit takes it.
struct outgoing_event {
  std::string data;
  std::vector<attachment> attachments;
};
// Errors: reserved_event_name ("connect", "connect_error", "disconnect",
// "disconnecting", "newListener", "removeListener": socket.io-client throws
// for them), invalid_utf8 (in the name or the arguments).
std::error_code make_outgoing_event(std::string_view event, const value& args, outgoing_event& out);

namespace detail {

// A list of listeners of one kind, called in the order they were added.
template <typename... Args>
class listener_list {
public:
  void add(listener_id id, bool once, std::function<void(Args...)> fn) {
    entries_.push_back({id, once, std::make_shared<std::function<void(Args...)>>(std::move(fn))});
  }
  bool remove(listener_id id) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id == id) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }
  void clear() noexcept { entries_.clear(); }
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  // Calls every listener present now (one added or removed by a listener
  // meanwhile counts from the next call); `once` listeners are removed first.
  template <typename... Call>
  void call(Call&&... args) {
    if (entries_.empty()) return;
    std::vector<std::shared_ptr<std::function<void(Args...)>>> now;
    now.reserve(entries_.size());
    for (auto it = entries_.begin(); it != entries_.end();) {
      now.push_back(it->fn);
      it = it->once ? entries_.erase(it) : it + 1;
    }
    for (const auto& fn : now) (*fn)(args...);
  }

private:
  struct entry {
    listener_id id;
    bool once;
    std::shared_ptr<std::function<void(Args...)>> fn;
  };
  std::vector<entry> entries_;
};

}  // namespace detail

// ---------------------------------------------------------------- socket

// One namespace (socket.io-client's Socket). Made and owned by its manager
// (manager::socket), valid as long as the manager; not copyable.
class socket {
public:
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  manager& io() noexcept { return io_; }
  const std::string& nsp() const noexcept { return nsp_; }

  // ---- state (socket.io-client's properties)

  // The session id the server gave (`id`); nullopt while not connected.
  const std::optional<std::string>& id() const noexcept { return id_; }
  bool connected() const noexcept { return connected_; }
  bool disconnected() const noexcept { return !connected_; }
  // Will connect when the manager (re)connects (`active`): false after a
  // refusal, a server disconnect or disconnect().
  bool active() const noexcept { return active_; }
  // The last connection restored the state of the previous one (connection
  // state recovery: same pid, missed events replayed before "connect").
  bool recovered() const noexcept { return recovered_; }
  // Connection state recovery: the private session id the server gave with
  // the last CONNECT answer (only when the server has recovery on; never
  // share it), and the offset of the last event received since.
  const std::optional<std::string>& pid() const noexcept { return pid_; }
  const std::optional<std::string>& last_offset() const noexcept { return last_offset_; }
  void set_auth(std::optional<value> auth) { options_.auth = std::move(auth); }
  const socket_options& options() const noexcept { return options_; }

  // Packets emitted while disconnected, waiting (count and bytes).
  std::size_t buffered_packets() const noexcept { return send_buffer_.size(); }
  std::size_t buffered_bytes() const noexcept { return send_buffer_bytes_; }
  // Emits waiting for an acknowledgement.
  std::size_t pending_acks() const noexcept { return acks_.size(); }

  // ---- connecting

  // Connects (`connect()`/`open()`): subscribes to the manager, opens it if
  // it is closed and not waiting to reconnect, and sends CONNECT if it is
  // open. Does nothing while connected.
  void connect(millis now);
  // Disconnects (`disconnect()`/`close()`): DISCONNECT to the server if
  // connected, no more reconnection for this socket, "disconnect" with "io
  // client disconnect" if it was connected. The manager closes when no
  // socket is active any more.
  void disconnect(millis now);

  // ---- listeners (on / once / off, as the EventEmitter)

  listener_id on(std::string event, event_listener fn) { return add_event(std::move(event), false, std::move(fn)); }
  listener_id on(std::string event, plain_event_listener fn) { return add_event(std::move(event), false, wrap(std::move(fn))); }
  listener_id once(std::string event, event_listener fn) { return add_event(std::move(event), true, std::move(fn)); }
  listener_id once(std::string event, plain_event_listener fn) { return add_event(std::move(event), true, wrap(std::move(fn))); }
  // Every event, before its own listeners (`onAny`).
  listener_id on_any(any_listener fn);
  // The reserved events.
  listener_id on_connect(std::function<void()> fn);
  listener_id on_connect_error(std::function<void(const error_info&)> fn);
  listener_id on_disconnect(std::function<void(disconnect_reason reason, const std::string& description)> fn);
  // Removes one listener of any kind; false when there is none with this id.
  bool off(listener_id id);
  // Removes every listener of `event` (`off(event)`).
  void off(std::string_view event);
  // Removes every listener, reserved ones included (`off()`).
  void off_all();
  void off_any();  // every on_any listener (`offAny()`)

  // ---- emitting

  // Emits `event` with `args` (an array: each element one argument, binary
  // anywhere; any other value is one argument). Sent at once when
  // connected, else buffered until the socket connects (volatile: dropped).
  // Errors: those of make_outgoing_event, send_buffer_full,
  // volatile_dropped; nothing is sent or kept then.
  std::error_code emit(std::string_view event, const value& args, millis now, const emit_options& options = {});
  std::error_code emit(outgoing_event event, millis now, const emit_options& options = {});
  // The same with an acknowledgement: `callback` gets the server's
  // arguments, or ack_timeout (options.timeout, else ack_timeout of the
  // socket) or disconnected (the socket disconnected before the answer and
  // the packet is not in the send buffer). If this returns an error the
  // callback is never called; otherwise it is called exactly once, unless
  // the manager is destroyed first.
  std::error_code emit_with_ack(std::string_view event, const value& args, ack_callback callback, millis now,
                                const emit_options& options = {});
  std::error_code emit_with_ack(outgoing_event event, ack_callback callback, millis now,
                                const emit_options& options = {});
  // emit("message", args) (`send`).
  std::error_code send(const value& args, millis now) { return emit("message", args, now); }

private:
  friend class manager;
  friend class ack_responder;
  struct buffered_packet {
    std::optional<std::uint64_t> ack_id;
    std::string data;
    std::vector<attachment> attachments;
    std::size_t bytes = 0;
  };
  struct pending_ack {
    ack_callback callback;
    std::optional<millis> deadline;
  };

  socket(manager& io, std::string nsp, socket_options options);

  static event_listener wrap(plain_event_listener fn);
  listener_id add_event(std::string event, bool once, event_listener fn);
  std::error_code emit_packet(outgoing_event event, ack_callback callback, millis now, const emit_options& options);

  // From the manager.
  void subscribe();
  void on_manager_open(millis now);
  void on_manager_error(const error_info& error);
  void on_manager_close(disconnect_reason reason, const std::string& description);
  void on_packet(packet_type type, std::optional<std::uint64_t> id, value data, millis now);
  std::optional<millis> next_deadline() const noexcept;
  void on_timeout(millis now);

  void send_connect(millis now);
  void on_connect_packet(const std::string& sid, std::optional<std::string> pid, millis now);
  void on_event(std::optional<std::uint64_t> id, value data, millis now);
  void deliver(std::optional<std::uint64_t> id, value data);
  void on_ack(std::uint64_t id, value data);
  void destroy(millis now);
  void on_close(disconnect_reason reason, const std::string& description);
  void clear_acks();
  void send_event(const buffered_packet& p, millis now);
  void send_ack(std::uint64_t id, const value& args);

  manager& io_;
  const std::string nsp_;
  socket_options options_;

  std::optional<std::string> id_;
  bool connected_ = false;
  bool active_ = false;  // subscribed to the manager (socket.io-client's `subs`)
  // The subscription: listeners of the manager's open, error and close,
  // among the application's in the order they were added (as
  // socket.io-client's Socket.subEvents adds its own).
  listener_id on_open_ = 0;
  listener_id on_error_ = 0;
  listener_id on_close_ = 0;
  bool recovered_ = false;
  std::optional<std::string> pid_;
  std::optional<std::string> last_offset_;

  std::uint64_t next_ack_id_ = 0;
  std::map<std::uint64_t, pending_ack> acks_;
  std::set<std::pair<millis, std::uint64_t>> ack_deadlines_;  // (deadline, ack id)
  std::deque<buffered_packet> send_buffer_;
  std::size_t send_buffer_bytes_ = 0;
  // Events that came before the CONNECT answer (missed events replayed by a
  // recovering server come there): delivered on connection, before "connect".
  std::vector<std::pair<std::optional<std::uint64_t>, value>> receive_buffer_;

  // By event name; an entry stays once made (off(event) empties it), so a
  // list being called is never destroyed by a listener.
  std::map<std::string, detail::listener_list<const value&, const ack_responder&>, std::less<>> events_;
  detail::listener_list<const std::string&, const value&, const ack_responder&> any_;
  detail::listener_list<> connect_;
  detail::listener_list<const error_info&> connect_error_;
  detail::listener_list<disconnect_reason, const std::string&> disconnect_;
};

// ---------------------------------------------------------------- manager

enum class manager_state : std::uint8_t {
  closed,   // no Engine.IO session (not opened yet, or waiting to reconnect, or given up)
  opening,  // an Engine.IO session is opening
  open,     // an Engine.IO session is open
};
std::string_view to_string(manager_state state) noexcept;

// An Engine.IO action of the current session, to carry out as eio::client
// documents it; ids are unique across the manager's sessions.
using action = ::eio::client_action;

class manager {
public:
  explicit manager(manager_options options = {});
  ~manager();
  manager(const manager&) = delete;
  manager& operator=(const manager&) = delete;

  const manager_options& options() const noexcept { return options_; }

  // The socket for namespace `nsp` ("/" or "/name"), made on the first call
  // with `options` (later calls return the same socket and ignore them).
  // With auto_connect, a new socket connects, and an inactive one
  // reconnects (`Manager.socket`).
  class socket& socket(const std::string& nsp, socket_options options, millis now);
  class socket& socket(const std::string& nsp, millis now) { return socket(nsp, socket_options{}, now); }
  // The socket for `nsp` if there is one.
  class socket* find(std::string_view nsp) noexcept;
  const class socket* find(std::string_view nsp) const noexcept;

  // Opens the Engine.IO session (`open()`/`connect()`) unless one is opening
  // or open. A failure of this first opening starts the reconnection.
  // While waiting to reconnect: makes the next attempt now.
  void open(millis now);
  // Closes for good (`disconnect()`): no reconnection; every subscribed
  // socket gets "disconnect" with "forced close".
  void close(millis now);

  // ---- inputs from the adapter (eio::client's, for the current session;
  // those about an earlier session are ignored)

  void http_response_received(connection_id request_id, int status, const header_list& headers, std::string body,
                              millis now);
  void http_failed(connection_id request_id, millis now);
  void websocket_opened(connection_id connection, millis now);
  void websocket_failed(connection_id connection, millis now);
  void websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now);
  void websocket_closed(connection_id connection, millis now);

  // ---- timers: the connect timeout, the reconnection delay, the
  // acknowledgement timeouts, the Engine.IO session's own, the binary
  // packet completion deadline

  std::optional<millis> next_deadline() const noexcept;
  void on_timeout(millis now);

  // ---- outputs

  std::optional<action> next_action();

  // ---- listeners (the Manager's reserved events)

  listener_id on_open(std::function<void()> fn);
  listener_id on_close(std::function<void(disconnect_reason reason, const std::string& description)> fn);
  // Every failure of the Engine.IO connection (opening or open).
  listener_id on_error(std::function<void(const error_info&)> fn);
  // Before each reconnection attempt (1, 2, ...).
  listener_id on_reconnect_attempt(std::function<void(std::uint64_t attempt)> fn);
  // A reconnection attempt opened the Engine.IO session; its number.
  listener_id on_reconnect(std::function<void(std::uint64_t attempt)> fn);
  // A reconnection attempt failed (after the next one is planned or
  // reconnect_failed was emitted, as socket.io-client orders them).
  listener_id on_reconnect_error(std::function<void(const error_info&)> fn);
  // reconnection_attempts attempts failed: no more.
  listener_id on_reconnect_failed(std::function<void()> fn);
  bool off(listener_id id);

  // ---- inspection

  manager_state state() const noexcept { return state_; }
  bool reconnecting() const noexcept { return reconnecting_; }
  // Attempts of the current reconnection loop so far (the backoff's).
  std::uint64_t attempts() const noexcept { return backoff_.attempts(); }
  // The current (or last) Engine.IO session; nullptr before the first open().
  const ::eio::client* engine() const noexcept { return engine_ ? &*engine_ : nullptr; }
  // The time of the latest input (what ack_responder uses).
  millis now() const noexcept { return now_; }

private:
  friend class ::eio::socketio::client::socket;
  friend class ::eio::socketio::client::ack_responder;
  struct alive_token {
    manager* self;
  };

  // Every public entry point runs its work here: the outermost call, once
  // the work is done, handles the tasks it (and any listener it ran) queued.
  template <typename F>
  void input(millis now, F&& work) {
    if (now > now_) now_ = now;
    ++depth_;
    struct leave {
      int& depth;
      ~leave() { --depth; }
    } guard{depth_};
    work();
    if (depth_ == 1) settle();
  }
  void settle();
  void pump_engine();
  void take_message(std::uint32_t generation, const ::eio::client_message_event& m);
  void queue_packet(std::uint32_t generation, message& m);
  void parse_failure(std::uint32_t generation, const std::string& what);
  template <typename F>
  void with_engine(connection_id id, F&& call);

  // The transitions (manager.cpp).
  void open_engine(bool attempt, millis now);
  void on_engine_open(std::uint32_t generation, millis now);
  void on_engine_failure(std::uint32_t generation, std::optional<error_info> error, ::eio::close_reason reason,
                         const std::string& description, millis now);
  void on_open_error(const error_info& error, millis now);
  void on_close(disconnect_reason reason, const std::string& description, millis now);
  void reconnect(millis now);
  void on_reconnect_timer(millis now);
  void cleanup();
  void close_if_unused(millis now);
  void force_close(millis now);
  void emit_error(const error_info& error);

  bool send_packet(const packet& p, const std::vector<attachment>& attachments, millis now);
  bool writable() const noexcept;
  void catch_up(millis now);
  void flush_engine_actions();
  ::eio::client_options engine_options() const;
  double random_number();

  manager_options options_;
  std::shared_ptr<alive_token> alive_;
  manager_state state_ = manager_state::closed;
  bool reconnecting_ = false;
  bool skip_reconnect_ = false;
  bool attempt_ = false;     // the opening session is a reconnection attempt (socket.io-client's open(fn))
  bool listening_ = false;   // the current session's events count (socket.io-client's `subs`)
  bool poisoned_ = false;    // a packet of the current session failed to decode: the rest is ignored
  backoff backoff_;
  std::optional<millis> connect_deadline_;
  std::optional<millis> reconnect_at_;

  std::optional<::eio::client> engine_;
  std::uint32_t generation_ = 0;  // of engine_; connection ids carry it in their top 32 bits
  std::optional<error_info> engine_error_;  // an engine error waiting to see whether a close follows
  ::eio::detail::output_queue<action> actions_;

  decoder decoder_;
  assembler assembler_;

  std::map<std::string, std::unique_ptr<class socket>, std::less<>> sockets_;
  std::vector<class socket*> subscribed_;  // the active sockets, which take the session's packets

  std::deque<std::function<void()>> tasks_;  // packets and session events, handled one at a time
  int depth_ = 0;                            // nested input calls (listeners calling back)
  millis now_{0};

  std::mt19937_64 rng_;
  listener_id last_listener_ = 0;
  detail::listener_list<> open_listeners_;
  detail::listener_list<disconnect_reason, const std::string&> close_listeners_;
  detail::listener_list<const error_info&> error_listeners_;
  detail::listener_list<std::uint64_t> reconnect_attempt_listeners_;
  detail::listener_list<std::uint64_t> reconnect_listeners_;
  detail::listener_list<const error_info&> reconnect_error_listeners_;
  detail::listener_list<> reconnect_failed_listeners_;
};

}  // namespace eio::socketio::client
