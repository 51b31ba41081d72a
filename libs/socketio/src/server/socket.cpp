// Sockets: incoming events, acks and disconnects (socket.io lib/socket.ts
// _onpacket, onevent, onack, _onclose), and the socket's own API.
#include <eio/socketio/socket.hpp>

#include "detail.hpp"

#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>

#include <algorithm>
#include <atomic>

namespace eio::socketio {
namespace detail {

namespace {

template <class List>
void compact(List& list) {
  list.erase(std::remove_if(list.begin(), list.end(), [](const auto& l) { return l->removed; }), list.end());
}

void compact_all(socket_state& st) {
  if (st.dispatching > 0) return;
  compact(st.listeners);
  compact(st.any_listeners);
  compact(st.outgoing_listeners);
}

// An event kept for middlewares that may answer later.
struct owned_event {
  std::string name;
  wire_args args;
};

std::uint64_t next_listener_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::shared_ptr<socket> access::make_socket(std::unique_ptr<socket_state> state) {
  socket_state* raw = state.get();
  std::shared_ptr<socket> s(new socket(std::move(state)));
  raw->self = s.get();
  return s;
}

void runtime_impl::socket_packet(const std::shared_ptr<socket>& s, socketio::message& m) {
  switch (m.header.type) {
    case packet_type::event:
    case packet_type::binary_event: return socket_event(s, m);
    case packet_type::ack:
    case packet_type::binary_ack: return socket_ack(access::state(*s), m);
    case packet_type::disconnect: return socket_close(s, reason::client_namespace_disconnect, {});
    case packet_type::connect:
    case packet_type::connect_error: return;  // not for sockets (the connection's rules)
  }
}

void runtime_impl::socket_event(const std::shared_ptr<socket>& s, socketio::message& m) {
  socket_state& st = access::state(*s);
  const std::string_view name = m.info.name;
  const args_view args(m.info.args(m.header.data), &m.attachments, m.info.arg_count);
  const ack_handle ack = m.header.id ? ack_for(s, *m.header.id) : ack_handle{};
  // onAny listeners first, then the event middlewares, then the listeners.
  if (!st.any_listeners.empty()) {
    ++st.dispatching;
    const std::size_t n = st.any_listeners.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto l = st.any_listeners[i];
      if (!l->removed) l->fn(*s, name, args, ack);
    }
    --st.dispatching;
    compact_all(st);
  }
  if (st.phase != socket_phase::connected) return;
  if (st.middlewares.empty()) return dispatch(s, name, args, ack);

