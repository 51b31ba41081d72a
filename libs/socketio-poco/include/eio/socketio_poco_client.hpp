// eio::socketio::client::poco_manager: the Socket.IO client on Poco Net.
//
// It runs an eio::socketio::client::manager (the sans-I/O model of
// socket.io-client, eio/socketio/client/manager.hpp) on a thread of its own
// (the loop) and carries out its Engine.IO actions with eio::poco_client_io:
// HTTP long-polling and WebSocket, TLS verified unless `insecure`, extra
// headers on every request and WebSocket handshake.
//
//   eio::socketio::client::poco_manager io("https://chat.example");
//   auto socket = io.socket("/");
//   socket.on("chat", [](const eio::socketio::value& args) { ... });  // on the loop thread
//   socket.on_connect([socket]() mutable { socket.emit("hello", {"world"}); });
//   socket.connect();                                                 // nothing connects before
//   eio::socketio::value answer = socket.emit_with_ack("sum", {1, 2}).get();
//
// Threads. Every listener runs on the loop thread, one at a time, as the
// model calls it. Every method here may be called from any thread. From the
// loop thread (inside a listener) a call takes effect at once, as a call on
// the model would; from another thread it is handed to the loop, in order
// with the caller's other calls, and the methods that return something
// wait for the loop to answer (briefly: the loop never waits for a user
// thread). Do not wait in a listener for something only the loop can do
// (the future of emit_with_ack, say): the loop is the one waiting.
//
// Listeners get the model's ack_responder: call it in the listener, or
// later with post() (it touches the model, which belongs to the loop).
//
// Unlike io(), creating a socket does not connect it: register its
// listeners, then connect(), so that no event can come before its listener.
#pragma once

#include <eio/socketio/client/manager.hpp>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace eio::socketio::client {

