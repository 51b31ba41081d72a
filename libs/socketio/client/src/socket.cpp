// The Socket.IO client socket: one namespace's rules (socket.io-client 4.8.3
// lib/socket.ts).
//
//   input \ state      inactive            active, not connected          connected
//   connect()          subscribe; open the manager (unless reconnecting); CONNECT if it is open   nothing
//   manager open       -                   CONNECT (auth; pid and offset once the server gave a pid)
//   CONNECT answer     -                   -> connected: id, pid, recovered; buffered events delivered,
//                                          the send buffer sent, then "connect"
//   CONNECT_ERROR      -                   -> inactive; "connect_error"(refused)     ignored
//   EVENT              -                   buffered until connected      "any", then the event's listeners;
//                                                                        offset kept (with a pid)
//   ACK                -                   its callback                  its callback
//   DISCONNECT         -                   -> inactive; "disconnect"("io server disconnect")
//   manager error      -                   "connect_error"               -
//   manager close R    -                   "disconnect"(R), acks not in the send buffer fail
//   disconnect()       -                   -> inactive                   DISCONNECT, -> inactive,
//                                                                        "disconnect"("io client disconnect")
//   emit               buffer (bounded; volatile: dropped)               send (volatile: unless not writable)
//   ack timer          the callback gets ack_timeout, its packet leaves the send buffer
//
// The manager closes when its last active socket becomes inactive.
#include <eio/socketio/client/manager.hpp>

#include <algorithm>

