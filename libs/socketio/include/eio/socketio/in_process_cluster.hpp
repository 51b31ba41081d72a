// eio::socketio server: the cluster transport between the event loops of one
// process. Each loop is a node; a message for loop k becomes a task posted
// to loop k (eio::poco_server::post does exactly that), run there with that
// loop's clock. Messages are shared, not copied, between loops: a broadcast
// is encoded once for all of them.
//
//   eio::socketio::in_process_cluster cluster(loops, [&](unsigned k, eio::socketio::loop_task task) {
//     poco.post(k, [task = std::move(task)](eio::loop_context& c) { task(c.now); });
//   });
//   // on loop k: runtime_options{.cluster = &cluster.transport(k)}
//
// Every loop must have its runtime attached (the runtime does it itself when
// given the transport): requests count on an answer from each loop, and
// time out without one.
#pragma once

#include <eio/socketio/cluster.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace eio::socketio {

// Work for one loop, run on its thread with its clock.
using loop_task = std::function<void(std::chrono::milliseconds now)>;
// Runs `task` on loop `loop` soon, in order of posting; safe from any thread.
using post_function = std::function<void(unsigned loop, loop_task task)>;

class in_process_cluster {
public:
  in_process_cluster(unsigned loops, post_function post);
  ~in_process_cluster();
  in_process_cluster(const in_process_cluster&) = delete;
  in_process_cluster& operator=(const in_process_cluster&) = delete;

  unsigned loops() const noexcept { return static_cast<unsigned>(nodes_.size()); }
  // The transport of loop `loop`, for that loop's runtime_options::cluster.
  cluster_transport& transport(unsigned loop);

private:
  class node;
  void deliver(unsigned loop, std::shared_ptr<const cluster_message> message);

  post_function post_;
  std::vector<std::unique_ptr<node>> nodes_;
};

}  // namespace eio::socketio
