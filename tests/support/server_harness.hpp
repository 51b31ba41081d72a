// Drives an eio::server deterministically: a fake clock, request builders,
// unique connection ids, every action and event drained into vectors, and
// the bookkeeping to check the core's contract with its adapter (every
// action names a connection the adapter opened; no HTTP exchange is
// answered twice; nothing is sent on a closed WebSocket).
//
// Header-only, no test framework: helpers return values and the tests
// assert. Shared by the session tests, the client/session pair test and the
// fuzz targets.
#pragma once

#include <eio/parser.hpp>
#include <eio/server.hpp>

#include "owned_packet.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace eio::test {

// ---------------------------------------------------------------- requests

inline http_request make_request(std::string method, std::string query, header_list headers = {},
                                 std::string body = {}) {
  http_request r;
  r.method = std::move(method);
  r.path = "/engine.io/";
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  return r;
}
inline http_request get(std::string query, header_list headers = {}) {
  return make_request("GET", std::move(query), std::move(headers));
}
inline http_request post(std::string query, std::string body,
                         std::string content_type = "text/plain;charset=UTF-8", header_list headers = {}) {
  if (!content_type.empty()) headers.push_back({"Content-Type", std::move(content_type)});
  return make_request("POST", std::move(query), std::move(headers), std::move(body));
}
// What the adapter passes to handle_websocket (RFC 6455 headers already checked).
inline http_request websocket(std::string query, header_list headers = {}) {
  headers.push_back({"Upgrade", "websocket"});
  headers.push_back({"Connection", "Upgrade"});
  return make_request("GET", std::move(query), std::move(headers));
}

inline std::string eio_query(protocol_version version, std::string_view transport, std::string_view extra = {}) {
  std::string q = version == protocol_version::v4 ? "EIO=4" : "EIO=3";
  q += "&transport=";
  q += transport;
  if (!extra.empty()) {
    q += '&';
    q += extra;
  }
  return q;
}
inline std::string sid_query(protocol_version version, std::string_view transport, std::string_view sid,
                             std::string_view extra = {}) {
  std::string q = eio_query(version, transport, "sid=");
  q += sid;
  if (!extra.empty()) {
    q += '&';
    q += extra;
  }
  return q;
}

// ---------------------------------------------------------------- variants

template <class T, class V>
std::vector<T> all_of_kind(const std::vector<V>& items) {
  std::vector<T> out;
  for (const auto& item : items) {
    if (const T* t = std::get_if<T>(&item)) out.push_back(*t);
  }
  return out;
}
template <class T, class V>
std::size_t count_of_kind(const std::vector<V>& items) {
  std::size_t n = 0;
  for (const auto& item : items) n += std::holds_alternative<T>(item) ? 1 : 0;
  return n;
}
template <class T, class V>
std::optional<T> first_of_kind(const std::vector<V>& items) {
  for (const auto& item : items) {
    if (const T* t = std::get_if<T>(&item)) return *t;
  }
  return std::nullopt;
}

inline connection_id connection_of(const action& a) {
  return std::visit([](const auto& x) { return x.connection; }, a);
}

// ---------------------------------------------------------------- decoding

inline payload_format format_of(const http_response& r) {
  const auto type = find_header(r.headers, "Content-Type");
  return type && *type == "application/octet-stream" ? payload_format::binary : payload_format::text;
}

// The packets of a polling response body; nullopt when it does not decode.
inline std::optional<std::vector<owned_packet>> decode_body(const http_response& r, protocol_version version) {
  payload_decoder decoder(version, format_of(r));
  std::vector<packet> packets;
  if (decoder.decode(r.body, packets)) return std::nullopt;
  return to_owned(packets);
}

// The whole message of a websocket_send: its data, then its shared tail.
inline std::string message_of(const websocket_send& s) {
  return s.shared_tail ? s.data + *s.shared_tail : s.data;
}

inline std::optional<owned_packet> decode_send(const websocket_send& s, protocol_version version) {
  packet p;
  std::string scratch;
  const std::string message = message_of(s);
  if (decode_frame(message, s.kind, version, p, scratch)) return std::nullopt;
  return own(p);
}

// The encoded polling payload of `packets` (what a client POSTs).
inline std::string payload_of(const std::vector<owned_packet>& packets, protocol_version version,
                              bool binary_supported = false) {
  std::string out;
  encode_payload(views(packets), version, binary_supported, out);
  return out;
}

