// eio::socketio::client::poco_manager: the loop thread that owns the model,
// the handles that reach it from any thread (include/eio/socketio_poco_client.hpp).
#include <eio/socketio_poco_client.hpp>

#include <eio/poco_client.hpp>

#include <Poco/URI.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace eio::socketio::client {
namespace {

millis steady_now() noexcept {
  return std::chrono::duration_cast<millis>(std::chrono::steady_clock::now().time_since_epoch());
}

struct parsed_url {
  endpoint where;
  std::string nsp = "/";
  std::vector<std::pair<std::string, std::string>> query;
};

// The endpoint as eio::parse_endpoint reads it (scheme, host, port, query
// without Engine.IO's own parameters); its path is the namespace here, not
// the Engine.IO path (socket.io-client's io(url)).
parsed_url parse_url(std::string_view url) {
  std::string error;
  std::optional<endpoint> where = parse_endpoint(url, error);
  if (!where) throw std::invalid_argument(error);
  parsed_url out;
  out.query = where->query;
  out.where = std::move(*where);
  const std::string path = Poco::URI(std::string(url)).getPath();  // parse_endpoint read it already
  if (!path.empty()) out.nsp = path;
  return out;
}

}  // namespace

struct poco_manager::impl {
  impl(parsed_url url, const poco_manager_options& options)
      : core(core_options(url, options)),
        url_nsp(std::move(url.nsp)),
        io(std::move(url.where), io_options(options), [this](poco_client_io_report r) { post_report(std::move(r)); }) {}

  static manager_options core_options(const parsed_url& url, const poco_manager_options& options) {
    manager_options c = options.core;
    c.auto_connect = false;  // connect() only once the listeners are in place
    std::vector<std::pair<std::string, std::string>> query = url.query;
    query.insert(query.end(), c.query.begin(), c.query.end());
    c.query = std::move(query);
    return c;
  }

  static poco_client_options io_options(const poco_manager_options& options) {
    poco_client_options o;
    o.headers = options.core.extra_headers;
    o.connect_timeout = options.connect_timeout;
    o.request_timeout = options.request_timeout;
    o.insecure = options.insecure;
    o.max_message_bytes = options.max_message_bytes;
    return o;
  }

  bool on_loop() const noexcept { return loop_id.load() == std::this_thread::get_id(); }

  void post(std::function<void(millis)> input) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) return;
      inputs.push_back(std::move(input));
    }
    wake.notify_one();
  }

  // An outcome from a worker of the I/O half, for the model.
  void post_report(poco_client_io_report r) {
    post([this, r = std::move(r)](millis now) mutable {
      if (auto* x = std::get_if<http_exchange>(&r)) {
        if (x->status == 0) {
          core.http_failed(x->request_id, now);
        } else {
          core.http_response_received(x->request_id, x->status, x->headers, std::move(x->body), now);
        }
      } else if (auto* hs = std::get_if<websocket_handshake>(&r)) {
        if (hs->accepted) {
          core.websocket_opened(hs->connection, now);
        } else {
          core.websocket_failed(hs->connection, now);
        }
      } else if (auto* m = std::get_if<websocket_received>(&r)) {
        core.websocket_message(m->connection, m->kind, m->data, now);
      } else if (auto* end = std::get_if<websocket_ended>(&r)) {
        core.websocket_closed(end->connection, now);
      }
    });
  }

  void drive() {
    loop_id.store(std::this_thread::get_id());
    for (;;) {
      std::deque<std::function<void(millis)>> batch;
      {
        std::unique_lock<std::mutex> lock(mutex);
        const std::optional<millis> due = core.next_deadline();  // the loop alone changes the model
        const auto ready = [&] { return stopping || !inputs.empty(); };
        if (due) {
          wake.wait_until(lock, std::chrono::steady_clock::time_point(*due), ready);
        } else {
          wake.wait(lock, ready);
        }
        if (stopping) return;
        batch.swap(inputs);
      }
      {
        std::lock_guard<std::mutex> model(model_mutex);
        for (auto& input : batch) {
          batch_now = steady_now();
          input(batch_now);
        }
        batch_now = steady_now();
        if (const auto due = core.next_deadline(); due && *due <= batch_now) core.on_timeout(batch_now);
        carry_out();
      }
      io.reap();
    }
  }

  void carry_out() {
    // A long-poll GET is held by the server until it has something to
    // send, at the latest the next ping.
    millis long_poll{0};
    if (const ::eio::client* engine = core.engine(); engine && engine->handshake()) {
      long_poll = engine->handshake()->ping_interval + engine->handshake()->ping_timeout;
    }
    while (auto a = core.next_action()) io.perform(std::move(*a), long_poll);
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
      inputs.clear();
    }
    wake.notify_one();
    if (loop.joinable()) loop.join();
    io.stop();
    std::map<std::uint64_t, std::shared_ptr<std::promise<value>>> left;
    {
      std::lock_guard<std::mutex> lock(promise_mutex);
      left.swap(promises);
    }
    for (auto& [key, p] : left) {
      p->set_exception(std::make_exception_ptr(std::system_error(make_error_code(errc::shut_down))));
    }
  }

  manager core;  // the loop's; other threads read it under model_mutex
  const std::string url_nsp;
  std::mutex model_mutex;
  millis batch_now{0};  // of the input the loop is running

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void(millis)>> inputs;
  bool stopping = false;
  std::thread loop;
  std::atomic<std::thread::id> loop_id{};

  std::mutex promise_mutex;
  std::uint64_t last_promise = 0;
  std::map<std::uint64_t, std::shared_ptr<std::promise<value>>> promises;  // emit_with_ack futures waiting

  poco_client_io io;  // last: its workers post into the members above until it stops
};

