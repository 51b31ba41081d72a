// The Socket.IO client manager: every rule that moves a manager from one
// state to another lives in this file (the socket's own are in socket.cpp).
//
// socket.io-client 4.8.3 lib/manager.ts, as a table (state x input -> what
// happens). "attempt" is a reconnection attempt (socket.io-client's open(fn)).
//
//   input \ state        closed                   opening                        open
//   open()               new Engine.IO session,   ignored                        ignored
//                        connect timer -> opening
//                        (waiting to reconnect: the attempt, now)
//   session opens        -                        -> open; "open" (each socket   -
//                                                 sends CONNECT); attempt:
//                                                 "reconnect"(n), attempts = 0
//   session fails        -                        -> closed; "error" (sockets    "error" (if the session said why),
//                                                 not connected: connect_error); then as close below
//                                                 attempt: plan the next or
//                                                 "reconnect_failed", then
//                                                 "reconnect_error"; first
//                                                 open(): start reconnecting
//   connect timer        -                        as "session fails" with        -
//                                                 "timeout"; the session closed
//   packet               -                        -                              to the socket of its namespace
//   packet undecodable   -                        -                              close "parse error"
//   close()              close "forced close", no reconnection (any state)
//   last socket gone     as close()
//   reconnect timer      "reconnect_attempt"(n), open() as an attempt
//
//   close R: -> closed, attempts = 0, the session closed, every subscribed
//   socket "disconnect"(R), "close"(R); then, unless close() or reconnection
//   off, reconnect: after attempts >= reconnection_attempts
//   "reconnect_failed", else wait backoff.duration() for the reconnect timer.
//
// Events of the Engine.IO session and the packets it carries become tasks,
// handled one at a time once the input that brought them is in (settle());
// a task of a session the manager no longer listens to does nothing.
#include <eio/socketio/client/manager.hpp>

#include <algorithm>
#include <cassert>
#include <type_traits>
#include <variant>

namespace eio::socketio::client {
namespace {

// Connection ids carry the session's generation in their top 32 bits, so
// that an answer about an earlier session never reaches the current one.
constexpr connection_id outer_id(std::uint32_t generation, connection_id inner) noexcept {
  return (static_cast<connection_id>(generation) << 32) | inner;
}

action remap(action a, std::uint32_t generation) {
  std::visit(
      [generation](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ::eio::client_http_request>) {
          x.request_id = outer_id(generation, x.request_id);
        } else {
          x.connection = outer_id(generation, x.connection);
        }
      },
      a);
  return a;
}

disconnect_reason from_close_reason(::eio::close_reason reason) noexcept {
  switch (reason) {
    case ::eio::close_reason::ping_timeout: return disconnect_reason::ping_timeout;
    case ::eio::close_reason::transport_error: return disconnect_reason::transport_error;
    case ::eio::close_reason::parse_error: return disconnect_reason::parse_error;
    case ::eio::close_reason::forced_close: return disconnect_reason::forced_close;
    case ::eio::close_reason::transport_close:
    case ::eio::close_reason::server_shutting_down:
    case ::eio::close_reason::write_buffer_full: return disconnect_reason::transport_close;
  }
  return disconnect_reason::transport_close;
}

template <typename T>
std::vector<T*> snapshot(const std::vector<T*>& list) {
  return list;
}

}  // namespace

std::string_view to_string(disconnect_reason reason) noexcept {
  switch (reason) {
    case disconnect_reason::io_server_disconnect: return "io server disconnect";
    case disconnect_reason::io_client_disconnect: return "io client disconnect";
    case disconnect_reason::ping_timeout: return "ping timeout";
    case disconnect_reason::transport_close: return "transport close";
    case disconnect_reason::transport_error: return "transport error";
    case disconnect_reason::parse_error: return "parse error";
    case disconnect_reason::forced_close: return "forced close";
  }
  return "unknown";
}

std::string_view to_string(manager_state state) noexcept {
  switch (state) {
    case manager_state::closed: return "closed";
    case manager_state::opening: return "opening";
    case manager_state::open: return "open";
  }
  return "unknown";
}

