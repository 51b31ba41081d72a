// Namespaces: their configuration and the server's registry of them
// (socket.io lib/index.ts of, _checkNamespace; lib/parent-namespace.ts),
// and the namespace on one loop with its operations on sockets
// (lib/namespace.ts, lib/broadcast-operator.ts).
#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>

#include "detail.hpp"

namespace eio::socketio {

using detail::access;

// ---------------------------------------------------------------- namespace_config

namespace {
bool is_namespace_reserved(std::string_view event) {
  // socket.io namespace.ts RESERVED_EVENTS.
  return event == "connect" || event == "connection" || event == "new_namespace";
}
}  // namespace

namespace_config& namespace_config::use(middleware fn) {
  middlewares_.push_back(std::move(fn));
  return *this;
}

namespace_config& namespace_config::on_connection(connection_handler fn) {
  connection_handlers_.push_back(std::move(fn));
  return *this;
}

namespace_config& namespace_config::on(std::string event, server_event_handler fn) {
  if (!is_namespace_reserved(event)) server_handlers_.emplace_back(std::move(event), std::move(fn));
  return *this;
}

namespace_config& namespace_config::on_room_event(room_handler fn) {
  room_handlers_.push_back(std::move(fn));
  return *this;
}

// ---------------------------------------------------------------- server

server::server(server_options options) : options_(std::move(options)) {
  if (!options_.generate_id) options_.generate_id = eio::random_session_id;
  if (options_.connection_state_recovery && !options_.store) {
    session_store_options store;
    store.max_disconnection_duration = options_.connection_state_recovery->max_disconnection_duration;
    store.max_log_bytes = options_.connection_state_recovery->max_log_bytes;
    store.max_sessions = options_.connection_state_recovery->max_sessions;
    options_.store = std::make_shared<in_process_session_store>(store);
  }
  of("/");
}

server::~server() = default;

namespace_config& server::of(std::string_view name) {
  std::string full;
  if (name.empty() || name[0] != '/') full = "/";
  full += name;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = namespaces_.find(full);
  if (found != namespaces_.end()) return *found->second;
  // index.ts of(): a name a regex parent matches becomes its child.
  for (const auto& parent : parents_) {
    if (parent->regex_ && std::regex_match(full, *parent->regex_)) {
      std::unique_ptr<namespace_config> made(new namespace_config(full));
      made->middlewares_ = parent->middlewares_;
      made->connection_handlers_ = parent->connection_handlers_;
      return *namespaces_.emplace(full, std::move(made)).first->second;
    }
  }
  std::unique_ptr<namespace_config> made(new namespace_config(full));
  return *namespaces_.emplace(full, std::move(made)).first->second;
}

namespace_config& server::add_parent(std::unique_ptr<namespace_config> parent) {
  std::lock_guard<std::mutex> lock(mutex_);
  parents_.push_back(std::move(parent));
  return *parents_.back();
}

namespace_config& server::of(std::regex pattern) {
  std::unique_ptr<namespace_config> parent(new namespace_config("/_" + std::to_string(parents().size())));
  parent->regex_ = std::move(pattern);
  return add_parent(std::move(parent));
}

namespace_config& server::of(namespace_predicate predicate) {
  std::unique_ptr<namespace_config> parent(new namespace_config("/_" + std::to_string(parents().size())));
  parent->predicate_ = std::move(predicate);
  return add_parent(std::move(parent));
}

const namespace_config* server::find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second.get();
}

const namespace_config& server::child(const namespace_config& parent, std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = namespaces_.find(name);
  if (found != namespaces_.end()) return *found->second;  // made meanwhile (another CONNECT, another loop)
  // parent-namespace.ts createChild: the parent's middlewares and
  // connection handlers.
  std::unique_ptr<namespace_config> made(new namespace_config(std::string(name)));
  made->middlewares_ = parent.middlewares_;
  made->connection_handlers_ = parent.connection_handlers_;
  return *namespaces_.emplace(std::string(name), std::move(made)).first->second;
}

std::vector<std::string> server::namespace_names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.reserve(namespaces_.size());
  for (const auto& [name, config] : namespaces_) out.push_back(name);  // a std::map: sorted
  return out;
}

std::vector<const namespace_config*> server::parents() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const namespace_config*> out;
  out.reserve(parents_.size());
  for (const auto& p : parents_) out.push_back(p.get());
  return out;
}

