// The Redis Streams adapter (@socket.io/redis-streams-adapter 0.3): its
// adapter and the node's stream half (appending, reading back, sessions).
//
// Why a node's own broadcasts wait for the stream when recovery is on: a
// restore reads the entries after the client's offset (XRANGE) while the
// reader goes on delivering new ones (XREAD, another connection). Each
// entry must reach the restored socket exactly once: from the range if the
// loop applied it before the socket existed, from the reader if after.
// That cut is exact only if every broadcast this loop delivers comes
// through the reader in stream order, its own included: then "applied" is
// one stream id per stream (applied_), entries up to it are replayed, entries past it
// are left to the reader, and when the reader is ahead of the range the
// range is read further. The reference delivers its own broadcast when
// XADD answers and has no such cut (a reconnect racing new broadcasts can
// lose or repeat one).
#include <eio/socketio_redis/redis_node.hpp>

#include "stream_reader.hpp"

#include <eio/socketio/namespace.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>

#include <algorithm>

namespace eio::socketio_redis {

namespace sio = eio::socketio;
using sio::message_type;

class redis_node::streams_adapter final : public sio::cluster_adapter {
public:
  streams_adapter(sio::namespace_runtime& nsp, redis_node& node) : cluster_adapter(nsp, node), node_(node), name_(nsp.name()) {
    node_.add_namespace(name_, this);
  }
  ~streams_adapter() override { node_.remove_namespace(name_); }

  std::size_t server_count() const override { return node_.namespace_count(name_); }

  void broadcast(sio::event_packet packet, const sio::broadcast_options& opts) override {
    if (!recovery()) return cluster_adapter::broadcast(std::move(packet), opts);
    // Not in the stream, so no offset (cluster-adapter.ts: onlyLocal),
    // except socket.emit: socket.cpp flags it local (the socket is here),
    // but the reference logs it like any broadcast (socket.ts emit), so that
    // a direct emit lost with the connection is replayed too.
    if (opts.flags.local && !is_socket_emit(opts)) return local_broadcast(packet, opts);
    auto m = make(message_type::broadcast);
    m->opts = opts;
    m->opts.flags.local = false;
    m->packet = std::move(packet);
    publish(std::move(m));  // this loop's sockets get it when it is read back
  }

  void on_cluster_message(const sio::cluster_message& m) override {
    if (m.uid == node_.uid() && m.type == message_type::broadcast && m.request_id.empty()) {
      // Our broadcast, read back with its id as offset, or refused by Redis
      // (no offset). Without recovery it went out when it was made.
      if (recovery()) apply_broadcast(m);
      return;
    }
    cluster_adapter::on_cluster_message(m);
  }

  void persist_session(sio::session_to_persist session) override {
    node_.persist_session(session, nsp_.owner().config().options().connection_state_recovery->max_disconnection_duration);
  }

  void restore_session(const std::string& pid, const std::string& offset, sio::restore_callback done) override {
    const auto id = parse_stream_id(offset);
    if (!id) return done(std::nullopt);  // adapter.ts: "invalid offset"
    std::weak_ptr<int> alive = alive_;
    node_.restore_session(
        name_, pid, *id,
        [this, alive, done = std::move(done)](std::optional<sio::session_to_persist> session,
                                              std::vector<stream_entry> entries, std::chrono::milliseconds now) {
          if (alive.expired()) return;  // the namespace went meanwhile
          nsp_.owner().set_now(now);
          if (!session) return done(std::nullopt);
          sio::restored_session out;
          out.session = std::move(*session);
          for (stream_entry& e : entries) {
            append_offset(e.message->packet, to_string(e.id));
            out.missed_packets.push_back(std::move(e.message->packet));
          }
          done(std::move(out));
        });
  }

private:
  // To one socket of this loop, by its id, no one excepted: what
  // socket::emit hands the adapter.
  bool is_socket_emit(const sio::broadcast_options& opts) const {
    return opts.rooms.size() == 1 && opts.except.empty() && nsp_.find_socket(opts.rooms[0]) != nullptr;
  }
  bool recovery() const { return nsp_.owner().config().options().connection_state_recovery.has_value(); }

