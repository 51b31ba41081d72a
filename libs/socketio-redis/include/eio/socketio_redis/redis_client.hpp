// eio::socketio_redis: a Redis client that never blocks an event loop.
//
// One client is two Redis connections (commands, and subscriptions: a
// subscribed RESP2 connection takes no other command) served by a thread of
// its own. Any thread hands it commands and subscription changes through a
// queue; replies and messages are delivered on that I/O thread, and the
// caller posts what it needs to its own loop. RESP is hiredis' (Debian's
// libhiredis 0.14: redisAppendCommandArgv formats, its reader parses); the
// thread only moves bytes with poll().
//
// Why not redisAsyncContext: hiredis 0.14 knows SUBSCRIBE and PSUBSCRIBE but
// not Redis 7's SSUBSCRIBE, and asserts on the first "smessage" push. We
// route the subscription connection's replies ourselves.
//
// Each (re)connection of each connection first sends AUTH when credentials
// are set and, on the command connection, SELECT when the database is not 0,
// waiting at most connect_timeout for each reply; only then go the queued
// subscriptions and commands.
//
// When Redis cannot be reached, or refuses AUTH or SELECT, the thread logs
// one line per failed attempt ("redis 127.0.0.1:6379 unreachable (Connection
// refused), attempt 3, retry in 400 ms"; "redis 127.0.0.1:6379 refused
// authentication (WRONGPASS invalid username-password pair or user is
// disabled.), attempt 1, retry in 100 ms"; never the password), counts it,
// and tries again with exponential backoff (min..max).
// Commands given meanwhile fail at once (their callback gets nullopt) and are
// counted as dropped: the caller's local delivery goes on. Subscriptions are
// remembered and made again on every (re)connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio_redis {

struct redis_reply {
  enum class kind { nil, string, integer, array, status, error };
  kind type = kind::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<redis_reply> elements;
};

// Where Redis is, and who we are to it.
struct redis_endpoint {
  std::string host = "127.0.0.1";  // a name or an address, IPv6 without brackets
  int port = 6379;
  // When either is set, both connections send "AUTH password" (the default
  // user, as before Redis 6) or "AUTH username password" (an ACL user,
  // Redis 6+) before anything else.
  std::string username;
  std::string password;
  // When not 0, the command connection sends "SELECT database". The
  // subscription connection does not: Redis pub/sub ignores databases, so
  // nodes on different databases of one Redis still hear each other (give
  // them different keys, the channels' prefix, to keep clusters apart).
  int database = 0;
};

// Reads "redis://[user[:password]@]host[:port][/db]" as node-redis and
// ioredis read it (the URLs given to Node's Redis adapters), or the same
// without "redis://" (the scheme in any case). The user and password are
// percent-decoded (RFC 3986 section 3.2.1; a '%' not followed by two hex
// digits stays as it is): a '/', '?' or '#' in them is written %2F, %3F,
// %23, a ':' in the user %3A; the first ':' ends the user and, as Node's URL
// reads it, the last '@' the password. An IPv6 address goes in brackets
// ("redis://[::1]:6379"). Port 6379 and database 0 when absent.
//
// nullopt when the URL is malformed: another scheme, "rediss://" included
// (TLS: Debian 12's hiredis 0.14 has no TLS support), no host, a port that
// is not 1 to 65535, a database that is not a non-negative decimal integer
// (at most INT_MAX), brackets that do not balance or do not hold an IPv6
// address, an IPv6 address without brackets, a query or fragment, a space
// or a control character.
std::optional<redis_endpoint> parse_redis_url(std::string_view url);

enum class subscription_kind { channel, pattern, shard };  // SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE

struct redis_client_options {
  redis_endpoint endpoint;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // How long the destructor gives the commands already handed over (a
  // session persisted while the server shuts down) to be written and
  // answered before what is left fails.
  std::chrono::milliseconds flush_on_destroy{1000};
  // Where log lines go (default: stderr, prefixed "eio redis: ").
  std::function<void(const std::string& line)> log;
};

// Counters, readable from any thread.
struct redis_client_stats {
  std::atomic<bool> connected{false};
  std::atomic<std::uint64_t> connections{0};       // successful (re)connections
  std::atomic<std::uint64_t> failed_attempts{0};   // connection attempts that failed
  std::atomic<std::uint64_t> connection_losses{0};  // established connections lost
  std::atomic<std::uint64_t> commands{0};          // commands written
  std::atomic<std::uint64_t> dropped_commands{0};  // refused while disconnected or while Redis lags, or lost with the connection
  std::atomic<std::uint64_t> messages{0};          // pub/sub messages received
  std::atomic<std::uint64_t> callback_errors{0};   // callbacks (message handlers, reply callbacks) that threw
};

class redis_client {
public:
  // nullopt: the command was not sent, or the connection was lost before
  // its reply. Called on the I/O thread.
  using reply_callback = std::function<void(const std::optional<redis_reply>& reply)>;
  // A pub/sub message (channel is the channel, not the pattern). I/O thread.
  using message_handler = std::function<void(subscription_kind kind, std::string channel, std::string payload)>;
  // The connection came up (true) or went down (false). I/O thread.
  using state_handler = std::function<void(bool connected)>;
  // Called on the I/O thread every `interval` while connected.
  using periodic_task = std::function<void()>;

  redis_client(redis_client_options options, message_handler on_message, state_handler on_state = {},
               periodic_task periodic = {}, std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  // Writes the commands already given and reads their replies (at most
  // options.flush_on_destroy), then stops the thread; what is left gets
  // nullopt.
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // From any thread.
  void command(std::vector<std::string> argv, reply_callback done = {});
  void subscribe(subscription_kind kind, std::string channel);
  void unsubscribe(subscription_kind kind, std::string channel);

  const redis_client_stats& stats() const noexcept { return stats_; }
  const redis_endpoint& endpoint() const noexcept;

private:
  class impl;
  redis_client_stats stats_;
  std::unique_ptr<impl> impl_;
};

}  // namespace eio::socketio_redis
