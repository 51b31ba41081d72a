// An eio::client wired to an eio::server in memory, with a fake clock.
//
// Client actions become server inputs (an HTTP request -> handle_request on a
// fresh connection id, a WebSocket open -> handle_websocket, frames ->
// websocket_message, ...) and server actions become client inputs. Nothing
// happens behind the test's back: pump() moves everything that can move until
// both sides are quiet, advance(ms) moves the clock (stopping at every timer
// on the way) and pumps.
//
// Hooks decide, at the moment something would be delivered, whether to hold
// it instead: an HTTP request before the server sees it, an HTTP response
// before the client sees it, a WebSocket open before the server sees it, a
// WebSocket frame (either way). Held things wait, in order, until the test
// releases them, so a test can freeze any exchange at any point of an
// upgrade. Frames keep their order per connection: once one is held, later
// frames (and the close) on that connection wait behind it.
//
// Header-only; the standard library, eio::session and nothing else.
#pragma once

#include <eio/client.hpp>
#include <eio/server.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace eio::test {

struct received_message {
  bool binary = false;
  std::string data;
  friend bool operator==(const received_message& a, const received_message& b) {
    return a.binary == b.binary && a.data == b.data;
  }
  friend bool operator!=(const received_message& a, const received_message& b) { return !(a == b); }
};

class session_pair {
public:
  // An HTTP exchange as the hooks see it.
  struct exchange {
    connection_id client_request = 0;
    std::string method;
    std::string target;
  };
  // One WebSocket frame in flight, or the connection's close (frame empty).
  struct ws_item {
    connection_id client_connection = 0;
    std::optional<std::pair<frame_kind, std::string>> frame;
  };

  // ---- hooks: return true to hold the thing (until the matching release_*)
  std::function<bool(const client_http_request&)> hold_request;
  std::function<bool(const exchange&, const http_response&)> hold_response;
  std::function<bool(const client_websocket_open&)> hold_websocket_open;
  std::function<bool(const ws_item&)> hold_client_frame;  // client -> server
  std::function<bool(const ws_item&)> hold_server_frame;  // server -> client

  // ---- what happened
  std::vector<client_event> client_events;  // every client event but messages
  std::vector<event> server_events;         // every server event but messages and the chatty ones
  std::vector<received_message> client_received;
  std::vector<received_message> server_received;
  std::optional<session_ref> session;  // the server's session, once connected
  std::optional<client_close_event> client_closed;
  std::optional<close_event> server_closed;
  std::size_t http_requests = 0;
  std::size_t websocket_frames = 0;

  millis now{0};

private:
  // The server's direct path (connection_output): frames it writes at once
  // wait here, in order, until pump() hands them to the client (they came
  // before any action the server queued after them).
  struct direct_output final : connection_output {
    std::vector<std::pair<connection_id, std::pair<frame_kind, std::string>>> written;
    void write_message(connection_id c, frame_kind kind, std::string_view prefix, std::string_view body) override {
      std::string data(prefix);
      data += body;
      written.emplace_back(c, std::make_pair(kind, std::move(data)));
    }
    void write_shared_message(connection_id c, frame_kind kind, std::string_view prefix, const shared_bytes& body) override {
      write_message(c, kind, prefix, *body);
    }
    std::size_t unsent_bytes(connection_id) const noexcept override { return 0; }
  };
  direct_output direct_;  // before `server`, which may call it until it dies

public:
  eio::server server;
  eio::client client;

  // By default the server writes an open WebSocket session's messages
  // through its direct path, as poco_server does; `direct = false` keeps
  // every frame on the action queue.
  explicit session_pair(server_options server_opts = {}, client_options client_opts = {}, bool direct = true)
      : server(with_fixed_ids(std::move(server_opts))), client(std::move(client_opts)) {
    if (direct) server.attach_output(&direct_);
  }

  // Starts the handshake and pumps.
  void open() {
    client.open(now);
    pump();
  }