// ------------------------------------------------------------ poco_manager

poco_manager::poco_manager(std::string_view url, poco_manager_options options)
    : impl_(std::make_unique<impl>(parse_url(url), options)) {
  impl_->loop = std::thread([this] { impl_->drive(); });
}

poco_manager::~poco_manager() { impl_->stop(); }

manager& poco_manager::model() noexcept { return impl_->core; }
millis poco_manager::loop_now() const noexcept { return impl_->batch_now; }
bool poco_manager::on_loop_thread() const noexcept { return impl_->on_loop(); }
const std::string& poco_manager::url_namespace() const noexcept { return impl_->url_nsp; }
void poco_manager::lock_model() const { impl_->model_mutex.lock(); }
void poco_manager::unlock_model() const { impl_->model_mutex.unlock(); }

void poco_manager::post(std::function<void(manager&, millis)> fn) {
  if (on_loop_thread()) return fn(impl_->core, impl_->batch_now);
  impl_->post([this, fn = std::move(fn)](millis now) { fn(impl_->core, now); });
}

std::uint64_t poco_manager::keep(std::shared_ptr<std::promise<value>> promise) {
  std::lock_guard<std::mutex> lock(impl_->promise_mutex);
  impl_->promises.emplace(++impl_->last_promise, std::move(promise));
  return impl_->last_promise;
}

std::shared_ptr<std::promise<value>> poco_manager::release(std::uint64_t key) {
  std::lock_guard<std::mutex> lock(impl_->promise_mutex);
  const auto it = impl_->promises.find(key);
  if (it == impl_->promises.end()) return nullptr;
  std::shared_ptr<std::promise<value>> p = std::move(it->second);
  impl_->promises.erase(it);
  return p;
}

poco_socket poco_manager::socket(const std::string& nsp, socket_options options) {
  if (nsp.empty() || nsp.front() != '/' || nsp.find(',') != std::string::npos) {
    throw std::invalid_argument("a namespace starts with '/' and holds no ',': \"" + nsp + "\"");
  }
  call([&nsp, &options](manager& m, millis now) { m.socket(nsp, std::move(options), now); });
  return poco_socket(*this, nsp);
}

poco_socket poco_manager::socket(const std::string& nsp, value auth) {
  socket_options options;
  options.auth = std::move(auth);
  return socket(nsp, std::move(options));
}

poco_socket poco_manager::socket() { return socket(impl_->url_nsp); }

void poco_manager::open() {
  post([](manager& m, millis now) { m.open(now); });
}

void poco_manager::close() {
  post([](manager& m, millis now) { m.close(now); });
}

listener_id poco_manager::on_open(std::function<void()> fn) {
  return call([&](manager& m, millis) { return m.on_open(std::move(fn)); });
}
listener_id poco_manager::on_close(std::function<void(disconnect_reason, const std::string&)> fn) {
  return call([&](manager& m, millis) { return m.on_close(std::move(fn)); });
}
listener_id poco_manager::on_error(std::function<void(const error_info&)> fn) {
  return call([&](manager& m, millis) { return m.on_error(std::move(fn)); });
}
listener_id poco_manager::on_reconnect_attempt(std::function<void(std::uint64_t)> fn) {
  return call([&](manager& m, millis) { return m.on_reconnect_attempt(std::move(fn)); });
}
listener_id poco_manager::on_reconnect(std::function<void(std::uint64_t)> fn) {
  return call([&](manager& m, millis) { return m.on_reconnect(std::move(fn)); });
}
listener_id poco_manager::on_reconnect_error(std::function<void(const error_info&)> fn) {
  return call([&](manager& m, millis) { return m.on_reconnect_error(std::move(fn)); });
}
listener_id poco_manager::on_reconnect_failed(std::function<void()> fn) {
  return call([&](manager& m, millis) { return m.on_reconnect_failed(std::move(fn)); });
}
bool poco_manager::off(listener_id id) {
  return call([id](manager& m, millis) { return m.off(id); });
}

