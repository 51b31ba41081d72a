// The endpoint of the tools that speak raw bytes over plain HTTP (`bench`,
// `fuzz`), read by eio::wire::parse_url: the one URL parser of eio::poco_client
// (`probe`) and every tool, so a URL means the same to all of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eio::tool {

struct plain_target {
  std::string host;        // as written (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string path = "/engine.io/";  // ends with '/'; "/engine.io/" when the URL has none
  // The Host header: host:port, an IPv6 address in brackets.
  std::string host_header() const;
};

// Parses `url`: http:// or ws:// only (https:// and wss:// are refused in
// `tool`'s name: it speaks plain TCP), and a query or fragment is refused
// unless `allow_query` (then ignored). nullopt with `error` set otherwise.
std::optional<plain_target> parse_plain_target(std::string_view url, std::string_view tool, bool allow_query,
                                               std::string& error);

}  // namespace eio::tool
