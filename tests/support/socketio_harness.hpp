// Drives eio::socketio runtimes in memory: one or more event loops, each an
// eio::server core with its runtime, wired by the in-process cluster
// transport when there are several; a fake clock; and clients that speak
// Engine.IO (WebSocket or long-polling, v4 or v3) and Socket.IO packets as
// text, answering pings by themselves.
//
// Header-only, no test framework: the tests (and the fuzz target) assert.
#pragma once

#include <eio/parser.hpp>
#include <eio/server.hpp>
#include <eio/socketio/in_process_cluster.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio::test {

// One Engine.IO message the server sent a client: text (the Socket.IO
// packet, without Engine.IO's '4') or binary (an attachment).
struct sio_frame {
  bool binary = false;
  std::string data;
  friend bool operator==(const sio_frame& a, const sio_frame& b) { return a.binary == b.binary && a.data == b.data; }
};

inline std::string describe(const std::vector<sio_frame>& frames) {
  std::string out;
  for (const auto& f : frames) {
    out += f.binary ? "<binary " + std::to_string(f.data.size()) + ">" : f.data;
    out += "\n";
  }
  return out;
}

enum class client_transport { websocket, polling };

class sio_harness {
public:
  struct client {
    unsigned loop = 0;
    client_transport transport = client_transport::websocket;
    protocol_version version = protocol_version::v4;
    connection_id connection = 0;  // the WebSocket (polling: the handshake GET)
    std::string sid;
    session_ref ref;
    std::vector<sio_frame> received;
    std::size_t taken = 0;
    bool closed = false;  // the server closed it (close packet, WebSocket close) or it was dropped
  };
  using client_id = std::size_t;

  explicit sio_harness(socketio::server& io, unsigned loops = 1, server_options core = {},
                       socketio::runtime_options runtime = {}, millis start = millis(1'000'000))
      : now_(start) {
    if (loops > 1) {
      cluster_ = std::make_unique<socketio::in_process_cluster>(
          loops, [this](unsigned k, socketio::loop_task task) {
            if (!loops_[k]->cut_off) loops_[k]->tasks.push_back(std::move(task));
          });
    }
    for (unsigned k = 0; k < loops; ++k) {
      auto l = std::make_unique<loop>(core);
      socketio::runtime_options o = runtime;
      if (cluster_) o.cluster = &cluster_->transport(k);
      l->rt = std::make_unique<socketio::runtime>(io, l->core, o);
      loops_.push_back(std::move(l));
    }
  }
  ~sio_harness() {
    for (auto& l : loops_) l->rt.reset();  // runtimes before their cores
  }

  millis now() const { return now_; }
  socketio::runtime& rt(unsigned k = 0) { return *loops_[k]->rt; }
  eio::server& core(unsigned k = 0) { return loops_[k]->core; }
  unsigned loop_count() const { return static_cast<unsigned>(loops_.size()); }
  client& get(client_id c) { return clients_[c]; }

  // ---- clients

  // Opens an Engine.IO session on loop `k`.
  client_id open(unsigned k = 0, client_transport transport = client_transport::websocket,
                 protocol_version version = protocol_version::v4, std::string extra_query = {},
                 header_list headers = {}) {
    const client_id id = clients_.size();
    clients_.emplace_back();
    client& c = clients_.back();
    c.loop = k;
    c.transport = transport;
    c.version = version;
    const connection_id conn = next_connection_++;
    c.connection = conn;
    owners_[conn] = id;
    std::string query = version == protocol_version::v4 ? "EIO=4" : "EIO=3";
    query += transport == client_transport::websocket ? "&transport=websocket" : "&transport=polling";
    if (!extra_query.empty()) query += "&" + extra_query;
    http_request r;
    r.method = "GET";
    r.path = "/engine.io/";
    r.query = query;
    r.headers = std::move(headers);
    r.remote_address = "10.0.0.7";
    if (transport == client_transport::websocket) {
      r.headers.push_back({"Upgrade", "websocket"});
      r.headers.push_back({"Connection", "Upgrade"});
      loops_[k]->core.handle_websocket(conn, r, now_);
    } else {
      loops_[k]->core.handle_request(conn, std::move(r), now_);
    }
    pump();
    if (!c.sid.empty()) {
      if (auto ref = loops_[k]->core.find_session(c.sid)) c.ref = *ref;
    }
    return id;
  }