  // Runs until neither side has anything left to do. A pair that never
  // settles (two machines feeding each other forever) is a bug: throw.
  void pump(std::size_t max_rounds = 1'000'000) {
    for (std::size_t round = 0;; ++round) {
      if (round >= max_rounds) throw std::runtime_error("session_pair::pump does not settle");
      bool moved = false;
      while (auto a = client.next_action()) {
        moved = true;
        on_client_action(std::move(*a));
      }
      if (!direct_.written.empty()) {
        moved = true;
        auto written = std::move(direct_.written);
        direct_.written.clear();
        for (auto& [conn, frame] : written) {
          const auto ws = ws_server_to_client_.find(conn);
          if (ws != ws_server_to_client_.end()) server_frame(ws_item{ws->second, std::move(frame)});
        }
      }
      while (auto a = server.next_action()) {
        moved = true;
        on_server_action(std::move(*a));
      }
      while (auto e = client.next_event()) {
        moved = true;
        on_client_event(std::move(*e));
      }
      while (auto e = server.next_event()) {
        moved = true;
        on_server_event(std::move(*e));
      }
      if (!moved) return;
    }
  }

  // Moves the clock forward by `ms`, firing every timer of either side at
  // its own deadline on the way, and pumps.
  void advance(millis ms) {
    const millis until = now + ms;
    for (int guard = 0;; ++guard) {
      if (guard > 10'000'000) throw std::runtime_error("session_pair::advance: timers do not settle");
      std::optional<millis> due = server.next_deadline();
      const std::optional<millis> client_due = client.next_deadline();
      if (client_due && (!due || *client_due < *due)) due = client_due;
      if (!due || *due > until) break;
      if (*due > now) now = *due;
      server.on_timeout(now);
      client.on_timeout(now);
      pump();
    }
    now = until;
    pump();
  }

  // ---- the application, with the pair's clock
  bool client_send(std::string data, bool binary = false) {
    return client.send(std::move(data), binary ? frame_kind::binary : frame_kind::text, now);
  }
  bool server_send(std::string data, bool binary = false) {
    return session && server.send(*session, data, binary ? frame_kind::binary : frame_kind::text, now);
  }

  // ---- releasing what the hooks held, oldest first
  void release_requests() {
    auto held = std::move(held_requests_);
    held_requests_.clear();
    for (auto& r : held) deliver_request(std::move(r));
  }
  // Only the requests of this method.
  void release_requests(std::string_view method) {
    std::deque<client_http_request> keep;
    auto held = std::move(held_requests_);
    held_requests_.clear();
    for (auto& r : held) {
      if (r.method == method) deliver_request(std::move(r));
      else keep.push_back(std::move(r));
    }
    for (auto& k : keep) held_requests_.push_back(std::move(k));
  }
  void release_responses() {
    auto held = std::move(held_responses_);
    held_responses_.clear();
    for (auto& [x, r] : held) deliver_response(x, std::move(r));
  }
  // Only the responses to requests of this method.
  void release_responses(std::string_view method) {
    std::deque<std::pair<exchange, http_response>> keep;
    auto held = std::move(held_responses_);
    held_responses_.clear();
    for (auto& [x, r] : held) {
      if (x.method == method) deliver_response(x, std::move(r));
      else keep.emplace_back(std::move(x), std::move(r));
    }
    for (auto& k : keep) held_responses_.push_back(std::move(k));
  }
  void release_websocket_opens() {
    auto held = std::move(held_opens_);
    held_opens_.clear();
    for (auto& o : held) deliver_open(std::move(o));
  }
  void release_client_frames() {
    auto held = std::move(held_client_frames_);
    held_client_frames_.clear();
    for (auto& f : held) deliver_client_frame(std::move(f));
  }
  void release_server_frames() {
    auto held = std::move(held_server_frames_);
    held_server_frames_.clear();
    for (auto& f : held) deliver_server_frame(std::move(f));
  }
  void release_all() {
    release_websocket_opens();
    release_requests();
    release_client_frames();
    release_server_frames();
    release_responses();
  }
  std::size_t held_requests() const { return held_requests_.size(); }
  std::size_t held_responses() const { return held_responses_.size(); }
  std::size_t held_websocket_opens() const { return held_opens_.size(); }
  std::size_t held_client_frames() const { return held_client_frames_.size(); }
  std::size_t held_server_frames() const { return held_server_frames_.size(); }

