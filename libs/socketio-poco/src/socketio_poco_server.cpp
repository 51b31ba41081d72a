// eio::socketio on eio::poco_server (way A) and eio::poco_attached_server
// (way B): the wiring runtime.hpp describes, and nothing else.
#include <eio/socketio/in_process_cluster.hpp>
#include <eio/socketio_poco_server.hpp>

#include <chrono>
#include <vector>

namespace eio {
namespace {

// system_clock minus steady_clock, in ms: what the runtimes add to the
// cores' `now` for handshake.issued and handshake.time (both adapters run
// their cores on steady_clock milliseconds).
std::chrono::milliseconds wall_clock_offset() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()) -
         duration_cast<milliseconds>(steady_clock::now().time_since_epoch());
}

}  // namespace

// ---------------------------------------------------------------- way A

struct poco_socketio_server::impl {
  socketio::server& io;
  poco_server::event_handler on_event;
  // Destroyed in reverse: the runtimes first (they release their user data
  // on the cores and leave the cluster), then the cluster, then the loops.
  std::unique_ptr<poco_server> engine;
  std::unique_ptr<socketio::in_process_cluster> cluster;
  std::vector<loop_cluster_node> nodes;  // one per loop when given a factory
  std::vector<std::unique_ptr<socketio::runtime>> runtimes;  // one per loop, made on that loop
  const std::chrono::milliseconds offset = wall_clock_offset();

  impl(socketio::server& config, poco_server_options options, poco_server::event_handler extra,
       cluster_node_factory make_node)
      : io(config), on_event(std::move(extra)) {
    loop_hooks hooks;
    hooks.next_deadline = [this](loop_context& c) { return runtime_of(c).next_deadline(); };
    hooks.on_timeout = [this](loop_context& c) { runtime_of(c).on_timeout(c.now); };
    engine = std::make_unique<poco_server>(
        std::move(options),
        [this](loop_context& c, event& e) {
          runtime_of(c).on_event(e, c.now);
          if (on_event) on_event(c, e);
        },
        std::move(hooks));
    const unsigned loops = engine->loop_count();
    runtimes.resize(loops);
    if (make_node) {
      for (unsigned k = 0; k < loops; ++k) {
        nodes.push_back(make_node(k, [this, k](socketio::loop_task task) {
          engine->post(k, [this, task = std::move(task)](loop_context& c) {
            runtime_of(c).set_now(c.now);
            task(c.now);
          });
        }));
      }
    } else if (loops > 1) {
      cluster = std::make_unique<socketio::in_process_cluster>(loops, [this](unsigned k, socketio::loop_task task) {
        engine->post(k, [this, task = std::move(task)](loop_context& c) {
          runtime_of(c).set_now(c.now);
          task(c.now);
        });
      });
    }
    // Each loop makes its runtime at its first turn, when it asks the hooks
    // for a deadline: before any event, and before any cluster message
    // (the cluster counts on an answer from every loop).
  }

  // The runtime of the loop `c` runs on; made there, the first time.
  socketio::runtime& runtime_of(loop_context& c) {
    std::unique_ptr<socketio::runtime>& rt = runtimes[c.loop];
    if (!rt) {
      socketio::runtime_options o;
      o.cluster = cluster ? &cluster->transport(c.loop) : nullptr;
      if (!nodes.empty()) {
        o.cluster = nodes[c.loop].transport.get();
        o.make_adapter = nodes[c.loop].make_adapter;
      }
      o.wall_clock_offset = offset;
      o.secure = engine->tls();
      rt = std::make_unique<socketio::runtime>(io, c.core, std::move(o));
    }
    return *rt;
  }
};

poco_socketio_server::poco_socketio_server(socketio::server& io, poco_server_options options,
                                           poco_server::event_handler on_event, cluster_node_factory nodes)
    : impl_(std::make_unique<impl>(io, std::move(options), std::move(on_event), std::move(nodes))) {}

poco_socketio_server::~poco_socketio_server() = default;

poco_server& poco_socketio_server::engine_io() noexcept { return *impl_->engine; }

void poco_socketio_server::run() { impl_->engine->run(); }

void poco_socketio_server::stop() noexcept { impl_->engine->stop(); }

bool poco_socketio_server::post(unsigned loop, std::function<void(socketio::runtime& rt)> work) {
  return impl_->engine->post(loop, [this, work = std::move(work)](loop_context& c) {
    socketio::runtime& rt = impl_->runtime_of(c);
    rt.set_now(c.now);
    work(rt);
  });
}

// ---------------------------------------------------------------- way B

struct poco_socketio_attachment::impl {
  socketio::server& io;
  std::unique_ptr<socketio::runtime> runtime;  // made under the attached server's lock, with its core, at the first event
  bool closing = false;                        // under that lock: set as the runtime goes, none is made again
  std::unique_ptr<poco_attached_server> attached;
  const std::chrono::milliseconds offset = wall_clock_offset();

  impl(socketio::server& config, poco_attached_server_options options) : io(config) {
    // The timer hooks never make a runtime: before the first event there is
    // nothing to time, and after the runtime went there must be none.
    timer_hooks hooks;
    hooks.next_deadline = [this](server&) { return runtime ? runtime->next_deadline() : std::nullopt; };
    hooks.on_timeout = [this](server&, millis now) {
      if (runtime) runtime->on_timeout(now);
    };
    attached = std::make_unique<poco_attached_server>(
        std::move(options),
        [this](server& core, event& e, millis now) {
          if (socketio::runtime* rt = runtime_of(core)) rt->on_event(e, now);
        },
        std::move(hooks));
  }

  ~impl() {
    // Close every session while the runtime hears of it, then let the
    // runtime go before the core it holds user data in; the attached
    // server's destructor then cuts its threads off from these callbacks.
    attached->shutdown();
    attached->with_server([this](server&, millis) {
      closing = true;
      runtime.reset();
    });
  }

  // Under the attached server's lock; null once closing.
  socketio::runtime* runtime_of(server& core) {
    if (closing) return nullptr;
    if (!runtime) {
      socketio::runtime_options o;
      o.wall_clock_offset = offset;
      runtime = std::make_unique<socketio::runtime>(io, core, std::move(o));
    }
    return runtime.get();
  }
};

poco_socketio_attachment::poco_socketio_attachment(socketio::server& io, poco_attached_server_options options)
    : impl_(std::make_unique<impl>(io, std::move(options))) {}

poco_socketio_attachment::~poco_socketio_attachment() = default;

poco_attached_server& poco_socketio_attachment::engine_io() noexcept { return *impl_->attached; }

void poco_socketio_attachment::with_runtime(const std::function<void(socketio::runtime& rt)>& work) {
  impl_->attached->with_server([&](server& core, millis now) {
    if (socketio::runtime* rt = impl_->runtime_of(core)) {
      rt->set_now(now);
      work(*rt);
    }
  });
}

}  // namespace eio
