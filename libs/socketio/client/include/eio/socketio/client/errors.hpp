// eio::socketio::client errors: what an emit, an acknowledgement or a
// connection attempt of the Socket.IO client can fail with, as
// std::error_code values of category "eio.socketio.client".
//
// The messages are socket.io-client's where it has one ("operation has timed
// out", "socket has been disconnected", "timeout"), so logs read the same.
#pragma once

#include <string_view>
#include <system_error>

namespace eio::socketio::client {

enum class errc {
  ack_timeout = 1,      // the server did not acknowledge within the timeout ("operation has timed out")
  disconnected,         // the socket disconnected before the acknowledgement came ("socket has been disconnected")
  send_buffer_full,     // emitted while disconnected past socket_options' buffer bounds: not sent, not buffered
  volatile_dropped,     // a volatile emit the transport could not take at once: dropped
  connect_timeout,      // the Engine.IO connection did not open within manager_options::timeout ("timeout")
  shut_down,            // the client was destroyed before the acknowledgement came (runner)
};

const std::error_category& client_category() noexcept;
std::error_code make_error_code(errc e) noexcept;
// The identifier of `e` ("ack_timeout").
std::string_view errc_name(errc e) noexcept;

}  // namespace eio::socketio::client

namespace std {
template <>
struct is_error_code_enum<eio::socketio::client::errc> : true_type {};
}  // namespace std
