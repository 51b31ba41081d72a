// eio::socketio server: what handlers are given to answer with.
//
//   ack_handle     answers a client's (or another node's) request for an
//                  acknowledgement, once; copyable and callable later, after
//                  the handler returned (from a timer, say).
//   next_function  lets a middleware go on or refuse, once, now or later.
//
// Both are no-ops once used, and once what they answer is gone (the socket
// disconnected, the connection closed). Call them on the loop that gave them.
#pragma once

#include <eio/socketio/adapter.hpp>
#include <eio/socketio/args.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace eio::socketio {

class ack_handle {
public:
  // A handle that answers nothing (the client asked for no ack).
  ack_handle() = default;
  // A handle that sends its arguments with `send`, at most once.
  explicit ack_handle(std::function<void(wire_args)> send);

  // The peer asked for an ack and none was sent yet.
  bool wanted() const noexcept { return state_ && !state_->done; }
  // Sends the ack with these arguments (make_wire_args' rules for a value),
  // the first time only. Errors: invalid_utf8 in a value (nothing is sent,
  // and the handle stays usable).
  std::error_code operator()() const { return send(wire_args{}); }
  std::error_code operator()(const value& args) const;
  std::error_code operator()(const args_view& args) const { return send(args.to_wire()); }
  std::error_code send(wire_args args) const;

private:
  struct state {
    std::function<void(wire_args)> send;
    bool done = false;
  };
  std::shared_ptr<state> state_;
};

// What an emit with an ack gets back: no error and the client's arguments,
// or the error "operation has timed out" and no arguments.
using ack_callback = std::function<void(const operation_error& error, const args_view& args)>;

// A middleware's refusal: a CONNECT_ERROR {"message":..., "data":...} for a
// namespace middleware (`data` omitted when absent; a v4 client gets `data`
// if it is set and truthy, else `message`, as a JSON string), the socket's
// error handlers for an event middleware.
struct middleware_error {
  std::string message;
  std::optional<value> data;
};

class next_function {
public:
  next_function() = default;
  explicit next_function(std::function<void(std::optional<middleware_error>)> resume);

  // Go on to the next middleware (the connection, the event's handlers).
  void operator()() const { resume(std::nullopt); }
  // Refuse.
  void operator()(middleware_error error) const { resume(std::move(error)); }
  // Not called yet.
  bool pending() const noexcept { return state_ && !state_->done; }

private:
  void resume(std::optional<middleware_error> error) const;
  struct state {
    std::function<void(std::optional<middleware_error>)> resume;
    bool done = false;
  };
  std::shared_ptr<state> state_;
};

}  // namespace eio::socketio