  // Sends one Socket.IO text packet ("40", "42[\"a\"]").
  void send(client_id id, std::string_view packet) {
    client& c = clients_[id];
    std::string message = "4";
    message += packet;
    deliver(c, message, frame_kind::text);
  }
  // Sends one Engine.IO text message as is ("4..." is a message, "9" garbage).
  void send_engine(client_id id, std::string_view message) { deliver(clients_[id], message, frame_kind::text); }
  // Sends one attachment (an Engine.IO binary message).
  void send_binary(client_id id, std::string_view bytes) {
    client& c = clients_[id];
    if (c.version == protocol_version::v3 && c.transport == client_transport::websocket) {
      std::string framed = "\x04";
      framed += bytes;
      deliver(c, framed, frame_kind::binary);
    } else {
      deliver(c, bytes, frame_kind::binary);
    }
  }
  // A polling client asks for what waits for it (a GET, held when empty).
  void poll(client_id id) {
    client& c = clients_[id];
    const connection_id conn = next_connection_++;
    owners_[conn] = id;
    http_request r;
    r.method = "GET";
    r.path = "/engine.io/";
    r.query = std::string(c.version == protocol_version::v4 ? "EIO=4" : "EIO=3") + "&transport=polling&sid=" + c.sid;
    r.remote_address = "10.0.0.7";
    loops_[c.loop]->core.handle_request(conn, std::move(r), now_);
    pump();
  }
  // The peer goes away: its WebSocket closes (polling: nothing to close;
  // the session times out).
  void drop(client_id id, connection_end how = connection_end::closed) {
    client& c = clients_[id];
    c.closed = true;
    if (c.transport == client_transport::websocket) loops_[c.loop]->core.websocket_closed(c.connection, how, now_);
    pump();
  }
  // Loop k stops receiving cluster messages (a node that does not answer).
  void cut_off(unsigned k) { loops_[k]->cut_off = true; }
  // Stops answering pings (so the session ends with a ping timeout).
  void mute(client_id id) { muted_.push_back(id); }

  // Frames received since the last take() (after running what calls made
  // outside the harness queued).
  std::vector<sio_frame> take(client_id id) {
    pump();
    client& c = clients_[id];
    std::vector<sio_frame> out(c.received.begin() + static_cast<std::ptrdiff_t>(c.taken), c.received.end());
    c.taken = c.received.size();
    return out;
  }
  // Text frames only, since the last take().
  std::vector<std::string> texts(client_id id) {
    std::vector<std::string> out;
    for (auto& f : take(id)) {
      if (!f.binary) out.push_back(std::move(f.data));
    }
    return out;
  }
  bool closed(client_id id) {
    pump();
    return clients_[id].closed;
  }

  // ---- time and work

  // Runs every queued event, action and cross-loop task until none is left.
  void pump() {
    for (int rounds = 0; rounds < 100000; ++rounds) {
      bool progress = false;
      for (std::size_t k = 0; k < loops_.size(); ++k) {
        loop& l = *loops_[k];
        while (auto a = l.core.next_action()) {
          progress = true;
          on_action(static_cast<unsigned>(k), *a);
        }
        while (auto e = l.core.next_event()) {
          progress = true;
          l.rt->on_event(*e, now_);
        }
        while (!l.tasks.empty()) {
          progress = true;
          auto task = std::move(l.tasks.front());
          l.tasks.pop_front();
          task(now_);
        }
      }
      while (!replies_.empty()) {
        progress = true;
        auto [id, message] = std::move(replies_.front());
        replies_.pop_front();
        deliver(clients_[id], message, frame_kind::text);
      }
      if (!progress) return;
    }
  }

