// Fuzz target: eio::socketio's server model (runtime, namespaces, sockets,
// rooms, acks, middlewares, the cluster adapter over two loops, recovery),
// on eio::server cores, driven by programs of packets from several clients.
//
// Input: one option byte, then up to max_operations operations, each an op
// byte and its arguments (a short input reads as zeros).
//   option bit 0   two loops (the in-process cluster), else one
//   option bit 1   connection state recovery
//   option bit 2   small limits (2 attachments, 64 attachment bytes, a 500 ms
//                  completion timeout, 16-byte namespaces, 3 namespaces per
//                  connection)
//   option bit 3   /a's middleware answers after 100 ms, else at once
//
// The server: namespaces "/", "/a" (a middleware that refuses auth
// {"no":...}) and children of the pattern "/d-[0-9]"; each socket listens to
// events named by what they do: echo, ack, join1, join2, leave1, room (to
// r1, itself excluded), ask (an emit with an ack and a 100 ms timeout),
// bcast (a broadcast with acks), bye (disconnect), close (disconnect(true)).
//
// Operations (op % 12):
//   0  open a client (loop from the next byte; WebSocket, or polling when bit 4 of op)
//   1  a text packet from a template (CONNECT, EVENT with or without ack id,
//      ACK, DISCONNECT, BINARY_EVENT with placeholders), a namespace and an id
//   2  a text packet of raw bytes (up to 48)
//   3  a binary message (up to 8 bytes)
//   4  the client drops its connection (closed, or failed)
//   5  the clock moves (next byte * 20 ms)
//   6  a polling client polls
//   7  broadcast to r1 or r2 (or all) from a loop, checked against membership
//   8  fetch_sockets / sockets_join / sockets_leave / disconnect_sockets
//   9  server_side_emit with an ack, from a loop
//  10  an ack to the last EVENT with an ack id the client received
//  11  a client stops answering pings
//
// Invariants (abort on violation; beyond "no crash, no sanitizer report"):
//   1. Every ack is answered at most once: a client never receives more ACKs
//      with one id in one namespace than it sent EVENTs asking with that id
//      (a client may reuse an id), and each server-side ack callback (emit
//      with ack, broadcast with acks, server_side_emit, fetch_sockets) runs
//      at most once.
//   2. No event goes to a socket outside the rooms it was sent to: each
//      checked broadcast carries a unique name, and every client that gets it
//      had a socket in one of the rooms (in that namespace) when it was sent.
//   3. After every session is closed and every timer has run: no
//      connection, socket, namespace being joined, room, binary packet
//      waiting for attachments, ack waited for, or timer left in any
//      runtime, and no request waiting in a cluster adapter.
#include "fuzz_support.hpp"
#include "socketio_harness.hpp"

#include <eio/socketio/cluster.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace eio;
using namespace std::chrono_literals;
using socketio::value;
using test::sio_harness;

constexpr int max_operations = 160;
constexpr std::size_t max_clients = 8;

// Counts a callback's calls; a second aborts.
struct once_check {
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  void hit() const {
    ++*calls;
    EIO_FUZZ_CHECK(*calls == 1);
  }
};

struct fuzz_server {
  explicit fuzz_server(std::uint8_t options) {
    socketio::server_options o;
    if (options & 2) o.connection_state_recovery = socketio::recovery_options{};
    if (options & 4) {
      o.limits.max_attachments = 2;
      o.limits.max_attachment_bytes = 64;
      o.limits.attachment_timeout = 500ms;
      o.limits.max_namespace_bytes = 16;
      o.max_namespaces_per_connection = 3;
    }
    o.generate_id = [this] {
      std::string id = "id" + std::to_string(next_id++);
      id.resize(20, '_');
      return id;
    };
    io = std::make_unique<socketio::server>(o);
    const bool slow = (options & 8) != 0;
    io->of("/a").use([slow](socketio::socket& s, socketio::next_function next) {
      const bool refuse = s.handshake().auth.contains("no");
      auto answer = [next, refuse] {
        if (refuse) {
          next(socketio::middleware_error{"no", value{{"code", 1}}});
        } else {
          next();
        }
      };
      if (slow) {
        s.owner().set_timer(100ms, answer);
      } else {
        answer();
      }
    });
    auto setup = [this](socketio::socket& s) { listen(s); };
    io->of("/").on_connection(setup);
    io->of("/a").on_connection(setup);
    io->of(std::regex("/d-[0-9]")).on_connection(setup);
    io->of("/").on("sse", [](socketio::namespace_runtime&, const socketio::args_view&, socketio::ack_handle ack) {
      ack(value::array({"sse"}));
      ack(value::array({"again"}));
    });
    h = std::make_unique<sio_harness>(*io, (options & 1) ? 2 : 1);
  }

