// One Socket.IO node on Redis: cluster messages to the classic or sharded
// adapter's channels and back.
#include <eio/socketio_redis/redis_node.hpp>
#include <eio/socketio_redis/wire.hpp>

#include "stream_reader.hpp"

#include <eio/socketio/namespace.hpp>
#include <eio/socketio/value.hpp>

#include <algorithm>
#include <random>
#include <set>

namespace eio::socketio_redis {

using json = nlohmann::json;
namespace sio = eio::socketio;
using sio::message_type;

std::optional<adapter_kind> parse_adapter_kind(std::string_view name) {
  if (name == "classic") return adapter_kind::classic;
  if (name == "sharded") return adapter_kind::sharded;
  if (name == "streams") return adapter_kind::streams;
  return std::nullopt;
}

std::optional<subscription_mode> parse_subscription_mode(std::string_view name) {
  if (name == "dynamic") return subscription_mode::dynamic;
  if (name == "dynamic-private") return subscription_mode::dynamic_private;
  if (name == "static") return subscription_mode::fixed;
  return std::nullopt;
}

namespace {

// uid2(6) (classic) or randomBytes(8).toString("hex") (ClusterAdapter).
std::string random_uid(adapter_kind kind) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  static constexpr char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  if (kind == adapter_kind::classic) {
    for (int i = 0; i < 6; ++i) out += alnum[rng() % 62];
  } else {
    for (int i = 0; i < 16; ++i) out += hex[rng() % 16];
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::optional<json> parse_request(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  if (payload[0] == '{') {
    auto v = from_json_text(payload);
    if (!v || !v->is_object()) return std::nullopt;
    return v;
  }
  auto v = from_msgpack(payload);
  if (!v || !v->is_object()) return std::nullopt;
  return v;
}

int int_field(const json& v, const char* name, int fallback) {
  const auto it = v.find(name);
  return it != v.end() && it->is_number_integer() ? it->get<int>() : fallback;
}
std::string str_field(const json& v, const char* name) {
  const auto it = v.find(name);
  return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// The namespace's adapter: a cluster_adapter that tells the node which
// namespaces and (sharded) which public rooms exist on this loop.
class redis_node::adapter_impl final : public sio::cluster_adapter {
public:
  adapter_impl(sio::namespace_runtime& nsp, redis_node& node) : cluster_adapter(nsp, node), node_(node), name_(nsp.name()) {
    node_.add_namespace(name_, this);
  }
  ~adapter_impl() override { node_.remove_namespace(name_); }

  // The nodes that have this namespace (its channel's subscribers), as the
  // reference asks Redis per namespace.
  std::size_t server_count() const override { return node_.namespace_count(name_); }

  void add_all(const std::string& id, const std::vector<std::string>& rooms) override {
    const auto current = socket_rooms(id);
    std::set<std::string> counted;  // a room named twice in one call is joined once
    for (const auto& room : rooms) {
      if (!has_channel(id, room) || std::find(current.begin(), current.end(), room) != current.end() ||
          !counted.insert(room).second) {
        continue;
      }
      if (channel_rooms_[room]++ == 0) node_.room_created(name_, room);
    }
    cluster_adapter::add_all(id, rooms);
  }
  void del(const std::string& id, const std::string& room) override {
    const auto current = socket_rooms(id);
    if (has_channel(id, room) && std::find(current.begin(), current.end(), room) != current.end()) release(room);
    cluster_adapter::del(id, room);
  }
  void del_all(const std::string& id) override {
    for (const auto& room : socket_rooms(id)) {
      if (has_channel(id, room)) release(room);
    }
    cluster_adapter::del_all(id);
  }

private:
  // Whether `room`, joined by socket `id`, gets a channel of its own
  // (sharded-adapter.ts, create-room): public rooms in dynamic mode, every
  // room in dynamic-private, none in static; the other kinds have none.
  bool has_channel(const std::string& id, const std::string& room) const {
    if (node_.options_.kind != adapter_kind::sharded) return false;
    switch (node_.options_.mode) {
      // The reference asks whether the room is any socket's id (sids); the
      // socket's own id is what it joins here, so another socket's id as a
      // room gets a channel it need not have (an extra subscription only).
      case subscription_mode::dynamic: return room != id;
      case subscription_mode::dynamic_private: return true;
      case subscription_mode::fixed: return false;
    }
    return false;
  }
  void release(const std::string& room) {
    const auto it = channel_rooms_.find(room);
    if (it == channel_rooms_.end()) return;
    if (--it->second == 0) {
      channel_rooms_.erase(it);
      node_.room_deleted(name_, room);
    }
  }

  redis_node& node_;
  std::string name_;
  std::map<std::string, std::size_t> channel_rooms_;  // sockets of this loop in each
};

redis_node::redis_node(redis_adapter_options options, std::function<void(sio::loop_task)> post)
    : options_(std::move(options)), post_(std::move(post)), uid_(random_uid(options_.kind)) {
  client_ = std::make_unique<redis_client>(
      options_.client,
      [this](subscription_kind kind, std::string channel, std::string payload) {
        on_message(kind, std::move(channel), std::move(payload));
      },
      [this](bool connected) {
        if (!connected) count_ = 1;
        else refresh_count();
      },
      [this] {
        refresh_count();
        // Restores waiting for the stream reader end when their time is up
        // even if the reader never comes.
        if (waiting_restores_ > 0) post_([this](std::chrono::milliseconds now) { retry_waiting_restores(now); });
      },
      options_.server_count_interval);
  ready_ = client_.get();
  if (options_.kind == adapter_kind::streams) start_stream_reader();
}

redis_node::~redis_node() {
  reader_.reset();
  client_.reset();  // joins the I/O thread: no callback runs after this
}

std::unique_ptr<sio::adapter> redis_node::make_adapter(sio::namespace_runtime& nsp) {
  if (options_.kind == adapter_kind::streams) return make_streams_adapter(nsp);
  return std::make_unique<adapter_impl>(nsp, *this);
}

void redis_node::add_namespace(const std::string& nsp, sio::adapter* a) {
  adapters_[nsp] = a;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    namespaces_[nsp] = 1;
  }
  const std::string& key = options_.key;
  if (options_.kind != adapter_kind::classic) {
    const subscription_kind kind =
        options_.kind == adapter_kind::sharded ? subscription_kind::shard : subscription_kind::channel;
    client_->subscribe(kind, key + "#" + nsp + "#");
    client_->subscribe(kind, key + "#" + nsp + "#" + uid_ + "#");
  } else {
    client_->subscribe(subscription_kind::pattern, glob_literal(key + "#" + nsp + "#") + "*");
    client_->subscribe(subscription_kind::channel, key + "-request#" + nsp + "#");
    client_->subscribe(subscription_kind::channel, key + "-response#" + nsp + "#");
    client_->subscribe(subscription_kind::channel, key + "-response#" + nsp + "#" + uid_ + "#");
  }
  refresh_count();
}

void redis_node::remove_namespace(const std::string& nsp) {
  adapters_.erase(nsp);
  std::lock_guard<std::mutex> lock(mutex_);
  namespaces_.erase(nsp);
  counts_.erase(nsp);
}

void redis_node::room_created(const std::string& nsp, const std::string& room) {
  client_->subscribe(subscription_kind::shard, options_.key + "#" + nsp + "#" + room + "#");
}

void redis_node::room_deleted(const std::string& nsp, const std::string& room) {
  client_->unsubscribe(subscription_kind::shard, options_.key + "#" + nsp + "#" + room + "#");
}

std::size_t redis_node::node_count() const { return count_.load(); }

std::size_t redis_node::namespace_count(const std::string& nsp) const {
  const redis_client* client = ready_.load();
  if (client == nullptr || !client->stats().connected) return 1;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = counts_.find(nsp);
  return it != counts_.end() ? it->second : count_.load();
}

void redis_node::refresh_count() {
  // The I/O thread may ask before the constructor has stored client_.
  redis_client* client = ready_.load();
  if (client == nullptr) return;
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [nsp, unused] : namespaces_) names.push_back(nsp);
  }
  for (const auto& nsp : names) {
    const bool sharded = options_.kind == adapter_kind::sharded;
    const std::string channel = options_.kind == adapter_kind::classic ? options_.key + "-request#" + nsp + "#"
                                                                       : options_.key + "#" + nsp + "#";
    client->command({"PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", channel},
                     [this, nsp](const std::optional<redis_reply>& r) {
                       if (!r || r->type != redis_reply::kind::array || r->elements.size() < 2) return;
                       const long long n = r->elements[1].integer;
                       std::lock_guard<std::mutex> lock(mutex_);
                       if (namespaces_.count(nsp) == 0) return;
                       counts_[nsp] = static_cast<std::size_t>(std::max<long long>(n, 1));
                       std::size_t most = 1;
                       for (const auto& [name, count] : counts_) most = std::max(most, count);
                       count_ = most;
                     });
  }
}

void redis_node::send(std::string channel, std::string payload) {
  client_->command({options_.kind == adapter_kind::sharded ? "SPUBLISH" : "PUBLISH", std::move(channel),
                    std::move(payload)});
}

// ---- outgoing

void redis_node::publish(std::shared_ptr<const sio::cluster_message> message) {
  const sio::cluster_message& m = *message;
  const std::string& key = options_.key;
  if (options_.kind == adapter_kind::streams) {
    // adapter.ts doPublish: what waits for answers is not logged.
    const bool ephemeral = (m.type == message_type::broadcast && !m.request_id.empty()) ||
                           m.type == message_type::server_side_emit || m.type == message_type::fetch_sockets;
    if (!ephemeral) return append_to_stream(std::move(message));
    return send(key + "#" + m.nsp + "#", to_msgpack(cluster_message_to_value(m)));
  }
  if (options_.kind == adapter_kind::sharded) {
    // sharded-adapter.ts computeChannel: a one-room broadcast goes on the
    // room's channel in dynamic mode unless the room looks like a socket id
    // (20 characters), always in dynamic-private, never in static.
    std::string channel = key + "#" + m.nsp + "#";
    if (m.type == message_type::broadcast && m.request_id.empty() && m.opts.rooms.size() == 1 &&
        (options_.mode == subscription_mode::dynamic_private ||
         (options_.mode == subscription_mode::dynamic && m.opts.rooms[0].size() != 20))) {
      channel += m.opts.rooms[0] + "#";
    }
    return send(std::move(channel), encode_cluster_message(m));
  }
  // classic: index.ts broadcast() and the request senders.
  const std::string requests = key + "-request#" + m.nsp + "#";
  // Our request ids go on a channel shared with every node: make them ours.
  const std::string request_id = m.request_id.empty() ? std::string() : uid_ + "-" + m.request_id;
  switch (m.type) {
    case message_type::broadcast: {
      json packet = {{"type", 2}, {"data", event_to_value(m.packet)}, {"nsp", m.nsp}};
      if (m.request_id.empty()) {
        std::string channel = key + "#" + m.nsp + "#";
        if (m.opts.rooms.size() == 1) channel += m.opts.rooms[0] + "#";
        json v = json::array({uid_, std::move(packet), options_to_value(m.opts)});
        return send(std::move(channel), to_msgpack(v));
      }
      json v = {{"uid", uid_}, {"requestId", request_id}, {"type", 7}, {"packet", std::move(packet)},
                {"opts", options_to_value(m.opts)}};
      return send(requests, to_msgpack(v));
    }
    case message_type::sockets_join:
    case message_type::sockets_leave: {
      json v = {{"uid", uid_}, {"type", m.type == message_type::sockets_join ? 2 : 3},
                {"opts", options_to_value(m.opts)}, {"rooms", m.rooms}};
      return send(requests, v.dump());
    }
    case message_type::disconnect_sockets: {
      json v = {{"uid", uid_}, {"type", 4}, {"opts", options_to_value(m.opts)}, {"close", m.close}};
      return send(requests, v.dump());
    }
    case message_type::fetch_sockets: {
      json v = {{"uid", uid_}, {"requestId", request_id}, {"type", 5}, {"opts", options_to_value(m.opts)}};
      return send(requests, v.dump());
    }
    case message_type::server_side_emit: {
      json v = {{"uid", uid_}, {"type", 6}, {"data", event_to_value(m.packet)}};
      if (!request_id.empty()) v["requestId"] = request_id;
      return send(requests, m.packet.attachments.empty() ? v.dump() : to_msgpack(v));
    }
    default: return;  // heartbeats and responses have no classic form here
  }
}

void redis_node::publish_response(const std::string& requester_uid,
                                  std::shared_ptr<const sio::cluster_message> response) {
  const sio::cluster_message& r = *response;
  const std::string& key = options_.key;
  if (options_.kind == adapter_kind::sharded) {
    return send(key + "#" + r.nsp + "#" + requester_uid + "#", encode_cluster_message(r));
  }
  if (options_.kind == adapter_kind::streams) {
    return send(key + "#" + r.nsp + "#" + requester_uid + "#", to_msgpack(cluster_message_to_value(r)));
  }
  // classic: the shared response channel (publishOnSpecificResponseChannel
  // is the responder's option; the reference's default is off).
  const std::string channel = key + "-response#" + r.nsp + "#";
  switch (r.type) {
    case message_type::fetch_sockets_response: {
      int classic_type = 5;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = classic_requests_.find(r.request_id);
        if (it != classic_requests_.end()) {
          classic_type = it->second;
          classic_requests_.erase(it);
        }
      }
      json sockets = json::array();
      for (const auto& s : r.sockets) {
        if (classic_type == 0) sockets.push_back(s.id);
        else sockets.push_back(socket_to_value(s));
      }
      return send(channel, json{{"requestId", r.request_id}, {"sockets", std::move(sockets)}}.dump());
    }
    case message_type::server_side_emit_response: {
      json v = {{"type", 6}, {"requestId", r.request_id}};
      if (auto a = single_to_value(r.packet)) v["data"] = std::move(*a);
      return send(channel, sio::has_binary(v) ? to_msgpack(v) : v.dump());
    }
    case message_type::broadcast_client_count:
      return send(channel, json{{"type", 8}, {"requestId", r.request_id}, {"clientCount", r.client_count}}.dump());
    case message_type::broadcast_ack: {
      json v = {{"type", 9}, {"requestId", r.request_id}};
      if (auto a = single_to_value(r.packet)) v["packet"] = std::move(*a);
      return send(channel, to_msgpack(v));
    }
    default: return;
  }
}

