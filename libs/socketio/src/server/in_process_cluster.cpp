// The in-process cluster transport: each loop a node, messages as tasks
// posted to the loops.
#include <eio/socketio/in_process_cluster.hpp>

#include <cstdio>
#include <random>

namespace eio::socketio {

class in_process_cluster::node final : public cluster_transport {
public:
  node(in_process_cluster& owner, unsigned index, std::string uid)
      : owner_(owner), index_(index), uid_(std::move(uid)) {}

  const std::string& uid() const override { return uid_; }

  void publish(std::shared_ptr<const cluster_message> message) override {
    for (unsigned k = 0; k < owner_.loops(); ++k) {
      if (k != index_) owner_.deliver(k, message);
    }
  }

  void publish_response(const std::string& requester_uid, std::shared_ptr<const cluster_message> response) override {
    for (unsigned k = 0; k < owner_.loops(); ++k) {
      if (owner_.nodes_[k]->uid_ == requester_uid) return owner_.deliver(k, std::move(response));
    }
  }

  std::size_t node_count() const override { return owner_.loops(); }
  void set_receiver(cluster_receiver* receiver) override { receiver_.store(receiver); }
  cluster_receiver* receiver() const noexcept { return receiver_.load(); }

private:
  in_process_cluster& owner_;
  unsigned index_;
  std::string uid_;
  std::atomic<cluster_receiver*> receiver_{nullptr};
};

in_process_cluster::in_process_cluster(unsigned loops, post_function post) : post_(std::move(post)) {
  // cluster-adapter.ts randomId: 8 random bytes in hex.
  std::random_device device;
  for (unsigned k = 0; k < loops; ++k) {
    char uid[17];
    std::snprintf(uid, sizeof uid, "%08x%08x", static_cast<unsigned>(device()), static_cast<unsigned>(device()));
    nodes_.push_back(std::make_unique<node>(*this, k, uid));
  }
}

in_process_cluster::~in_process_cluster() = default;

cluster_transport& in_process_cluster::transport(unsigned loop) { return *nodes_.at(loop); }

void in_process_cluster::deliver(unsigned loop, std::shared_ptr<const cluster_message> message) {
  node* target = nodes_[loop].get();
  post_(loop, [target, message = std::move(message)](std::chrono::milliseconds now) {
    if (cluster_receiver* r = target->receiver()) r->on_cluster_message(*message, now);
  });
}

}  // namespace eio::socketio
