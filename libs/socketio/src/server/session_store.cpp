// The in-process session store of connection state recovery
// (socket.io-adapter lib/in-memory-adapter.ts SessionAwareAdapter), shared
// by the loops of a process.
#include <eio/socketio/session_store.hpp>

#include <algorithm>
#include <charconv>

namespace eio::socketio {

namespace {

std::size_t size_of(const event_packet& p, const broadcast_options& opts) {
  std::size_t n = p.data.size() + 64;
  for (const auto& a : p.attachments) n += a.size() + 32;
  for (const auto& r : opts.rooms) n += r.size() + 32;
  for (const auto& r : opts.except) n += r.size() + 32;
  return n;
}

// Offsets are "<counter>" in base 36 behind a tag: other strings a client
// sends back as its offset (any string last argument) are told apart.
constexpr std::string_view offset_tag = "eio-";

std::string offset_text(std::uint64_t n) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, n, 36).ptr;
  std::string out(offset_tag);
  out.append(digits, end);
  return out;
}

std::optional<std::uint64_t> offset_number(std::string_view text) {
  if (text.substr(0, offset_tag.size()) != offset_tag) return std::nullopt;
  text.remove_prefix(offset_tag.size());
  std::uint64_t n = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), n, 36);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

void append_offset(event_packet& packet, std::string_view offset) {
  if (packet.data.empty() || packet.data.back() != ']') return;
  packet.data.pop_back();
  packet.data += ",\"";
  packet.data += offset;  // base-36 digits and a tag: nothing to escape
  packet.data += "\"]";
}

}  // namespace

bool session_reaches(const std::vector<std::string>& session_rooms, const std::vector<std::string>& rooms,
                     const std::vector<std::string>& except) {
  auto has = [](const std::vector<std::string>& set, const std::string& room) {
    return std::find(set.begin(), set.end(), room) != set.end();
  };
  bool included = rooms.empty();
  for (const auto& room : session_rooms) {
    if (!included && has(rooms, room)) included = true;
    if (has(except, room)) return false;
  }
  return included;
}

in_process_session_store::in_process_session_store(session_store_options options) : options_(options) {}

in_process_session_store::namespace_log& in_process_session_store::log_of(std::string_view nsp) {
  const auto found = logs_.find(std::string(nsp));
  if (found != logs_.end()) return found->second;
  return logs_[std::string(nsp)];
}

const in_process_session_store::namespace_log* in_process_session_store::find_log(std::string_view nsp) const {
  const auto found = logs_.find(std::string(nsp));
  return found == logs_.end() ? nullptr : &found->second;
}

void in_process_session_store::purge(namespace_log& log, std::chrono::milliseconds now) {
  // The reference purges every 60 s; here on each call, from the oldest.
  const std::chrono::milliseconds threshold = now - options_.max_disconnection_duration;
  while (!log.packets.empty() && (log.packets.front().emitted_at < threshold || log.bytes > options_.max_log_bytes)) {
    log.bytes -= log.packets.front().bytes;
    log.packets.pop_front();
  }
  while (!log.session_order.empty()) {
    const auto& [order, pid] = log.session_order.front();
    const auto found = log.sessions.find(pid);
    const bool current = found != log.sessions.end() && found->second.order == order;
    if (current && found->second.disconnected_at >= threshold && log.sessions.size() <= options_.max_sessions) break;
    if (current) log.sessions.erase(found);
    log.session_order.pop_front();
  }
}

std::string in_process_session_store::append(std::string_view nsp, const broadcast_options& opts,
                                             event_packet& packet, std::chrono::milliseconds now) {
  std::lock_guard<std::mutex> lock(mutex_);
  namespace_log& log = log_of(nsp);
  const std::uint64_t n = next_offset_++;
  const std::string offset = offset_text(n);
  append_offset(packet, offset);
  logged_packet entry;
  entry.offset = n;
  entry.emitted_at = now;
  entry.rooms = opts.rooms;
  entry.except = opts.except;
  entry.packet = packet;
  entry.bytes = size_of(packet, opts);
  log.bytes += entry.bytes;
  log.packets.push_back(std::move(entry));
  purge(log, now);
  return offset;
}

void in_process_session_store::persist(std::string_view nsp, session_to_persist session,
                                       std::chrono::milliseconds now) {
  std::lock_guard<std::mutex> lock(mutex_);
  namespace_log& log = log_of(nsp);
  const std::uint64_t order = next_order_++;
  const std::string pid = session.pid;
  log.sessions[pid] = stored_session{std::move(session), now, order};
  log.session_order.emplace_back(order, pid);
  purge(log, now);
}

std::optional<restored_session> in_process_session_store::restore(std::string_view nsp, std::string_view pid,
                                                                  std::string_view offset,
                                                                  std::chrono::milliseconds now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found_log = logs_.find(std::string(nsp));
  if (found_log == logs_.end()) return std::nullopt;
  namespace_log& log = found_log->second;
  purge(log, now);
  const auto found = log.sessions.find(std::string(pid));
  if (found == log.sessions.end()) return std::nullopt;
  if (found->second.disconnected_at + options_.max_disconnection_duration < now) {
    log.sessions.erase(found);
    return std::nullopt;
  }
  const std::optional<std::uint64_t> n = offset_number(offset);
  if (!n) return std::nullopt;
  const auto at = std::lower_bound(log.packets.begin(), log.packets.end(), *n,
                                   [](const logged_packet& p, std::uint64_t v) { return p.offset < v; });
  if (at == log.packets.end() || at->offset != *n) return std::nullopt;  // too old, or never logged
  restored_session out;
  out.session = std::move(found->second.session);
  log.sessions.erase(found);  // once: a second client with the same pid gets a new socket
  for (auto it = at + 1; it != log.packets.end(); ++it) {
    if (session_reaches(out.session.rooms, it->rooms, it->except)) out.missed_packets.push_back(it->packet);
  }
  return out;
}

std::size_t in_process_session_store::logged_packets(std::string_view nsp) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const namespace_log* log = find_log(nsp);
  return log ? log->packets.size() : 0;
}

std::size_t in_process_session_store::logged_bytes(std::string_view nsp) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const namespace_log* log = find_log(nsp);
  return log ? log->bytes : 0;
}

std::size_t in_process_session_store::sessions(std::string_view nsp) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const namespace_log* log = find_log(nsp);
  return log ? log->sessions.size() : 0;
}

}  // namespace eio::socketio