// ---- incoming (I/O thread)

void redis_node::deliver(std::shared_ptr<sio::cluster_message> m) {
  post_([this, m = std::move(m)](std::chrono::milliseconds now) {
    if (receiver_ != nullptr) receiver_->on_cluster_message(*m, now);
  });
}

std::string redis_node::channel_nsp(std::string_view channel) const {
  // <prefix>#<nsp>#..., the namespace runs to the next '#'.
  const std::size_t start = channel.find('#');
  if (start == std::string_view::npos) return {};
  const std::size_t end = channel.find('#', start + 1);
  if (end == std::string_view::npos) return {};
  return std::string(channel.substr(start + 1, end - start - 1));
}

void redis_node::on_message(subscription_kind kind, std::string channel, std::string payload) {
  const std::string& key = options_.key;
  if (options_.kind != adapter_kind::classic) {
    // Sharded: JSON or msgpack; streams: msgpack.
    auto m = decode_cluster_message(payload);
    if (!m) return;
    return deliver(std::make_shared<sio::cluster_message>(std::move(*m)));
  }
  const std::string nsp = channel_nsp(channel);
  if (kind == subscription_kind::pattern) {
    // [uid, packet, opts]
    auto v = from_msgpack(payload);
    if (!v || !v->is_array() || v->size() < 3 || !(*v)[0].is_string()) return;
    if ((*v)[0].get<std::string>() == uid_) return;
    const json& packet = (*v)[1];
    if (!packet.is_object()) return;
    std::string packet_nsp = "/";
    if (const auto it = packet.find("nsp"); it != packet.end() && it->is_string()) packet_nsp = it->get<std::string>();
    const auto data = packet.find("data");
    if (data == packet.end()) return;
    auto p = event_from_value(*data);
    if (!p) return;
    auto m = std::make_shared<sio::cluster_message>();
    m->uid = (*v)[0].get<std::string>();
    m->nsp = packet_nsp;
    m->type = message_type::broadcast;
    m->opts = options_from_value((*v)[2]);
    m->packet = std::move(*p);
    return deliver(std::move(m));
  }
  if (starts_with(channel, key + "-request#")) return on_classic_request(nsp, payload);
  if (starts_with(channel, key + "-response#")) return on_classic_response(nsp, payload);
}