manager::manager(manager_options options)
    : options_(std::move(options)),
      alive_(std::make_shared<alive_token>(alive_token{this})),
      backoff_(options_.reconnection_delay, options_.reconnection_delay_max, options_.randomization_factor),
      decoder_(options_.limits),
      assembler_(options_.limits),
      rng_(options_.random_seed ? *options_.random_seed : std::random_device{}()) {
  assert(!options_.transports.empty());
}

manager::~manager() = default;

// ------------------------------------------------------------ inputs and tasks

void manager::settle() {
  for (;;) {
    pump_engine();
    if (tasks_.empty()) return;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    task();
  }
}

void manager::flush_engine_actions() {
  if (!engine_) return;
  while (auto a = engine_->next_action()) actions_.emplace_back(remap(std::move(*a), generation_));
}

// Takes what the Engine.IO session queued: its actions for the adapter, and
// its events as tasks (packets decoded now, so the assembler sees the
// messages in order).
void manager::pump_engine() {
  if (!engine_) return;
  flush_engine_actions();
  const std::uint32_t generation = generation_;
  while (auto e = engine_->next_event()) {
    if (!listening_) continue;
    // An error is fatal when the close comes right after it (eio::client
    // queues both in one call); otherwise it was a failed upgrade probe,
    // which socket.io-client never hears of either ("upgradeError").
    std::optional<error_info> error = std::move(engine_error_);
    engine_error_.reset();
    if (auto* m = std::get_if<::eio::client_message_event>(&*e)) {
      if (!poisoned_) take_message(generation, *m);
    } else if (std::holds_alternative<::eio::client_open_event>(*e)) {
      tasks_.push_back([this, generation] { on_engine_open(generation, now_); });
    } else if (auto* err = std::get_if<::eio::client_error_event>(&*e)) {
      engine_error_ = error_info{err->message, std::nullopt, false};
    } else if (auto* c = std::get_if<::eio::client_close_event>(&*e)) {
      tasks_.push_back([this, generation, error = std::move(error), reason = c->reason,
                        description = std::move(c->description)] {
        on_engine_failure(generation, error, reason, description, now_);
      });
    }
  }
  engine_error_.reset();
}

void manager::take_message(std::uint32_t generation, const ::eio::client_message_event& m) {
  message out;
  feed_result fed;
  if (m.kind == frame_kind::text) {
    packet p;
    payload_info info;
    if (const decode_error error = decoder_.decode(m.data, p, info)) {
      return parse_failure(generation, std::string(socketio::errc_name(error.code)) + " at byte " + std::to_string(error.offset));
    }
    fed = assembler_.on_packet(p, info, now_, out);
  } else {
    fed = assembler_.on_binary(m.data, now_, out);
  }
  if (fed.error) return parse_failure(generation, std::string(socketio::errc_name(fed.error.code)));
  if (fed.complete) queue_packet(generation, out);
}

void manager::queue_packet(std::uint32_t generation, message& m) {
  value data;
  if (!m.header.data.empty()) {
    const std::size_t depth = options_.limits.max_depth;
    const std::error_code error = is_binary(m.header.type)
                                      ? from_wire(m.header.data, std::move(m.attachments), data, depth)
                                      : from_wire(m.header.data, data, depth);
    if (error) return parse_failure(generation, std::string(socketio::errc_name(error)));
  }
  packet_type type = m.header.type;
  if (type == packet_type::binary_event) type = packet_type::event;
  if (type == packet_type::binary_ack) type = packet_type::ack;
  tasks_.push_back([this, generation, type, nsp = std::string(m.header.nsp), id = m.header.id,
                    data = std::move(data)]() mutable {
    if (generation != generation_ || !listening_) return;
    // socket.io-client's Manager emits "packet" to every subscribed socket,
    // and each keeps those of its own namespace.
    for (class socket* s : snapshot(subscribed_)) {
      if (s->nsp_ == nsp) return s->on_packet(type, id, std::move(data), now_);
    }
  });
}