  // The last client event of type T, if any.
  template <class T>
  const T* last_client_event() const {
    for (auto it = client_events.rbegin(); it != client_events.rend(); ++it) {
      if (const T* e = std::get_if<T>(&*it)) return e;
    }
    return nullptr;
  }
  template <class T>
  std::size_t count_server_events() const {
    std::size_t n = 0;
    for (const event& e : server_events) n += std::holds_alternative<T>(e) ? 1 : 0;
    return n;
  }
  template <class T>
  std::size_t count_client_events() const {
    std::size_t n = 0;
    for (const client_event& e : client_events) n += std::holds_alternative<T>(e) ? 1 : 0;
    return n;
  }

private:
  static server_options with_fixed_ids(server_options o) {
    if (!o.generate_id) {
      o.generate_id = [n = 0]() mutable { return "sid" + std::to_string(++n); };
    }
    return o;
  }

  static http_request request_of(std::string method, const std::string& target, header_list headers, std::string body) {
    http_request r;
    r.method = std::move(method);
    const std::size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.remote_address = "127.0.0.1";
    return r;
  }

  // ---- client -> server
  void on_client_action(client_action a) {
    if (auto* r = std::get_if<client_http_request>(&a)) {
      if (hold_request && hold_request(*r)) held_requests_.push_back(std::move(*r));
      else deliver_request(std::move(*r));
    } else if (auto* o = std::get_if<client_websocket_open>(&a)) {
      if (hold_websocket_open && hold_websocket_open(*o)) held_opens_.push_back(std::move(*o));
      else deliver_open(std::move(*o));
    } else if (auto* f = std::get_if<client_websocket_send>(&a)) {
      client_frame(ws_item{f->connection, std::make_pair(f->kind, std::move(f->data))});
    } else if (auto* c = std::get_if<client_websocket_close>(&a)) {
      // A connection the server never saw (its open is still held) just vanishes.
      for (auto it = held_opens_.begin(); it != held_opens_.end(); ++it) {
        if (it->connection == c->connection) {
          held_opens_.erase(it);
          return;
        }
      }
      client_frame(ws_item{c->connection, std::nullopt});
    }
  }

  void client_frame(ws_item item) {
    if (is_held(held_client_frames_, item.client_connection) || (hold_client_frame && hold_client_frame(item))) {
      held_client_frames_.push_back(std::move(item));
    } else {
      deliver_client_frame(std::move(item));
    }
  }

  void deliver_request(client_http_request r) {
    ++http_requests;
    const connection_id conn = ++last_server_connection_;
    http_exchanges_[conn] = exchange{r.request_id, r.method, r.target};
    header_list headers = std::move(r.headers);
    if (!r.content_type.empty()) headers.push_back({"Content-Type", r.content_type});
    server.handle_request(conn, request_of(r.method, r.target, std::move(headers), std::move(r.body)), now);
  }

  void deliver_open(client_websocket_open o) {
    const connection_id conn = ++last_server_connection_;
    ws_client_to_server_[o.connection] = conn;
    ws_server_to_client_[conn] = o.connection;
    server.handle_websocket(conn, request_of("GET", o.target, {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}, {}),
                            now);
  }

  void deliver_client_frame(ws_item item) {
    const auto found = ws_client_to_server_.find(item.client_connection);
    if (found == ws_client_to_server_.end()) return;  // closed by the server meanwhile
    const connection_id conn = found->second;
    if (item.frame) {
      ++websocket_frames;
      server.websocket_message_owned(conn, item.frame->first, std::move(item.frame->second), now);  // the frame dies here
    } else {
      ws_client_to_server_.erase(found);
      ws_server_to_client_.erase(conn);
      server.websocket_closed(conn, connection_end::closed, now);
    }
  }

