// The demo application of `eiotool serve --socketio`: the one of
// tests/interop/socketio_demo_app.mjs (the rules are at the top of that file),
// written on eio::socketio's server API: the same namespaces, middlewares and
// events. eiotool serves it; the tests also run it in memory
// (tests/socketio_server_demo_test.cpp).
//
// Its handlers run on every loop at once: what they share (the counts and
// rooms "stats" reports for this server, all loops together) is behind a
// mutex.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>
#include <eio/socketio/socket.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eio::tool {

class socketio_demo {
public:
  socketio_demo(socketio::server& io, std::string node_name) : node_name_(std::move(node_name)) { install(io); }

  // Server-side acks still waiting (the "stats" pendingAcks).
  long pending_acks() const noexcept { return pending_acks_.load(); }

  // Called on every loop as sockets connect and disconnect (for logs); set
  // before the server runs.
  using connect_listener = std::function<void(const socketio::socket& s)>;
  using disconnect_listener = std::function<void(const socketio::socket& s, std::string_view reason)>;
  void on_connect(connect_listener listener) { on_connect_ = std::move(listener); }
  void on_disconnect(disconnect_listener listener) { on_disconnect_ = std::move(listener); }

private:
  using socket = socketio::socket;
  using args_view = socketio::args_view;
  using ack_handle = socketio::ack_handle;
  using value = socketio::value;

  static std::chrono::milliseconds clamp_ms(const value& v) {
    if (!v.is_number()) return std::chrono::milliseconds(1000);
    const double ms = v.get<double>();
    if (!std::isfinite(ms)) return std::chrono::milliseconds(1000);
    return std::chrono::milliseconds(static_cast<long long>(std::min(10000.0, std::max(1.0, std::trunc(ms)))));
  }
  // The arguments after the first.
  static value rest(const args_view& args) {
    value all = args.values();
    if (!all.empty()) all.erase(all.begin());
    return all;
  }
  static const std::string* room_of(const value& v) { return v.is_string() ? &v.get_ref<const std::string&>() : nullptr; }

  void install(socketio::server& io) {
    auto on_connection = [this](socket& s) { connected(s); };
    auto room_events = [this](socketio::namespace_runtime& nsp, socketio::room_event event, const std::string& room,
                              const std::string& socket_id) { on_room_event(nsp, event, room, socket_id); };
    io.of("/").on_connection(on_connection).on_room_event(room_events);
    io.of("/custom").on_connection(on_connection).on_room_event(room_events);
    io.of("/admin")
        .use([](socket& s, socketio::next_function next) {
          s.join("guarded");
          const value& auth = s.auth();
          if (auth.is_object() && auth.value("token", value()) == "letmein") {
            next();
          } else {
            next(socketio::middleware_error{"unauthorized", std::nullopt});
          }
        })
        .on_connection(on_connection)
        .on_room_event(room_events);
    io.of("/slow")
        .use([](socket& s, socketio::next_function next) { s.owner().set_timer(std::chrono::milliseconds(1000), [next] { next(); }); })
        .on_connection(on_connection)
        .on_room_event(room_events);
    // Dynamic namespaces: a 200 ms check, as a database lookup would take.
    // The runtime makes one namespace of concurrent first CONNECTs.
    io.of([](socketio::runtime& rt, std::string_view name, const value&, std::function<void(bool)> answer) {
        static const std::regex pattern("/dyn-[A-Za-z0-9_-]{1,64}");
        if (!std::regex_match(name.begin(), name.end(), pattern)) return answer(false);
        rt.set_timer(std::chrono::milliseconds(200), [answer] { answer(true); });
      })
        .on_connection(on_connection)
        .on_room_event(room_events);
    io.of("/").on("ping-sse", [this](socketio::namespace_runtime&, const args_view&, ack_handle ack) { ack(value::array({node_name_})); });
    server_ = &io;
  }