void manager::parse_failure(std::uint32_t generation, const std::string& what) {
  poisoned_ = true;  // nothing after a packet we could not read makes sense
  tasks_.push_back([this, generation, what] {
    if (generation != generation_ || !listening_) return;
    on_close(disconnect_reason::parse_error, what, now_);
  });
}

template <typename F>
void manager::with_engine(connection_id id, F&& call) {
  if (!engine_ || (id >> 32) != generation_) return;  // about an earlier session
  call(*engine_, id & 0xffff'ffffu);
}

void manager::http_response_received(connection_id request_id, int status, const header_list& headers,
                                     std::string body, millis now) {
  input(now, [&] {
    with_engine(request_id, [&](::eio::client& e, connection_id id) {
      e.http_response_received(id, status, headers, std::move(body), now_);
    });
  });
}

void manager::http_failed(connection_id request_id, millis now) {
  input(now, [&] { with_engine(request_id, [&](::eio::client& e, connection_id id) { e.http_failed(id, now_); }); });
}

void manager::websocket_opened(connection_id connection, millis now) {
  input(now, [&] { with_engine(connection, [&](::eio::client& e, connection_id id) { e.websocket_opened(id, now_); }); });
}

void manager::websocket_failed(connection_id connection, millis now) {
  input(now, [&] { with_engine(connection, [&](::eio::client& e, connection_id id) { e.websocket_failed(id, now_); }); });
}

void manager::websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now) {
  input(now, [&] {
    with_engine(connection, [&](::eio::client& e, connection_id id) { e.websocket_message(id, kind, data, now_); });
  });
}

void manager::websocket_closed(connection_id connection, millis now) {
  input(now, [&] { with_engine(connection, [&](::eio::client& e, connection_id id) { e.websocket_closed(id, now_); }); });
}

std::optional<action> manager::next_action() { return actions_.take(); }

// ------------------------------------------------------------ timers

std::optional<millis> manager::next_deadline() const noexcept {
  std::optional<millis> earliest;
  const auto consider = [&earliest](std::optional<millis> t) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  };
  if (state_ == manager_state::opening) consider(connect_deadline_);
  consider(reconnect_at_);
  if (engine_) consider(engine_->next_deadline());
  if (listening_) consider(assembler_.next_deadline());
  for (const auto& [nsp, s] : sockets_) consider(s->next_deadline());
  return earliest;
}

void manager::on_timeout(millis now) {
  input(now, [&] {
    now = now_;
    if (state_ == manager_state::opening && connect_deadline_ && *connect_deadline_ <= now) {
      // socket.io-client: onError(new Error("timeout")), then the session
      // closed; closed first here, so that a listener's open() is not undone.
      connect_deadline_.reset();
      listening_ = false;
      engine_->close(now);
      on_open_error(error_info{"timeout", std::nullopt, false}, now);
    }
    if (reconnect_at_ && *reconnect_at_ <= now) on_reconnect_timer(now);
    if (engine_) {
      if (const auto due = engine_->next_deadline(); due && *due <= now) engine_->on_timeout(now);
    }
    if (listening_) {
      if (const auto due = assembler_.next_deadline(); due && *due <= now) {
        if (const decode_error error = assembler_.on_timeout(now)) {
          parse_failure(generation_, std::string(socketio::errc_name(error.code)));
        }
      }
    }
    std::vector<class socket*> all;
    for (const auto& [nsp, s] : sockets_) all.push_back(s.get());
    for (class socket* s : all) s->on_timeout(now);
  });
}

// socket.io-client's isConnected checks engine._hasPingExpired(): a session
// whose heartbeat deadline passed (the adapter has not called on_timeout
// yet, a laptop woke up) takes no packet; it is closed first, and the
// packet buffered for the next connection.
void manager::catch_up(millis now) {
  if (!engine_) return;
  if (const auto due = engine_->next_deadline(); due && *due <= now) {
    engine_->on_timeout(now);
    settle();
  }
}

// ------------------------------------------------------------ the transitions