  void listen(socketio::socket& s) {
    using socketio::ack_handle;
    using socketio::args_view;
    using socketio::socket;
    s.on("echo", [](socket& self, const args_view& args, ack_handle) { self.emit("echo", args); });
    s.on("ack", [](socket&, const args_view& args, ack_handle ack) {
      ack(args);
      ack(args);
    });
    s.on("join1", [](socket& self, const args_view&, ack_handle) { self.join("r1"); });
    s.on("join2", [](socket& self, const args_view&, ack_handle) { self.join("r2"); });
    s.on("leave1", [](socket& self, const args_view&, ack_handle) { self.leave("r1"); });
    s.on("room", [](socket& self, const args_view& args, ack_handle) { self.to("r1").emit("room", args); });
    s.on("ask", [](socket& self, const args_view&, ack_handle) {
      const once_check once;
      self.timeout(100ms).emit_with_ack("q", value::array({1}),
                                        [once](const socketio::operation_error&, const args_view&) { once.hit(); });
    });
    s.on("bcast", [](socket& self, const args_view&, ack_handle) {
      const once_check once;
      self.nsp().timeout(200ms).emit_with_ack(
          "bq", value::array(), [once](const socketio::operation_error&, std::vector<socketio::wire_args>) { once.hit(); });
    });
    s.on("bye", [](socket& self, const args_view&, ack_handle) { self.disconnect(); });
    s.on("close", [](socket& self, const args_view&, ack_handle) { self.disconnect(true); });
  }

  // Which clients have a socket in any of `rooms` of `nsp` (all sockets of
  // `nsp` when rooms is empty), by Engine.IO id.
  std::set<std::string> members(const std::string& nsp, const std::vector<std::string>& rooms) {
    std::set<std::string> out;
    for (unsigned k = 0; k < h->loop_count(); ++k) {
      socketio::namespace_runtime* n = h->rt(k).of(nsp);
      if (!n) continue;
      n->for_each_socket([&](socketio::socket& s) {
        const auto in = s.rooms();
        bool member = rooms.empty();
        for (const auto& r : rooms) member = member || std::find(in.begin(), in.end(), r) != in.end();
        if (member) out.insert(s.engine_id());
      });
    }
    return out;
  }

  std::size_t next_id = 0;
  std::unique_ptr<socketio::server> io;
  std::unique_ptr<sio_harness> h;
};

const char* const namespaces[] = {"", "/a,", "/d-1,", "/d-x,", "/nope,", "/a?x=1,"};
const char* const events[] = {"echo", "ack", "join1", "join2", "leave1", "room", "ask", "bcast", "bye", "close", "x"};
const char* const arguments[] = {"", ",1", ",\"s\"", ",{\"a\":[1,null,true]}", ",[]", ",1.5e3"};
const char* const auths[] = {"", "{}", "{\"no\":1}", "{\"pid\":\"id1_________________\",\"offset\":\"eio-1\"}", "\"str\"",
                             "{\"pid\":\"x\",\"offset\":\"y\"}"};

