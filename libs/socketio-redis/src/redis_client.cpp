// The Redis client's I/O thread: two hiredis contexts made non-blocking
// once introduced (AUTH, SELECT), poll() over them and a wake-up pipe,
// queues in, callbacks out.
#include <eio/socketio_redis/redis_client.hpp>

#include <hiredis/hiredis.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <iostream>
#include <mutex>
#include <poll.h>
#include <set>
#include <thread>
#include <unistd.h>
#include <utility>

namespace eio::socketio_redis {

namespace {

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; break;
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; break;
    case REDIS_REPLY_ARRAY: out.type = redis_reply::kind::array; break;
    default: out.type = redis_reply::kind::nil; break;
  }
  if (out.type == redis_reply::kind::string || out.type == redis_reply::kind::status ||
      out.type == redis_reply::kind::error) {
    out.str.assign(r->str, r->len);
  }
  out.integer = r->integer;
  if (out.type == redis_reply::kind::array) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

const char* subscribe_verb(subscription_kind kind) {
  switch (kind) {
    case subscription_kind::channel: return "SUBSCRIBE";
    case subscription_kind::pattern: return "PSUBSCRIBE";
    case subscription_kind::shard: return "SSUBSCRIBE";
  }
  return "SUBSCRIBE";
}
const char* unsubscribe_verb(subscription_kind kind) {
  switch (kind) {
    case subscription_kind::channel: return "UNSUBSCRIBE";
    case subscription_kind::pattern: return "PUNSUBSCRIBE";
    case subscription_kind::shard: return "SUNSUBSCRIBE";
  }
  return "UNSUBSCRIBE";
}

void append(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data());
}

bool has_output(const redisContext* c) { return c->obuf != nullptr && sdslen(c->obuf) > 0; }

}  // namespace

class redis_client::impl {
public:
  impl(redis_client_stats& stats, redis_client_options options, message_handler on_message, state_handler on_state,
       periodic_task periodic, std::chrono::milliseconds interval)
      : stats_(stats),
        options_(std::move(options)),
        on_message_(std::move(on_message)),
        on_state_(std::move(on_state)),
        periodic_(std::move(periodic)),
        interval_(interval) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << "eio redis: " << line << std::endl; };
    if (::pipe(wake_) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    ::fcntl(wake_[0], F_SETFL, O_NONBLOCK);
    ::fcntl(wake_[1], F_SETFL, O_NONBLOCK);
    thread_ = std::thread([this] { run(); });
  }
  ~impl() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake();
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  void command(std::vector<std::string> argv, reply_callback done) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      inbox_.push_back(work{std::move(argv), std::move(done), false, subscription_kind::channel, {}, false});
    }
    wake();
  }
  void subscription(bool subscribe, subscription_kind kind, std::string channel) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      inbox_.push_back(work{{}, {}, true, kind, std::move(channel), subscribe});
    }
    wake();
  }
  const redis_endpoint& endpoint() const noexcept { return options_.endpoint; }

