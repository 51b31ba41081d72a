// The cluster adapter: each operation also goes to the other nodes, each
// message from them is applied here (socket.io-adapter
// lib/cluster-adapter.ts, ClusterAdapter).
#include <eio/socketio/cluster.hpp>
#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>

#include "detail.hpp"

#include <cstdio>

namespace eio::socketio {

using detail::access;

std::string_view to_string(message_type type) noexcept {
  switch (type) {
    case message_type::initial_heartbeat: return "INITIAL_HEARTBEAT";
    case message_type::heartbeat: return "HEARTBEAT";
    case message_type::broadcast: return "BROADCAST";
    case message_type::sockets_join: return "SOCKETS_JOIN";
    case message_type::sockets_leave: return "SOCKETS_LEAVE";
    case message_type::disconnect_sockets: return "DISCONNECT_SOCKETS";
    case message_type::fetch_sockets: return "FETCH_SOCKETS";
    case message_type::fetch_sockets_response: return "FETCH_SOCKETS_RESPONSE";
    case message_type::server_side_emit: return "SERVER_SIDE_EMIT";
    case message_type::server_side_emit_response: return "SERVER_SIDE_EMIT_RESPONSE";
    case message_type::broadcast_client_count: return "BROADCAST_CLIENT_COUNT";
    case message_type::broadcast_ack: return "BROADCAST_ACK";
    case message_type::adapter_close: return "ADAPTER_CLOSE";
  }
  return "UNKNOWN";
}

// A request waiting for the other nodes: fetch_sockets or
// server_side_emit_with_ack.
struct cluster_adapter::request {
  message_type type = message_type::fetch_sockets;
  std::size_t expected = 0;
  std::size_t current = 0;
  std::vector<socket_details> sockets;
  std::vector<wire_args> responses;
  fetch_sockets_callback fetch_done;
  responses_callback emit_done;
  timer_id timer;
};

cluster_adapter::cluster_adapter(namespace_runtime& nsp, cluster_transport& transport)
    : in_memory_adapter(nsp), transport_(transport) {}

cluster_adapter::~cluster_adapter() { close(); }

void cluster_adapter::close() {
  detail::runtime_impl& rt = access::impl(nsp_);
  for (auto& [id, r] : requests_) rt.timers.cancel(r->timer);
  requests_.clear();
  ack_requests_.clear();
}

std::size_t cluster_adapter::server_count() const { return transport_.node_count(); }

std::shared_ptr<cluster_message> cluster_adapter::make(message_type type) const {
  auto m = std::make_shared<cluster_message>();
  m->uid = transport_.uid();
  m->nsp = nsp_.name();
  m->type = type;
  return m;
}

void cluster_adapter::publish(std::shared_ptr<cluster_message> message) { transport_.publish(std::move(message)); }

void cluster_adapter::respond(const std::string& requester, std::shared_ptr<cluster_message> response) {
  transport_.publish_response(requester, std::move(response));
}

std::string cluster_adapter::new_request_id() {
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(++next_request_));
  return id;
}

namespace {
// The data without the offset log_for_recovery appended: the message
// carries the offset beside it (onMessage(message, offset)).
std::string without_offset(const std::string& data, const std::string& offset) {
  if (offset.empty()) return data;
  const std::size_t appended = offset.size() + 3;  // ,"<offset>"
  std::string out = data.substr(0, data.size() - 1 - appended);
  out += ']';
  return out;
}
}  // namespace

void cluster_adapter::broadcast(event_packet packet, const broadcast_options& opts) {
  const std::string offset = log_for_recovery(packet, opts);
  std::vector<socket*> targets = select(opts);
  if (opts.flags.local) return deliver_to(std::move(targets), packet, opts, nullptr);
  auto m = make(message_type::broadcast);
  m->opts = opts;
  m->packet.data = without_offset(packet.data, offset);
  m->packet.attachments = packet.attachments;
  m->offset = offset;
  // Encoded here once when this node sends it too; every loop shares it.
  if (!targets.empty()) m->encoded = access::impl(nsp_).encode_event(nsp_.name(), packet, std::nullopt);
  const std::vector<eio::shared_message> encoded = m->encoded;
  publish(std::move(m));
  deliver_to(std::move(targets), packet, opts, encoded.empty() ? nullptr : &encoded);
}

