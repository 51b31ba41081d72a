// The connection-level state machine: what a packet does, given the state
// of its namespace on the connection (socket.io lib/client.ts ondecoded),
// and the way into a namespace: the namespace check, session restore,
// middlewares, the CONNECT answer or CONNECT_ERROR.
#include "detail.hpp"
#include "query.hpp"

#include <eio/socketio/namespace.hpp>
#include <eio/socketio/server.hpp>

namespace eio::socketio::detail {

namespace {

// Where a namespace is on a connection.
enum class nsp_state : std::uint8_t { not_joined, joining, joined };
// What a packet is, for these rules.
enum class input : std::uint8_t { connect, connect_error, other };
enum class outcome : std::uint8_t { connect, dispatch, close };

// socket.io client.ts ondecoded:
//  - CONNECT for a namespace not joined: connect;
//  - anything but CONNECT / CONNECT_ERROR on a joined namespace: the socket's;
//  - anything else closes the whole connection ("invalid state"). Stricter
//    than the reference while a namespace is being joined (namespace check,
//    session restore, middlewares): a second CONNECT closes too, where the
//    reference would start a second socket.
constexpr outcome rules[3][3] = {
    //                 not_joined        joining          joined
    /* CONNECT       */ {outcome::connect, outcome::close, outcome::close},
    /* CONNECT_ERROR */ {outcome::close, outcome::close, outcome::close},
    /* other         */ {outcome::close, outcome::close, outcome::dispatch},
};

std::string closing_description(input in, nsp_state state, packet_type type, std::string_view nsp) {
  std::string out;
  if (in == input::connect_error) {
    out = "CONNECT_ERROR from the client";
  } else if (in == input::connect) {
    out = state == nsp_state::joined ? "second CONNECT to " : "CONNECT while joining ";
  } else {
    out = std::string(to_string(type)) + (state == nsp_state::joining ? " while joining " : " for a namespace not joined: ");
  }
  if (in != input::connect_error) out += nsp;
  return out;
}

bool truthy(const value& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;  // NaN is not a JSON value
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return true;
}

std::string dump(const value& v) { return v.dump(-1, ' ', false, value::error_handler_t::replace); }

}  // namespace

void runtime_impl::handle(connection& conn, socketio::message& m) {
  std::string_view nsp = m.header.nsp;
  value v4_auth;
  if (conn.version == eio::protocol_version::v3) {
    // Protocol v4: auth rides in the namespace's query ("/admin?token=1").
    v4_namespace split = split_v4_namespace(nsp, m.header.type == packet_type::connect);
    nsp = split.name;
    v4_auth = std::move(split.auth);
  }
  namespace_slot* slot = conn.find(nsp);
  const nsp_state state = !slot                                 ? nsp_state::not_joined
                          : slot->phase == slot_phase::connected ? nsp_state::joined
                                                                 : nsp_state::joining;
  const input in = m.header.type == packet_type::connect         ? input::connect
                   : m.header.type == packet_type::connect_error ? input::connect_error
                                                                 : input::other;
  switch (rules[static_cast<int>(in)][static_cast<int>(state)]) {
    case outcome::connect: {
      value auth = value::object();
      if (conn.version == eio::protocol_version::v3) {
        auth = std::move(v4_auth);
      } else if (!m.header.data.empty()) {
        // The decoder checked it is a JSON object.
        from_wire(m.header.data, auth, config.options().limits.max_depth);
      }
      connect(conn, std::string(nsp), std::move(auth));
      return;
    }
    case outcome::dispatch: {
      const std::shared_ptr<socket> s = slot->sock;  // the socket may leave during its handlers
      socket_packet(s, m);
      return;
    }
    case outcome::close:
      violation(conn, reason::forced_server_close, closing_description(in, state, m.header.type, nsp));
      return;
  }
}

void runtime_impl::violation(connection& conn, std::string_view socket_reason, const std::string& description) {
  if (conn.closing) return;
  if (config.options().on_connection_error) config.options().on_connection_error(conn.engine_id, description);
  if (socket_reason == reason::parse_error) {
    // socket.io client.ts onerror: every socket hears of it first.
    const middleware_error error{description, std::nullopt};
    std::vector<std::shared_ptr<socket>> joined;
    for (const auto& slot : conn.slots) {
      if (slot.phase == slot_phase::connected && slot.sock) joined.push_back(slot.sock);
    }
    for (const auto& s : joined) {
      const auto handlers = access::state(*s).error_handlers;
      for (const auto& h : handlers) h(*s, error);
    }
  }
  close_connection(conn, socket_reason, description);
}

void runtime_impl::close_connection(connection& conn, std::string_view socket_reason, std::string_view description) {
  if (conn.closing) return;
  conn.closing = true;
  if (conn.connect_timer) timers.cancel(*conn.connect_timer);
  if (conn.attachment_timer) timers.cancel(*conn.attachment_timer);
  conn.connect_timer.reset();
  conn.attachment_timer.reset();
  conn.assembler.reset();
  std::vector<namespace_slot> slots = std::move(conn.slots);
  conn.slots.clear();
  for (auto& slot : slots) {
    if (slot.token) slot.token->conn = nullptr;
    if (!slot.sock) continue;
    if (slot.phase == slot_phase::connected) {
      socket_close(slot.sock, socket_reason, description);
    } else {
      socket_cleanup(access::state(*slot.sock));
    }
    access::state(*slot.sock).conn = nullptr;
  }
  core.close(conn.session, now);
}

void runtime_impl::connect(connection& conn, std::string name, value auth) {
  const std::size_t max = config.options().max_namespaces_per_connection;
  if (conn.slots.size() >= max) {
    return violation(conn, reason::forced_server_close,
                     "CONNECT past max_namespaces_per_connection (" + std::to_string(max) + ")");
  }
  if (const namespace_config* existing = config.find(name)) return join(conn, *existing, std::move(auth));
  auto token = std::make_shared<join_token>();
  token->conn = &conn;
  token->name = name;
  token->auth = std::move(auth);
  conn.slots.push_back(namespace_slot{std::move(name), slot_phase::checking, nullptr, token});
  walk_parents(token, 0);
}

void runtime_impl::walk_parents(const std::shared_ptr<join_token>& token, std::size_t index) {
  // socket.io index.ts _checkNamespace: each parent in turn, the first that
  // admits the name makes it (or finds it made meanwhile).
  const std::vector<const namespace_config*> parents = config.parents();
  for (; index < parents.size(); ++index) {
    connection* conn = token->conn;
    if (!conn || conn->closing) return;
    const namespace_config& parent = *parents[index];
    if (const auto& pattern = access::regex(parent)) {
      if (!std::regex_match(token->name, *pattern)) continue;
      const namespace_config& child = config.child(parent, token->name);
      return join(*conn, child, std::move(token->auth));
    }
    const namespace_predicate& predicate = access::predicate(parent);
    if (!predicate) continue;
    std::weak_ptr<join_token> weak = token;
    auto answered = std::make_shared<bool>(false);
    const namespace_config* parent_ptr = &parent;
    predicate(self, token->name, token->auth, [this, weak, index, answered, parent_ptr](bool allow) {
      if (*answered) return;
      *answered = true;
      const std::shared_ptr<join_token> t = weak.lock();
      if (!t || !t->conn || t->conn->closing) return;  // the connection went meanwhile
      if (!allow) return walk_parents(t, index + 1);
      const namespace_config& child = config.child(*parent_ptr, t->name);
      join(*t->conn, child, std::move(t->auth));
    });
    return;  // the answer goes on
  }
  connection* conn = token->conn;
  if (!conn || conn->closing) return;
  const std::string name = token->name;
  conn->remove(name);
  refuse_namespace(*conn, name);
}

void runtime_impl::refuse_namespace(connection& conn, const std::string& name) {
  // socket.io client.ts connect: the same answer for both protocols.
  const packet p{packet_type::connect_error, name, std::nullopt, 0, R"({"message":"Invalid namespace"})"};
  send_packet(conn, p, nullptr);
}

void runtime_impl::join(connection& conn, const namespace_config& cfg, value auth) {
  namespace_runtime& nsp = namespace_for(cfg);
  namespace_slot* slot = conn.find(cfg.name());
  if (!slot) {
    conn.slots.push_back(namespace_slot{cfg.name(), slot_phase::joining, nullptr, nullptr});
    slot = &conn.slots.back();
  }
  slot->phase = slot_phase::joining;
  // socket.io namespace.ts _createSocket: restore when auth has pid and
  // offset as strings.
  if (recovery() && conn.version == eio::protocol_version::v4 && auth.is_object()) {
    const auto pid = auth.find("pid");
    const auto offset = auth.find("offset");
    if (pid != auth.end() && offset != auth.end() && pid->is_string() && offset->is_string()) {
      if (!slot->token) {
        slot->token = std::make_shared<join_token>();
        slot->token->conn = &conn;
        slot->token->name = cfg.name();
      }
      std::weak_ptr<join_token> weak = slot->token;
      namespace_runtime* target = &nsp;
      const std::string pid_text = pid->get<std::string>();
      const std::string offset_text = offset->get<std::string>();
      nsp.adapter().restore_session(
          pid_text, offset_text,
          [this, weak, target, auth = std::move(auth)](std::optional<restored_session> session) mutable {
            const std::shared_ptr<join_token> t = weak.lock();
            if (!t || !t->conn || t->conn->closing) return;
            create_socket(*t->conn, *target, std::move(auth), std::move(session));
          });
      return;
    }
  }
  slot->token.reset();
  create_socket(conn, nsp, std::move(auth), std::nullopt);
}

void runtime_impl::create_socket(connection& conn, namespace_runtime& nsp, value auth,
                                 std::optional<restored_session> session) {
  namespace_slot* slot = conn.find(nsp.name());
  if (!slot) return;
  slot->token.reset();
  if (session && access::sockets(nsp).count(session->session.sid)) session.reset();  // its id is taken: start afresh

  auto state = std::make_unique<socket_state>();
  state->rt = this;
  state->nsp = &nsp;
  state->conn = &conn;
  const bool v4_client = conn.version == eio::protocol_version::v3;
  if (session) {
    state->id = session->session.sid;
    state->pid = session->session.pid;
    state->data = std::move(session->session.data);
    state->recovered = true;
  } else if (v4_client) {
    // socket.ts constructor: a v4 client's socket id derives from the Engine.IO id.
    state->id = nsp.name() == "/" ? conn.engine_id : nsp.name() + "#" + conn.engine_id;
  } else {
    state->id = config.generate_id();
    if (recovery()) state->pid = config.generate_id();
  }
  state->handshake_from.record = conn.hs;
  if (auth.is_object()) state->handshake_from.auth = std::move(auth);
  state->handshake_from.wall_clock_offset = options.wall_clock_offset;
  state->handshake_from.secure = options.secure;
  std::shared_ptr<socket> s = access::make_socket(std::move(state));
  slot->sock = s;
  slot->phase = slot_phase::joining;

  if (session) {
    // Back in its rooms, and the packets it missed go out before the CONNECT
    // answer (the client buffers them until then).
    nsp.adapter().add_all(access::state(*s).id, session->session.rooms);
    for (const event_packet& missed : session->missed_packets) {
      send_event(conn, nsp.name(), missed, std::nullopt, false);
    }
    if (config.options().connection_state_recovery->skip_middlewares) return admit(s);
  }
  run_middlewares(s, 0);
}

void runtime_impl::run_middlewares(const std::shared_ptr<socket>& s, std::size_t index) {
  socket_state& st = access::state(*s);
  const auto& middlewares = access::middlewares(st.nsp->config());
  if (index >= middlewares.size()) return admit(s);
  std::weak_ptr<socket> weak = s;
  middlewares[index](*s, next_function([this, weak, index](std::optional<middleware_error> error) {
    const std::shared_ptr<socket> sock = weak.lock();
    if (!sock) return;
    socket_state& state = access::state(*sock);
    if (state.phase != socket_phase::joining) return;
    if (!state.conn || state.conn->closing) return socket_cleanup(state);  // the connection went meanwhile
    if (error) return refuse(sock, *error);
    run_middlewares(sock, index + 1);
  }));
}

void runtime_impl::admit(const std::shared_ptr<socket>& s) {
  socket_state& st = access::state(*s);
  connection& conn = *st.conn;
  namespace_runtime& nsp = *st.nsp;
  // socket.io namespace.ts _doConnect, socket.ts _onconnect.
  st.phase = socket_phase::connected;
  if (namespace_slot* slot = conn.find(nsp.name())) slot->phase = slot_phase::connected;
  access::sockets(nsp)[st.id] = s;
  nsp.adapter().add_all(st.id, {st.id});
  if (conn.version == eio::protocol_version::v3) {
    send_packet(conn, packet{packet_type::connect, nsp.name(), std::nullopt, 0, {}}, nullptr);
  } else {
    std::string data = "{\"sid\":";
    append_json_string(st.id, data);
    if (!st.pid.empty()) {  // never "pid":null: clients check for exactly {sid}
      data += ",\"pid\":";
      append_json_string(st.pid, data);
    }
    data += '}';
    send_packet(conn, packet{packet_type::connect, nsp.name(), std::nullopt, 0, data}, nullptr);
  }
  if (conn.connect_timer) {
    timers.cancel(*conn.connect_timer);
    conn.connect_timer.reset();
  }
  const auto& handlers = access::connection_handlers(nsp.config());
  for (std::size_t i = 0; i < handlers.size(); ++i) handlers[i](*s);
}

void runtime_impl::refuse(const std::shared_ptr<socket>& s, const middleware_error& error) {
  socket_state& st = access::state(*s);
  connection& conn = *st.conn;
  const std::string nsp = st.nsp->name();
  socket_cleanup(st);
  conn.remove(nsp);
  st.conn = nullptr;
  std::string data;
  if (conn.version == eio::protocol_version::v3) {
    // Protocol v4: packet 4 carries err.data || err.message.
    if (error.data && truthy(*error.data)) {
      data = dump(*error.data);
    } else {
      append_json_string(error.message, data);
    }
  } else {
    value body = value::object();
    body["message"] = error.message;
    if (error.data) body["data"] = *error.data;
    data = dump(body);
  }
  send_packet(conn, packet{packet_type::connect_error, nsp, std::nullopt, 0, data}, nullptr);
}

}  // namespace eio::socketio::detail
