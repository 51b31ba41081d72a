// HTTP long-polling (engine.io-protocol "HTTP long-polling"; the reference's
// polling.ts and polling-jsonp.ts): the held GET that carries packets to the
// client, the POST whose body carries packets from it.
#include <eio/server.hpp>

#include "http.hpp"
#include "session.hpp"

namespace eio {

using detail::session;
using detail::session_state;

namespace {

constexpr std::string_view text_content_type = "text/plain; charset=UTF-8";
constexpr std::string_view binary_content_type = "application/octet-stream";

}  // namespace

void server::hold_get(session& s, connection_id connection, const http_request& request, millis now) {
  s.held_get = connection;
  s.held_get_headers = response_headers(request, {}, false);
  s.held_get_jsonp = jsonp_of(request);
  by_connection_[connection] = s.ref.slot;
  // While upgrading, an empty GET waits for the next noop tick rather than
  // getting one at once: a client that has not seen "3probe" yet would poll
  // again at once, and so on in a busy loop.
  if (!s.buffer.empty() || s.state == session_state::closing) flush(s, now);
}

void server::begin_post_body(session& s, connection_id connection, const http_request& request) {
  const auto content_type = request.header_value("content-type");
  const bool binary_body = content_type && ascii_iequals(*content_type, binary_content_type);
  s.pending_post = connection;
  post_formats_[connection] = post_format{binary_body, !jsonp_of(request).empty(), response_headers(request, {}, false)};
  by_connection_[connection] = s.ref.slot;
}

// A request the session's state cannot take: an empty 400 for it, and the
// session closes (polling.ts: overlapping GETs or POSTs, v4 binary content).
void server::refuse_and_close(session& s, connection_id connection, const http_request& request, close_reason reason,
                              std::string description, millis now) {
  actions_.emplace_back(http_response{connection, 400, response_headers(request, {}, false), {}});
  close_session(s, reason, std::move(description), now);
}

void server::finish_post(connection_id connection, std::string body, millis now) {
  session* s = by_connection(connection);
  const auto format = post_formats_.find(connection);
  if (!s || s->pending_post != connection || format == post_formats_.end()) return;  // no longer expected
  // An adapter that read the whole body anyway: the limit still holds, on
  // the raw body as the reference counts it (node-reference-behaviour.md,
  // "Polling", the size limit).
  if (body.size() > options_.max_http_buffer_size) return body_too_large(connection, now);
  post_format how = std::move(format->second);
  post_formats_.erase(format);
  by_connection_.erase(connection);
  s->pending_post.reset();

  std::string_view payload = retain(std::move(body));
  std::optional<std::string> jsonp_field;
  if (how.jsonp) {
    jsonp_field = detail::jsonp_payload(payload);
    if (jsonp_field) payload = retain(std::move(*jsonp_field));
  }
  decode_options limits;
  limits.max_payload_bytes = options_.max_http_buffer_size;
  limits.max_packets = options_.max_packets_per_payload;
  // Alive while the packets are handled: base64 data is decoded into it.
  payload_decoder decoder(s->version, how.binary ? payload_format::binary : payload_format::text, limits);
  std::vector<packet> packets;
  decode_error error;
  if (how.jsonp && !jsonp_field) {
    // No single `d` field: nothing to decode. The reference answers "ok";
    // we refuse it like any malformed payload (node-reference-behaviour.md,
    // "Where eio::session differs on purpose").
    error = decode_error{make_error_code(errc::empty_payload), 0};
  } else {
    error = decoder.decode(payload, packets);
  }

  // The packets before an error are delivered, as the reference does; then
  // a payload that was refused is answered 400, never "ok".
  stable_input_ = payload;
  const session_ref ref = s->ref;
  for (const packet& p : packets) {
    session* alive = lookup(ref);
    if (!alive || alive->state == session_state::closed) break;
    on_packet(*alive, p, now);
  }
  if (error) {
    actions_.emplace_back(http_response{connection, 400,
                                        [&] {
                                          header_list headers = std::move(how.headers);
                                          headers.insert(headers.begin(), header{"Content-Type", "application/json"});
                                          return headers;
                                        }(),
                                        error_body(request_error::bad_request, {})});
    if (session* alive = lookup(ref)) {
      close_session(*alive, close_reason::parse_error,
                    std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset), now);
    }
  } else {
    header_list headers = std::move(how.headers);
    headers.insert(headers.begin(), header{"Content-Type", "text/html"});
    actions_.emplace_back(http_response{connection, 200, std::move(headers), "ok"});
  }
  seal_retained();
  stable_input_ = {};
}

void server::body_too_large(connection_id connection, millis now) {
  session* s = by_connection(connection);
  const auto format = post_formats_.find(connection);
  if (!s || s->pending_post != connection || format == post_formats_.end()) return;
  actions_.emplace_back(http_response{connection, 413, std::move(format->second.headers), {}});
  post_formats_.erase(format);
  by_connection_.erase(connection);
  s->pending_post.reset();
  close_session(*s, close_reason::transport_error, "payload too large", now);
}

void server::http_closed(connection_id connection, millis now) {
  session* s = by_connection(connection);
  if (!s) return;
  if (s->held_get == connection) {
    by_connection_.erase(connection);
    s->held_get.reset();
    close_session(*s, close_reason::transport_error, "poll connection closed prematurely", now);
  } else if (s->pending_post == connection) {
    by_connection_.erase(connection);
    post_formats_.erase(connection);
    s->pending_post.reset();
    close_session(*s, close_reason::transport_error, "data request connection closed prematurely", now);
  }
}

void server::answer_held_get(session& s, std::string_view payload_bytes, payload_format format) {
  std::string body;
  std::string_view content_type = format == payload_format::binary ? binary_content_type : text_content_type;
  if (!s.held_get_jsonp.empty()) {
    detail::append_jsonp(std::string_view(s.held_get_jsonp).substr(1), payload_bytes, body);
    content_type = text_content_type;  // the reference sends JSONP as text/plain too
  } else {
    body.assign(payload_bytes);
  }
  header_list headers = std::move(s.held_get_headers);
  headers.insert(headers.begin(), {header{"Content-Type", std::string(content_type)}, header{"Cache-Control", "no-store"}});
  actions_.emplace_back(http_response{*s.held_get, 200, std::move(headers), std::move(body)});
  by_connection_.erase(*s.held_get);
  s.held_get.reset();
  s.held_get_headers.clear();
  s.held_get_jsonp.clear();
}

// Ends the held GET with one packet without data (a noop, or a close).
void server::answer_held_get_with(session& s, packet_type type) {
  std::string payload;
  const packet p{type, false, {}};
  const payload_format format = encode_payload(&p, 1, s.version, false, payload);
  answer_held_get(s, payload, format);
}

}  // namespace eio