void cluster_adapter::broadcast_with_ack(event_packet packet, const broadcast_options& opts,
                                         std::function<void(std::size_t)> client_count,
                                         std::function<void(wire_args)> ack) {
  if (!opts.flags.local) {
    const std::string id = new_request_id();
    ack_requests_[id] = ack_request{client_count, ack};
    auto m = make(message_type::broadcast);
    m->opts = opts;
    m->packet = packet;
    m->request_id = id;
    publish(std::move(m));
    // cluster-adapter.ts: the answers are not awaited past the deadline.
    detail::runtime_impl& rt = access::impl(nsp_);
    const std::chrono::milliseconds timeout = opts.flags.timeout.value_or(rt.config.options().request_timeout);
    rt.timers.add(rt.now + timeout, [this, id] { ack_requests_.erase(id); });
  }
  client_count(local_broadcast_with_ack(packet, opts, std::move(ack)));
}

void cluster_adapter::fetch_sockets(const broadcast_options& opts, fetch_sockets_callback done) {
  std::vector<socket_details> local = local_fetch_sockets(opts);
  const std::size_t nodes = server_count();
  if (opts.flags.local || nodes <= 1) return done(std::nullopt, std::move(local));
  const std::string id = new_request_id();
  auto r = std::make_shared<request>();
  r->type = message_type::fetch_sockets;
  r->expected = nodes - 1;
  r->sockets = std::move(local);
  r->fetch_done = std::move(done);
  detail::runtime_impl& rt = access::impl(nsp_);
  r->timer = rt.timers.add(rt.now + opts.flags.timeout.value_or(rt.config.options().request_timeout), [this, id] {
    const auto found = requests_.find(id);
    if (found == requests_.end()) return;
    const std::shared_ptr<request> late = found->second;
    requests_.erase(found);
    late->fetch_done("timeout reached: only " + std::to_string(late->current) + " responses received out of " +
                         std::to_string(late->expected),
                     std::move(late->sockets));
  });
  requests_[id] = r;
  auto m = make(message_type::fetch_sockets);
  m->opts = opts;
  m->request_id = id;
  publish(std::move(m));
}

void cluster_adapter::add_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  if (!opts.flags.local) {
    auto m = make(message_type::sockets_join);
    m->opts = opts;
    m->rooms = rooms;
    publish(std::move(m));
  }
  local_add_sockets(opts, rooms);
}

void cluster_adapter::del_sockets(const broadcast_options& opts, const std::vector<std::string>& rooms) {
  if (!opts.flags.local) {
    auto m = make(message_type::sockets_leave);
    m->opts = opts;
    m->rooms = rooms;
    publish(std::move(m));
  }
  local_del_sockets(opts, rooms);
}

void cluster_adapter::disconnect_sockets(const broadcast_options& opts, bool close) {
  if (!opts.flags.local) {
    auto m = make(message_type::disconnect_sockets);
    m->opts = opts;
    m->close = close;
    publish(std::move(m));
  }
  local_disconnect_sockets(opts, close);
}

void cluster_adapter::server_side_emit(event_packet packet) {
  auto m = make(message_type::server_side_emit);
  m->packet = std::move(packet);
  publish(std::move(m));
}

void cluster_adapter::server_side_emit_with_ack(event_packet packet, std::chrono::milliseconds timeout,
                                                responses_callback done) {
  const std::size_t nodes = server_count();
  if (nodes <= 1) return done(std::nullopt, {});
  const std::string id = new_request_id();
  auto r = std::make_shared<request>();
  r->type = message_type::server_side_emit;
  r->expected = nodes - 1;
  r->emit_done = std::move(done);
  detail::runtime_impl& rt = access::impl(nsp_);
  r->timer = rt.timers.add(rt.now + timeout, [this, id] {
    const auto found = requests_.find(id);
    if (found == requests_.end()) return;
    const std::shared_ptr<request> late = found->second;
    requests_.erase(found);
    late->emit_done("timeout reached: only " + std::to_string(late->current) + " responses received out of " +
                        std::to_string(late->expected),
                    std::move(late->responses));
  });
  requests_[id] = r;
  auto m = make(message_type::server_side_emit);
  m->packet = std::move(packet);
  m->request_id = id;
  publish(std::move(m));
}