  redis_node& node_;
  std::string name_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

std::unique_ptr<sio::adapter> redis_node::make_streams_adapter(sio::namespace_runtime& nsp) {
  return std::make_unique<streams_adapter>(nsp, *this);
}

const redis_client_stats* redis_node::reader_stats() const noexcept { return reader_ ? &reader_->stats() : nullptr; }

// A restore in flight. Replies fill it on the I/O thread; the loop reads it
// after the post that follows them.
struct redis_node::restore_state {
  std::string nsp;
  std::string stream;  // the namespace's
  stream_id offset;    // the client's
  stream_id reached;   // the last entry read (offset before the first page)
  restored_callback done;
  std::optional<sio::session_to_persist> session;
  bool offset_found = false;  // adapter.ts: an offset trimmed from the stream cannot be replayed from
  bool failed = false;        // Redis unreachable, or a reply not shaped as it should be
  std::vector<stream_entry> missed;  // the entries read that the session's socket would have had
  std::size_t pages = 0;
  std::chrono::steady_clock::time_point give_up;  // while waiting for the reader
};

void redis_node::start_stream_reader() {
  stream_reader::options o;
  o.client = options_.client;
  // A pending XREAD BLOCK is not worth waiting for when the node goes.
  o.client.flush_on_destroy = std::chrono::milliseconds(0);
  o.streams = streams_to_read(options_.stream_name, options_.stream_count);
  o.read_count = options_.stream_read_count;
  o.block_time = options_.stream_block_time;
  stream_reader::handlers h;
  h.started = [this](const std::string& stream, stream_id at) {
    post_([this, stream, at](std::chrono::milliseconds now) {
      applied_.emplace(stream, at);
      started_at_.emplace(stream, at);
      // Our broadcasts appended before the reader's start: it will not
      // bring them back, so they reach this loop's sockets now.
      std::vector<own_entry> later;
      for (own_entry& own : own_before_start_) {
        if (stream_of(own.message->nsp) != stream) later.push_back(std::move(own));
        else if (own.id <= at) deliver_own(*own.message, own.id, now);
      }
      own_before_start_.swap(later);
      retry_waiting_restores(now);
    });
  };
  h.read = [this](const std::string& stream, std::vector<stream_entry> entries) {
    on_stream_read(stream, std::move(entries));
  };
  reader_ = std::make_unique<stream_reader>(std::move(o), std::move(h));
}

std::string redis_node::stream_of(const std::string& nsp) const {
  return stream_for_namespace(nsp, options_.stream_name, options_.stream_count);
}

void redis_node::on_stream_read(const std::string& stream, std::vector<stream_entry> entries) {
  post_([this, stream, entries = std::move(entries)](std::chrono::milliseconds now) mutable {
    for (stream_entry& e : entries) {
      applied_[stream] = e.id;
      if (!e.message || receiver_ == nullptr) continue;
      if (e.message->type == message_type::broadcast) e.message->offset = to_string(e.id);
      receiver_->on_cluster_message(*e.message, now);
    }
    if (!restores_waiting_.empty()) retry_waiting_restores(now);
  });
}

void redis_node::deliver_own(const sio::cluster_message& message, stream_id id, std::chrono::milliseconds now) {
  if (receiver_ == nullptr) return;
  sio::cluster_message m = message;
  m.offset = to_string(id);
  receiver_->on_cluster_message(m, now);
}

void redis_node::append_to_stream(std::shared_ptr<const sio::cluster_message> message) {
  std::vector<std::string> argv = {"XADD", stream_of(message->nsp), "MAXLEN", "~",
                                   std::to_string(options_.stream_max_len), "*"};
  for (auto& [name, value] : to_stream_fields(*message)) {
    argv.push_back(std::move(name));
    argv.push_back(std::move(value));
  }
  client_->command(std::move(argv), [this, message](const std::optional<redis_reply>& r) {
    if (message->type != message_type::broadcast) return;
    const auto id = r && r->type == redis_reply::kind::string ? parse_stream_id(r->str) : std::nullopt;
    if (!id) {
      // Not logged (Redis unreachable or refusing): this loop's sockets
      // still get it, without an offset; the reference drops the broadcast.
      auto own = std::make_shared<sio::cluster_message>(*message);
      own->offset.clear();
      return deliver(std::move(own));
    }
    // Every node reads it back, this one too, unless it was appended
    // before this node's reader started.
    post_([this, message, id = *id](std::chrono::milliseconds now) {
      const auto start = started_at_.find(stream_of(message->nsp));
      if (start == started_at_.end()) own_before_start_.push_back(own_entry{id, message});
      else if (id <= start->second) deliver_own(*message, id, now);
    });
  });
}

void redis_node::persist_session(const sio::session_to_persist& session, std::chrono::milliseconds ttl) {
  client_->command({"SET", options_.session_key_prefix + session.pid, encode_session(session), "PX",
                    std::to_string(std::max<long long>(ttl.count(), 1))});
}

void redis_node::restore_session(const std::string& nsp, const std::string& pid, stream_id offset,
                                 restored_callback done) {
  auto state = std::make_shared<restore_state>();
  state->nsp = nsp;
  state->stream = stream_of(nsp);
  state->offset = offset;
  state->reached = offset;
  state->done = std::move(done);
  state->give_up = std::chrono::steady_clock::now() + options_.restore_wait;
  // One connection, so the replies come in this order. The range is read
  // only once both say the session and the offset exist: a client cannot
  // make the node read entries for a pid it made up.
  client_->command({"GETDEL", options_.session_key_prefix + pid}, [state](const std::optional<redis_reply>& r) {
    if (!r || r->type == redis_reply::kind::error) state->failed = true;
    else if (r->type == redis_reply::kind::string) state->session = decode_session(r->str);
  });
  const std::string at = to_string(offset);
  client_->command({"XRANGE", state->stream, at, at}, [this, state](const std::optional<redis_reply>& r) {
    if (!r || r->type != redis_reply::kind::array) state->failed = true;
    else state->offset_found = !r->elements.empty();
    post_([this, state](std::chrono::milliseconds now) { continue_restore(state, now); });
  });
}

void redis_node::read_after(std::shared_ptr<restore_state> state, stream_id after) {
  ++state->pages;
  client_->command({"XRANGE", state->stream, "(" + to_string(after), "+", "COUNT",
                    std::to_string(options_.restore_page_size)},
                   [this, state](const std::optional<redis_reply>& r) {
                     auto entries = r ? parse_entries(*r) : std::nullopt;
                     if (!entries) {
                       state->failed = true;
                     } else {
                       // Kept: what the session's socket would have received
                       // (the session came first, on this thread).
                       const std::vector<std::string>& rooms = state->session->rooms;
                       for (stream_entry& e : *entries) {
                         state->reached = e.id;
                         const auto& m = e.message;
                         if (m && m->nsp == state->nsp && m->type == message_type::broadcast && m->request_id.empty() &&
                             !m->opts.flags.is_volatile && sio::session_reaches(rooms, m->opts.rooms, m->opts.except)) {
                           state->missed.push_back(std::move(e));
                         }
                       }
                     }
                     post_([this, state](std::chrono::milliseconds now) { continue_restore(state, now); });
                   });
}

void redis_node::continue_restore(const std::shared_ptr<restore_state>& state, std::chrono::milliseconds now) {
  if (state->failed || !state->session || !state->offset_found) return state->done(std::nullopt, {}, now);
  if (state->pages == 0) return read_after(state, state->offset);
  const auto applied_at = applied_.find(state->stream);
  const std::optional<stream_id> applied =
      applied_at == applied_.end() ? std::nullopt : std::optional<stream_id>(applied_at->second);
  switch (next_restore_step(state->offset, state->reached, applied, state->pages, options_.restore_max_pages)) {
    case restore_step::wait:
      if (std::chrono::steady_clock::now() >= state->give_up) return state->done(std::nullopt, {}, now);
      restores_waiting_.push_back(state);
      waiting_restores_ = restores_waiting_.size();
      return;
    case restore_step::read_more: return read_after(state, state->reached);
    case restore_step::refuse: return state->done(std::nullopt, {}, now);
    case restore_step::replay: break;
  }
  // Entries past `applied` are the reader's to deliver, once the socket exists.
  std::vector<stream_entry> replay;
  for (stream_entry& e : state->missed) {
    if (*applied < e.id) break;
    replay.push_back(std::move(e));
  }
  state->done(std::move(state->session), std::move(replay), now);
}

void redis_node::retry_waiting_restores(std::chrono::milliseconds now) {
  std::vector<std::shared_ptr<restore_state>> waiting;
  waiting.swap(restores_waiting_);
  waiting_restores_ = 0;
  for (const auto& state : waiting) continue_restore(state, now);
}

}  // namespace eio::socketio_redis