  auto owned = std::make_shared<owned_event>(owned_event{std::string(name), args.to_wire()});
  auto run = std::make_shared<std::function<void(std::size_t)>>();
  std::weak_ptr<socket> weak = s;
  std::weak_ptr<std::function<void(std::size_t)>> weak_run = run;
  *run = [this, weak, weak_run, owned, ack](std::size_t index) {
    const std::shared_ptr<socket> sock = weak.lock();
    const auto chain = weak_run.lock();
    if (!sock || !chain) return;
    socket_state& state = access::state(*sock);
    if (state.phase != socket_phase::connected) return;  // "ignore packet received after disconnection"
    if (index >= state.middlewares.size()) return dispatch(sock, owned->name, args_view(owned->args), ack);
    const event_middleware current = state.middlewares[index];  // a copy: use() may grow the list
    current(*sock, owned->name, args_view(owned->args),
               next_function([weak, chain, index](std::optional<middleware_error> error) {
                 if (!error) return (*chain)(index + 1);
                 const std::shared_ptr<socket> target = weak.lock();
                 if (!target || access::state(*target).phase == socket_phase::gone) return;
                 const auto handlers = access::state(*target).error_handlers;
                 for (const auto& h : handlers) h(*target, *error);
               }));
  };
  // The chain keeps itself alive through the next_functions it hands out.
  (*run)(0);
}

void runtime_impl::dispatch(const std::shared_ptr<socket>& s, std::string_view event, const args_view& args,
                            const ack_handle& ack) {
  socket_state& st = access::state(*s);
  ++st.dispatching;
  const std::size_t n = st.listeners.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto l = st.listeners[i];  // shared: the list may grow under the call
    if (l->removed || l->event != event) continue;
    if (l->once) l->removed = true;
    l->fn(*s, args, ack);
  }
  --st.dispatching;
  compact_all(st);
}

void runtime_impl::socket_ack(socket_state& st, socketio::message& m) {
  if (!m.header.id) return;
  const auto found = st.acks.find(*m.header.id);
  if (found == st.acks.end()) return;  // unknown or already answered: ignored, as the reference
  const std::shared_ptr<ack_wait> wait = found->second;
  st.acks.erase(found);
  if (wait->finished) return;
  if (wait->single) {
    wait->finished = true;
    if (wait->timer) timers.cancel(*wait->timer);
  }
  const args_view args(m.info.args(m.header.data), &m.attachments, m.info.arg_count);
  if (wait->single) {
    auto done = std::move(wait->done);
    wait->done = nullptr;
    done(std::nullopt, args);
  } else {
    wait->done(std::nullopt, args);
  }
}

ack_handle runtime_impl::ack_for(const std::shared_ptr<socket>& s, std::uint64_t id) {
  std::weak_ptr<socket> weak = s;
  return ack_handle([this, weak, id](wire_args args) {
    const std::shared_ptr<socket> sock = weak.lock();
    if (!sock) return;
    socket_state& st = access::state(*sock);
    if (st.phase != socket_phase::connected || !st.conn || st.conn->closing) return;
    std::string data;
    data.reserve(args.json.size() + 2);
    data += '[';
    data += args.json;
    data += ']';
    const packet p{args.attachments.empty() ? packet_type::ack : packet_type::binary_ack, st.nsp->name(), id,
                   args.attachments.size(), data};
    send_packet(*st.conn, p, &args.attachments);
  });
}

void runtime_impl::socket_close(const std::shared_ptr<socket>& s, std::string_view why, std::string_view description) {
  socket_state& st = access::state(*s);
  if (st.phase != socket_phase::connected || st.closing) return;
  st.closing = true;
  // "disconnecting" while still in the rooms.
  const auto disconnecting = st.disconnecting_handlers;
  for (const auto& h : disconnecting) h(*s, why, description);
  if (recovery() && recoverable(why) && !st.pid.empty()) {
    st.nsp->adapter().persist_session(session_to_persist{st.id, st.pid, st.nsp->adapter().socket_rooms(st.id), st.data});
  }
  socket_cleanup(st);
  if (st.conn) st.conn->remove(st.nsp->name());
  // Acks waited for without a timeout are forgotten; with one, its timer
  // still reports it (as the reference).
  st.acks.clear();
  const auto disconnect = st.disconnect_handlers;
  for (const auto& h : disconnect) h(*s, why, description);
}

void runtime_impl::socket_cleanup(socket_state& st) {
  if (st.phase == socket_phase::gone) return;
  st.phase = socket_phase::gone;
  st.nsp->adapter().del_all(st.id);
  auto& sockets = access::sockets(*st.nsp);
  const auto found = sockets.find(st.id);
  if (found != sockets.end() && found->second.get() == st.self) sockets.erase(found);
}

void runtime_impl::notify_outgoing(socket& s, const event_packet& packet) {
  socket_state& st = access::state(s);
  if (st.outgoing_listeners.empty()) return;
  const std::string name = event_name(packet.data);
  const args_view args(event_args(packet.data), &packet.attachments);
  ++st.dispatching;
  const std::size_t n = st.outgoing_listeners.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto l = st.outgoing_listeners[i];
    if (!l->removed) l->fn(s, name, args);
  }
  --st.dispatching;
  compact_all(st);
}

}  // namespace detail

// ---------------------------------------------------------------- socket

using detail::access;
using detail::socket_phase;

socket::socket(std::unique_ptr<detail::socket_state> state) : state_(std::move(state)) {}
socket::~socket() = default;

const std::string& socket::id() const noexcept { return state_->id; }
namespace_runtime& socket::nsp() const noexcept { return *state_->nsp; }
runtime& socket::owner() const noexcept { return state_->rt->self; }
const value& socket::auth() const noexcept { return state_->handshake_from.auth; }

const socketio::handshake& socket::handshake() const {
  if (!state_->handshake) state_->handshake = std::make_unique<socketio::handshake>(detail::build_handshake(state_->handshake_from));
  return *state_->handshake;
}
value& socket::data() noexcept { return state_->data; }
const value& socket::data() const noexcept { return state_->data; }
bool socket::recovered() const noexcept { return state_->recovered; }
bool socket::connected() const noexcept { return state_->phase == socket_phase::connected; }