struct poco_manager_options {
  // The model's options: path ("/socket.io/"), query, extra_headers,
  // transports, upgrade, reconnection, timeout, random... auto_connect is
  // ignored (see above).
  manager_options core;
  millis connect_timeout{10'000};  // TCP connect and TLS handshake, per connection
  millis request_timeout{10'000};  // an HTTP exchange or WebSocket handshake after the connect
  bool insecure = false;           // TLS: accept any certificate and host name
  // The largest WebSocket message taken from the server; past it the
  // connection closes with 1009.
  std::size_t max_message_bytes = 100 * 1024 * 1024;
};

class poco_manager;

// A handle to one namespace's socket of a poco_manager: cheap to copy, valid
// while the poco_manager lives. Each method is the model socket's of the
// same name (eio/socketio/client/manager.hpp), from any thread.
class poco_socket {
public:
  const std::string& nsp() const noexcept { return nsp_; }

  void connect();
  void disconnect();

  listener_id on(std::string event, event_listener fn);
  listener_id on(std::string event, plain_event_listener fn);
  listener_id once(std::string event, event_listener fn);
  listener_id once(std::string event, plain_event_listener fn);
  listener_id on_any(any_listener fn);
  listener_id on_connect(std::function<void()> fn);
  listener_id on_connect_error(std::function<void(const error_info&)> fn);
  listener_id on_disconnect(std::function<void(disconnect_reason reason, const std::string& description)> fn);
  bool off(listener_id id);
  void off(std::string event);
  void off_all();

  // From the loop thread: the model's result. From another thread: the
  // errors of make_outgoing_event (checked on the calling thread, which
  // also does the JSON encoding); send_buffer_full and volatile_dropped are
  // then not reported.
  std::error_code emit(std::string_view event, const value& args, const emit_options& options = {});
  // The server's answer (the arguments array). On failure the future holds
  // a std::system_error: errc::ack_timeout, errc::disconnected,
  // errc::send_buffer_full, errc::volatile_dropped, errc::shut_down (the
  // poco_manager was destroyed first), or reserved_event_name / invalid_utf8.
  std::future<value> emit_with_ack(std::string_view event, const value& args, const emit_options& options = {});
  // The same with a callback, called once on the loop thread (also for an
  // error at once, unlike the model's).
  void emit_with_ack(std::string_view event, const value& args, ack_callback callback, const emit_options& options = {});

  // The model socket's state now.
  bool connected() const;
  bool active() const;
  bool recovered() const;
  std::optional<std::string> id() const;
  std::optional<std::string> pid() const;
  std::size_t buffered_packets() const;

private:
  friend class poco_manager;
  poco_socket(poco_manager& io, std::string nsp) : io_(&io), nsp_(std::move(nsp)) {}
  template <typename F>
  auto call(F&& fn) const;

  poco_manager* io_;
  std::string nsp_;
};

class poco_manager {
public:
  // `url`: http://, https://, ws:// or wss://host[:port][/namespace][?query].
  // The query joins options.core.query (every request carries it); a path
  // other than "/" is the namespace socket() takes when given none (as
  // io(url) does). Throws std::invalid_argument for a bad URL.
  explicit poco_manager(std::string_view url, poco_manager_options options = {});
  // Stops the loop (no listener runs once this returns), aborts every
  // connection (call close() first for a goodbye the server hears), fails
  // emit_with_ack futures still waiting with errc::shut_down.
  ~poco_manager();
  poco_manager(const poco_manager&) = delete;
  poco_manager& operator=(const poco_manager&) = delete;

  // The socket of `nsp`, made on the first call with `options` (later calls
  // return a handle to the same socket). Not connected: call connect().
  // Throws std::invalid_argument for a namespace that does not start with
  // '/' or holds a ',' (which would end it on the wire).
  poco_socket socket(const std::string& nsp, socket_options options = {});
  // The same with the default options and this auth (an object).
  poco_socket socket(const std::string& nsp, value auth);
  poco_socket socket();  // the URL's namespace ("/" without one)

  void open();
  void close();

  listener_id on_open(std::function<void()> fn);
  listener_id on_close(std::function<void(disconnect_reason reason, const std::string& description)> fn);
  listener_id on_error(std::function<void(const error_info&)> fn);
  listener_id on_reconnect_attempt(std::function<void(std::uint64_t attempt)> fn);
  listener_id on_reconnect(std::function<void(std::uint64_t attempt)> fn);
  listener_id on_reconnect_error(std::function<void(const error_info&)> fn);
  listener_id on_reconnect_failed(std::function<void()> fn);
  bool off(listener_id id);

  // Runs `fn` on the loop thread with the model and the loop's `now` (at
  // once on the loop thread; otherwise queued, in order, and this returns
  // at once). For anything the handles above do not offer.
  void post(std::function<void(manager&, millis now)> fn);
  // The same, waiting for the result.
  template <typename F>
  auto call(F&& fn) -> decltype(fn(std::declval<manager&>(), millis{})) {
    using result = decltype(fn(std::declval<manager&>(), millis{}));
    if (on_loop_thread()) return fn(model(), loop_now());
    auto task = std::make_shared<std::packaged_task<result(manager&, millis)>>(std::forward<F>(fn));
    std::future<result> done = task->get_future();
    post([task](manager& m, millis now) { (*task)(m, now); });
    return done.get();
  }

  bool on_loop_thread() const noexcept;
  // The namespace of the URL.
  const std::string& url_namespace() const noexcept;

private:
  friend class poco_socket;
  struct impl;
  manager& model() noexcept;
  millis loop_now() const noexcept;
  // Reads the model under the loop's lock (or directly on the loop thread).
  template <typename F>
  auto read(F&& fn) const -> decltype(fn(std::declval<const manager&>()));
  void lock_model() const;
  void unlock_model() const;
  std::uint64_t keep(std::shared_ptr<std::promise<value>> promise);
  std::shared_ptr<std::promise<value>> release(std::uint64_t key);

  std::unique_ptr<impl> impl_;
};

template <typename F>
auto poco_manager::read(F&& fn) const -> decltype(fn(std::declval<const manager&>())) {
  if (on_loop_thread()) return fn(const_cast<poco_manager*>(this)->model());
  lock_model();
  struct unlock {
    const poco_manager& m;
    ~unlock() { m.unlock_model(); }
  } guard{*this};
  return fn(const_cast<poco_manager*>(this)->model());
}

}  // namespace eio::socketio::client
