// eio::socketio on Poco Net: an eio::socketio::server served by
// eio::poco_server (way A: event loops) or attached to an application's
// Poco::Net::HTTPServer through eio::poco_attached_server (way B).
//
// Way A, poco_socketio_server: one eio::socketio::runtime per loop, bound to
// that loop's core; the loops joined by an in_process_cluster (a broadcast,
// fetch_sockets or sockets_join reaches the sockets of every loop); the
// runtimes' timers run on their loops (poco_server's loop_hooks).
//
//   eio::socketio::server io;
//   io.on_connection([](eio::socketio::socket& s) {
//     s.on("chat", [](eio::socketio::socket& s, const eio::socketio::args_view& args, eio::socketio::ack_handle ack) {
//       s.broadcast().emit("chat", args);
//       ack();
//     });
//   });
//   eio::poco_server_options options;
//   options.port = 3000;
//   options.core.path = "/socket.io/";
//   eio::poco_socketio_server server(io, options);
//   server.run();  // until server.stop()
//
// Way B, poco_socketio_attachment: one runtime on the attached server's
// single core, its timers run by the attached server's timer thread; hand
// its request handler factory to your HTTPServer (see poco_attached_server.hpp
// for the threads this way holds).
#pragma once

#include <eio/poco_attached_server.hpp>
#include <eio/poco_server.hpp>
#include <eio/socketio/in_process_cluster.hpp>
#include <eio/socketio/runtime.hpp>
#include <eio/socketio/server.hpp>

#include <functional>
#include <memory>

namespace eio {

// A loop's node in a cluster that reaches past this process (e.g.
// eio::socketio_redis::redis_node): its transport, and the adapter its
// namespaces get (null: cluster_adapter over the transport).
struct loop_cluster_node {
  std::shared_ptr<socketio::cluster_transport> transport;
  std::function<std::unique_ptr<socketio::adapter>(socketio::namespace_runtime& nsp)> make_adapter;
};
// Makes loop `loop`'s node; `post` runs a task on that loop (any thread).
using cluster_node_factory =
    std::function<loop_cluster_node(unsigned loop, std::function<void(socketio::loop_task task)> post)>;

class poco_socketio_server {
public:
  // Binds and listens (throws as poco_server does). `io` must outlive this.
  // options.core.path is the Socket.IO path: set it ("/socket.io/").
  // `on_event`, when given, also sees every Engine.IO event of every loop,
  // after the Socket.IO runtime (for logs; do not keep message views).
  // `nodes`, when given, makes each loop a node of its own in an outer
  // cluster (every loop then reaches the others through it too) instead of
  // joining the loops with an in_process_cluster.
  poco_socketio_server(socketio::server& io, poco_server_options options,
                       poco_server::event_handler on_event = {}, cluster_node_factory nodes = {});
  ~poco_socketio_server();
  poco_socketio_server(const poco_socketio_server&) = delete;
  poco_socketio_server& operator=(const poco_socketio_server&) = delete;

  // The Engine.IO server under it: port(), loop_count(), tls(), post().
  poco_server& engine_io() noexcept;
  // Runs the loops until stop(), as poco_server::run.
  void run();
  // Safe from any thread and from a signal handler.
  void stop() noexcept;
  // Safe from any thread: runs `work` on loop `loop` with its runtime (for
  // the application's own work on sockets of that loop).
  bool post(unsigned loop, std::function<void(socketio::runtime& rt)> work);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

class poco_socketio_attachment {
public:
  // `io` must outlive this. options.core.path is the Socket.IO path.
  poco_socketio_attachment(socketio::server& io, poco_attached_server_options options);
  ~poco_socketio_attachment();
  poco_socketio_attachment(const poco_socketio_attachment&) = delete;
  poco_socketio_attachment& operator=(const poco_socketio_attachment&) = delete;

  // The attached Engine.IO server: handles(), create_handler(), shutdown().
  poco_attached_server& engine_io() noexcept;
  // Runs `work` with the runtime, under the attached server's lock.
  void with_runtime(const std::function<void(socketio::runtime& rt)>& work);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace eio