eio::session_ref socket::session() const noexcept {
  return state_->conn ? state_->conn->session : eio::session_ref{};
}

const std::string& socket::engine_id() const noexcept {
  static const std::string none;
  return state_->conn ? state_->conn->engine_id : none;
}

eio::protocol_version socket::protocol() const noexcept {
  return state_->conn ? state_->conn->version : eio::protocol_version::v4;
}

std::vector<std::string> socket::rooms() const {
  if (state_->phase == socket_phase::gone) return {};
  return state_->nsp->adapter().socket_rooms(state_->id);
}

void socket::join(const std::string& room) { join(std::vector<std::string>{room}); }

void socket::join(const std::vector<std::string>& rooms) {
  if (state_->phase == socket_phase::gone) return;  // socket.ts _cleanup: join becomes a no-op
  state_->nsp->adapter().add_all(state_->id, rooms);
}

void socket::leave(const std::string& room) {
  if (state_->phase == socket_phase::gone) return;
  state_->nsp->adapter().del(state_->id, room);
}

listener_id socket::on(std::string event, event_handler handler) {
  auto l = std::make_shared<detail::listener<event_handler>>();
  l->id = detail::next_listener_id();
  l->event = std::move(event);
  l->fn = std::move(handler);
  state_->listeners.push_back(l);
  return l->id;
}

listener_id socket::once(std::string event, event_handler handler) {
  const listener_id id = on(std::move(event), std::move(handler));
  state_->listeners.back()->once = true;
  return id;
}

void socket::off(std::string_view event, listener_id id) {
  for (auto& l : state_->listeners) {
    if (l->id == id && l->event == event) l->removed = true;
  }
  detail::compact_all(*state_);
}

void socket::off(std::string_view event) {
  for (auto& l : state_->listeners) {
    if (l->event == event) l->removed = true;
  }
  detail::compact_all(*state_);
}

listener_id socket::on_any(any_handler handler) {
  auto l = std::make_shared<detail::listener<any_handler>>();
  l->id = detail::next_listener_id();
  l->fn = std::move(handler);
  state_->any_listeners.push_back(l);
  return l->id;
}

void socket::off_any(listener_id id) {
  for (auto& l : state_->any_listeners) {
    if (l->id == id) l->removed = true;
  }
  detail::compact_all(*state_);
}

listener_id socket::on_any_outgoing(outgoing_handler handler) {
  auto l = std::make_shared<detail::listener<outgoing_handler>>();
  l->id = detail::next_listener_id();
  l->fn = std::move(handler);
  state_->outgoing_listeners.push_back(l);
  return l->id;
}

void socket::off_any_outgoing(listener_id id) {
  for (auto& l : state_->outgoing_listeners) {
    if (l->id == id) l->removed = true;
  }
  detail::compact_all(*state_);
}

void socket::use(event_middleware fn) { state_->middlewares.push_back(std::move(fn)); }
void socket::on_disconnecting(disconnect_handler handler) { state_->disconnecting_handlers.push_back(std::move(handler)); }
void socket::on_disconnect(disconnect_handler handler) { state_->disconnect_handlers.push_back(std::move(handler)); }
void socket::on_error(error_handler handler) { state_->error_handlers.push_back(std::move(handler)); }

std::error_code socket::emit(std::string_view event, const value& args) {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return send_event(std::move(p), {}, nullptr);
}

std::error_code socket::emit(std::string_view event, const args_view& args) {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return send_event(std::move(p), {}, nullptr);
}

std::error_code socket::emit_with_ack(std::string_view event, const value& args, ack_callback done) {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return send_event(std::move(p), {}, &done);
}

std::error_code socket::emit_with_ack(std::string_view event, const args_view& args, ack_callback done) {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return send_event(std::move(p), {}, &done);
}

