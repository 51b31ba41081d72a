// The runtime: one loop's inputs (the core's events, timers, cluster
// messages) and the application's entry points on that loop.
#include <eio/socketio/runtime.hpp>

#include "detail.hpp"

#include <type_traits>

namespace eio::socketio {
namespace detail {

// ---------------------------------------------------------------- timers

timer_id timer_queue::add(millis at, std::function<void()> fn) {
  const timer_id id{at, next_seq_++};
  timers_.emplace(std::make_pair(id.at, id.seq), std::move(fn));
  return id;
}

bool timer_queue::cancel(timer_id id) { return timers_.erase({id.at, id.seq}) > 0; }

std::optional<millis> timer_queue::next() const noexcept {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

void timer_queue::run_due(millis now) {
  // Timers a callback adds for `now` or earlier wait for the next call, so a
  // callback re-arming itself with no delay cannot hold the loop.
  const std::uint64_t last = next_seq_;
  for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= now;) {
    if (it->first.second >= last) {
      ++it;
      continue;
    }
    std::function<void()> fn = std::move(it->second);
    timers_.erase(it);
    fn();
    it = timers_.begin();
  }
}

// ---------------------------------------------------------------- connection

connection::connection(runtime_impl& owner, const eio::connection_event& e, const decode_options& limits)
    : rt(owner), session(e.session), engine_id(e.id), version(e.version), hs(e.handshake), assembler(limits) {}

connection::~connection() {
  if (connect_timer) rt.timers.cancel(*connect_timer);
  if (attachment_timer) rt.timers.cancel(*attachment_timer);
}

namespace_slot* connection::find(std::string_view nsp) noexcept {
  for (auto& slot : slots) {
    if (slot.name == nsp) return &slot;
  }
  return nullptr;
}

void connection::remove(std::string_view nsp) noexcept {
  for (auto it = slots.begin(); it != slots.end(); ++it) {
    if (it->name == nsp) {
      slots.erase(it);
      return;
    }
  }
}

std::size_t connection::connected() const noexcept {
  std::size_t n = 0;
  for (const auto& slot : slots) n += slot.phase == slot_phase::connected ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------- runtime_impl

runtime_impl::runtime_impl(runtime& owner, server& cfg, eio::server& c, runtime_options o)
    : self(owner), config(cfg), core(c), options(std::move(o)), decoder(cfg.options().limits) {}

runtime_impl::~runtime_impl() {
  // Every connection still open: its sockets go without handlers (the loop
  // is going away), and the core forgets the user data.
  std::vector<eio::session_ref> all;
  core.all_sessions(all);
  for (const eio::session_ref s : all) {
    auto* conn = static_cast<connection*>(core.user_data(s));
    if (!conn) continue;
    core.set_user_data(s, nullptr);
    for (auto& slot : conn->slots) {
      if (slot.token) slot.token->conn = nullptr;
      if (slot.sock) {
        socket_state& st = access::state(*slot.sock);
        st.conn = nullptr;
        st.phase = socket_phase::gone;
      }
    }
    delete conn;
  }
  for (auto& [name, nsp] : namespaces) {
    if (nsp->adapter_) nsp->adapter_->close();
  }
  namespaces.clear();
}

void runtime_impl::on_event(eio::event& e) {
  if (const auto* m = std::get_if<eio::message_event>(&e)) return on_message(*m);
  if (const auto* c = std::get_if<eio::connection_event>(&e)) return on_connection(*c);
  if (const auto* c = std::get_if<eio::close_event>(&e)) return on_close(*c);
}

void runtime_impl::on_connection(const eio::connection_event& e) {
  // Closed by input handled in the same turn: the core forgets user data of
  // sessions gone, and its close_event (further down) brings none back.
  if (core.session_id(e.session).empty()) return;
  auto* conn = new connection(*this, e, config.options().limits);
  core.set_user_data(e.session, conn);
  ++connections;
  conn->connect_timer = timers.add(now + config.options().connect_timeout, [this, conn] {
    conn->connect_timer.reset();
    on_connect_timeout(*conn);
  });
  // Protocol v4 (socket.io 2.x over EIO3): the server joins "/" unasked
  // (socket.io index.ts onconnection).
  if (e.version == eio::protocol_version::v3) connect(*conn, "/", value::object());
}

void runtime_impl::on_message(const eio::message_event& e) {
  auto* conn = static_cast<connection*>(core.user_data(e.session));
  if (!conn || conn->closing) return;
  feed_result fed;
  if (e.kind == eio::frame_kind::text) {
    packet p;
    payload_info info;
    if (const decode_error error = decoder.decode(e.data, p, info)) {
      return violation(*conn, reason::parse_error, "parse error: " + describe(error));
    }
    fed = conn->assembler.on_packet(p, info, now, assembled);
  } else {
    fed = conn->assembler.on_binary(e.data, now, assembled);
  }
  if (fed.error) return violation(*conn, reason::parse_error, "parse error: " + describe(fed.error));
  arm_attachment_timer(*conn);
  if (fed.complete) handle(*conn, assembled);
}

void runtime_impl::arm_attachment_timer(connection& conn) {
  const std::optional<millis> due = conn.assembler.next_deadline();
  if (conn.attachment_timer && (!due || conn.attachment_timer->at != *due)) {
    timers.cancel(*conn.attachment_timer);
    conn.attachment_timer.reset();
  }
  if (due && !conn.attachment_timer) {
    connection* c = &conn;
    conn.attachment_timer = timers.add(*due, [this, c] {
      c->attachment_timer.reset();
      on_attachment_timeout(*c);
    });
  }
}

void runtime_impl::on_attachment_timeout(connection& conn) {
  if (const decode_error error = conn.assembler.on_timeout(now)) {
    violation(conn, reason::parse_error, "parse error: " + describe(error));
  } else {
    arm_attachment_timer(conn);
  }
}

void runtime_impl::on_connect_timeout(connection& conn) {
  // socket.io client.ts: closes a client that has joined no namespace.
  if (conn.closing || conn.connected() > 0) return;
  if (config.options().on_connection_error) config.options().on_connection_error(conn.engine_id, "connect timeout");
  close_connection(conn, reason::forced_server_close, "connect timeout");
}

void runtime_impl::on_close(const eio::close_event& e) {
  auto* conn = static_cast<connection*>(e.user_data);
  if (!conn) return;
  if (!conn->closing) {
    std::string_view why = reason::transport_error;
    switch (e.reason) {
      case eio::close_reason::transport_close: why = reason::transport_close; break;
      case eio::close_reason::transport_error: why = reason::transport_error; break;
      case eio::close_reason::ping_timeout: why = reason::ping_timeout; break;
      case eio::close_reason::forced_close: why = reason::forced_close; break;
      case eio::close_reason::parse_error: why = reason::parse_error; break;
      case eio::close_reason::server_shutting_down: why = reason::server_shutting_down; break;
      // eio's own: a peer that does not read. Reported as the transport
      // failing, which it is from the socket's point of view (and
      // recoverable: the client may come back and catch up).
      case eio::close_reason::write_buffer_full: why = reason::transport_error; break;
    }
    close_connection(*conn, why, e.description);
  }
  delete conn;
  --connections;
}

namespace_runtime* runtime_impl::find_namespace(std::string_view name) {
  const auto found = namespaces.find(name);
  if (found != namespaces.end()) return found->second.get();
  const namespace_config* cfg = config.find(name);
  return cfg ? &namespace_for(*cfg) : nullptr;
}

namespace_runtime& runtime_impl::namespace_for(const namespace_config& cfg) {
  const auto found = namespaces.find(cfg.name());
  if (found != namespaces.end()) return *found->second;
  auto nsp = access::make_namespace(*this, cfg);
  namespace_runtime& ref = *nsp;
  namespaces.emplace(cfg.name(), std::move(nsp));
  access::set_adapter(ref, make_adapter(ref));
  return ref;
}

std::unique_ptr<adapter> runtime_impl::make_adapter(namespace_runtime& nsp) {
  if (options.make_adapter) {
    if (auto made = options.make_adapter(nsp)) return made;
  }
  if (options.cluster) return std::make_unique<cluster_adapter>(nsp, *options.cluster);
  return std::make_unique<in_memory_adapter>(nsp);
}

}  // namespace detail

// ---------------------------------------------------------------- runtime

runtime::runtime(server& config, eio::server& core, runtime_options options)
    : impl_(std::make_unique<detail::runtime_impl>(*this, config, core, std::move(options))) {
  if (impl_->options.cluster) impl_->options.cluster->set_receiver(this);
}

runtime::~runtime() {
  if (impl_->options.cluster) impl_->options.cluster->set_receiver(nullptr);
}

void runtime::on_event(eio::event& e, std::chrono::milliseconds now) {
  impl_->now = now;
  impl_->on_event(e);
}

std::optional<std::chrono::milliseconds> runtime::next_deadline() const noexcept { return impl_->timers.next(); }

void runtime::on_timeout(std::chrono::milliseconds now) {
  impl_->now = now;
  impl_->timers.run_due(now);
}

void runtime::on_cluster_message(const cluster_message& message, std::chrono::milliseconds now) {
  impl_->now = now;
  namespace_runtime* nsp = impl_->find_namespace(message.nsp);
  if (nsp) {
    nsp->adapter().on_cluster_message(message);
    return;
  }
  // A namespace this server does not have: answer what waits for answers,
  // with nothing, so the requester does not wait for its timeout.
  if (!impl_->options.cluster || message.uid == impl_->options.cluster->uid()) return;
  auto response = std::make_shared<cluster_message>();
  response->uid = impl_->options.cluster->uid();
  response->nsp = message.nsp;
  response->request_id = message.request_id;
  if (message.type == message_type::fetch_sockets) {
    response->type = message_type::fetch_sockets_response;
  } else if (message.type == message_type::broadcast && !message.request_id.empty()) {
    response->type = message_type::broadcast_client_count;
  } else {
    return;
  }
  impl_->options.cluster->publish_response(message.uid, std::move(response));
}

namespace_runtime* runtime::of(std::string_view name) {
  if (name.empty() || name[0] != '/') {
    std::string prefixed = "/";
    prefixed += name;
    return impl_->find_namespace(prefixed);
  }
  return impl_->find_namespace(name);
}

timer_id runtime::set_timer(std::chrono::milliseconds delay, std::function<void()> fn) {
  return impl_->timers.add(impl_->now + std::max(delay, std::chrono::milliseconds(0)), std::move(fn));
}

bool runtime::cancel_timer(timer_id id) { return impl_->timers.cancel(id); }
std::chrono::milliseconds runtime::now() const noexcept { return impl_->now; }
void runtime::set_now(std::chrono::milliseconds now) noexcept { impl_->now = now; }
eio::server& runtime::core() const noexcept { return impl_->core; }
server& runtime::config() const noexcept { return impl_->config; }

runtime_stats runtime::stats() const {
  runtime_stats s;
  s.connections = impl_->connections;
  for (const auto& [name, nsp] : impl_->namespaces) {
    s.sockets += nsp->socket_count();
    s.rooms += nsp->adapter().room_count();
    nsp->for_each_socket([&](socket& sock) { s.pending_acks += detail::access::state(sock).acks.size(); });
  }
  std::vector<eio::session_ref> all;
  impl_->core.all_sessions(all);
  for (const eio::session_ref ref : all) {
    const auto* conn = static_cast<const detail::connection*>(impl_->core.user_data(ref));
    if (!conn) continue;
    for (const auto& slot : conn->slots) s.joining += slot.phase != detail::slot_phase::connected ? 1 : 0;
    s.pending_binary += conn->assembler.pending() ? 1 : 0;
  }
  s.timers = impl_->timers.size();
  return s;
}

}  // namespace eio::socketio
