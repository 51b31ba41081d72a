// eio::socketio server: the Socket.IO v5 server model, sans I/O.
//
// Built on the Engine.IO core (eio::server): it consumes the core's events
// and calls its API, never touches a socket, a thread or a clock. The
// application sets up an eio::socketio::server (options, namespaces,
// middlewares, handlers) once; each event loop then runs an
// eio::socketio::runtime (runtime.hpp) bound to that loop's core.
//
//   eio::socketio::server io;
//   io.of("/chat").use([](socket& s, next_function next) {
//     if (s.handshake().auth.value("token", "") == "secret") next();
//     else next({"not authorized", value{{"code", 401}}});
//   });
//   io.of("/chat").on_connection([](socket& s) {
//     s.join("lobby");
//     s.on("msg", [](socket& s, const args_view& args, ack_handle ack) {
//       s.to("lobby").emit("msg", args);  // relayed as received, to all but the sender
//       ack(value::array({"ok"}));
//     });
//   });
//
// Names follow socket.io 4 in snake_case (of, use, on_connection, emit, to,
// in, except, volatile_, local, timeout, fetch_sockets, sockets_join,
// sockets_leave, disconnect_sockets, server_side_emit). Where we differ from
// the reference on purpose: docs/node-reference-behaviour.md, "Socket.IO".
#pragma once

#include <eio/socketio/namespace.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/session_store.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace eio::socketio {

// socket.io's connectionStateRecovery.
struct recovery_options {
  std::chrono::milliseconds max_disconnection_duration{120'000};
  bool skip_middlewares = true;  // a recovered socket connects without the namespace's middlewares
  // Bounds of the default store (session_store_options).
  std::size_t max_log_bytes = 64 * 1024 * 1024;
  std::size_t max_sessions = 100'000;
};

struct server_options {
  // A connection that has joined no namespace this long after its Engine.IO
  // handshake is closed (socket.io's connectTimeout).
  std::chrono::milliseconds connect_timeout{45'000};
  // Off unless set (socket.io's connectionStateRecovery).
  std::optional<recovery_options> connection_state_recovery;
  // The codec's limits, per packet (attachments, attachment bytes, the
  // completion timeout, namespace bytes, ack ids, nesting).
  decode_options limits;
  // Namespaces one connection may join or be joining at once; a CONNECT
  // past it closes the connection. The reference has no bound.
  std::size_t max_namespaces_per_connection = 32;
  // How long cluster requests wait for the other nodes (fetch_sockets,
  // server_side_emit_with_ack), and broadcasts with acks without timeout():
  // socket.io-adapter's DEFAULT_TIMEOUT.
  std::chrono::milliseconds request_timeout{5'000};
  // Socket ids and recovery pids (protocol v5). Default: 20 characters of
  // URL-safe base64 from 15 random bytes (eio::random_session_id). Ids must
  // be 20 characters: Redis adapters tell socket rooms by that length.
  std::function<std::string()> generate_id;
  // Where recovery keeps sessions and logged packets; default: one
  // in_process_session_store (bounded by recovery_options) for all loops.
  std::shared_ptr<session_store> store;
  // Called when the runtime closes a connection for a protocol violation or
  // a limit ("parse error: invalid_json at 3", "second CONNECT to /chat",
  // "connect timeout"), with the Engine.IO session id; for logs.
  std::function<void(std::string_view engine_id, std::string_view reason)> on_connection_error;
};

class server {
public:
  explicit server(server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  const server_options& options() const noexcept { return options_; }

  // The namespace `name` ("/" prefixed when missing), created when new; a
  // name a regex parent matches becomes its child. Thread-safe.
  namespace_config& of(std::string_view name);
  // Dynamic namespaces: a parent whose children are the names the pattern
  // matches (whole name, std::regex_match) or the predicate admits, created
  // on their first CONNECT. Parents are tried in the order they were made.
  namespace_config& of(std::regex pattern);
  namespace_config& of(namespace_predicate predicate);
  // The main namespace, "/", and its shortcuts (io.use, io.on("connection")).
  namespace_config& sockets() { return of("/"); }
  server& use(middleware fn) {
    sockets().use(std::move(fn));
    return *this;
  }
  server& on_connection(connection_handler fn) {
    sockets().on_connection(std::move(fn));
    return *this;
  }

  // The namespaces made so far (by of() and by CONNECTs to children of
  // parents), sorted; parents are not among them. Thread-safe.
  std::vector<std::string> namespace_names() const;

  // ---- for runtimes (thread-safe)
  // The namespace named exactly `name`, or null.
  const namespace_config* find(std::string_view name) const;
  // The child of `parent` named `name`; made on the first call, the same one
  // after (concurrent first CONNECTs end in one namespace).
  const namespace_config& child(const namespace_config& parent, std::string_view name);
  // The parents, in order (for the runtime's walk over them).
  std::vector<const namespace_config*> parents() const;
  session_store* store() const noexcept { return options_.store.get(); }
  std::string generate_id() const { return options_.generate_id(); }

private:
  namespace_config& add_parent(std::unique_ptr<namespace_config> parent);

  server_options options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<namespace_config>, std::less<>> namespaces_;
  std::vector<std::unique_ptr<namespace_config>> parents_;
};

}  // namespace eio::socketio
