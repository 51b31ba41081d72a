#include "plain_target.hpp"

#include <eio/wire/url.hpp>

namespace eio::tool {

std::string plain_target::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<plain_target> parse_plain_target(std::string_view url, std::string_view tool, bool allow_query,
                                               std::string& error) {
  const std::optional<wire::url> parsed = wire::parse_url(url, error);
  if (!parsed) return std::nullopt;
  if (parsed->tls) {
    error = std::string(parsed->scheme) + ":// targets are not supported (" + std::string(tool) +
            " speaks plain http:// or ws://)";
    return std::nullopt;
  }
  if (!allow_query && (!parsed->query.empty() || !parsed->fragment.empty() ||
                       url.find_first_of("?#") != std::string_view::npos)) {
    error = "the URL must not have a query or fragment";
    return std::nullopt;
  }
  plain_target target;
  target.host = parsed->host;
  target.port = parsed->port;
  if (!parsed->path.empty() && parsed->path != "/") {
    target.path = parsed->path.back() == '/' ? parsed->path : parsed->path + "/";
  }
  return target;
}

}  // namespace eio::tool