private:
  struct work {
    std::vector<std::string> argv;
    reply_callback done;
    bool is_subscription;
    subscription_kind kind;
    std::string channel;
    bool subscribe;
  };

  // Replies owed by Redis past which new commands fail at once (a Redis that
  // stalls must not make the process grow without bound).
  static constexpr std::size_t max_pending_replies = 100'000;

  void wake() {
    const char b = 1;
    [[maybe_unused]] const auto n = ::write(wake_[1], &b, 1);
  }
  void drain_wake() {
    char buf[64];
    while (::read(wake_[0], buf, sizeof buf) > 0) {
    }
  }

  // "redis 127.0.0.1:6379", "redis [::1]:6379": how log lines name Redis.
  std::string where() const {
    const redis_endpoint& e = options_.endpoint;
    const bool ipv6 = e.host.find(':') != std::string::npos;
    return "redis " + (ipv6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
  }

  // On a connection that still blocks (each wait bounded by connect_timeout):
  // sends argv and reads its reply. False with `why` set when there is no
  // reply or it is an error; `step` names the command in `why`.
  static bool ask(redisContext* c, const std::vector<std::string>& argv, const std::string& step, std::string& why) {
    append(c, argv);
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      why = "did not answer " + step + " (" + (c->errstr[0] ? c->errstr : "no reply") + ")";
      return false;
    }
    const auto* r = static_cast<const redisReply*>(raw);
    const bool refused = r->type == REDIS_REPLY_ERROR;
    if (refused) why = "refused " + step + " (" + std::string(r->str, r->len) + ")";
    freeReplyObject(raw);
    return !refused;
  }

  // What a new connection says before any queued subscription or command:
  // AUTH on both (each connection is a session of its own), SELECT on the
  // command connection only (pub/sub ignores databases).
  bool introduce(redisContext* c, bool is_command_connection, std::string& why) {
    const redis_endpoint& e = options_.endpoint;
    if (!e.username.empty() || !e.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!e.username.empty()) auth.push_back(e.username);
      auth.push_back(e.password);
      if (!ask(c, auth, "authentication", why)) return false;
    }
    if (is_command_connection && e.database != 0) {
      const std::string db = std::to_string(e.database);
      if (!ask(c, {"SELECT", db}, "SELECT " + db, why)) return false;
    }
    return true;
  }

  // One connection, introduced and made non-blocking into `out`; else false
  // with `why` saying what failed as the log line puts it ("unreachable
  // (Connection refused)", "refused authentication (WRONGPASS ...)").
  bool connect_one(context_ptr& out, bool is_command_connection, std::string& why) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(options_.connect_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((options_.connect_timeout.count() % 1000) * 1000);
    context_ptr c(redisConnectWithTimeout(options_.endpoint.host.c_str(), options_.endpoint.port, tv));
    if (!c) {
      why = "unreachable (out of memory)";
      return false;
    }
    if (c->err) {
      why = std::string("unreachable (") + c->errstr + ")";
      return false;
    }
    // The timeout so far bounds the connect only; now it bounds each read and
    // write of the introduction too (a Redis that accepts and never answers).
    redisSetTimeout(c.get(), tv);
    if (!introduce(c.get(), is_command_connection, why)) return false;
    // A Redis host that vanishes without a reset is noticed (TCP keepalive).
    redisEnableKeepAlive(c.get());
    // From here on the thread never waits on the socket: poll() says when.
    ::fcntl(c->fd, F_SETFL, ::fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->flags &= ~REDIS_BLOCK;
    out = std::move(c);
    return true;
  }

  bool connect() {
    std::string why;
    if (connect_one(cmd_, true, why) && connect_one(sub_, false, why)) {
      ++stats_.connections;
      stats_.connected = true;
      if (attempt_ > 0) {
        options_.log(where() + " reachable again after " + std::to_string(attempt_) + " failed attempt(s)");
      }
      attempt_ = 0;
      for (const auto& [kind, channel] : subscriptions_) append(sub_.get(), {subscribe_verb(kind), channel});
      if (on_state_) on_state_(true);
      return true;
    }
    cmd_.reset();
    sub_.reset();
    ++attempt_;
    ++stats_.failed_attempts;
    const long long backoff = std::min<long long>(
        options_.backoff_max.count(), options_.backoff_min.count() << std::min<std::uint64_t>(attempt_ - 1, 20));
    backoff_ = std::chrono::milliseconds(backoff);
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    options_.log(where() + " " + why + ", attempt " + std::to_string(attempt_) + ", retry in " + std::to_string(backoff) +
                 " ms");
    return false;
  }

  void lose(const char* why) {
    if (!cmd_ && !sub_) return;
    options_.log(where() + " connection lost (" + why + "), reconnecting");
    cmd_.reset();
    sub_.reset();
    stats_.connected = false;
    ++stats_.connection_losses;
    fail_pending();
    backoff_ = options_.backoff_min;
    retry_at_ = std::chrono::steady_clock::now();  // the first attempt at once
    attempt_ = 0;
    if (on_state_) on_state_(false);
  }

  void fail_pending() {
    std::deque<reply_callback> pending;
    pending.swap(pending_);
    for (auto& done : pending) {
      ++stats_.dropped_commands;
      guarded("a reply callback", [&] {
        if (done) done(std::nullopt);
      });
    }
  }

  // Takes the queued work: written to the connections when up, else failed.
  bool take_inbox() {
    std::deque<work> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return false;  // what is queued is failed by run()'s end
      batch.swap(inbox_);
    }
    for (auto& w : batch) {
      if (w.is_subscription) {
        const auto key = std::make_pair(w.kind, w.channel);
        if (w.subscribe) {
          if (!subscriptions_.insert(key).second) continue;
          if (sub_) append(sub_.get(), {subscribe_verb(w.kind), w.channel});
        } else {
          if (subscriptions_.erase(key) == 0) continue;
          if (sub_) append(sub_.get(), {unsubscribe_verb(w.kind), w.channel});
        }
        continue;
      }
      write_command(w);
    }
    return true;
  }

  // Writes command `w` on the command connection; not connected, or Redis
  // not keeping up (replies owed past the bound), it fails now rather than
  // memory growing.
  void write_command(work& w) {
    if (!cmd_ || pending_.size() >= max_pending_replies) {
      ++stats_.dropped_commands;
      guarded("a reply callback", [&] {
        if (w.done) w.done(std::nullopt);
      });
      return;
    }
    append(cmd_.get(), w.argv);
    ++stats_.commands;
    pending_.push_back(std::move(w.done));
  }

  // Runs a callback of the application's (or of the adapter's) on this
  // thread: what it throws is logged and counted, never the thread's end.
  template <typename F>
  void guarded(const char* what, F&& call) {
    try {
      call();
    } catch (const std::exception& e) {
      ++stats_.callback_errors;
      options_.log(std::string("redis: ") + what + " threw: " + e.what());
    } catch (...) {
      ++stats_.callback_errors;
      options_.log(std::string("redis: ") + what + " threw");
    }
  }

  void on_sub_reply(const redisReply* r) {
    if (r->type == REDIS_REPLY_ERROR) {
      // A refused SUBSCRIBE (SSUBSCRIBE on a Redis before 7): peers go unheard.
      options_.log(where() + " refused a subscription: " + std::string(r->str, r->len));
      return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING) return;
    const std::string_view kind(r->element[0]->str, r->element[0]->len);
    const auto text = [&](std::size_t i) {
      const redisReply* e = r->element[i];
      return e->type == REDIS_REPLY_STRING ? std::string(e->str, e->len) : std::string();
    };
    if (kind == "message") {
      ++stats_.messages;
      guarded("a message handler", [&] { on_message_(subscription_kind::channel, text(1), text(2)); });
    } else if (kind == "smessage") {
      ++stats_.messages;
      guarded("a message handler", [&] { on_message_(subscription_kind::shard, text(1), text(2)); });
    } else if (kind == "pmessage" && r->elements >= 4) {
      ++stats_.messages;
      guarded("a message handler", [&] { on_message_(subscription_kind::pattern, text(2), text(3)); });
    }
  }

  // Reads what came on `c`; false when the connection is gone.
  bool read(redisContext* c, bool is_sub) {
    if (redisBufferRead(c) != REDIS_OK) return false;
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) return false;
      if (raw == nullptr) return true;
      const auto* r = static_cast<redisReply*>(raw);
      if (is_sub) {
        on_sub_reply(r);
      } else if (!pending_.empty()) {
        reply_callback done = std::move(pending_.front());
        pending_.pop_front();
        guarded("a reply callback", [&] {
          if (done) done(convert(r));
        });
      }
      freeReplyObject(raw);
    }
  }

  // The client is being destroyed: commands queued until then (a session
  // persisted as its server shuts down) are written and their replies read,
  // within options_.flush_on_destroy.
  void flush_before_stop() {
    if (!cmd_) return;
    std::deque<work> rest;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      rest.swap(inbox_);
    }
    for (auto& w : rest) {
      if (!w.is_subscription) write_command(w);
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.flush_on_destroy;
    while (!pending_.empty() || has_output(cmd_.get())) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return;
      pollfd p{cmd_->fd, static_cast<short>(POLLIN | (has_output(cmd_.get()) ? POLLOUT : 0)), 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return;
      int done = 0;
      if ((p.revents & POLLOUT) && redisBufferWrite(cmd_.get(), &done) != REDIS_OK) return;
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !read(cmd_.get(), false)) return;
    }
  }

  void run() {
    auto next_periodic = std::chrono::steady_clock::now() + interval_;
    for (;;) {
      if (!cmd_) {
        // Commands queued meanwhile are failed at once (take_inbox); a new
        // attempt waits for its time however often commands wake the thread.
        if (!take_inbox()) break;
        const auto now = std::chrono::steady_clock::now();
        if (now < retry_at_ || !connect()) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - std::chrono::steady_clock::now()).count();
          pollfd w{wake_[0], POLLIN, 0};
          ::poll(&w, 1, static_cast<int>(std::max<long long>(left, 0) + 1));
          drain_wake();
          continue;
        }
      }
      if (!take_inbox()) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_periodic) {
        next_periodic = now + interval_;
        if (periodic_) guarded("the periodic task", [&] { periodic_(); });
        if (!take_inbox()) break;
      }
      pollfd fds[3] = {{wake_[0], POLLIN, 0},
                       {cmd_->fd, static_cast<short>(POLLIN | (has_output(cmd_.get()) ? POLLOUT : 0)), 0},
                       {sub_->fd, static_cast<short>(POLLIN | (has_output(sub_.get()) ? POLLOUT : 0)), 0}};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_periodic - now).count();
      if (::poll(fds, 3, static_cast<int>(std::max<long long>(wait, 0) + 1)) < 0 && errno != EINTR) {
        lose(std::strerror(errno));
        continue;
      }
      if (fds[0].revents) drain_wake();
      for (int i = 1; i <= 2; ++i) {
        redisContext* c = i == 1 ? cmd_.get() : sub_.get();
        if (c == nullptr) break;
        if (fds[i].revents & POLLOUT) {
          int done = 0;
          if (redisBufferWrite(c, &done) != REDIS_OK) {
            lose(c->errstr[0] ? c->errstr : "write failed");
            break;
          }
        }
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          if (!read(c, i == 2)) {
            lose(c->errstr[0] ? c->errstr : "connection closed");
            break;
          }
        }
      }
    }
    flush_before_stop();
    cmd_.reset();
    sub_.reset();
    stats_.connected = false;
    fail_pending();
    std::deque<work> rest;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      rest.swap(inbox_);
    }
    for (auto& w : rest) {
      guarded("a reply callback", [&] {
        if (w.done) w.done(std::nullopt);
      });
    }
  }

  redis_client_stats& stats_;
  redis_client_options options_;
  message_handler on_message_;
  state_handler on_state_;
  periodic_task periodic_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point retry_at_{};  // the next connection attempt, while disconnected
  int wake_[2] = {-1, -1};
  std::mutex mutex_;
  std::deque<work> inbox_;
  bool stop_ = false;
  // I/O thread only:
  context_ptr cmd_;
  context_ptr sub_;
  std::deque<reply_callback> pending_;
  std::set<std::pair<subscription_kind, std::string>> subscriptions_;
  std::uint64_t attempt_ = 0;
  std::chrono::milliseconds backoff_{100};
  std::thread thread_;
};

redis_client::redis_client(redis_client_options options, message_handler on_message, state_handler on_state,
                           periodic_task periodic, std::chrono::milliseconds interval)
    : impl_(std::make_unique<impl>(stats_, std::move(options), std::move(on_message), std::move(on_state),
                                   std::move(periodic), interval)) {}

redis_client::~redis_client() = default;

void redis_client::command(std::vector<std::string> argv, reply_callback done) {
  impl_->command(std::move(argv), std::move(done));
}
void redis_client::subscribe(subscription_kind kind, std::string channel) {
  impl_->subscription(true, kind, std::move(channel));
}
void redis_client::unsubscribe(subscription_kind kind, std::string channel) {
  impl_->subscription(false, kind, std::move(channel));
}
const redis_endpoint& redis_client::endpoint() const noexcept { return impl_->endpoint(); }

}  // namespace eio::socketio_redis
