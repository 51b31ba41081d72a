// The small public helpers of types.hpp and server.hpp: names the reference uses on the
// wire and in its events, header and query look-ups.
#include <eio/server.hpp>

#include <cstring>

#include "http.hpp"

namespace eio {

std::string_view to_string(transport_kind kind) noexcept {
  switch (kind) {
    case transport_kind::polling: return "polling";
    case transport_kind::websocket: return "websocket";
  }
  return "";
}

// The messages of the reference's Server.errorMessages, sent as
// {"code":<n>,"message":"..."} in a refusal's body.
std::string_view default_message(request_error code) noexcept {
  switch (code) {
    case request_error::unknown_transport: return "Transport unknown";
    case request_error::unknown_sid: return "Session ID unknown";
    case request_error::bad_handshake_method: return "Bad handshake method";
    case request_error::bad_request: return "Bad request";
    case request_error::forbidden: return "Forbidden";
    case request_error::unsupported_protocol_version: return "Unsupported protocol version";
  }
  return "";
}

std::string_view to_string(close_reason reason) noexcept {
  switch (reason) {
    case close_reason::transport_close: return "transport close";
    case close_reason::transport_error: return "transport error";
    case close_reason::ping_timeout: return "ping timeout";
    case close_reason::forced_close: return "forced close";
    case close_reason::parse_error: return "parse error";
    case close_reason::server_shutting_down: return "server shutting down";
    case close_reason::write_buffer_full: return "write buffer full";
  }
  return "";
}

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view{h.value};
  }
  return std::nullopt;
}

std::optional<std::string> http_request::query_param(std::string_view name) const {
  return detail::query_value(query, name);
}

namespace {

// The record's index: one std::uint32_t end offset per field, ahead of the text.
std::size_t index_size(std::uint32_t field_count) noexcept { return field_count * sizeof(std::uint32_t); }

}  // namespace

session_handshake::session_handshake(const http_request& request, millis time)
    : field_count_(static_cast<std::uint32_t>(fixed_fields + 2 * request.headers.size())), time_(time) {
  const std::size_t index_bytes = index_size(field_count_);
  std::size_t text = request.method.size() + request.path.size() + request.query.size() + request.remote_address.size();
  for (const auto& h : request.headers) text += h.name.size() + h.value.size();
  bytes_.reserve(index_bytes + text);
  bytes_.resize(index_bytes);
  std::size_t next = 0;
  const auto add = [this, &next, index_bytes](std::string_view field) {
    bytes_ += field;
    // The HTTP reader's limits keep a request head far below 4 GiB.
    const auto end = static_cast<std::uint32_t>(bytes_.size() - index_bytes);
    std::memcpy(&bytes_[next * sizeof(end)], &end, sizeof(end));
    ++next;
  };
  add(request.method);
  add(request.path);
  add(request.query);
  add(request.remote_address);
  for (const auto& h : request.headers) {
    add(h.name);
    add(h.value);
  }
}

std::uint32_t session_handshake::field_end(std::size_t i) const noexcept {
  std::uint32_t end = 0;
  std::memcpy(&end, bytes_.data() + i * sizeof(end), sizeof(end));
  return end;
}

std::string_view session_handshake::field(std::size_t i) const noexcept {
  const std::uint32_t begin = i == 0 ? 0 : field_end(i - 1);
  const std::string_view text = std::string_view(bytes_).substr(index_size(field_count_));
  return text.substr(begin, field_end(i) - begin);
}

std::optional<std::string_view> session_handshake::header_value(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < header_count(); ++i) {
    if (ascii_iequals(header_name(i), name)) return header_value(i);
  }
  return std::nullopt;
}

std::optional<std::string> session_handshake::query_param(std::string_view name) const {
  return detail::query_value(query(), name);
}

http_request session_handshake::request() const {
  http_request r;
  r.method = method();
  r.path = path();
  r.query = query();
  r.remote_address = remote_address();
  r.headers.reserve(header_count());
  for (std::size_t i = 0; i < header_count(); ++i) r.headers.push_back({std::string(header_name(i)), std::string(header_value(i))});
  return r;
}

}  // namespace eio