void cluster_adapter::on_cluster_message(const cluster_message& message) {
  if (message.uid == transport_.uid() || message.nsp != nsp_.name()) return;
  switch (message.type) {
    case message_type::broadcast: {
      if (!message.request_id.empty()) {
        const std::string requester = message.uid;
        const std::string id = message.request_id;
        const std::size_t count = local_broadcast_with_ack(message.packet, message.opts, [this, requester, id](wire_args a) {
          auto r = make(message_type::broadcast_ack);
          r->request_id = id;
          r->packet.data = std::move(a.json);
          r->packet.attachments = std::move(a.attachments);
          respond(requester, std::move(r));
        });
        auto r = make(message_type::broadcast_client_count);
        r->request_id = id;
        r->client_count = count;
        respond(requester, std::move(r));
        return;
      }
      return apply_broadcast(message);
    }
    case message_type::sockets_join: return local_add_sockets(message.opts, message.rooms);
    case message_type::sockets_leave: return local_del_sockets(message.opts, message.rooms);
    case message_type::disconnect_sockets: return local_disconnect_sockets(message.opts, message.close);
    case message_type::fetch_sockets: {
      auto r = make(message_type::fetch_sockets_response);
      r->request_id = message.request_id;
      r->sockets = local_fetch_sockets(message.opts);
      return respond(message.uid, std::move(r));
    }
    case message_type::server_side_emit: {
      const std::string name = detail::event_name(message.packet.data);
      const args_view args(detail::event_args(message.packet.data), &message.packet.attachments);
      ack_handle ack;
      if (!message.request_id.empty()) {
        // Only the first argument of the first answer goes back.
        const std::string requester = message.uid;
        const std::string id = message.request_id;
        ack = ack_handle([this, requester, id](wire_args a) {
          auto r = make(message_type::server_side_emit_response);
          r->request_id = id;
          const wire_args first = detail::first_arg(args_view(a));
          r->packet.data = first.json;
          r->packet.attachments = first.attachments;
          respond(requester, std::move(r));
        });
      }
      const auto& handlers = access::server_handlers(nsp_.config());
      for (std::size_t i = 0; i < handlers.size(); ++i) {
        if (handlers[i].first == name) handlers[i].second(nsp_, args, ack);
      }
      return;
    }
    case message_type::fetch_sockets_response:
    case message_type::server_side_emit_response:
    case message_type::broadcast_client_count:
    case message_type::broadcast_ack: return on_response(message);
    case message_type::initial_heartbeat:
    case message_type::heartbeat:
    case message_type::adapter_close: return;  // no heartbeat here: the transport counts the nodes
  }
}

void cluster_adapter::apply_broadcast(const cluster_message& message) {
  const std::vector<eio::shared_message>* encoded = message.encoded.empty() ? nullptr : &message.encoded;
  if (message.offset.empty() || message.opts.flags.is_volatile || !access::impl(nsp_).recovery()) {
    return local_broadcast(message.packet, message.opts, encoded);
  }
  event_packet packet = message.packet;
  append_offset(packet, message.offset);
  // In-process, `encoded` was made with the offset already appended.
  local_broadcast(packet, message.opts, encoded);
}

void cluster_adapter::on_response(const cluster_message& response) {
  switch (response.type) {
    case message_type::broadcast_client_count: {
      const auto found = ack_requests_.find(response.request_id);
      if (found != ack_requests_.end()) {
        const auto count = found->second.client_count;  // a copy: the callback may end the request
        count(response.client_count);
      }
      return;
    }
    case message_type::broadcast_ack: {
      const auto found = ack_requests_.find(response.request_id);
      if (found != ack_requests_.end()) {
        const auto ack = found->second.ack;
        ack(wire_args{response.packet.data, response.packet.attachments});
      }
      return;
    }
    case message_type::fetch_sockets_response:
    case message_type::server_side_emit_response: {
      const auto found = requests_.find(response.request_id);
      if (found == requests_.end()) return;
      const std::shared_ptr<request> r = found->second;
      if (r->type == message_type::fetch_sockets && response.type != message_type::fetch_sockets_response) return;
      if (r->type == message_type::server_side_emit && response.type != message_type::server_side_emit_response) return;
      ++r->current;
      if (r->type == message_type::fetch_sockets) {
        for (const auto& s : response.sockets) r->sockets.push_back(s);
      } else {
        r->responses.push_back(wire_args{response.packet.data, response.packet.attachments});
      }
      if (r->current < r->expected) return;
      requests_.erase(found);
      access::impl(nsp_).timers.cancel(r->timer);
      if (r->type == message_type::fetch_sockets) {
        r->fetch_done(std::nullopt, std::move(r->sockets));
      } else {
        r->emit_done(std::nullopt, std::move(r->responses));
      }
      return;
    }
    default: return;
  }
}

}  // namespace eio::socketio
