// URLs of Engine.IO endpoints (RFC 3986, the parts a client needs):
// http://, https://, ws:// and wss://, a host name, IPv4 or [IPv6] address,
// an optional port, path, query and fragment. One parser for the client and
// every tool, so they all read a URL by the same rules. Standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eio::wire {

struct url {
  std::string scheme;       // lower case: "http", "https", "ws" or "wss"
  bool tls = false;         // https or wss
  std::string host;         // as written, IPv6 without its brackets
  std::uint16_t port = 0;   // the one given, else the scheme's (80, 443)
  bool port_given = false;
  std::string path;         // as written ("" when none), starting with '/'
  std::string query;        // after '?', without it, not decoded ("" when none)
  std::string fragment;     // after '#', without it

  // "host" or "host:port" when the port is not the scheme's default, an
  // IPv6 address in brackets: the Host header's value.
  std::string authority() const;
  // The query's name=value pairs, percent-decoded ('+' is a space, as in
  // forms and as browsers' URLSearchParams read it); a name without '='
  // has an empty value.
  std::vector<std::pair<std::string, std::string>> query_params() const;
};

// Parses `text`. Returns nullopt with `error` set (a sentence for a person)
// for a scheme other than the four, user information ("user@"), no host, a
// port that is not 1 to 65535, a bad IPv6 literal, or a character that may
// not stand in a URL (a control character or a space).
std::optional<url> parse_url(std::string_view text, std::string& error);

// Percent-decodes `text` (and '+' as a space when plus_is_space). A '%'
// not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace eio::wire
