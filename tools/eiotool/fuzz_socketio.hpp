// `eiotool fuzz --socketio`: the Socket.IO part of the network fuzzer.
//
// socketio_case() makes the cases of category "socketio" (pure, from the
// seed, like fuzz_cases.hpp): valid Socket.IO packets built with the codec
// (eio::socketio), then mutated where Socket.IO servers break: packet types,
// attachment counts, placeholders, namespaces, ack ids, JSON edge cases and
// the order of binary frames, sent over a fresh WebSocket or by POST on the
// case's polling session, usually after a CONNECT.
//
// socketio_control is the health check: a Socket.IO socket on a polling
// session, opened once, which after every case must still answer an emit
// with an ack (the demo application's "echo"); and a fresh session must
// still get its CONNECT answered.
#pragma once

#include "fuzz_cases.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace eio::tool::fuzz {

fuzz_case socketio_case(rng& random, const target_info& target, session_need session, const std::string& sid);

// One HTTP request on its own connection: true with the status and body, or
// false with `error` set.
using http_exchange = std::function<bool(const std::string& method, const std::string& target, std::string_view body,
                                         int& status, std::string& answer, std::string& error)>;

class socketio_control {
public:
  socketio_control(std::string path, http_exchange exchange) : path_(std::move(path)), exchange_(std::move(exchange)) {}

  // The Engine.IO handshake and a CONNECT to "/", answered.
  bool open(std::string& error);
  // An emit of "echo" with an ack; the ack must carry the same argument.
  bool check(std::string& error);
  // A fresh session: handshake, CONNECT answered, close.
  bool fresh_connect(std::string& error);

  std::uint64_t acks() const noexcept { return acks_; }
  std::uint64_t pings() const noexcept { return pings_; }

private:
  // Handshake and CONNECT; the Engine.IO sid, or empty with `error` set.
  std::string connect(std::string& error);
  // Polls `sid` until a packet satisfies `done` (answering pings); false with
  // `error` when the session broke or nothing came after a few polls.
  bool poll_until(const std::string& sid, const std::function<bool(std::string_view sio, std::string& error)>& done,
                  std::string& error);
  std::string target(const std::string& sid) const;

  std::string path_;
  http_exchange exchange_;
  std::string sid_;
  std::uint64_t serial_ = 0;
  std::uint64_t acks_ = 0;
  std::uint64_t pings_ = 0;
};

}  // namespace eio::tool::fuzz
