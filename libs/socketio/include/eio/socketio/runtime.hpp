// eio::socketio server: the Socket.IO server on one event loop.
//
// A runtime is bound to one loop's Engine.IO core (eio::server) and to the
// application's eio::socketio::server (shared by every loop). It keeps its
// per-connection state in the core's user-data slot (set at the
// connection_event, freed at the close_event: do not use that slot for
// anything else), one decoder for the loop and one assembler per connection.
// It never reads a clock: every input carries `now`, on the core's clock.
//
// What an adapter (an event loop's owner, e.g. the wiring on eio::poco_server)
// does, on the loop's thread:
//
//   1. Create one runtime per loop, after the loop's core:
//        runtime_options o;
//        o.cluster = &cluster.transport(k);       // several loops: in_process_cluster.hpp
//        o.wall_clock_offset = epoch_minus_steady;  // system_clock - steady_clock, in ms
//        o.secure = tls;
//        runtime rt(io, core, o);
//   2. Feed it every event of the core, in order, as they are taken:
//        while (auto e = core.next_event()) rt.on_event(*e, now);
//      (a message_event's data is read during the call only).
//   3. Timers: wake at the earlier of core.next_deadline() and
//      rt.next_deadline(); call rt.on_timeout(now) (and the core's own).
//   4. Cluster messages from other loops arrive as tasks the transport posted
//      (in_process_cluster's post function): run them on the loop.
//   5. After each of these calls, carry out the core's actions as usual (the
//      runtime's emits are core.send()/broadcast() calls) and feed the
//      events they queued.
//   6. Work of your own run on the loop (a task another thread posted that
//      emits, say): give the runtime the time first, set_now(now), since
//      emits and set_timer() use the last time it was given.
//   Destroy the runtime before its core (it releases its user data there).
//
// Everything else (rooms, acks, timeouts, recovery, broadcasts over loops) is
// the runtime's.
#pragma once

#include <eio/server.hpp>
#include <eio/socketio/cluster.hpp>
#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace eio::socketio {

class adapter;
namespace detail {
struct runtime_impl;
}

struct runtime_options {
  // The transport to the other nodes (loops) of a cluster; null: this loop
  // is the only node. The runtime registers itself as its receiver.
  cluster_transport* cluster = nullptr;
  // Milliseconds since the Unix epoch minus the core's `now` at the same
  // instant (e.g. system_clock minus steady_clock), for handshake.issued
  // and handshake.time.
  std::chrono::milliseconds wall_clock_offset{0};
  // The loop serves TLS (handshake.secure).
  bool secure = false;
  // Makes each namespace's adapter on this loop; default: cluster_adapter
  // over `cluster` when set, else in_memory_adapter.
  std::function<std::unique_ptr<adapter>(namespace_runtime& nsp)> make_adapter;
};

// Names a timer of set_timer().
struct timer_id {
  std::chrono::milliseconds at{0};
  std::uint64_t seq = 0;
};

// The runtime's state, for tests and monitoring.
struct runtime_stats {
  std::size_t connections = 0;      // Engine.IO sessions known
  std::size_t sockets = 0;          // connected sockets, all namespaces
  std::size_t joining = 0;          // namespaces being joined (namespace check, middleware)
  std::size_t rooms = 0;            // rooms in this loop's adapters
  std::size_t pending_binary = 0;   // binary packets waiting for attachments
  std::size_t pending_acks = 0;     // acks sockets wait for
  std::size_t timers = 0;
};

class runtime final : public cluster_receiver {
public:
  runtime(server& config, eio::server& core, runtime_options options = {});
  ~runtime() override;
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // ---- inputs
  // An event of the core (every kind may be given; the runtime uses
  // connection, message and close events).
  void on_event(eio::event& e, std::chrono::milliseconds now);
  // The earliest time on_timeout must be called, if any timer is armed
  // (connect timeouts, attachment deadlines, ack timeouts, cluster requests,
  // the application's timers).
  std::optional<std::chrono::milliseconds> next_deadline() const noexcept;
  // Runs every timer due at or before `now`.
  void on_timeout(std::chrono::milliseconds now);
  // A message from another node (called by the cluster transport's task).
  void on_cluster_message(const cluster_message& message, std::chrono::milliseconds now) override;

  // ---- for the application (on this loop)
  // The namespace on this loop; null when the server has no such namespace
  // (children of parents are created by CONNECTs and server::of).
  namespace_runtime* of(std::string_view name);
  // Runs `fn` on this loop `delay` after now (the last input's time).
  timer_id set_timer(std::chrono::milliseconds delay, std::function<void()> fn);
  // False when it already ran or was cancelled.
  bool cancel_timer(timer_id id);
  // The loop's time as last given (by any input or set_now).
  std::chrono::milliseconds now() const noexcept;
  void set_now(std::chrono::milliseconds now) noexcept;
  eio::server& core() const noexcept;
  server& config() const noexcept;
  runtime_stats stats() const;

private:
  friend struct detail::access;
  std::unique_ptr<detail::runtime_impl> impl_;
};

}  // namespace eio::socketio
