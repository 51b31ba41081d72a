// eiotool probe --socketio: a CONNECT to a namespace and an acknowledged emit
// through eio::socketio::client::poco_manager (probe.hpp).
#include "probe.hpp"

#include <eio/wire/url.hpp>

#include <Poco/JSON/Parser.h>

#include <cstdio>
#include <future>
#include <optional>
#include <thread>

namespace eio::tool::probing {
namespace {

// A Socket.IO value for people and for the JSON report: binary shown as
// {"$binary": "<hex>"}.
socketio::value printable(const socketio::value& v) {
  if (v.is_binary()) {
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t b : v.get_binary()) {
      text += hex[b >> 4];
      text += hex[b & 15];
    }
    return socketio::value{{"$binary", text}};
  }
  socketio::value out = v;
  if (v.is_array() || v.is_object()) {
    for (auto& [key, element] : out.items()) element = printable(element);
  }
  return out;
}

Poco::Dynamic::Var to_poco(const socketio::value& v) {
  Poco::JSON::Parser parser;
  return parser.parse(printable(v).dump());
}

}  // namespace

bool probe::socketio_usage() {
  const auto fail = [](const std::string& why) {
    std::fprintf(stderr, "eiotool probe: %s\n", why.c_str());
    return false;
  };
  if (args_.eio != 4) return fail("--socketio needs --eio 4 (Socket.IO v5 runs on Engine.IO v4)");
  if (!args_.sends.empty() || args_.expect_echo) {
    return fail("--send and --expect-echo send raw Engine.IO messages, which a Socket.IO server refuses; use --emit");
  }
  if (args_.nsp.empty() || args_.nsp.front() != '/' || args_.nsp.find(',') != std::string::npos) {
    return fail("--namespace must start with '/' and hold no ',' (got \"" + args_.nsp + "\")");
  }
  try {
    if (!args_.auth.empty()) {
      auth_ = socketio::value::parse(args_.auth);
      if (!auth_.is_object()) return fail("--auth must be a JSON object, got " + args_.auth);
    }
    emit_args_ = socketio::value::parse(args_.emit_args);
  } catch (const socketio::value::exception& e) {
    return fail(std::string("bad JSON in --auth or --args: ") + e.what());
  }
  if (!args_.emit.empty()) {
    if (const std::error_code error = socketio::check_event_name(args_.emit)) {
      return fail("--emit \"" + args_.emit + "\": " + error.message());
    }
  }
  return true;
}

