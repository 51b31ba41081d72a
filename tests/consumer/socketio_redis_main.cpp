// Links eio::socketio_redis from outside the tree: a notepack round trip and
// a URL, without touching Redis.
#include <eio/socketio_redis/redis_client.hpp>
#include <eio/socketio_redis/wire.hpp>

int main() {
  const auto endpoint = eio::socketio_redis::parse_redis_url("redis://127.0.0.1:6380");
  if (!endpoint || endpoint->port != 6380) return 1;
  const nlohmann::json v = {{"a", nlohmann::json::binary({1, 2})}};
  const auto back = eio::socketio_redis::from_msgpack(eio::socketio_redis::to_msgpack(v));
  return back && *back == v ? 0 : 1;
}
