// HTTP details of the Engine.IO server that are pure functions: query
// strings, JSON strings, JSONP framing, CORS and cookie headers, session IDs.
// Internal to eio::session.
#pragma once

#include <eio/server.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace eio::detail {

// ASCII case-insensitive equality (HTTP header names, tokens).

// The value of `name` in a raw query string ("a=1&b=x%20y"), percent-decoded
// with '+' as a space, as Node's querystring does; the first occurrence.
// A parameter without '=' has the value "". Malformed escapes stay literal.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

// Appends `text` (UTF-8) as a JSON string, quotes included: escapes '"',
// '\\' and control characters, keeps other UTF-8 as is.
void append_json_string(std::string_view text, std::string& out);

// JSONP (protocol v3): the callback index of query parameter `j`, its digits
// only (the reference drops every other character).
std::string jsonp_index(std::string_view j);
// A JSONP poll response for a text payload: ___eio[<index>]("<payload as a
// JSON string>"); with U+2028 and U+2029 escaped too (they end a JavaScript
// line).
void append_jsonp(std::string_view index, std::string_view payload, std::string& out);
// The payload of a JSONP POST body: form-encoded, field `d`, percent-decoded
// with '+' as space; then, as the reference does (polling-jsonp.ts), every
// backslash+n not preceded by another backslash becomes a newline, and then
// backslash+backslash+n becomes backslash+n. nullopt when there is no single
// `d` field.
std::optional<std::string> jsonp_payload(std::string_view body);

// CORS response headers for `request`, appended to `out`. `preflight`: the
// request is an OPTIONS preflight (adds methods, allowed headers, max age).
// Adds nothing when the request has no Origin or the origin is not allowed.
void append_cors_headers(const cors_options& cors, const http_request& request, bool preflight, header_list& out);

// The Set-Cookie value for a new session: "<name>=<sid>; Path=<path>;
// HttpOnly; SameSite=<same_site>" (attributes only when set).
std::string set_cookie_value(const cookie_options& cookie, std::string_view sid);

// 20 characters of URL-safe base64 (A-Z a-z 0-9 - _) from 15 random bytes
// of std::random_device (getrandom on Linux).
std::string random_session_id();

}  // namespace eio::detail