void probe::socketio_steps() {
  step& s = add("socketio");
  s.details->set("namespace", args_.nsp);
  if (!open_) {
    s.result = outcome::skip;
    s.summary = "the Engine.IO session did not open";
    if (!args_.emit.empty()) add("emit").summary = "the Engine.IO session did not open";
    return;
  }
  namespace sc = socketio::client;
  sc::poco_manager_options o;
  o.core.path = where_.path;
  o.core.extra_headers = options_.headers;
  o.core.transports = args_.transport == "polling"     ? std::vector<transport_kind>{transport_kind::polling}
                      : args_.transport == "websocket" ? std::vector<transport_kind>{transport_kind::websocket}
                                                       : std::vector<transport_kind>{transport_kind::polling, transport_kind::websocket};
  o.core.reconnection = false;
  o.core.timeout = millis(args_.timeout);
  o.connect_timeout = millis(args_.timeout);
  o.request_timeout = millis(args_.timeout);
  o.insecure = args_.insecure;
  // The URL's query goes to every request; its path is the Engine.IO path here.
  std::string error;
  const std::optional<wire::url> u = wire::parse_url(url_, error);  // read by parse_endpoint already
  sc::poco_manager io(u->scheme + "://" + u->authority() + "/" + (u->query.empty() ? "" : "?" + u->query), o);

  struct outcome_of_connect {
    std::optional<std::string> sid;
    std::optional<std::string> pid;
    std::optional<sc::error_info> error;
    std::optional<std::string> disconnect;
  };
  auto answered = std::make_shared<std::promise<outcome_of_connect>>();
  auto done = std::make_shared<bool>(false);  // the loop's alone
  sc::socket_options so;
  if (!args_.auth.empty()) so.auth = auth_;
  sc::poco_socket socket = io.socket(args_.nsp, so);
  const auto settle = [answered, done](outcome_of_connect r) {
    if (*done) return;
    *done = true;
    answered->set_value(std::move(r));
  };
  // On the loop thread, where post() runs at once: the model socket's state as the CONNECT left it.
  socket.on_connect([&io, settle, nsp = args_.nsp] {
    io.post([settle, nsp](sc::manager& m, millis) {
      const sc::socket* connected = m.find(nsp);
      settle({connected->id(), connected->pid(), std::nullopt, std::nullopt});
    });
  });
  socket.on_connect_error([settle](const sc::error_info& e) { settle({std::nullopt, std::nullopt, e, std::nullopt}); });
  socket.on_disconnect([settle](sc::disconnect_reason r, const std::string& d) {
    settle({std::nullopt, std::nullopt, std::nullopt, std::string(to_string(r)) + (d.empty() ? "" : " (" + d + ")")});
  });
  const auto t0 = steady::now();
  socket.connect();
  std::future<outcome_of_connect> f = answered->get_future();
  if (f.wait_for(millis(args_.timeout)) != std::future_status::ready) {
    s.result = outcome::fail;
    s.summary = "no answer to CONNECT " + args_.nsp + " within " + std::to_string(args_.timeout) + " ms";
    s.notes.push_back("is this a Socket.IO server? (a plain Engine.IO server never answers a CONNECT)");
    if (!args_.emit.empty()) add("emit").summary = "not connected";
    return;
  }
  const outcome_of_connect r = f.get();
  const millis took = std::chrono::duration_cast<millis>(steady::now() - t0);
  s.details->set("ms", took.count());
  if (r.sid) {
    s.result = outcome::pass;
    s.details->set("sid", *r.sid);
    s.details->set("recovery", r.pid.has_value());
    if (r.pid) s.details->set("pid", *r.pid);
    s.summary = "CONNECT " + args_.nsp + " answered in " + ms(took) + ": sid " + *r.sid +
                (r.pid ? ", pid " + *r.pid + " (connection state recovery on)"
                       : " (no pid: connection state recovery off)");
    if (!args_.auth.empty()) s.notes.push_back("auth " + auth_.dump());
    if (!args_.emit.empty()) emit_step(socket);
    socket.disconnect();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the DISCONNECT go out
    return;
  }
  s.result = outcome::fail;
  if (r.error && r.error->refused) {
    Poco::JSON::Object::Ptr refused = new Poco::JSON::Object(true);
    refused->set("message", r.error->message);
    if (r.error->data) refused->set("data", to_poco(*r.error->data));
    s.details->set("refused", refused);
    s.summary = "CONNECT " + args_.nsp + " refused: \"" + r.error->message + "\"" +
                (r.error->data ? ", data " + printable(*r.error->data).dump() : "");
    if (r.error->message == "Invalid namespace") {
      s.notes.push_back("the server has no namespace " + args_.nsp + " (io.of(\"" + args_.nsp + "\") on the server)");
    } else {
      s.notes.push_back("a middleware refused the connection (next(err) in io.of(\"" + args_.nsp + "\").use(...))" +
                        std::string(args_.auth.empty() ? ": does it want --auth?" : ": check --auth"));
    }
  } else if (r.error) {
    s.summary = "the Socket.IO session failed: " + r.error->message;
    if (r.error->message.find("Socket.IO server in v2.x") != std::string::npos) {
      s.summary = "the CONNECT was answered without a sid";
      s.notes.push_back("a Socket.IO v2 server (protocol v4), or not a Socket.IO server at all (an echo?)");
    }
  } else {
    s.summary = "disconnected before the CONNECT answer: " + r.disconnect.value_or("");
  }
  if (!args_.emit.empty()) add("emit").summary = "not connected";
}

void probe::emit_step(socketio::client::poco_socket& socket) {
  step& s = add("emit");
  s.details->set("event", args_.emit);
  s.details->set("args", to_poco(emit_args_));
  socketio::client::emit_options o;
  o.timeout = millis(args_.timeout);
  const auto t0 = steady::now();
  std::future<socketio::value> f = socket.emit_with_ack(args_.emit, emit_args_, o);
  try {
    const socketio::value answer = f.get();  // the timeout above bounds it
    const millis rtt = std::chrono::duration_cast<millis>(steady::now() - t0);
    s.result = outcome::pass;
    s.details->set("answer", to_poco(answer));
    s.details->set("rttMs", rtt.count());
    s.summary = "\"" + args_.emit + "\" acknowledged in " + ms(rtt) + ": " + printable(answer).dump();
  } catch (const std::system_error& e) {
    s.result = outcome::fail;
    s.details->set("error", std::string(e.code().message()));
    if (e.code() == socketio::client::errc::ack_timeout) {
      s.summary = "no acknowledgement of \"" + args_.emit + "\" within " + std::to_string(args_.timeout) + " ms";
      s.notes.push_back("does the server's handler for \"" + args_.emit + "\" call its callback (the last argument)?");
    } else {
      s.summary = "\"" + args_.emit + "\" failed: " + e.code().message();
    }
  }
}

}  // namespace eio::tool::probing
