#include <eio/socketio/client/errors.hpp>

#include <string>

namespace eio::socketio::client {
namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "eio.socketio.client"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ack_timeout: return "operation has timed out";
      case errc::disconnected: return "socket has been disconnected";
      case errc::send_buffer_full: return "the send buffer is full";
      case errc::volatile_dropped: return "volatile packet dropped: the transport was not writable";
      case errc::connect_timeout: return "timeout";
      case errc::shut_down: return "the client was shut down";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), client_category()}; }

std::string_view errc_name(errc e) noexcept {
  switch (e) {
    case errc::ack_timeout: return "ack_timeout";
    case errc::disconnected: return "disconnected";
    case errc::send_buffer_full: return "send_buffer_full";
    case errc::volatile_dropped: return "volatile_dropped";
    case errc::connect_timeout: return "connect_timeout";
    case errc::shut_down: return "shut_down";
  }
  return "unknown";
}

}  // namespace eio::socketio::client