  // Moves the clock on, running every timer of every loop at its time.
  void advance(millis ms) {
    const millis target = now_ + ms;
    for (;;) {
      std::optional<millis> due;
      for (auto& l : loops_) {
        for (auto d : {l->core.next_deadline(), l->rt->next_deadline()}) {
          if (d && (!due || *d < *due)) due = d;
        }
      }
      if (!due || *due > target) break;
      if (*due > now_) now_ = *due;
      for (auto& l : loops_) {
        l->core.on_timeout(now_);
        l->rt->on_timeout(now_);
      }
      pump();
    }
    now_ = target;
    pump();
  }

private:
  struct loop {
    explicit loop(const server_options& o) : core(o) {}
    eio::server core;
    std::unique_ptr<socketio::runtime> rt;
    std::deque<socketio::loop_task> tasks;
    bool cut_off = false;
  };

  void deliver(client& c, std::string_view message, frame_kind kind) {
    if (c.closed) return;
    if (c.transport == client_transport::websocket) {
      loops_[c.loop]->core.websocket_message(c.connection, kind, message, now_);
    } else {
      packet p;
      if (kind == frame_kind::binary) {
        p = packet{packet_type::message, true, message};
      } else {
        p = packet{static_cast<packet_type>(message[0] - '0'), false, message.substr(1)};
      }
      std::string body;
      encode_payload(std::vector<packet>{p}, c.version, false, body);
      const connection_id conn = next_connection_++;
      http_request r;
      r.method = "POST";
      r.path = "/engine.io/";
      r.query = std::string(c.version == protocol_version::v4 ? "EIO=4" : "EIO=3") + "&transport=polling&sid=" + c.sid;
      r.headers.push_back({"Content-Type", "text/plain;charset=UTF-8"});
      r.body = std::move(body);
      r.remote_address = "10.0.0.7";
      loops_[c.loop]->core.handle_request(conn, std::move(r), now_);
    }
    pump();
  }

  void on_packet(client_id id, const packet& p) {
    client& c = clients_[id];
    switch (p.type) {
      case packet_type::open: {
        const std::string_view data = p.data;
        const auto at = data.find("\"sid\":\"");
        if (at != std::string_view::npos) {
          const auto start = at + 7;
          c.sid = std::string(data.substr(start, data.find('"', start) - start));
        }
        break;
      }
      case packet_type::ping:
        if (std::find(muted_.begin(), muted_.end(), id) == muted_.end()) replies_.emplace_back(id, "3");
        break;
      case packet_type::message: c.received.push_back(sio_frame{p.binary, std::string(p.data)}); break;
      case packet_type::close: c.closed = true; break;
      default: break;
    }
  }

  void on_action(unsigned k, const action& a) {
    (void)k;
    if (const auto* s = std::get_if<websocket_send>(&a)) {
      const auto owner = owners_.find(s->connection);
      if (owner == owners_.end()) return;
      const std::string message = s->shared_tail ? s->data + *s->shared_tail : s->data;
      packet p;
      std::string scratch;
      if (decode_frame(message, s->kind, clients_[owner->second].version, p, scratch)) return;
      const std::string owned_data(p.data);
      p.data = owned_data;
      on_packet(owner->second, p);
    } else if (const auto* close = std::get_if<websocket_close>(&a)) {
      const auto owner = owners_.find(close->connection);
      if (owner != owners_.end()) clients_[owner->second].closed = true;
    } else if (const auto* r = std::get_if<http_response>(&a)) {
      const auto owner = owners_.find(r->connection);
      if (owner == owners_.end() || r->status != 200 || r->body == "ok") return;
      const auto type = find_header(r->headers, "Content-Type");
      const payload_format format =
          type && *type == "application/octet-stream" ? payload_format::binary : payload_format::text;
      payload_decoder decoder(clients_[owner->second].version, format);
      std::vector<packet> packets;
      if (decoder.decode(r->body, packets)) return;
      std::vector<std::pair<packet, std::string>> owned;
      for (const auto& p : packets) owned.emplace_back(p, std::string(p.data));
      for (auto& [p, data] : owned) {
        p.data = data;
        on_packet(owner->second, p);
      }
    }
  }

  millis now_;
  std::unique_ptr<socketio::in_process_cluster> cluster_;
  std::vector<std::unique_ptr<loop>> loops_;
  std::deque<client> clients_;
  std::map<connection_id, client_id> owners_;
  connection_id next_connection_ = 1;
  std::deque<std::pair<client_id, std::string>> replies_;
  std::vector<client_id> muted_;
};

}  // namespace eio::test