namespace eio::socketio::client {

std::error_code make_outgoing_event(std::string_view event, const value& args, outgoing_event& out) {
  out.data.clear();
  out.attachments.clear();
  return make_event_data(event, args, out.data, out.attachments);
}

// ------------------------------------------------------------ ack_responder

struct ack_responder::state {
  std::weak_ptr<manager::alive_token> alive;
  class socket* socket = nullptr;
  std::uint64_t id = 0;
  bool sent = false;
};

bool ack_responder::wanted() const noexcept { return state_ && !state_->sent && !state_->alive.expired(); }

std::error_code ack_responder::operator()(const value& args) const {
  if (!state_ || state_->sent) return {};
  const std::shared_ptr<manager::alive_token> alive = state_->alive.lock();
  if (!alive) return {};
  // socket.io-client's ack(): the arguments as the ACK's array.
  std::string data;
  std::vector<attachment> attachments;
  const value array = args.is_array() ? args : value::array({args});
  if (const std::error_code error = to_wire(array, data, attachments)) return error;
  state_->sent = true;
  class socket& s = *state_->socket;
  manager& io = *alive->self;
  const std::uint64_t id = state_->id;
  io.input(io.now_, [&] {
    const packet p{attachments.empty() ? packet_type::ack : packet_type::binary_ack, s.nsp_, id, attachments.size(),
                   data};
    io.send_packet(p, attachments, io.now_);
  });
  return {};
}

// ------------------------------------------------------------ socket

socket::socket(manager& io, std::string nsp, socket_options options)
    : io_(io), nsp_(std::move(nsp)), options_(std::move(options)) {}

void socket::subscribe() {
  if (active_) return;
  active_ = true;
  io_.subscribed_.push_back(this);
  on_open_ = ++io_.last_listener_;
  io_.open_listeners_.add(on_open_, false, [this] { on_manager_open(io_.now_); });
  on_error_ = ++io_.last_listener_;
  io_.error_listeners_.add(on_error_, false, [this](const error_info& e) { on_manager_error(e); });
  on_close_ = ++io_.last_listener_;
  io_.close_listeners_.add(on_close_, false,
                           [this](disconnect_reason r, const std::string& d) { on_manager_close(r, d); });
}

void socket::connect(millis now) {
  io_.input(now, [&] {
    if (connected_) return;
    subscribe();
    if (!io_.reconnecting_) io_.open_engine(false, io_.now_);
    if (io_.state_ == manager_state::open) send_connect(io_.now_);
  });
}

void socket::disconnect(millis now) {
  io_.input(now, [&] {
    if (connected_) io_.send_packet(packet{packet_type::disconnect, nsp_, std::nullopt, 0, {}}, {}, io_.now_);
    destroy(io_.now_);
    if (connected_) on_close(disconnect_reason::io_client_disconnect, "");
  });
}

// No more reconnection for this socket; the manager closes when no socket
// is active (socket.io-client's destroy() and Manager._destroy()).
void socket::destroy(millis now) {
  if (active_) {
    active_ = false;
    auto& list = io_.subscribed_;
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
    io_.open_listeners_.remove(on_open_);
    io_.error_listeners_.remove(on_error_);
    io_.close_listeners_.remove(on_close_);
  }
  io_.close_if_unused(now);
}

void socket::on_manager_open(millis now) { send_connect(now); }

// The CONNECT packet (socket.io-client's _sendConnectPacket): the auth, and
// with a pid Object.assign({pid, offset}, auth), keys in that order.
void socket::send_connect(millis now) {
  const value auth = options_.auth_provider ? options_.auth_provider() : options_.auth.value_or(value());
  const bool has_auth = auth.is_object();  // anything else is not sent (the server wants an object)
  std::string data;
  std::vector<attachment> attachments;
  std::error_code error;
  if (pid_) {
    bool first = true;
    const auto member = [&](const std::string& key, const value& v) {
      if (error) return;
      data += first ? '{' : ',';
      first = false;
      if (!(error = to_wire(value(key), data, attachments))) {
        data += ':';
        error = to_wire(v, data, attachments);
      }
    };
    const bool auth_pid = has_auth && auth.contains("pid");
    const bool auth_offset = has_auth && auth.contains("offset");
    member("pid", auth_pid ? auth["pid"] : value(*pid_));
    if (auth_offset) {
      member("offset", auth["offset"]);
    } else if (last_offset_) {
      member("offset", value(*last_offset_));
    }
    if (has_auth) {
      for (const auto& [key, v] : auth.items()) {
        if (key != "pid" && key != "offset") member(key, v);
      }
    }
    data += '}';
  } else if (has_auth) {
    error = to_wire(auth, data, attachments);
  }
  if (!error && !attachments.empty()) error = make_error_code(socketio::errc::invalid_payload);
  if (error) {
    // Local misuse: say so where the application listens for connection
    // failures, and send nothing (a CONNECT cannot carry attachments).
    connect_error_.call(error_info{"the auth cannot be sent: " + error.message(), std::nullopt, false});
    return;
  }
  io_.send_packet(packet{packet_type::connect, nsp_, std::nullopt, 0, data}, {}, now);
}

void socket::on_manager_error(const error_info& error) {
  if (!connected_) connect_error_.call(error);
}

void socket::on_manager_close(disconnect_reason reason, const std::string& description) { on_close(reason, description); }

void socket::on_close(disconnect_reason reason, const std::string& description) {
  connected_ = false;
  id_.reset();
  disconnect_.call(reason, description);
  clear_acks();
}

// socket.io-client's _clearAcks(): the server will never answer an emit of
// the closed connection; those still in the send buffer go out with the
// next one and keep waiting.
void socket::clear_acks() {
  std::vector<ack_callback> failed;
  for (auto it = acks_.begin(); it != acks_.end();) {
    const std::uint64_t id = it->first;
    const bool buffered = std::any_of(send_buffer_.begin(), send_buffer_.end(),
                                      [id](const buffered_packet& p) { return p.ack_id == id; });
    if (buffered) {
      ++it;
      continue;
    }
    if (it->second.deadline) ack_deadlines_.erase({*it->second.deadline, id});
    failed.push_back(std::move(it->second.callback));
    it = acks_.erase(it);
  }
  for (const ack_callback& callback : failed) callback(make_error_code(errc::disconnected), value::array());
}

void socket::on_packet(packet_type type, std::optional<std::uint64_t> id, value data, millis now) {
  switch (type) {
    case packet_type::connect:
      if (data.is_object() && data.contains("sid") && data["sid"].is_string() && !data["sid"].get_ref<const std::string&>().empty()) {
        std::optional<std::string> pid;
        if (data.contains("pid") && data["pid"].is_string()) pid = data["pid"].get<std::string>();
        return on_connect_packet(data["sid"].get<std::string>(), std::move(pid), now);
      }
      return connect_error_.call(error_info{
          "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not "
          "compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)",
          std::nullopt, false});
    case packet_type::event:
    case packet_type::binary_event:
      return on_event(id, std::move(data), now);
    case packet_type::ack:
    case packet_type::binary_ack:
      if (id) on_ack(*id, std::move(data));
      return;
    case packet_type::disconnect:
      destroy(now);
      return on_close(disconnect_reason::io_server_disconnect, "");
    case packet_type::connect_error: {
      // A server never refuses a connected socket; socket.io-client would
      // stay "connected" yet inactive. Ignored here.
      if (connected_) return;
      destroy(now);
      error_info error;
      error.refused = true;
      if (data.is_object()) {
        if (data.contains("message") && data["message"].is_string()) error.message = data["message"].get<std::string>();
        if (data.contains("data")) error.data = data["data"];
      } else if (data.is_string()) {
        error.message = data.get<std::string>();  // a v2-style refusal
      }
      return connect_error_.call(error);
    }
  }
}

void socket::on_connect_packet(const std::string& sid, std::optional<std::string> pid, millis now) {
  id_ = sid;
  recovered_ = pid && pid_ && *pid_ == *pid;
  pid_ = std::move(pid);  // set only when the server has connection state recovery on
  connected_ = true;
  // emitBuffered(): what came before the answer (a recovering server's
  // missed events), then what was emitted while disconnected.
  std::vector<std::pair<std::optional<std::uint64_t>, value>> received;
  received.swap(receive_buffer_);
  for (auto& [ack_id, data] : received) deliver(ack_id, std::move(data));
  std::deque<buffered_packet> buffered;
  buffered.swap(send_buffer_);
  send_buffer_bytes_ = 0;
  for (const buffered_packet& p : buffered) send_event(p, now);
  connect_.call();
}

void socket::on_event(std::optional<std::uint64_t> id, value data, millis now) {
  (void)now;
  if (connected_) return deliver(id, std::move(data));
  receive_buffer_.emplace_back(id, std::move(data));
}

void socket::deliver(std::optional<std::uint64_t> id, value data) {
  if (!data.is_array() || data.empty()) return;  // the decoder let no such EVENT through
  std::string name = data[0].is_string() ? data[0].get<std::string>() : data[0].dump();
  value args = value::array();
  for (std::size_t i = 1; i < data.size(); ++i) args.push_back(std::move(data[i]));
  ack_responder responder;
  if (id) {
    auto s = std::make_shared<ack_responder::state>();
    s->alive = io_.alive_;
    s->socket = this;
    s->id = *id;
    responder = ack_responder(std::move(s));
  }
  // Recovery: the server appends the event's offset as its last argument
  // (SessionAwareAdapter.broadcast); events with an ack carry none.
  if (pid_ && !id && !args.empty() && args.back().is_string()) last_offset_ = args.back().get<std::string>();
  any_.call(name, args, responder);
  if (auto it = events_.find(name); it != events_.end()) it->second.call(args, responder);
}

void socket::on_ack(std::uint64_t id, value data) {
  const auto it = acks_.find(id);
  if (it == acks_.end()) return;  // unknown, or timed out already
  ack_callback callback = std::move(it->second.callback);
  if (it->second.deadline) ack_deadlines_.erase({*it->second.deadline, id});
  acks_.erase(it);
  callback({}, data.is_array() ? data : value::array());
}

std::optional<millis> socket::next_deadline() const noexcept {
  if (ack_deadlines_.empty()) return std::nullopt;
  return ack_deadlines_.begin()->first;
}

void socket::on_timeout(millis now) {
  while (!ack_deadlines_.empty() && ack_deadlines_.begin()->first <= now) {
    const std::uint64_t id = ack_deadlines_.begin()->second;
    ack_deadlines_.erase(ack_deadlines_.begin());
    const auto it = acks_.find(id);
    if (it == acks_.end()) continue;
    ack_callback callback = std::move(it->second.callback);
    acks_.erase(it);
    // A timed-out emit still in the send buffer is not sent any more.
    for (auto p = send_buffer_.begin(); p != send_buffer_.end(); ++p) {
      if (p->ack_id == id) {
        send_buffer_bytes_ -= p->bytes;
        send_buffer_.erase(p);
        break;
      }
    }
    callback(make_error_code(errc::ack_timeout), value::array());
  }
}

// ------------------------------------------------------------ emitting

std::error_code socket::emit(std::string_view event, const value& args, millis now, const emit_options& options) {
  outgoing_event e;
  if (const std::error_code error = make_outgoing_event(event, args, e)) return error;
  return emit_packet(std::move(e), nullptr, now, options);
}

std::error_code socket::emit(outgoing_event event, millis now, const emit_options& options) {
  return emit_packet(std::move(event), nullptr, now, options);
}

std::error_code socket::emit_with_ack(std::string_view event, const value& args, ack_callback callback, millis now,
                                      const emit_options& options) {
  outgoing_event e;
  if (const std::error_code error = make_outgoing_event(event, args, e)) return error;
  return emit_packet(std::move(e), std::move(callback), now, options);
}

std::error_code socket::emit_with_ack(outgoing_event event, ack_callback callback, millis now,
                                      const emit_options& options) {
  return emit_packet(std::move(event), std::move(callback), now, options);
}

std::error_code socket::emit_packet(outgoing_event event, ack_callback callback, millis now,
                                    const emit_options& options) {
  std::error_code result;
  io_.input(now, [&] {
    if (io_.depth_ == 1) io_.catch_up(io_.now_);
    buffered_packet p;
    // socket.io-client takes the ack id before it decides to drop or buffer.
    if (callback) p.ack_id = next_ack_id_++;
    p.bytes = event.data.size();
    for (const attachment& a : event.attachments) p.bytes += a.size();
    p.data = std::move(event.data);
    p.attachments = std::move(event.attachments);
    if (options.is_volatile && !(connected_ && io_.writable())) {
      result = make_error_code(errc::volatile_dropped);
      return;
    }
    if (!connected_ && (send_buffer_.size() >= options_.max_buffered_packets ||
                        p.bytes > options_.max_buffered_bytes - std::min(send_buffer_bytes_, options_.max_buffered_bytes))) {
      result = make_error_code(errc::send_buffer_full);
      return;
    }
    if (callback) {
      const std::optional<millis> timeout = options.timeout ? options.timeout : options_.ack_timeout;
      pending_ack pending{std::move(callback), std::nullopt};
      if (timeout) {
        pending.deadline = io_.now_ + *timeout;
        ack_deadlines_.insert({*pending.deadline, *p.ack_id});
      }
      acks_.emplace(*p.ack_id, std::move(pending));
    }
    if (connected_) {
      send_event(p, io_.now_);
    } else {
      send_buffer_bytes_ += p.bytes;
      send_buffer_.push_back(std::move(p));
    }
  });
  return result;
}

void socket::send_event(const buffered_packet& p, millis now) {
  const packet header{p.attachments.empty() ? packet_type::event : packet_type::binary_event, nsp_, p.ack_id,
                      p.attachments.size(), p.data};
  io_.send_packet(header, p.attachments, now);
}

// ------------------------------------------------------------ listeners

event_listener socket::wrap(plain_event_listener fn) {
  return [fn = std::move(fn)](const value& args, const ack_responder&) { fn(args); };
}

listener_id socket::add_event(std::string event, bool once, event_listener fn) {
  events_[std::move(event)].add(++io_.last_listener_, once, std::move(fn));
  return io_.last_listener_;
}

listener_id socket::on_any(any_listener fn) {
  any_.add(++io_.last_listener_, false, std::move(fn));
  return io_.last_listener_;
}

listener_id socket::on_connect(std::function<void()> fn) {
  connect_.add(++io_.last_listener_, false, std::move(fn));
  return io_.last_listener_;
}

listener_id socket::on_connect_error(std::function<void(const error_info&)> fn) {
  connect_error_.add(++io_.last_listener_, false, std::move(fn));
  return io_.last_listener_;
}

listener_id socket::on_disconnect(std::function<void(disconnect_reason, const std::string&)> fn) {
  disconnect_.add(++io_.last_listener_, false, std::move(fn));
  return io_.last_listener_;
}

bool socket::off(listener_id id) {
  for (auto& [name, list] : events_) {
    if (list.remove(id)) return true;
  }
  return any_.remove(id) || connect_.remove(id) || connect_error_.remove(id) || disconnect_.remove(id);
}

void socket::off(std::string_view event) {
  if (auto it = events_.find(event); it != events_.end()) it->second.clear();
}

void socket::off_all() {
  for (auto& [name, list] : events_) list.clear();
  any_.clear();
  connect_.clear();
  connect_error_.clear();
  disconnect_.clear();
}

void socket::off_any() { any_.clear(); }

}  // namespace eio::socketio::client