// ---------------------------------------------------------------- namespace_runtime

std::unique_ptr<namespace_runtime> access::make_namespace(detail::runtime_impl& rt, const namespace_config& config) {
  return std::unique_ptr<namespace_runtime>(new namespace_runtime(rt, config));
}

namespace_runtime::namespace_runtime(detail::runtime_impl& rt, const namespace_config& config)
    : rt_(&rt), config_(&config) {}

namespace_runtime::~namespace_runtime() = default;

const std::string& namespace_runtime::name() const noexcept { return config_->name(); }
runtime& namespace_runtime::owner() const noexcept { return rt_->self; }

socket* namespace_runtime::find_socket(const std::string& id) const {
  const auto found = sockets_.find(id);
  return found == sockets_.end() ? nullptr : found->second.get();
}

void namespace_runtime::for_each_socket(const std::function<void(socket&)>& fn) const {
  // A copy: fn may disconnect sockets.
  std::vector<std::shared_ptr<socket>> all;
  all.reserve(sockets_.size());
  for (const auto& [id, s] : sockets_) all.push_back(s);
  for (const auto& s : all) fn(*s);
}

std::error_code namespace_runtime::server_side_emit(std::string_view event, const value& args) {
  if (is_namespace_reserved(event)) return socketio::errc::reserved_event_name;
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  adapter_->server_side_emit(std::move(p));
  return {};
}

std::error_code namespace_runtime::server_side_emit_with_ack(std::string_view event, const value& args,
                                                             responses_callback done,
                                                             std::optional<std::chrono::milliseconds> timeout) {
  if (is_namespace_reserved(event)) return socketio::errc::reserved_event_name;
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  adapter_->server_side_emit_with_ack(std::move(p), timeout.value_or(rt_->config.options().request_timeout),
                                      std::move(done));
  return {};
}

// ---------------------------------------------------------------- broadcast_operator

broadcast_operator::broadcast_operator(namespace_runtime& nsp, broadcast_options options)
    : nsp_(&nsp), options_(std::move(options)) {}

namespace {
void add_unique(std::vector<std::string>& set, const std::string& room) {
  for (const auto& r : set) {
    if (r == room) return;
  }
  set.push_back(room);
}
}  // namespace

broadcast_operator broadcast_operator::to(const std::string& room) const {
  broadcast_operator copy = *this;
  add_unique(copy.options_.rooms, room);
  return copy;
}

broadcast_operator broadcast_operator::to(const std::vector<std::string>& rooms) const {
  broadcast_operator copy = *this;
  for (const auto& room : rooms) add_unique(copy.options_.rooms, room);
  return copy;
}

broadcast_operator broadcast_operator::except(const std::string& room) const {
  broadcast_operator copy = *this;
  add_unique(copy.options_.except, room);
  return copy;
}

broadcast_operator broadcast_operator::except(const std::vector<std::string>& rooms) const {
  broadcast_operator copy = *this;
  for (const auto& room : rooms) add_unique(copy.options_.except, room);
  return copy;
}

broadcast_operator broadcast_operator::volatile_() const {
  broadcast_operator copy = *this;
  copy.options_.flags.is_volatile = true;
  return copy;
}

broadcast_operator broadcast_operator::compress(bool compress) const {
  broadcast_operator copy = *this;
  copy.options_.flags.compress = compress;
  return copy;
}

broadcast_operator broadcast_operator::local() const {
  broadcast_operator copy = *this;
  copy.options_.flags.local = true;
  return copy;
}

broadcast_operator broadcast_operator::timeout(std::chrono::milliseconds timeout) const {
  broadcast_operator copy = *this;
  copy.options_.flags.timeout = timeout;
  return copy;
}

std::error_code broadcast_operator::emit(std::string_view event, const value& args) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return emit_packet(std::move(p), nullptr);
}

std::error_code broadcast_operator::emit(std::string_view event, const args_view& args) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return emit_packet(std::move(p), nullptr);
}

std::error_code broadcast_operator::emit_with_ack(std::string_view event, const value& args,
                                                  responses_callback done) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return emit_packet(std::move(p), &done);
}

std::error_code broadcast_operator::emit_with_ack(std::string_view event, const args_view& args,
                                                  responses_callback done) const {
  event_packet p;
  if (const std::error_code error = detail::make_event(event, args, p)) return error;
  return emit_packet(std::move(p), &done);
}