  void connected(socket& s) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++connections_[s.nsp().name()];
      ++sockets_[s.nsp().name()];
    }
    if (on_connect_) on_connect_(s);
    s.on_disconnect([this](socket& self, std::string_view reason, std::string_view) {
      if (on_disconnect_) on_disconnect_(self, reason);
      std::lock_guard<std::mutex> lock(mutex_);
      --sockets_[self.nsp().name()];
    });
    if (!s.recovered()) s.data() = nullptr;
    s.emit("auth", value::array({s.auth()}));

    // One listener per socket, dispatching through a table all sockets share:
    // a listener per event and socket would cost about 1.8 KB per socket.
    s.on_any([this](socket& self, std::string_view event, const args_view& args, ack_handle ack) {
      const auto& table = handlers();
      if (const auto found = table.find(event); found != table.end()) found->second(*this, self, args, std::move(ack));
    });
  }

  using handler = void (*)(socketio_demo& app, socket& self, const args_view& args, ack_handle ack);
  static const std::unordered_map<std::string_view, handler>& handlers() {
    static const std::unordered_map<std::string_view, handler> table{
        {"message", [](socketio_demo&, socket& self, const args_view& args, ack_handle) { self.emit("message-back", args); }},
        {"message-with-ack", [](socketio_demo&, socket&, const args_view& args, ack_handle ack) { ack(args); }},
        {"echo",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           if (ack.wanted()) {
             ack(args);
           } else {
             self.emit("echo", args);
           }
         }},
        {"join",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           if (const std::string* room = room_of(args[0])) self.join(*room);
           ack();
         }},
        {"leave",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           if (const std::string* room = room_of(args[0])) self.leave(*room);
           ack();
         }},
        {"set-data",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           self.data() = args.empty() ? value() : args[0];
           ack();
         }},
        {"whoami",
         [](socketio_demo&, socket& self, const args_view&, ack_handle ack) {
           std::vector<std::string> rooms;
           for (auto& r : self.rooms()) {
             if (r != self.id()) rooms.push_back(r);
           }
           std::sort(rooms.begin(), rooms.end());
           ack(value::array({value{{"sid", self.id()}, {"rooms", rooms}, {"data", self.data()}, {"recovered", self.recovered()}}}));
         }},
        {"broadcast",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           self.nsp().emit("broadcast", args);
           ack();
         }},
        {"to-room",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           if (const std::string* room = room_of(args[0])) self.nsp().to(*room).emit("room-message", rest(args));
           ack();
         }},
        {"ask",
         [](socketio_demo& app, socket& self, const args_view& args, ack_handle) {
           ++app.pending_acks_;
           std::weak_ptr<socket> weak = self.weak_from_this();
           self.timeout(clamp_ms(args[0]))
               .emit_with_ack("ask", rest(args), [&app, weak](const socketio::operation_error& error, const args_view& answer) {
                 --app.pending_acks_;
                 if (const auto target = weak.lock()) {
                   target->emit("ask-result",
                                value::array({error ? value{{"ok", false}} : value{{"ok", true}, {"args", answer.values()}}}));
                 }
               });
         }},
        {"broadcast-ask",
         [](socketio_demo& app, socket& self, const args_view& args, ack_handle ack) {
           ++app.pending_acks_;
           self.nsp()
               .timeout(clamp_ms(args[0]))
               .emit_with_ack("ask", rest(args),
                              [&app, ack](const socketio::operation_error& error, std::vector<socketio::wire_args> responses) {
                                --app.pending_acks_;
                                value list = value::array();
                                for (const auto& r : responses) list.push_back(args_view(r)[0]);
                                ack(value::array({value{{"error", error ? value(*error) : value()}, {"responses", list}}}));
                              });
         }},
        {"fetch-sockets",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           const std::string* room = room_of(args[0]);
           if (!room) return void(ack(value::array({value::array()})));
           self.nsp().in(*room).fetch_sockets([ack](const socketio::operation_error&, std::vector<socketio::remote_socket> sockets) {
             std::vector<std::string> ids;
             for (const auto& r : sockets) ids.push_back(r.id());
             std::sort(ids.begin(), ids.end());
             ack(value::array({ids}));
           });
         }},
        {"sockets-join",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           const std::string* room = room_of(args[0]);
           const std::string* other = room_of(args[1]);
           if (room && other) self.nsp().in(*room).sockets_join(*other);
           ack();
         }},
        {"disconnect-room",
         [](socketio_demo&, socket& self, const args_view& args, ack_handle ack) {
           const std::string* room = room_of(args[0]);
           bool sender_included = false;
           if (room) {
             for (const auto& r : self.rooms()) sender_included = sender_included || r == *room;
             self.nsp().in(*room).disconnect_sockets();
           }
           if (!sender_included) ack();
         }},
        {"sse",
         [](socketio_demo& app, socket& self, const args_view& args, ack_handle ack) {
           ++app.pending_acks_;
           self.nsp().owner().of("/")->server_side_emit_with_ack(
               "ping-sse", value::array({args.empty() ? value() : args[0]}),
               [&app, ack](const socketio::operation_error& error, std::vector<socketio::wire_args> responses) {
                 --app.pending_acks_;
                 value names = value::array();
                 for (const auto& r : responses) names.push_back(args_view(r)[0]);
                 ack(value::array({value{{"node", app.node_name_}, {"error", error ? value(*error) : value()}, {"responses", names}}}));
               });
         }},
        {"stats",
         [](socketio_demo& app, socket&, const args_view&, ack_handle ack) {
           // This server's: every loop's sockets and rooms.
           value sockets = value::object();
           value connections = value::object();
           value rooms = value::object();
           const std::vector<std::string> names = app.server_->namespace_names();
           std::lock_guard<std::mutex> lock(app.mutex_);
           for (const std::string& name : names) {
             sockets[name] = app.sockets_[name];
             connections[name] = app.connections_[name];
             value by_room = value::object();
             for (const auto& [room, members] : app.rooms_[name]) {
               if (!members.empty()) by_room[room] = std::vector<std::string>(members.begin(), members.end());
             }
             rooms[name] = by_room;
           }
           ack(value::array({value{{"namespaces", names},
                                   {"sockets", sockets},
                                   {"connections", connections},
                                   {"rooms", rooms},
                                   {"pendingAcks", app.pending_acks_.load()}}}));
         }},
    };
    return table;
  }

  // The rooms of every loop, for "stats": the adapters' room events, the
  // sockets' own rooms left out.
  void on_room_event(socketio::namespace_runtime& nsp, socketio::room_event event, const std::string& room, const std::string& socket_id) {
    if (room == socket_id) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto& members = rooms_[nsp.name()];
    switch (event) {
      case socketio::room_event::join_room:
        members[room].insert(socket_id);
        break;
      case socketio::room_event::leave_room: {
        auto found = members.find(room);
        if (found != members.end()) {
          found->second.erase(socket_id);
          if (found->second.empty()) members.erase(found);
        }
        break;
      }
      case socketio::room_event::create_room:
      case socketio::room_event::delete_room:
        break;
    }
  }

  std::string node_name_;
  connect_listener on_connect_;
  disconnect_listener on_disconnect_;
  socketio::server* server_ = nullptr;
  std::atomic<long> pending_acks_{0};
  std::mutex mutex_;                                                           // what follows, shared by the loops
  std::map<std::string, long> connections_;                                    // since start, per namespace
  std::map<std::string, long> sockets_;                                        // connected now
  std::map<std::string, std::map<std::string, std::set<std::string>>> rooms_;  // namespace -> room -> members
};

}  // namespace eio::tool
