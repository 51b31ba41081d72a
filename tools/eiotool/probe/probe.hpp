// `eiotool probe`: the probe of one endpoint, step by step, with its
// arguments. Its member functions live by concern: http_steps.cpp (connect,
// the raw handshake and the same-sid check, over single HTTP exchanges),
// session_steps.cpp (a whole client session through eio::poco_client:
// upgrade, messages, heartbeat), socketio_steps.cpp (--socketio: a CONNECT
// and an acknowledged emit through eio::socketio::client::poco_manager),
// report.cpp (the checklist, the JSON and the verdict).
#pragma once

#include "../command.hpp"

#include <eio/parser.hpp>
#include <eio/poco_client.hpp>
#include <eio/socketio_poco_client.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eio::tool::probing {

struct probe_arguments {
  std::string url;
  std::string transport = "upgrade";
  int eio = 4;
  std::vector<std::string> headers;
  std::string origin;
  std::vector<std::string> sends;
  bool expect_echo = false;
  double listen = 0;  // seconds
  unsigned count = 1;
  bool json = false;
  long timeout = 10000;  // ms, per step
  bool insecure = false;
  // Socket.IO: a CONNECT to `nsp` after the Engine.IO steps, and an emit
  // with an acknowledgement when `emit` is set.
  bool socketio = false;
  std::string nsp = "/";
  std::string auth;  // JSON object
  std::string emit;
  std::string emit_args = "[]";  // JSON array (or one value)
};

using steady = std::chrono::steady_clock;

inline millis since(steady::time_point start) {
  return std::chrono::duration_cast<millis>(steady::now() - start);
}

inline std::string ms(millis m) { return std::to_string(m.count()) + " ms"; }

// Engine.IO's HTTP error codes (engine.io Server.errorMessages) and what
// each means for a person looking at a deployment.
std::string error_meaning(int code);

// "403 Forbidden, Engine.IO error 4 "Forbidden": <meaning>" from a refusal.
std::string describe_refusal(int status, const std::string& reason, const std::string& body,
                             Poco::JSON::Object::Ptr into);

enum class outcome { pass, fail, skip };

struct step {
  std::string name;
  outcome result = outcome::skip;
  std::string summary;
  std::vector<std::string> notes;  // extra lines for people
  Poco::JSON::Object::Ptr details = new Poco::JSON::Object(true);
};

// The packets of a polling body or WebSocket message, for watching pings.
std::vector<packet_type> packet_types(protocol_version version, std::string_view body, bool binary_payload);

class probe {
public:
  explicit probe(const probe_arguments& args) : args_(args) {}

  int run();

private:
  // ---------------------------------------------------------------- steps

  int steps();

  step& add(std::string name);

  bool connect_step();

  std::string polling_target(bool with_sid) const;

  bool handshake_step();

  bool same_sid_step();

  // ---------------------------------------------------------------- the client session

  // Reads the client's events until `done()` or the deadline; false on the deadline.
  template <typename Done>
  bool pump(steady::time_point deadline, Done done) {
    while (!done()) {
      const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
      if (left.count() <= 0) return false;
      if (auto e = client_->next(left)) take(*e);
    }
    return true;
  }

  void take(const poco_client_event& e);

  void heartbeat_packet(packet_type t, millis at);

  std::string session_failure() const;

  void session_steps();

  void upgrade_step(const handshake_info& hi);

  void messages_step();

  void listen_step();

  void heartbeat_step(const handshake_info& hi);

  void skip_rest(const std::string& why);

  void finish();

  // ---------------------------------------------------------------- Socket.IO

  // Checks the Socket.IO flags; false (after saying why) for bad usage.
  bool socketio_usage();

  // The socketio step: a CONNECT to the namespace over a session of our
  // Socket.IO client (eio::socketio::client::poco_manager, reconnection off),
  // then the emit step.
  void socketio_steps();

  void emit_step(socketio::client::poco_socket& socket);

  // ---------------------------------------------------------------- output

  static const char* label(outcome o);

  std::string verdict(int status) const;

  void print(int status) const;

  const probe_arguments& args_;
  std::string url_;  // args_.url, with /socket.io/ as its path for --socketio without one
  socketio::value auth_;
  socketio::value emit_args_;
  endpoint where_;
  protocol_version version_ = protocol_version::v4;
  poco_client_options options_;
  std::vector<step> steps_;
  bool unreachable_ = false;
  std::string sid_;

  std::unique_ptr<poco_client> client_;
  steady::time_point start_;
  std::optional<client_open_event> open_;
  std::optional<millis> opened_at_;
  std::optional<millis> ws_accepted_at_;
  std::optional<millis> upgrading_at_;
  std::optional<millis> upgraded_at_;
  std::optional<client_close_event> closed_;
  std::optional<http_exchange> http_failure_;
  std::vector<websocket_handshake> ws_handshakes_;
  std::vector<std::string> errors_;
  std::vector<client_message_event> inbox_;
  std::vector<millis> inbox_times_;
  std::vector<millis> beats_;  // when pings (v4) or pongs (v3) arrived
};


}  // namespace eio::tool::probing