std::error_code broadcast_operator::emit_packet(event_packet packet, responses_callback* done) const {
  adapter& a = nsp_->adapter();
  if (!done) {
    a.broadcast(std::move(packet), options_);
    return {};
  }
  // broadcast-operator.ts emit with an ack: complete when every node said
  // how many clients it reached and that many answers came.
  struct collector {
    responses_callback done;
    std::vector<wire_args> responses;
    std::size_t expected_servers = 0;
    std::size_t actual_servers = 0;
    std::size_t expected_clients = 0;
    bool finished = false;
    timer_id timer;
  };
  detail::runtime_impl& rt = access::impl(*nsp_);
  auto c = std::make_shared<collector>();
  c->done = std::move(*done);
  c->expected_servers = a.server_count();
  broadcast_options opts = options_;
  if (!opts.flags.timeout) opts.flags.timeout = rt.config.options().request_timeout;
  c->timer = rt.timers.add(rt.now + *opts.flags.timeout, [c] {
    if (c->finished) return;
    c->finished = true;
    auto fn = std::move(c->done);
    fn(operation_error(std::string(detail::timed_out)), std::move(c->responses));
  });
  detail::runtime_impl* rtp = &rt;
  auto check = [c, rtp] {
    if (c->finished || c->actual_servers != c->expected_servers || c->responses.size() != c->expected_clients) return;
    c->finished = true;
    rtp->timers.cancel(c->timer);
    auto fn = std::move(c->done);
    fn(std::nullopt, std::move(c->responses));
  };
  a.broadcast_with_ack(
      std::move(packet), opts,
      [c, check](std::size_t clients) {
        c->expected_clients += clients;
        ++c->actual_servers;
        check();
      },
      [c, check](wire_args response) {
        if (c->finished) return;
        c->responses.push_back(std::move(response));
        check();
      });
  return {};
}

void broadcast_operator::fetch_sockets(fetch_callback done) const {
  namespace_runtime* nsp = nsp_;
  nsp_->adapter().fetch_sockets(options_, [nsp, done = std::move(done)](const operation_error& error,
                                                                         std::vector<socket_details> details) {
    std::vector<remote_socket> sockets;
    sockets.reserve(details.size());
    for (auto& d : details) sockets.emplace_back(*nsp, std::move(d));
    done(error, std::move(sockets));
  });
}

void broadcast_operator::sockets_join(const std::vector<std::string>& rooms) const {
  nsp_->adapter().add_sockets(options_, rooms);
}

void broadcast_operator::sockets_leave(const std::vector<std::string>& rooms) const {
  nsp_->adapter().del_sockets(options_, rooms);
}

void broadcast_operator::disconnect_sockets(bool close) const { nsp_->adapter().disconnect_sockets(options_, close); }

// ---------------------------------------------------------------- remote_socket

remote_socket::remote_socket(namespace_runtime& nsp, socket_details details)
    : nsp_(&nsp), details_(std::move(details)) {}

broadcast_operator remote_socket::self() const {
  broadcast_options opts;
  opts.rooms.push_back(details_.id);
  return broadcast_operator(*nsp_, std::move(opts));
}

std::error_code remote_socket::emit(std::string_view event, const value& args) const { return self().emit(event, args); }

std::error_code remote_socket::emit_with_ack(std::string_view event, const value& args,
                                             std::chrono::milliseconds timeout, ack_callback done) const {
  // broadcast-operator.ts RemoteSocket: expectSingleResponse, so it answers
  // like socket.emit (the client's response, or the timeout alone).
  return self().timeout(timeout).emit_with_ack(
      event, args, [done = std::move(done)](const operation_error& error, std::vector<wire_args> responses) {
        if (error || responses.empty()) {
          done(error ? error : operation_error(std::string(detail::timed_out)), args_view{});
          return;
        }
        done(std::nullopt, args_view(responses.front()));
      });
}

void remote_socket::join(const std::string& room) const { self().sockets_join(room); }
void remote_socket::join(const std::vector<std::string>& rooms) const { self().sockets_join(rooms); }
void remote_socket::leave(const std::string& room) const { self().sockets_leave(room); }
void remote_socket::disconnect(bool close) const { self().disconnect_sockets(close); }

}  // namespace eio::socketio
