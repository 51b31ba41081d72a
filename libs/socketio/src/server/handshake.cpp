// socket.handshake (socket.io lib/socket.ts buildHandshake), the query
// strings it and protocol v4 namespaces carry, and JavaScript's date string.
#include <eio/socketio/handshake.hpp>

#include "detail.hpp"
#include "query.hpp"

#include <cstdio>

namespace eio::socketio {

std::string javascript_date_string(std::int64_t epoch_ms) {
  // Days and the time of day, rounding toward minus infinity as Date does.
  constexpr std::int64_t ms_per_day = 86'400'000;
  std::int64_t days = epoch_ms / ms_per_day;
  std::int64_t ms_of_day = epoch_ms % ms_per_day;
  if (ms_of_day < 0) {
    ms_of_day += ms_per_day;
    --days;
  }
  // civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const std::int64_t weekday = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4)

  static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t seconds = ms_of_day / 1000;
  char text[96];
  std::snprintf(text, sizeof text, "%s %s %02d %04lld %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
                weekdays[weekday], months[month - 1], static_cast<int>(day), static_cast<long long>(year),
                static_cast<int>(seconds / 3600), static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
  return text;
}

namespace detail {

namespace {
int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string query_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(query_decode(part), std::string());
    } else {
      out.emplace_back(query_decode(part.substr(0, eq)), query_decode(part.substr(eq + 1)));
    }
  }
  return out;
}

v4_namespace split_v4_namespace(std::string_view nsp, bool with_auth) {
  v4_namespace out;
  const std::size_t cut = nsp.find_first_of("?#");
  out.name = nsp.substr(0, cut);
  if (out.name.empty()) out.name = "/";
  out.auth = value::object();
  if (with_auth && cut != std::string_view::npos && nsp[cut] == '?') {
    std::string_view query = nsp.substr(cut + 1);
    query = query.substr(0, query.find('#'));
    // URLSearchParams -> Object.fromEntries: the last of a repeated key wins.
    for (auto& [key, val] : parse_query(query)) out.auth[key] = val;
  }
  return out;
}

socketio::handshake build_handshake(const handshake_source& source) {
  socketio::handshake h;
  if (const eio::session_handshake* hs = source.record.get()) {
    h.headers.reserve(hs->header_count());
    for (std::size_t i = 0; i < hs->header_count(); ++i) {
      h.headers.emplace_back(std::string(hs->header_name(i)), std::string(hs->header_value(i)));
    }
    h.address = std::string(hs->remote_address());
    h.xdomain = hs->header_value("Origin").has_value();
    h.url = std::string(hs->path());
    if (!hs->query().empty()) {
      h.url += '?';
      h.url += hs->query();
    }
    h.query = parse_query(hs->query());
    h.issued = (hs->time() + source.wall_clock_offset).count();
  }
  h.secure = source.secure;
  h.time = javascript_date_string(h.issued);
  h.auth = source.auth;
  return h;
}

}  // namespace detail
}  // namespace eio::socketio