// `"key":"value"` or `"key":123` from a flat JSON object, as text.
inline std::optional<std::string> json_field(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const std::size_t at = json.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + needle.size();
  if (i < json.size() && json[i] == '"') {
    const std::size_t end = json.find('"', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(json.substr(i + 1, end - i - 1));
  }
  const std::size_t end = json.find_first_of(",}", i);
  return std::string(json.substr(i, end - i));
}

// ---------------------------------------------------------------- harness

struct drained {
  std::vector<action> actions;
  std::vector<event> events;

  std::optional<http_response> response(connection_id c) const {
    for (const auto& a : actions) {
      if (const auto* r = std::get_if<http_response>(&a); r && r->connection == c) return *r;
    }
    return std::nullopt;
  }
  std::vector<websocket_send> sends(connection_id c) const {
    std::vector<websocket_send> out;
    for (const auto& a : actions) {
      if (const auto* s = std::get_if<websocket_send>(&a); s && s->connection == c) out.push_back(*s);
    }
    return out;
  }
  bool accepted(connection_id c) const {
    for (const auto& a : actions) {
      if (const auto* s = std::get_if<websocket_accept>(&a); s && s->connection == c) return true;
    }
    return false;
  }
  bool closed(connection_id c) const {
    for (const auto& a : actions) {
      if (const auto* s = std::get_if<websocket_close>(&a); s && s->connection == c) return true;
    }
    return false;
  }
  std::optional<close_event> close() const { return first_of_kind<close_event>(events); }
  std::vector<message_event> messages() const { return all_of_kind<message_event>(events); }
  template <class T>
  std::size_t count() const {
    return count_of_kind<T>(events);
  }
};

// A session opened by handshake().
struct opened {
  std::string sid;
  session_ref ref;
  connection_id connection = 0;  // the handshake GET or WebSocket
  protocol_version version = protocol_version::v4;
  drained out;                    // what the handshake produced
  std::vector<owned_packet> packets;  // the handshake payload / frames, open packet first
  bool ok() const { return !sid.empty(); }
};

// How the harness takes the core's WebSocket frames: as actions only, or
// with a connection_output attached (the direct path), whose writes it
// records as websocket_send actions in the order they happened, so that the
// same assertions hold for both.
enum class output_path { actions, direct };

// A connection_output that records every write, and reports as unsent what
// the test says (a peer that does not read).
class recording_output final : public connection_output {
public:
  void write_message(connection_id c, frame_kind kind, std::string_view prefix, std::string_view body) override {
    std::string data(prefix);
    data += body;
    written.push_back(websocket_send{c, kind, std::move(data), nullptr});
    unsent[c] += prefix.size() + body.size();
  }
  void write_shared_message(connection_id c, frame_kind kind, std::string_view prefix, const shared_bytes& body) override {
    written.push_back(websocket_send{c, kind, std::string(prefix), body});
    unsent[c] += prefix.size() + body->size();
  }
  std::size_t unsent_bytes(connection_id c) const noexcept override {
    const auto found = unsent.find(c);
    return found == unsent.end() ? 0 : found->second;
  }
  std::vector<websocket_send> written;  // not yet collected
  std::map<connection_id, std::size_t> unsent;
};

class server_harness {
public:
  explicit server_harness(server_options options = {}, millis start = millis(1000), output_path path = output_path::actions)
      : server_(std::move(options)), now_(start) {
    if (path == output_path::direct) server_.attach_output(&output_);
  }

  server& srv() { return server_; }
  // The direct path's output (unused with output_path::actions).
  recording_output& output() { return output_; }
  const server& srv() const { return server_; }
  millis now() const { return now_; }

  // ---- the clock

  // Moves the clock `ms` on; on_timeout runs at every deadline passed, in
  // order, with `now` equal to that deadline.
  void advance(millis ms) { advance_to(now_ + ms); }
  void advance_to(millis target) {
    while (const auto due = server_.next_deadline()) {
      if (*due > target) break;
      if (*due > now_) now_ = *due;
      server_.on_timeout(now_);
      collect();
    }
    if (target > now_) now_ = target;
  }

  // ---- inputs (each opens a new connection id, returned)

  connection_id open_connection() {
    const connection_id c = next_connection_++;
    opened_.insert(c);
    return c;
  }
  connection_id request(http_request r) {
    const connection_id c = open_connection();
    http_kind_.insert(c);
    server_.handle_request(c, std::move(r), now_);
    collect();
    return c;
  }
  connection_id ws(const http_request& r) {
    const connection_id c = open_connection();
    server_.handle_websocket(c, r, now_);
    collect();
    return c;
  }
  // begin_post's answer in `*read_body`.
  connection_id begin_post(const http_request& head, bool* read_body = nullptr) {
    const connection_id c = open_connection();
    http_kind_.insert(c);
    const bool read = server_.begin_post(c, head, now_);
    if (read_body) *read_body = read;
    collect();
    return c;
  }
  void finish_post(connection_id c, std::string body) {
    server_.finish_post(c, std::move(body), now_);
    collect();
  }
  void body_too_large(connection_id c) {
    server_.body_too_large(c, now_);
    collect();
  }
  void message(connection_id c, std::string_view data, frame_kind kind = frame_kind::text) {
    server_.websocket_message(c, kind, data, now_);
    collect();
  }
  void ws_closed(connection_id c, connection_end how = connection_end::closed) {
    server_.websocket_closed(c, how, now_);
    collect();
  }
  // The adapter wrote `bytes` of c's output (a peer reading again).
  void written(connection_id c, std::size_t bytes) {
    auto& unsent = output_.unsent[c];
    unsent -= std::min(unsent, bytes);
    server_.output_progress(c, now_);
    collect();
  }
  void http_closed(connection_id c) {
    server_.http_closed(c, now_);
    collect();
  }
  bool send(session_ref s, std::string_view data, frame_kind kind = frame_kind::text, send_options how = {}) {
    const bool queued = server_.send(s, data, kind, now_, how);
    collect();
    return queued;
  }
  bool send_batch(session_ref s, const std::vector<outgoing_message>& messages) {
    const bool queued = server_.send_batch(s, messages, now_);
    collect();
    return queued;
  }
  std::size_t broadcast(const std::vector<session_ref>& sessions, shared_bytes data, frame_kind kind = frame_kind::text,
                        send_options how = {}) {
    const std::size_t taken = server_.broadcast(sessions, std::move(data), kind, now_, how);
    collect();
    return taken;
  }
  void close(session_ref s, close_mode mode = close_mode::flush) {
    server_.close(s, now_, mode);
    collect();
  }
  void shutdown() {
    server_.shutdown(now_);
    collect();
  }

  // Collects what calls made on srv() directly queued.
  void sync() { collect(); }

  // ---- sessions

  opened handshake(protocol_version version = protocol_version::v4, std::string_view extra = {},
                   header_list headers = {}) {
    opened o;
    o.version = version;
    take();
    o.connection = request(get(eio_query(version, "polling", extra), std::move(headers)));
    o.out = take();
    const auto r = o.out.response(o.connection);
    if (!r || r->status != 200) return o;
    auto packets = decode_body(*r, version);
    if (!packets || packets->empty() || (*packets)[0].type != packet_type::open) return o;
    o.packets = std::move(*packets);
    return finish(std::move(o));
  }
  opened websocket_handshake(protocol_version version = protocol_version::v4, std::string_view extra = {}) {
    opened o;
    o.version = version;
    take();
    o.connection = ws(websocket(eio_query(version, "websocket", extra)));
    o.out = take();
    for (const auto& s : o.out.sends(o.connection)) {
      if (auto p = decode_send(s, version)) o.packets.push_back(std::move(*p));
    }
    if (o.packets.empty() || o.packets[0].type != packet_type::open) return o;
    return finish(std::move(o));
  }

  connection_id poll(const opened& o, std::string_view extra = {}) {
    return request(get(sid_query(o.version, "polling", o.sid, extra)));
  }
  connection_id post_body(const opened& o, std::string body, std::string content_type = "text/plain;charset=UTF-8") {
    return request(post(sid_query(o.version, "polling", o.sid), std::move(body), std::move(content_type)));
  }
  connection_id post_packets(const opened& o, const std::vector<owned_packet>& packets) {
    return post_body(o, payload_of(packets, o.version));
  }
  connection_id upgrade_request(const opened& o) { return ws(websocket(sid_query(o.version, "websocket", o.sid))); }
  // The whole probe: WebSocket, "2probe", "5". Returns the WebSocket.
  connection_id upgrade(const opened& o) {
    const connection_id c = upgrade_request(o);
    message(c, "2probe");
    message(c, "5");
    return c;
  }

  // ---- outputs

  // Everything since the last take().
  drained take() {
    drained d;
    d.actions.assign(actions_.begin() + static_cast<std::ptrdiff_t>(taken_actions_), actions_.end());
    d.events.assign(events_.begin() + static_cast<std::ptrdiff_t>(taken_events_), events_.end());
    taken_actions_ = actions_.size();
    taken_events_ = events_.size();
    return d;
  }
  const std::vector<action>& all_actions() const { return actions_; }
  const std::vector<event>& all_events() const { return events_; }

  // What broke the adapter contract so far, or "" (see the file comment).
  // Also: next_deadline() reports a timer while sessions live only, and the
  // open-session count equals connections minus closes seen in events.
  std::string problems() const { return problems_; }

private:
  opened finish(opened o) {
    const auto sid = json_field(o.packets[0].data, "sid");
    if (!sid) return o;
    const auto ref = server_.find_session(*sid);
    if (!ref) return o;
    o.sid = *sid;
    o.ref = *ref;
    return o;
  }

  void note(const std::string& what) {
    if (problems_.size() < 4000) problems_ += what + "\n";
  }

  // Drains the server and checks every new action against the contract.
  void collect() {
    // Direct writes came before any action still queued (the core writes
    // directly only while its action queue is empty).
    std::vector<action> pending;
    for (auto& w : output_.written) pending.emplace_back(std::move(w));
    output_.written.clear();
    while (auto a = server_.next_action()) pending.push_back(std::move(*a));
    for (auto& a : pending) check_and_keep(std::move(a));
    while (auto e = server_.next_event()) {
      if (std::holds_alternative<connection_event>(*e)) ++opened_sessions_;
      if (std::holds_alternative<close_event>(*e)) {
        if (!closed_sessions_.insert(std::get<close_event>(*e).session.slot * 0x100000000ull +
                                     std::get<close_event>(*e).session.generation)
                 .second) {
          note("session closed twice");
        }
      }
      if (auto* m = std::get_if<message_event>(&*e)) {
        // The core's view lasts until the next next_event(): keep a copy.
        message_storage_.emplace_back(m->data);
        m->data = message_storage_.back();
      }
      events_.push_back(std::move(*e));
    }
    const std::size_t alive = opened_sessions_ - closed_sessions_.size();
    if (server_.session_count() != alive) {
      note("session_count " + std::to_string(server_.session_count()) + " but " + std::to_string(alive) +
           " sessions opened and not closed");
    }
    if (server_.session_count() == 0 && server_.next_deadline()) note("a timer armed without sessions");
    if (server_.session_count() > 0 && !server_.next_deadline()) note("sessions live without a timer");
    if (const auto due = server_.next_deadline(); due && *due < now_) note("a deadline in the past was not run");
  }

  void check_and_keep(action a) {
    {
      const connection_id c = connection_of(a);
      const std::string id = std::to_string(c);
      if (!opened_.count(c)) note("action for unknown connection " + id);
      if (std::holds_alternative<http_response>(a)) {
        if (!http_kind_.count(c) && ws_accepted_.count(c)) note("HTTP response on accepted WebSocket " + id);
        if (!answered_.insert(c).second) note("connection " + id + " answered twice");
      } else if (std::holds_alternative<websocket_accept>(a)) {
        if (http_kind_.count(c)) note("WebSocket accept on HTTP exchange " + id);
        if (answered_.count(c) || !ws_accepted_.insert(c).second) note("WebSocket " + id + " answered twice");
      } else if (std::holds_alternative<websocket_send>(a)) {
        if (!ws_accepted_.count(c)) note("send on unaccepted WebSocket " + id);
        if (ws_closed_.count(c)) note("send on closed WebSocket " + id);
      } else if (std::holds_alternative<websocket_close>(a)) {
        if (!ws_accepted_.count(c)) note("close of unaccepted WebSocket " + id);
        if (!ws_closed_.insert(c).second) note("WebSocket " + id + " closed twice");
      }
      actions_.push_back(std::move(a));
    }
  }

  recording_output output_;  // before server_: the server may call it until it dies
  server server_;
  millis now_;
  std::deque<std::string> message_storage_;
  connection_id next_connection_ = 1;
  std::set<connection_id> opened_, http_kind_, answered_, ws_accepted_, ws_closed_;
  std::size_t opened_sessions_ = 0;
  std::set<std::uint64_t> closed_sessions_;
  std::vector<action> actions_;
  std::vector<event> events_;
  std::size_t taken_actions_ = 0, taken_events_ = 0;
  std::string problems_;
};

}  // namespace eio::test
