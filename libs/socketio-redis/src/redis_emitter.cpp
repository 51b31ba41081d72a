// The emitter: socket.io-redis-emitter lib/index.ts, in C++.
#include <eio/socketio_redis/redis_emitter.hpp>
#include <eio/socketio_redis/wire.hpp>

#include <eio/socketio/packet.hpp>

#include <thread>

namespace eio::socketio_redis {

using json = nlohmann::json;

namespace {
json opts_value(const emit_target& t, bool with_flags) {
  json out = {{"rooms", t.rooms}, {"except", t.except}};
  if (with_flags) {
    json flags = json::object();
    if (t.is_volatile) flags["volatile"] = true;
    if (!t.compress) flags["compress"] = false;
    out["flags"] = std::move(flags);
  }
  return out;
}
}  // namespace

redis_emitter::redis_emitter(redis_client_options options, std::string key)
    : key_(std::move(key)),
      client_(std::make_unique<redis_client>(std::move(options), [](subscription_kind, std::string, std::string) {})) {}

redis_emitter::~redis_emitter() = default;

bool redis_emitter::wait_connected(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!client_->stats().connected) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void redis_emitter::publish(std::string channel, std::string payload) {
  ++sent_;
  client_->command({"PUBLISH", std::move(channel), std::move(payload)}, [this](const std::optional<redis_reply>& r) {
    if (!r || r->type != redis_reply::kind::integer) {
      ++lost_;
      return;
    }
    ++published_;
    receivers_ += static_cast<std::uint64_t>(r->integer);
  });
}

std::error_code redis_emitter::emit(const emit_target& to, std::string_view name, const socketio::value& args) {
  if (const std::error_code ec = socketio::check_event_name(name)) return ec;
  json data = json::array({std::string(name)});
  if (args.is_array()) {
    for (const auto& a : args) data.push_back(a);
  } else {
    data.push_back(args);
  }
  // Every string and key UTF-8, as the codec checks what a server emits.
  std::string text;
  std::vector<socketio::attachment> attachments;
  if (const std::error_code ec = socketio::to_wire(data, text, attachments)) return ec;
  const json packet = {{"type", 2}, {"data", std::move(data)}, {"nsp", to.nsp}};
  std::string channel = key_ + "#" + to.nsp + "#";
  if (to.rooms.size() == 1) channel += to.rooms[0] + "#";
  publish(std::move(channel), to_msgpack(json::array({"emitter", packet, opts_value(to, true)})));
  return {};
}

void redis_emitter::sockets_join(const emit_target& which, const std::vector<std::string>& rooms) {
  publish(key_ + "-request#" + which.nsp + "#", json{{"type", 2}, {"opts", opts_value(which, false)}, {"rooms", rooms}}.dump());
}

void redis_emitter::sockets_leave(const emit_target& which, const std::vector<std::string>& rooms) {
  publish(key_ + "-request#" + which.nsp + "#", json{{"type", 3}, {"opts", opts_value(which, false)}, {"rooms", rooms}}.dump());
}

void redis_emitter::disconnect_sockets(const emit_target& which, bool close) {
  publish(key_ + "-request#" + which.nsp + "#", json{{"type", 4}, {"opts", opts_value(which, false)}, {"close", close}}.dump());
}

void redis_emitter::server_side_emit(const std::string& nsp, std::string_view name, const socketio::value& args) {
  json data = json::array({std::string(name)});
  if (args.is_array()) {
    for (const auto& a : args) data.push_back(a);
  } else {
    data.push_back(args);
  }
  const json request = {{"uid", "emitter"}, {"type", 6}, {"data", std::move(data)}};
  publish(key_ + "-request#" + nsp + "#", socketio::has_binary(request) ? to_msgpack(request) : request.dump());
}

bool redis_emitter::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (published_ + lost_ < sent_) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace eio::socketio_redis