::eio::client_options manager::engine_options() const {
  ::eio::client_options c;
  c.version = protocol_version::v4;  // Socket.IO v5 runs on Engine.IO v4 only
  c.path = options_.path;
  c.query = options_.query;
  c.extra_headers = options_.extra_headers;
  const bool websocket_first = options_.transports.front() == transport_kind::websocket;
  c.polling = !websocket_first;
  c.websocket = websocket_first || std::find(options_.transports.begin(), options_.transports.end(),
                                             transport_kind::websocket) != options_.transports.end();
  c.upgrade = options_.upgrade;
  return c;
}

void manager::open(millis now) {
  input(now, [&] {
    // While waiting to reconnect: the attempt, now. (socket.io-client
    // opens outside the loop and keeps _reconnecting set, so that a later
    // drop no longer reconnects.)
    if (reconnecting_ && reconnect_at_ && state_ == manager_state::closed) return on_reconnect_timer(now_);
    open_engine(false, now_);
  });
}

void manager::close(millis now) {
  input(now, [&] { force_close(now_); });
}

void manager::open_engine(bool attempt, millis now) {
  if (state_ != manager_state::closed) return;
  flush_engine_actions();  // the last session's close actions go out before it is dropped
  ++generation_;
  engine_.emplace(engine_options());
  state_ = manager_state::opening;
  skip_reconnect_ = false;
  attempt_ = attempt;
  listening_ = true;
  poisoned_ = false;
  engine_error_.reset();
  assembler_.reset();
  if (options_.timeout) connect_deadline_ = now + *options_.timeout;
  engine_->open(now);
}

void manager::on_engine_open(std::uint32_t generation, millis now) {
  (void)now;
  if (generation != generation_ || !listening_ || state_ != manager_state::opening) return;
  cleanup();
  state_ = manager_state::open;
  listening_ = true;
  open_listeners_.call();  // the subscribed sockets' among them: each sends its CONNECT
  if (attempt_) {
    // socket.io-client's onreconnect().
    attempt_ = false;
    const std::uint64_t attempt = backoff_.attempts();
    reconnecting_ = false;
    backoff_.reset();
    reconnect_listeners_.call(attempt);
  }
}

void manager::on_engine_failure(std::uint32_t generation, std::optional<error_info> error, ::eio::close_reason reason,
                                const std::string& description, millis now) {
  if (generation != generation_ || !listening_) return;
  if (state_ == manager_state::opening) {
    if (!error) error = error_info{description.empty() ? std::string(::eio::to_string(reason)) : description, std::nullopt, false};
    return on_open_error(*error, now);
  }
  if (error) emit_error(*error);
  if (generation != generation_ || !listening_) return;  // a listener closed or reopened
  on_close(from_close_reason(reason), description, now);
}

// socket.io-client's onError inside open(): the opening failed.
void manager::on_open_error(const error_info& error, millis now) {
  cleanup();
  state_ = manager_state::closed;
  emit_error(error);
  if (attempt_) {
    attempt_ = false;
    reconnecting_ = false;
    reconnect(now);
    reconnect_error_listeners_.call(error);
  } else if (!reconnecting_ && options_.reconnection && backoff_.attempts() == 0) {
    reconnect(now);  // maybeReconnectOnOpen: the first opening failed
  }
}

void manager::emit_error(const error_info& error) { error_listeners_.call(error); }

void manager::on_close(disconnect_reason reason, const std::string& description, millis now) {
  cleanup();
  if (engine_ && engine_->state() != ::eio::client_state::closed) engine_->close(now);
  backoff_.reset();
  state_ = manager_state::closed;
  close_listeners_.call(reason, description);  // each subscribed socket: "disconnect"
  if (options_.reconnection && !skip_reconnect_) reconnect(now);
}

void manager::reconnect(millis now) {
  if (reconnecting_ || skip_reconnect_) return;
  if (backoff_.attempts() >= options_.reconnection_attempts) {
    backoff_.reset();
    reconnecting_ = false;
    reconnect_failed_listeners_.call();
    return;
  }
  const millis delay = backoff_.duration([this] { return random_number(); });
  reconnecting_ = true;
  reconnect_at_ = now + delay;
}