std::string template_packet(fuzz::reader& in) {
  // One read per statement: the operands of + have no order.
  const std::uint8_t kind = in.byte();
  const std::string nsp = namespaces[in.below(6)];
  std::string id;
  if (in.flag()) id = std::to_string(in.below(4));
  switch (kind % 7) {
    case 0: {
      const char* auth = auths[in.below(6)];
      return "0" + nsp + auth;
    }
    case 1:
    case 2: {
      const char* event = events[in.below(11)];
      const char* args = arguments[in.below(6)];
      return "2" + nsp + id + "[\"" + event + "\"" + args + "]";
    }
    case 3: return "3" + nsp + (id.empty() ? "0" : id) + "[1]";
    case 4: return "1" + nsp;
    case 5: {
      const std::uint32_t n = 1 + in.below(3);
      const char* event = events[in.below(11)];
      std::string data = "[\"" + std::string(event) + "\"";
      for (std::uint32_t i = 0; i < n; ++i) data += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
      data += "]";
      return "5" + std::to_string(n) + "-" + nsp + id + data;
    }
    default: return "4" + nsp + "{\"message\":\"x\"}";
  }
}

// The namespace and ack id of "2<nsp,><id>[...]", when it has an id.
struct asked {
  std::string nsp;
  std::string id;
};

std::optional<asked> asked_of(const std::string& text, socketio::decoder& decoder) {
  socketio::packet p;
  if (decoder.decode(text, p) || !p.id) return std::nullopt;
  if (p.type != socketio::packet_type::event && p.type != socketio::packet_type::binary_event) return std::nullopt;
  return asked{std::string(p.nsp), std::to_string(*p.id)};
}