  // ---- server -> client
  void on_server_action(action a) {
    if (auto* r = std::get_if<http_response>(&a)) {
      const auto x = http_exchanges_.find(r->connection);
      if (x != http_exchanges_.end()) {
        exchange ex = std::move(x->second);
        http_exchanges_.erase(x);
        if (hold_response && hold_response(ex, *r)) held_responses_.emplace_back(std::move(ex), std::move(*r));
        else deliver_response(ex, std::move(*r));
        return;
      }
      // A refused WebSocket request.
      const auto ws = ws_server_to_client_.find(r->connection);
      if (ws == ws_server_to_client_.end()) return;
      const connection_id client_conn = ws->second;
      ws_client_to_server_.erase(client_conn);
      ws_server_to_client_.erase(ws);
      client.websocket_failed(client_conn, now);
    } else if (auto* accept = std::get_if<websocket_accept>(&a)) {
      const auto ws = ws_server_to_client_.find(accept->connection);
      if (ws != ws_server_to_client_.end()) client.websocket_opened(ws->second, now);
    } else if (auto* f = std::get_if<websocket_send>(&a)) {
      const auto ws = ws_server_to_client_.find(f->connection);
      if (ws != ws_server_to_client_.end()) {
        if (f->shared_tail) f->data += *f->shared_tail;
        server_frame(ws_item{ws->second, std::make_pair(f->kind, std::move(f->data))});
      }
    } else if (auto* c = std::get_if<websocket_close>(&a)) {
      const auto ws = ws_server_to_client_.find(c->connection);
      if (ws == ws_server_to_client_.end()) return;
      const connection_id client_conn = ws->second;
      ws_client_to_server_.erase(client_conn);
      ws_server_to_client_.erase(ws);
      server_frame(ws_item{client_conn, std::nullopt});
    }
  }

  void server_frame(ws_item item) {
    if (is_held(held_server_frames_, item.client_connection) || (hold_server_frame && hold_server_frame(item))) {
      held_server_frames_.push_back(std::move(item));
    } else {
      deliver_server_frame(std::move(item));
    }
  }

  void deliver_response(const exchange& x, http_response r) {
    client.http_response_received(x.client_request, r.status, r.headers, std::move(r.body), now);
  }

  void deliver_server_frame(ws_item item) {
    if (item.frame) {
      ++websocket_frames;
      client.websocket_message(item.client_connection, item.frame->first, item.frame->second, now);
    } else {
      client.websocket_closed(item.client_connection, now);
    }
  }

  static bool is_held(const std::deque<ws_item>& held, connection_id connection) {
    for (const ws_item& h : held) {
      if (h.client_connection == connection) return true;
    }
    return false;
  }

  // ---- events
  void on_client_event(client_event e) {
    if (auto* m = std::get_if<client_message_event>(&e)) {
      client_received.push_back(received_message{m->kind == frame_kind::binary, std::move(m->data)});
      return;
    }
    if (auto* c = std::get_if<client_close_event>(&e)) client_closed = *c;
    client_events.push_back(std::move(e));
  }

  void on_server_event(event e) {
    if (auto* m = std::get_if<message_event>(&e)) {
      server_received.push_back(received_message{m->kind == frame_kind::binary, std::string(m->data)});
      return;
    }
    if (std::holds_alternative<packet_event>(e) || std::holds_alternative<packet_create_event>(e) ||
        std::holds_alternative<flush_event>(e) || std::holds_alternative<drain_event>(e)) {
      return;  // per packet: too many to keep in a sweep
    }
    if (auto* c = std::get_if<connection_event>(&e)) session = c->session;
    if (auto* c = std::get_if<close_event>(&e)) server_closed = *c;
    server_events.push_back(std::move(e));
  }

  connection_id last_server_connection_ = 0;
  std::unordered_map<connection_id, exchange> http_exchanges_;  // server connection -> the client's request
  std::unordered_map<connection_id, connection_id> ws_client_to_server_;
  std::unordered_map<connection_id, connection_id> ws_server_to_client_;
  std::deque<client_http_request> held_requests_;
  std::deque<std::pair<exchange, http_response>> held_responses_;
  std::deque<client_websocket_open> held_opens_;
  std::deque<ws_item> held_client_frames_;
  std::deque<ws_item> held_server_frames_;
};

}  // namespace eio::test
