// Requests in: verification in the reference's order (server.ts verify),
// refusals with the reference's error codes, CORS preflights, and the
// handshake that makes a session. A request naming a session goes on to
// that session's dispatch (transitions.cpp).
#include <eio/server.hpp>

#include "http.hpp"
#include "session.hpp"

namespace eio {

using detail::link_state;
using detail::session;

namespace {

int status_of(request_error code) { return code == request_error::forbidden ? 403 : 400; }

std::string handshake_json(const session& s, const server_options& options) {
  std::string json = "{\"sid\":";
  detail::append_json_string(s.id, json);
  json += ",\"upgrades\":[";
  if (s.link == link_state::polling && options.allow_upgrades && options.allow_websocket) json += "\"websocket\"";
  json += "],\"pingInterval\":" + std::to_string(options.ping_interval.count());
  json += ",\"pingTimeout\":" + std::to_string(options.ping_timeout.count());
  // The reference sends v3 clients the same JSON, maxPayload included.
  json += ",\"maxPayload\":" + std::to_string(options.max_http_buffer_size);
  json += '}';
  return json;
}

std::shared_ptr<const http_request> without_body(const http_request& request) {
  auto copy = std::make_shared<http_request>(request);
  copy->body.clear();
  copy->body.shrink_to_fit();
  return copy;
}

}  // namespace

header_list server::response_headers(const http_request& request, std::string_view content_type, bool handshake) const {
  header_list headers;
  if (!content_type.empty()) headers.push_back({"Content-Type", std::string(content_type)});
  if (options_.cors) detail::append_cors_headers(*options_.cors, request, false, headers);
  if (handshake && options_.initial_headers) options_.initial_headers(request, headers);
  if (options_.headers) options_.headers(request, headers);
  return headers;
}

std::string server::error_body(request_error code, std::string_view message) {
  std::string body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":";
  detail::append_json_string(message.empty() ? default_message(code) : message, body);
  body += '}';
  return body;
}

void server::refuse(connection_id connection, const http_request& request, bool websocket, request_error code,
                    std::string context, std::string message) {
  if (message.empty()) message = std::string(default_message(code));
  if (websocket) {
    // The reference refuses upgrades with a bare 400 and the message as text,
    // whatever the code (server.ts abortUpgrade).
    actions_.emplace_back(http_response{connection, 400, {{"Content-Type", "text/html"}}, message});
  } else {
    actions_.emplace_back(http_response{connection, status_of(code), response_headers(request, "application/json", false),
                                        error_body(code, message)});
  }
  events_.emplace_back(connection_error_event{code, std::move(context), without_body(request)});
}

void server::handle_request(connection_id connection, http_request request, millis now) {
  if (request.method == "POST") {
    std::string body = std::move(request.body);
    request.body.clear();
    if (begin_post(connection, request, now)) finish_post(connection, std::move(body), now);
    return;
  }
  if (request.method == "OPTIONS" && options_.cors && request.header_value("origin")) {
    header_list headers;
    detail::append_cors_headers(*options_.cors, request, true, headers);
    actions_.emplace_back(http_response{connection, 204, std::move(headers), {}});
    return;
  }
  route(connection, request, false, now);
}

bool server::begin_post(connection_id connection, const http_request& head, millis now) {
  session* s = route(connection, head, false, now);
  return s && s->pending_post == connection;
}

void server::handle_websocket(connection_id connection, const http_request& request, millis now) {
  route(connection, request, true, now);
}

// The application's allow_request hook; refuses the request when it says no.
bool server::allowed(connection_id connection, const http_request& request, bool websocket) {
  if (!options_.allow_request) return true;
  request_verdict verdict = options_.allow_request(request);
  if (!verdict.allowed) {
    refuse(connection, request, websocket, request_error::forbidden, "allow_request denied", std::move(verdict.message));
  }
  return verdict.allowed;
}

// Verification in the reference's order (server.ts verify): transport,
// origin, then either the session the sid names or a new handshake.
session* server::route(connection_id connection, const http_request& request, bool websocket, millis now) {
  const std::optional<std::string> transport_name = request.query_param("transport");
  const bool polling_named = transport_name == "polling" && options_.allow_polling;
  const bool websocket_named = transport_name == "websocket" && options_.allow_websocket;
  if (!(websocket ? websocket_named : polling_named || websocket_named)) {
    refuse(connection, request, websocket, request_error::unknown_transport, "transport " + transport_name.value_or("(none)"));
    return nullptr;
  }
  if (const auto origin = request.header_value("origin")) {
    for (const char c : *origin) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
        refuse(connection, request, websocket, request_error::bad_request, "invalid origin header");
        return nullptr;
      }
    }
  }
  const std::optional<std::string> sid = request.query_param("sid");
  if (!sid) {
    if (request.method != "GET") {
      refuse(connection, request, websocket, request_error::bad_handshake_method, "method " + request.method);
      return nullptr;
    }
    if (!websocket && transport_name != "polling") {  // a WebSocket handshake must be an upgrade request
      refuse(connection, request, websocket, request_error::bad_request, "websocket transport without an upgrade");
      return nullptr;
    }
    if (!allowed(connection, request, websocket)) return nullptr;
    // The version is checked last, as the reference does in handshake().
    const std::optional<std::string> eio = request.query_param("EIO");
    const protocol_version version = eio == "4" ? protocol_version::v4 : protocol_version::v3;
    if (version == protocol_version::v3 && !options_.allow_eio3) {
      refuse(connection, request, websocket, request_error::unsupported_protocol_version, "EIO " + eio.value_or("(none)"));
      return nullptr;
    }
    return handshake(connection, request, websocket ? link_state::websocket : link_state::polling, version, now);
  }

  const auto found = by_id_.find(*sid);
  if (found == by_id_.end()) {
    refuse(connection, request, websocket, request_error::unknown_sid, "unknown sid " + *sid);
    return nullptr;
  }
  session& s = *slots_[found->second];
  const session_ref ref = s.ref;
  if (websocket) {
    on_websocket_request(s, connection, request, now);
  } else if (transport_name != "polling") {
    refuse(connection, request, websocket, request_error::bad_request, "transport mismatch");
    return nullptr;
  } else if (request.method == "GET") {
    on_get(s, connection, request, now);
  } else if (request.method == "POST") {
    on_post(s, connection, request, now);
  } else {
    refuse(connection, request, websocket, request_error::bad_request, "method " + request.method);
    return nullptr;
  }
  return lookup(ref);  // null when the request closed the session (overlap, bad content)
}