void run(const std::uint8_t* data, std::size_t size) {
  fuzz::reader in(data, size);
  fuzz_server s(in.byte());
  sio_harness& h = *s.h;
  socketio::decoder client_decoder;
  std::vector<sio_harness::client_id> clients;
  // "nsp#id" -> EVENTs asking for an ack sent, ACKs received; per client.
  std::map<sio_harness::client_id, std::map<std::string, int>> asks_sent, acks_seen;
  auto key_of = [](const socketio::packet& p) { return std::string(p.nsp) + "#" + std::to_string(*p.id); };
  auto send = [&](sio_harness::client_id c, const std::string& text) {
    socketio::packet p;
    if (!client_decoder.decode(text, p) && p.id &&
        (p.type == socketio::packet_type::event || p.type == socketio::packet_type::binary_event)) {
      ++asks_sent[c][key_of(p)];
    }
    h.send(c, text);
  };
  std::map<sio_harness::client_id, std::size_t> read;                 // frames looked at
  std::map<sio_harness::client_id, std::optional<asked>> last_asked;
  int broadcasts = 0;

  // Looks at every frame clients received since the last look: ACK ids at
  // most once per namespace, and remembers the last EVENT with an ack id.
  auto look = [&] {
    for (auto c : clients) {
      const auto& received = h.get(c).received;
      for (std::size_t i = read[c]; i < received.size(); ++i) {
        if (received[i].binary) continue;
        socketio::packet p;
        if (client_decoder.decode(received[i].data, p)) continue;
        if ((p.type == socketio::packet_type::ack || p.type == socketio::packet_type::binary_ack) && p.id) {
          const std::string key = key_of(p);
          EIO_FUZZ_CHECK(++acks_seen[c][key] <= asks_sent[c][key]);
        }
        if (auto a = asked_of(received[i].data, client_decoder)) last_asked[c] = a;
      }
      read[c] = received.size();
    }
  };

  for (int op_count = 0; op_count < max_operations && !in.empty(); ++op_count) {
    const std::uint8_t op = in.byte();
    auto pick = [&]() -> std::optional<sio_harness::client_id> {
      if (clients.empty()) return std::nullopt;
      return clients[in.below(static_cast<std::uint32_t>(clients.size()))];
    };
    switch (op % 12) {
      case 0:
        if (clients.size() < max_clients) {
          const unsigned loop = in.below(h.loop_count());
          clients.push_back(h.open(loop, (op & 16) ? test::client_transport::polling : test::client_transport::websocket));
        }
        break;
      case 1:
        if (auto c = pick()) send(*c, template_packet(in));
        break;
      case 2:
        if (auto c = pick()) send(*c, in.text(48));
        break;
      case 3:
        if (auto c = pick()) h.send_binary(*c, in.bytes(8));
        break;
      case 4:
        if (auto c = pick()) h.drop(*c, in.flag() ? connection_end::failed : connection_end::closed);
        break;
      case 5: h.advance(millis(20 * in.byte())); break;
      case 6:
        if (auto c = pick(); c && h.get(*c).transport == test::client_transport::polling) h.poll(*c);
        break;
      case 7: {
        const unsigned loop = in.below(h.loop_count());
        const std::string nsp = in.flag() ? "/" : "/a";
        std::vector<std::string> rooms;
        const std::uint32_t which = in.below(4);
        if (which & 1) rooms.push_back("r1");
        if (which & 2) rooms.push_back("r2");
        h.pump();
        look();
        const std::set<std::string> expected = s.members(nsp, rooms);
        const std::string name = "b" + std::to_string(broadcasts++);
        socketio::namespace_runtime* n = h.rt(loop).of(nsp);
        if (!n) break;
        socketio::broadcast_operator b = n->to(rooms);
        if (in.flag()) b = b.volatile_();
        b.emit(name, value::array({value::binary({1})}));
        h.pump();
        const std::string needle = "[\"" + name + "\"";
        for (auto c : clients) {
          for (const auto& f : h.get(c).received) {
            if (!f.binary && f.data.find(needle) != std::string::npos) EIO_FUZZ_CHECK(expected.count(h.get(c).sid) == 1);
          }
        }
        break;
      }
      case 8: {
        socketio::namespace_runtime* n = h.rt(in.below(h.loop_count())).of("/");
        const std::uint32_t what = in.below(4);
        socketio::broadcast_operator b = in.flag() ? n->to("r1") : n->except("r2");
        if (what == 0) {
          const once_check once;
          const bool act = in.flag();
          b.timeout(300ms).fetch_sockets([once, act](const socketio::operation_error&, std::vector<socketio::remote_socket> found) {
            once.hit();
            if (act && !found.empty()) found.front().emit("found");
          });
        } else if (what == 1) {
          b.sockets_join("r2");
        } else if (what == 2) {
          b.sockets_leave("r1");
        } else {
          b.disconnect_sockets(in.flag());
        }
        break;
      }
      case 9: {
        const once_check once;
        h.rt(in.below(h.loop_count())).of("/")->server_side_emit_with_ack(
            "sse", value::array({1}), [once](const socketio::operation_error&, std::vector<socketio::wire_args>) { once.hit(); },
            300ms);
        break;
      }
      case 10:
        if (auto c = pick()) {
          look();
          if (auto a = last_asked[*c]) {
            const std::string nsp = a->nsp == "/" ? "" : a->nsp + ",";
            h.send(*c, "3" + nsp + a->id + "[\"answer\"]");
          }
        }
        break;
      case 11:
        if (auto c = pick()) h.mute(*c);
        break;
    }
    h.pump();
    look();
  }

  if (std::getenv("EIO_FUZZ_TRACE")) {
    for (auto c : clients) {
      std::fprintf(stderr, "client %zu (loop %u, %s):\n%s", c, h.get(c).loop, h.get(c).closed ? "closed" : "open",
                   test::describe(h.get(c).received).c_str());
    }
  }
  // Every session ends; every timer runs out.
  for (auto c : clients) h.drop(c);
  for (unsigned k = 0; k < h.loop_count(); ++k) {
    h.core(k).shutdown(h.now());
  }
  h.pump();
  h.advance(200'000ms);
  look();
  for (unsigned k = 0; k < h.loop_count(); ++k) {
    const socketio::runtime_stats st = h.rt(k).stats();
    EIO_FUZZ_CHECK(h.core(k).session_count() == 0);
    EIO_FUZZ_CHECK(st.connections == 0);
    EIO_FUZZ_CHECK(st.sockets == 0);
    EIO_FUZZ_CHECK(st.joining == 0);
    EIO_FUZZ_CHECK(st.rooms == 0);
    EIO_FUZZ_CHECK(st.pending_binary == 0);
    EIO_FUZZ_CHECK(st.pending_acks == 0);
    EIO_FUZZ_CHECK(st.timers == 0);
    for (const char* nsp : {"/", "/a"}) {
      auto* n = h.rt(k).of(nsp);
      if (auto* cluster = dynamic_cast<socketio::cluster_adapter*>(&n->adapter())) {
        EIO_FUZZ_CHECK(cluster->pending_requests() == 0);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size);
  return 0;
}