void redis_node::on_classic_request(const std::string& nsp, std::string_view payload) {
  auto parsed = parse_request(payload);
  if (!parsed) return;
  const json& req = *parsed;
  const std::string uid = str_field(req, "uid");
  const std::string request_id = str_field(req, "requestId");
  const int type = int_field(req, "type", -1);
  if (uid == uid_) return;
  static const json empty = json::object();
  const auto opts_of = [&] {
    const auto it = req.find("opts");
    return options_from_value(it != req.end() ? *it : empty);
  };
  auto m = std::make_shared<sio::cluster_message>();
  // The requester's uid is not needed to answer (responses go on the
  // shared channel); an id that is not ours keeps cluster_adapter from
  // ignoring the message as its own.
  m->uid = uid.empty() ? "classic-peer" : uid;
  m->nsp = nsp;
  m->request_id = request_id;
  const std::string channel = options_.key + "-response#" + nsp + "#";
  switch (type) {
    case 0:    // SOCKETS: {rooms} -> {requestId, sockets: [ids]}
    case 5: {  // REMOTE_FETCH: {opts} -> {requestId, sockets: [details]}
      if (request_id.empty()) return;
      m->type = message_type::fetch_sockets;
      if (type == 0) {
        if (const auto it = req.find("rooms"); it != req.end()) m->opts = options_from_value(json{{"rooms", *it}});
      } else {
        m->opts = opts_of();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        classic_requests_[request_id] = type;
      }
      return deliver(std::move(m));
    }
    case 1: {  // ALL_ROOMS -> {requestId, rooms}
      if (request_id.empty()) return;
      post_([this, nsp, request_id, channel](std::chrono::milliseconds) {
        json rooms = json::array();
        const auto it = adapters_.find(nsp);
        if (it != adapters_.end()) {
          for (const auto& [room, members] : it->second->rooms()) rooms.push_back(room);
        }
        send(channel, json{{"requestId", request_id}, {"rooms", std::move(rooms)}}.dump());
      });
      return;
    }
    case 2:
    case 3:
    case 4: {
      m->type = type == 2 ? message_type::sockets_join
                          : type == 3 ? message_type::sockets_leave : message_type::disconnect_sockets;
      if (req.contains("opts")) {
        m->opts = opts_of();
        if (type == 4) {
          if (const auto it = req.find("close"); it != req.end() && it->is_boolean()) m->close = it->get<bool>();
        } else if (const auto it = req.find("rooms"); it != req.end() && it->is_array()) {
          for (const auto& r : *it) {
            if (r.is_string()) m->rooms.push_back(r.get<std::string>());
          }
        }
        return deliver(std::move(m));
      }
      // The pre-8.0 form: {sid, room, requestId}, answered {requestId}.
      const std::string sid = str_field(req, "sid");
      if (sid.empty()) return;
      m->opts.rooms = {sid};
      m->opts.flags.local = true;
      if (type == 4) {
        if (const auto it = req.find("close"); it != req.end() && it->is_boolean()) m->close = it->get<bool>();
      } else {
        m->rooms = {str_field(req, "room")};
      }
      post_([this, m, channel, request_id](std::chrono::milliseconds now) {
        const auto it = adapters_.find(m->nsp);
        if (it == adapters_.end()) return;
        // Only the node holding the socket answers.
        if (it->second->socket_rooms(m->opts.rooms[0]).empty()) return;
        if (receiver_ != nullptr) receiver_->on_cluster_message(*m, now);
        if (!request_id.empty()) send(channel, json{{"requestId", request_id}}.dump());
      });
      return;
    }
    case 6: {  // SERVER_SIDE_EMIT: {data: [ev, ...], requestId?}
      const auto it = req.find("data");
      if (it == req.end()) return;
      auto p = event_from_value(*it);
      if (!p) return;
      m->type = message_type::server_side_emit;
      m->packet = std::move(*p);
      return deliver(std::move(m));
    }
    case 7: {  // BROADCAST with acks: {packet: {type, data, nsp}, opts}
      const auto packet = req.find("packet");
      if (packet == req.end() || !packet->is_object() || request_id.empty()) return;
      const auto data = packet->find("data");
      if (data == packet->end()) return;
      auto p = event_from_value(*data);
      if (!p) return;
      m->type = message_type::broadcast;
      m->opts = opts_of();
      m->packet = std::move(*p);
      return deliver(std::move(m));
    }
    default: return;
  }
}