session* server::handshake(connection_id connection, const http_request& request, link_state link,
                           protocol_version version, millis now) {
  std::string id = options_.generate_id();
  while (by_id_.count(id)) id = options_.generate_id();  // the generator must not repeat an open session's id

  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    generations_.push_back(0);
  }
  slots_[slot] = std::make_unique<session>();
  session& s = *slots_[slot];
  s.id = std::move(id);
  s.ref = session_ref{slot, ++generations_[slot]};
  s.version = version;
  s.base64_only = version == protocol_version::v3 && request.query_param("b64").has_value();
  s.link = link;
  s.handshake = std::make_shared<const session_handshake>(request, now);
  by_id_.emplace(s.id, slot);
  start_heartbeat(s, now);

  // Announced before anything can close it, so the application always hears
  // of a session before its close.
  const session_ref ref = s.ref;
  events_.emplace_back(connection_event{ref, s.id, link == link_state::websocket ? transport_kind::websocket : transport_kind::polling,
                                        version, s.handshake});

  queue(s, packet_type::open, handshake_json(s, options_), frame_kind::text, nullptr, std::nullopt);
  if (options_.initial_packet) queue(s, packet_type::message, *options_.initial_packet, frame_kind::text, nullptr, std::nullopt);

  if (link == link_state::websocket) {
    s.websocket = connection;
    by_connection_[connection] = slot;
    actions_.emplace_back(websocket_accept{connection, response_headers(request, {}, true)});
  } else {
    // The handshake GET is the first held poll: it leaves with the open packet.
    s.held_get = connection;
    s.held_get_headers = response_headers(request, {}, true);
    if (options_.cookie) {
      s.held_get_headers.push_back({"Set-Cookie", detail::set_cookie_value(*options_.cookie, s.id)});
    }
    s.held_get_jsonp = jsonp_of(request);
    by_connection_[connection] = slot;
  }
  flush(s, now);
  // flush() may have closed the session already (write_buffer_full): `s`
  // must not be touched again.
  return lookup(ref);
}

std::string server::jsonp_of(const http_request& request) {
  // The v4 client no longer offers JSONP, but the reference still serves it
  // to any protocol version that asks with `j`; so do we.
  const std::optional<std::string> j = request.query_param("j");
  return j ? "j" + detail::jsonp_index(*j) : std::string();
}

}  // namespace eio