std::error_code socket::send_event(event_packet packet, const broadcast_flags& flags, ack_callback* done) {
  detail::socket_state& st = *state_;
  if (st.phase != socket_phase::connected || !st.conn || st.conn->closing) {
    return std::make_error_code(std::errc::not_connected);
  }
  detail::runtime_impl& rt = *st.rt;
  if (done) {
    // socket.ts emit + registerAckCallback: the id from the namespace's counter.
    const std::uint64_t id = access::next_ack_id(*st.nsp);
    auto wait = std::make_shared<detail::ack_wait>();
    wait->done = std::move(*done);
    if (flags.timeout) {
      std::weak_ptr<socket> weak = weak_from_this();
      wait->timer = rt.timers.add(rt.now + *flags.timeout, [weak, wait, id] {
        if (wait->finished) return;
        wait->finished = true;
        if (const auto s = weak.lock()) access::state(*s).acks.erase(id);
        auto fn = std::move(wait->done);
        wait->done = nullptr;
        fn(operation_error(std::string(detail::timed_out)), args_view{});
      });
    }
    st.acks[id] = std::move(wait);
    rt.notify_outgoing(*this, packet);
    rt.send_event(*st.conn, st.nsp->name(), packet, id, flags.is_volatile);
    return {};
  }
  if (rt.recovery() && !flags.is_volatile) {
    // socket.ts emit: with recovery, through the adapter so that the packet
    // is logged with an offset. This node only: the socket is here.
    broadcast_options opts;
    opts.rooms.push_back(st.id);
    opts.flags = flags;
    opts.flags.local = true;
    st.nsp->adapter().broadcast(std::move(packet), opts);
    return {};
  }
  rt.notify_outgoing(*this, packet);
  rt.send_event(*st.conn, st.nsp->name(), packet, std::nullopt, flags.is_volatile);
  return {};
}

socket_emitter socket::timeout(std::chrono::milliseconds timeout) {
  broadcast_flags flags;
  flags.timeout = timeout;
  return socket_emitter(*this, flags);
}

socket_emitter socket::volatile_() {
  broadcast_flags flags;
  flags.is_volatile = true;
  return socket_emitter(*this, flags);
}

socket_emitter socket::compress(bool compress) {
  broadcast_flags flags;
  flags.compress = compress;
  return socket_emitter(*this, flags);
}

broadcast_operator socket::broadcast() {
  broadcast_options opts;
  opts.except.push_back(state_->id);
  return broadcast_operator(*state_->nsp, std::move(opts));
}

broadcast_operator socket::to(const std::string& room) { return broadcast().to(room); }
broadcast_operator socket::to(const std::vector<std::string>& rooms) { return broadcast().to(rooms); }
broadcast_operator socket::except(const std::string& room) { return broadcast().except(room); }
broadcast_operator socket::local() { return broadcast().local(); }

void socket::disconnect(bool close) {
  detail::socket_state& st = *state_;
  if (st.phase != socket_phase::connected || st.closing) return;
  detail::runtime_impl& rt = *st.rt;
  detail::connection* conn = st.conn;
  if (!conn) return;
  const std::shared_ptr<socket> self = shared_from_this();
  if (close) {
    // socket.io client.ts _disconnect: every namespace leaves, then the
    // connection closes.
    std::vector<std::shared_ptr<socket>> joined;
    for (const auto& slot : conn->slots) {
      if (slot.phase == detail::slot_phase::connected && slot.sock) joined.push_back(slot.sock);
    }
    for (const auto& s : joined) s->disconnect(false);
    rt.close_connection(*conn, detail::reason::forced_server_close, {});
    return;
  }
  rt.send_packet(*conn, packet{packet_type::disconnect, st.nsp->name(), std::nullopt, 0, {}}, nullptr);
  rt.socket_close(self, detail::reason::server_namespace_disconnect, {});
}

// ---------------------------------------------------------------- socket_emitter

socket_emitter socket_emitter::timeout(std::chrono::milliseconds timeout) const {
  socket_emitter copy = *this;
  copy.flags_.timeout = timeout;
  return copy;
}

socket_emitter socket_emitter::volatile_() const {
  socket_emitter copy = *this;
  copy.flags_.is_volatile = true;
  return copy;
}

socket_emitter socket_emitter::compress(bool compress) const {
  socket_emitter copy = *this;
  copy.flags_.compress = compress;
  return copy;
}

std::error_code socket_emitter::emit(std::string_view event, const value& args) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return socket_->send_event(std::move(p), flags_, nullptr);
}

std::error_code socket_emitter::emit(std::string_view event, const args_view& args) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return socket_->send_event(std::move(p), flags_, nullptr);
}

std::error_code socket_emitter::emit_with_ack(std::string_view event, const value& args, ack_callback done) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return socket_->send_event(std::move(p), flags_, &done);
}

std::error_code socket_emitter::emit_with_ack(std::string_view event, const args_view& args, ack_callback done) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return socket_->send_event(std::move(p), flags_, &done);
}

}  // namespace eio::socketio
