// The default adapter: rooms of this loop's sockets and the operations on
// them (socket.io-adapter lib/in-memory-adapter.ts, Adapter and
// SessionAwareAdapter).
#include <eio/socketio/adapter.hpp>
#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/session_store.hpp>

#include "detail.hpp"

#include <algorithm>
#include <unordered_set>

namespace eio::socketio {

using detail::access;

in_memory_adapter::in_memory_adapter(namespace_runtime& nsp) : nsp_(nsp) {}

namespace {
void room_event_to(namespace_runtime& nsp, room_event event, const std::string& room, const std::string& id) {
  const auto& handlers = access::room_handlers(nsp.config());
  for (std::size_t i = 0; i < handlers.size(); ++i) handlers[i](nsp, event, room, id);
}
}  // namespace

void in_memory_adapter::add_all(const std::string& id, const std::vector<std::string>& rooms) {
  for (const std::string& room : rooms) {
    sids_[id].insert(room);
    auto found = rooms_.find(room);
    const bool created = found == rooms_.end();
    if (created) found = rooms_.emplace(room, std::unordered_set<std::string>{}).first;
    const bool joined = found->second.insert(id).second;
    // Events after the change: a handler may change the rooms again.
    if (created) room_event_to(nsp_, room_event::create_room, room, {});
    if (joined) room_event_to(nsp_, room_event::join_room, room, id);
  }
}

void in_memory_adapter::del(const std::string& id, const std::string& room) {
  const auto found = sids_.find(id);
  if (found != sids_.end()) found->second.erase(room);
  remove_from_room(room, id);
}

void in_memory_adapter::remove_from_room(const std::string& room, const std::string& id) {
  const auto found = rooms_.find(room);
  if (found == rooms_.end()) return;
  const bool left = found->second.erase(id) > 0;
  const bool deleted = found->second.empty();
  if (deleted) rooms_.erase(found);
  if (left) room_event_to(nsp_, room_event::leave_room, room, id);
  if (deleted) room_event_to(nsp_, room_event::delete_room, room, {});
}

void in_memory_adapter::del_all(const std::string& id) {
  const auto found = sids_.find(id);
  if (found == sids_.end()) return;
  const std::unordered_set<std::string> rooms = std::move(found->second);
  sids_.erase(found);
  for (const std::string& room : rooms) remove_from_room(room, id);
}

std::vector<std::string> in_memory_adapter::socket_rooms(const std::string& id) const {
  const auto found = sids_.find(id);
  if (found == sids_.end()) return {};
  return {found->second.begin(), found->second.end()};
}

std::map<std::string, std::vector<std::string>> in_memory_adapter::rooms() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [room, members] : rooms_) {
    std::vector<std::string> ids(members.begin(), members.end());
    std::sort(ids.begin(), ids.end());
    out.emplace(room, std::move(ids));
  }
  return out;
}

std::vector<socket*> in_memory_adapter::select(const broadcast_options& opts) const {
  // in-memory-adapter.ts apply: in any of the rooms (or all sockets), in none
  // of the except rooms, connected, each once.
  const auto& sockets = access::sockets(nsp_);
  std::vector<socket*> out;
  std::unordered_set<std::string_view> except;
  for (const std::string& room : opts.except) {
    const auto found = rooms_.find(room);
    if (found == rooms_.end()) continue;
    for (const std::string& id : found->second) except.insert(id);
  }
  auto take = [&](const std::string& id) {
    if (!except.empty() && except.count(id)) return;
    const auto s = sockets.find(id);
    if (s != sockets.end()) out.push_back(s->second.get());
  };
  if (opts.rooms.empty()) {
    out.reserve(sids_.size());
    for (const auto& [id, rooms] : sids_) take(id);
  } else if (opts.rooms.size() == 1) {
    const auto found = rooms_.find(opts.rooms.front());
    if (found == rooms_.end()) return out;
    out.reserve(found->second.size());
    for (const std::string& id : found->second) take(id);
  } else {
    std::unordered_set<std::string_view> seen;
    for (const std::string& room : opts.rooms) {
      const auto found = rooms_.find(room);
      if (found == rooms_.end()) continue;
      for (const std::string& id : found->second) {
        if (seen.insert(id).second) take(id);
      }
    }
  }
  return out;
}

void in_memory_adapter::append_offset(event_packet& packet, std::string_view offset) {
  // socket.io-adapter: packet.data.push(offset); the data is ["name", ...].
  if (packet.data.empty() || packet.data.back() != ']') return;
  packet.data.pop_back();
  packet.data += ',';
  append_json_string(offset, packet.data);
  packet.data += ']';
}

std::string in_memory_adapter::log_for_recovery(event_packet& packet, const broadcast_options& opts) {
  detail::runtime_impl& rt = access::impl(nsp_);
  session_store* store = rt.config.store();
  if (!rt.recovery() || !store || opts.flags.is_volatile) return {};
  return store->append(nsp_.name(), opts, packet, rt.now);
}

void in_memory_adapter::local_broadcast(const event_packet& packet, const broadcast_options& opts,
                                        const std::vector<eio::shared_message>* encoded) {
  deliver_to(select(opts), packet, opts, encoded);
}

