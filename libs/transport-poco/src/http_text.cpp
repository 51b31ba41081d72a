#include "http_text.hpp"

#include <eio/base64.hpp>
#include <eio/server.hpp>

#include <Poco/SHA1Engine.h>

namespace eio::detail {

bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (ascii_iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string websocket_accept_value(std::string_view key) {
  Poco::SHA1Engine sha1;
  sha1.update(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  std::string out;
  base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()), out);
  return out;
}

std::optional<upgrade_refusal> check_websocket_upgrade(const http_request& request, bool has_body) {
  const auto version = request.header_value("sec-websocket-version");
  if (!version || *version != "13") return upgrade_refusal{"Unsupported WebSocket version", true};
  const auto key = request.header_value("sec-websocket-key");
  const auto connection = request.header_value("connection");
  std::string decoded;
  std::size_t bad = 0;
  if (request.method != "GET" || has_body || !key || !base64_decode(*key, decoded, bad) || decoded.size() != 16 ||
      !connection || !has_token(*connection, "upgrade")) {
    return upgrade_refusal{"Bad WebSocket handshake", false};
  }
  return std::nullopt;
}

}  // namespace eio::detail