void redis_node::on_classic_response(const std::string& nsp, std::string_view payload) {
  auto parsed = parse_request(payload);
  if (!parsed) return;
  const json& res = *parsed;
  std::string request_id = str_field(res, "requestId");
  // Only answers to our requests (ids we prefixed with our uid).
  const std::string mine = uid_ + "-";
  if (!starts_with(request_id, mine)) return;
  request_id.erase(0, mine.size());
  auto m = std::make_shared<sio::cluster_message>();
  m->uid = "classic-peer";
  m->nsp = nsp;
  m->request_id = request_id;
  const int type = int_field(res, "type", -1);
  if (type == 6) {
    m->type = message_type::server_side_emit_response;
    const auto it = res.find("data");
    m->packet = single_from_value(it != res.end() ? &*it : nullptr);
  } else if (type == 8) {
    m->type = message_type::broadcast_client_count;
    const auto it = res.find("clientCount");
    if (it == res.end() || !it->is_number_unsigned()) return;
    m->client_count = it->get<std::size_t>();
  } else if (type == 9) {
    m->type = message_type::broadcast_ack;
    const auto it = res.find("packet");
    m->packet = single_from_value(it != res.end() ? &*it : nullptr);
  } else if (const auto it = res.find("sockets"); it != res.end() && it->is_array()) {
    m->type = message_type::fetch_sockets_response;
    for (const auto& s : *it) m->sockets.push_back(socket_from_value(s));
  } else {
    return;
  }
  deliver(std::move(m));
}

}  // namespace eio::socketio_redis