void in_memory_adapter::deliver_to(std::vector<socket*> targets, const event_packet& packet,
                                   const broadcast_options& opts, const std::vector<eio::shared_message>* encoded,
                                   std::optional<std::uint64_t> id) {
  if (targets.empty()) return;  // nothing encoded for nobody
  detail::runtime_impl& rt = access::impl(nsp_);
  // onAnyOutgoing listeners may disconnect sockets: hold them meanwhile.
  bool listening = false;
  for (socket* s : targets) listening = listening || !access::state(*s).outgoing_listeners.empty();
  if (listening) {
    std::vector<std::shared_ptr<socket>> held;
    held.reserve(targets.size());
    for (socket* s : targets) held.push_back(s->shared_from_this());
    for (const auto& s : held) rt.notify_outgoing(*s, packet);
    targets.clear();
    for (const auto& s : held) {
      if (s->connected()) targets.push_back(s.get());
    }
    const std::vector<eio::shared_message> parts = encoded && !id ? *encoded : rt.encode_event(nsp_.name(), packet, id);
    rt.deliver(targets, parts, opts.flags.is_volatile);
    return;
  }
  if (encoded && !id) return rt.deliver(targets, *encoded, opts.flags.is_volatile);
  rt.deliver(targets, rt.encode_event(nsp_.name(), packet, id), opts.flags.is_volatile);
}

std::size_t in_memory_adapter::local_broadcast_with_ack(const event_packet& packet, const broadcast_options& opts,
                                                        std::function<void(wire_args)> ack) {
  std::vector<socket*> targets = select(opts);
  if (targets.empty()) return 0;
  detail::runtime_impl& rt = access::impl(nsp_);
  // in-memory-adapter.ts broadcastWithAck: one id for every socket (the
  // namespace's counter), each socket's answer forwarded.
  const std::uint64_t id = access::next_ack_id(nsp_);
  auto wait = std::make_shared<detail::ack_wait>();
  wait->single = false;
  wait->done = [ack = std::move(ack)](const operation_error& error, const args_view& args) {
    if (!error) ack(detail::first_arg(args));
  };
  std::vector<std::weak_ptr<socket>> reached;
  reached.reserve(targets.size());
  for (socket* s : targets) {
    access::state(*s).acks[id] = wait;
    reached.push_back(s->weak_from_this());
  }
  // The answers are not awaited past the deadline (broadcast-operator.ts
  // deletes the ids at its timeout; here also on the nodes that answered).
  const std::chrono::milliseconds timeout = opts.flags.timeout.value_or(rt.config.options().request_timeout);
  rt.timers.add(rt.now + timeout, [reached = std::move(reached), id] {
    for (const auto& weak : reached) {
      if (const auto s = weak.lock()) access::state(*s).acks.erase(id);
    }
  });
  const std::size_t count = targets.size();
  deliver_to(std::move(targets), packet, opts, nullptr, id);
  return count;
}

std::vector<socket_details> in_memory_adapter::local_fetch_sockets(const broadcast_options& opts) const {
  std::vector<socket_details> out;
  for (socket* s : select(opts)) {
    // A copy of the handshake, built for the copy alone when the socket has
    // none yet: fetching sockets leaves each as light as it was.
    const detail::socket_state& st = detail::access::state(*s);
    socketio::handshake h = st.handshake ? *st.handshake : detail::build_handshake(st.handshake_from);
    out.push_back(socket_details{s->id(), std::move(h), socket_rooms(s->id()), s->data()});
  }
  return out;
}

namespace {
std::vector<std::shared_ptr<socket>> hold(const std::vector<socket*>& targets) {
  std::vector<std::shared_ptr<socket>> held;
  held.reserve(targets.size());
  for (socket* s : targets) held.push_back(s->shared_from_this());
  return held;
}
}  // namespace

void in_memory_adapter::local_add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  for (const auto& s : hold(select(opts))) s->join(rooms);
}

void in_memory_adapter::local_del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  for (const auto& s : hold(select(opts))) {
    for (const std::string& room : rooms) s->leave(room);
  }
}

void in_memory_adapter::local_disconnect_sockets(const broadcast_options& opts, bool close) {
  for (const auto& s : hold(select(opts))) s->disconnect(close);
}

void in_memory_adapter::broadcast(event_packet packet, const broadcast_options& opts) {
  log_for_recovery(packet, opts);
  local_broadcast(packet, opts);
}

void in_memory_adapter::broadcast_with_ack(event_packet packet, const broadcast_options& opts,
                                           std::function<void(std::size_t)> client_count,
                                           std::function<void(wire_args)> ack) {
  client_count(local_broadcast_with_ack(packet, opts, std::move(ack)));
}

void in_memory_adapter::fetch_sockets(const broadcast_options& opts, fetch_sockets_callback done) {
  done(std::nullopt, local_fetch_sockets(opts));
}

void in_memory_adapter::add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  local_add_sockets(opts, rooms);
}

void in_memory_adapter::del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  local_del_sockets(opts, rooms);
}

void in_memory_adapter::disconnect_sockets(const broadcast_options& opts, bool close) {
  local_disconnect_sockets(opts, close);
}

void in_memory_adapter::server_side_emit_with_ack(event_packet, std::chrono::milliseconds, responses_callback done) {
  // cluster-adapter.ts serverSideEmit: no other server, no answer to wait for.
  done(std::nullopt, {});
}

void in_memory_adapter::persist_session(session_to_persist session) {
  detail::runtime_impl& rt = access::impl(nsp_);
  if (session_store* store = rt.config.store()) store->persist(nsp_.name(), std::move(session), rt.now);
}

void in_memory_adapter::restore_session(const std::string& pid, const std::string& offset, restore_callback done) {
  detail::runtime_impl& rt = access::impl(nsp_);
  session_store* store = rt.config.store();
  done(store ? store->restore(nsp_.name(), pid, offset, rt.now) : std::nullopt);
}

}  // namespace eio::socketio