// ------------------------------------------------------------ poco_socket

// Runs `fn` on the loop with the model's socket (which exists: the handle
// was made after it).
template <typename F>
auto poco_socket::call(F&& fn) const {
  return io_->call([this, &fn](manager& m, millis now) { return fn(*m.find(nsp_), now); });
}

void poco_socket::connect() {
  io_->post([nsp = nsp_](manager& m, millis now) { m.find(nsp)->connect(now); });
}

void poco_socket::disconnect() {
  io_->post([nsp = nsp_](manager& m, millis now) { m.find(nsp)->disconnect(now); });
}

listener_id poco_socket::on(std::string event, event_listener fn) {
  return call([&](class socket& s, millis) { return s.on(std::move(event), std::move(fn)); });
}
listener_id poco_socket::on(std::string event, plain_event_listener fn) {
  return call([&](class socket& s, millis) { return s.on(std::move(event), std::move(fn)); });
}
listener_id poco_socket::once(std::string event, event_listener fn) {
  return call([&](class socket& s, millis) { return s.once(std::move(event), std::move(fn)); });
}
listener_id poco_socket::once(std::string event, plain_event_listener fn) {
  return call([&](class socket& s, millis) { return s.once(std::move(event), std::move(fn)); });
}
listener_id poco_socket::on_any(any_listener fn) {
  return call([&](class socket& s, millis) { return s.on_any(std::move(fn)); });
}
listener_id poco_socket::on_connect(std::function<void()> fn) {
  return call([&](class socket& s, millis) { return s.on_connect(std::move(fn)); });
}
listener_id poco_socket::on_connect_error(std::function<void(const error_info&)> fn) {
  return call([&](class socket& s, millis) { return s.on_connect_error(std::move(fn)); });
}
listener_id poco_socket::on_disconnect(std::function<void(disconnect_reason, const std::string&)> fn) {
  return call([&](class socket& s, millis) { return s.on_disconnect(std::move(fn)); });
}
bool poco_socket::off(listener_id id) {
  return call([id](class socket& s, millis) { return s.off(id); });
}
void poco_socket::off(std::string event) {
  call([&](class socket& s, millis) { s.off(event); });
}
void poco_socket::off_all() {
  call([](class socket& s, millis) { s.off_all(); });
}

std::error_code poco_socket::emit(std::string_view event, const value& args, const emit_options& options) {
  outgoing_event e;
  if (const std::error_code error = make_outgoing_event(event, args, e)) return error;
  if (io_->on_loop_thread()) return io_->model().find(nsp_)->emit(std::move(e), io_->loop_now(), options);
  io_->post([nsp = nsp_, e = std::move(e), options](manager& m, millis now) mutable {
    (void)m.find(nsp)->emit(std::move(e), now, options);
  });
  return {};
}

void poco_socket::emit_with_ack(std::string_view event, const value& args, ack_callback callback,
                                const emit_options& options) {
  outgoing_event e;
  const std::error_code error = make_outgoing_event(event, args, e);
  io_->post([nsp = nsp_, error, e = std::move(e), callback = std::move(callback), options](manager& m, millis now) mutable {
    if (error) return callback(error, value::array());
    const std::error_code refused = m.find(nsp)->emit_with_ack(std::move(e), callback, now, options);
    if (refused) callback(refused, value::array());
  });
}

std::future<value> poco_socket::emit_with_ack(std::string_view event, const value& args, const emit_options& options) {
  auto promise = std::make_shared<std::promise<value>>();
  std::future<value> result = promise->get_future();
  const std::uint64_t key = io_->keep(promise);
  poco_manager* io = io_;
  emit_with_ack(event, args, [io, key](std::error_code error, const value& answer) {
    const std::shared_ptr<std::promise<value>> p = io->release(key);
    if (!p) return;
    if (error) {
      p->set_exception(std::make_exception_ptr(std::system_error(error)));
    } else {
      p->set_value(answer);
    }
  }, options);
  return result;
}

bool poco_socket::connected() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->connected(); });
}
bool poco_socket::active() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->active(); });
}
bool poco_socket::recovered() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->recovered(); });
}
std::optional<std::string> poco_socket::id() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->id(); });
}
std::optional<std::string> poco_socket::pid() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->pid(); });
}
std::size_t poco_socket::buffered_packets() const {
  return io_->read([this](const manager& m) { return m.find(nsp_)->buffered_packets(); });
}

}  // namespace eio::socketio::client