void manager::on_reconnect_timer(millis now) {
  reconnect_at_.reset();
  if (skip_reconnect_) return;
  reconnect_attempt_listeners_.call(backoff_.attempts());
  if (skip_reconnect_) return;  // a listener closed the manager
  open_engine(true, now);
}

// What socket.io-client's cleanup() and the timers in its `subs` amount to:
// the session's events no longer count, and the connect and reconnect
// timers are off.
void manager::cleanup() {
  listening_ = false;
  connect_deadline_.reset();
  reconnect_at_.reset();
  engine_error_.reset();
  assembler_.reset();
}

void manager::force_close(millis now) {
  skip_reconnect_ = true;
  reconnecting_ = false;
  on_close(disconnect_reason::forced_close, "", now);
}

void manager::close_if_unused(millis now) {
  for (const auto& [nsp, other] : sockets_) {
    if (other->active_) return;  // still in use
  }
  force_close(now);
}

// ------------------------------------------------------------ sockets and packets

class socket& manager::socket(const std::string& nsp, socket_options options, millis now) {
  // Namespaces are paths; a ',' would end the namespace on the wire.
  assert(!nsp.empty() && nsp.front() == '/' && nsp.find(',') == std::string::npos);
  class socket* result = nullptr;
  input(now, [&] {
    auto it = sockets_.find(nsp);
    if (it == sockets_.end()) {
      it = sockets_.emplace(nsp, std::unique_ptr<class socket>(new class socket(*this, nsp, std::move(options)))).first;
      if (options_.auto_connect) it->second->connect(now_);
    } else if (options_.auto_connect && !it->second->active_) {
      it->second->connect(now_);
    }
    result = it->second.get();
  });
  return *result;
}

class socket* manager::find(std::string_view nsp) noexcept {
  const auto it = sockets_.find(nsp);
  return it == sockets_.end() ? nullptr : it->second.get();
}

const class socket* manager::find(std::string_view nsp) const noexcept {
  const auto it = sockets_.find(nsp);
  return it == sockets_.end() ? nullptr : it->second.get();
}

bool manager::send_packet(const packet& p, const std::vector<attachment>& attachments, millis now) {
  if (!engine_) return false;
  std::string text;
  if (encode(p, text)) return false;
  if (!engine_->send(std::move(text), frame_kind::text, now)) return false;
  for (const attachment& a : attachments) {
    engine_->send(std::string(reinterpret_cast<const char*>(a.data()), a.size()), frame_kind::binary, now);
  }
  return true;
}

// socket.io-client's engine.transport.writable: the session is open and a
// packet handed to it now goes out now (nothing is waiting ahead of it).
bool manager::writable() const noexcept {
  return state_ == manager_state::open && engine_ && engine_->state() == ::eio::client_state::open &&
         engine_->buffered_packets() == 0;
}

double manager::random_number() {
  if (options_.random) return options_.random();
  // 53 random bits: the same numbers from a seed with any standard library
  // (std::uniform_real_distribution's are not specified).
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

// ------------------------------------------------------------ listeners

listener_id manager::on_open(std::function<void()> fn) {
  open_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_close(std::function<void(disconnect_reason, const std::string&)> fn) {
  close_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_error(std::function<void(const error_info&)> fn) {
  error_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_reconnect_attempt(std::function<void(std::uint64_t)> fn) {
  reconnect_attempt_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_reconnect(std::function<void(std::uint64_t)> fn) {
  reconnect_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_reconnect_error(std::function<void(const error_info&)> fn) {
  reconnect_error_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}
listener_id manager::on_reconnect_failed(std::function<void()> fn) {
  reconnect_failed_listeners_.add(++last_listener_, false, std::move(fn));
  return last_listener_;
}

bool manager::off(listener_id id) {
  return open_listeners_.remove(id) || close_listeners_.remove(id) || error_listeners_.remove(id) ||
         reconnect_attempt_listeners_.remove(id) || reconnect_listeners_.remove(id) ||
         reconnect_error_listeners_.remove(id) || reconnect_failed_listeners_.remove(id);
}

}  // namespace eio::socketio::client
