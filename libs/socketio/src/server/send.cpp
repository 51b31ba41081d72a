// Packets to clients: one connection (send, send_batch), or many at once,
// encoded once (broadcast_batch).
#include "detail.hpp"

#include <eio/socketio/namespace.hpp>

namespace eio::socketio::detail {

namespace {

std::string_view bytes_of(const attachment& a) noexcept {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}

}  // namespace

bool runtime_impl::send_packet(connection& conn, const packet& p, const std::vector<attachment>* attachments,
                               bool is_volatile) {
  if (conn.closing) return false;
  scratch.clear();
  if (encode(p, scratch)) return false;
  if (!attachments || attachments->empty()) {
    eio::send_options how;
    how.is_volatile = is_volatile;
    return core.send(conn.session, scratch, eio::frame_kind::text, now, how);
  }
  if (!is_volatile) {
    // The text and its attachments, all or none, in one poll response.
    std::vector<eio::outgoing_message> parts;
    parts.reserve(1 + attachments->size());
    parts.push_back({scratch, eio::frame_kind::text});
    for (const attachment& a : *attachments) parts.push_back({bytes_of(a), eio::frame_kind::binary});
    return core.send_batch(conn.session, parts, now);
  }
  // send_batch has no volatile form; a batch for one session does.
  std::vector<eio::shared_message> parts;
  parts.reserve(1 + attachments->size());
  parts.push_back({std::make_shared<const std::string>(scratch), eio::frame_kind::text});
  for (const attachment& a : *attachments) {
    parts.push_back({std::make_shared<const std::string>(bytes_of(a)), eio::frame_kind::binary});
  }
  eio::send_options how;
  how.is_volatile = true;
  return core.broadcast_batch(&conn.session, 1, parts.data(), parts.size(), now, how) == 1;
}

bool runtime_impl::send_event(connection& conn, std::string_view nsp, const event_packet& packet,
                              std::optional<std::uint64_t> id, bool is_volatile) {
  const socketio::packet p{packet.attachments.empty() ? packet_type::event : packet_type::binary_event, nsp, id,
                 packet.attachments.size(), packet.data};
  return send_packet(conn, p, &packet.attachments, is_volatile);
}

std::vector<eio::shared_message> runtime_impl::encode_event(std::string_view nsp, const event_packet& packet,
                                                            std::optional<std::uint64_t> id) {
  const socketio::packet p{packet.attachments.empty() ? packet_type::event : packet_type::binary_event, nsp, id,
                 packet.attachments.size(), packet.data};
  std::string text;
  text.reserve(packet.data.size() + nsp.size() + 24);
  std::vector<eio::shared_message> parts;
  if (encode(p, text)) return parts;
  parts.reserve(1 + packet.attachments.size());
  parts.push_back({std::make_shared<const std::string>(std::move(text)), eio::frame_kind::text});
  for (const attachment& a : packet.attachments) {
    parts.push_back({std::make_shared<const std::string>(bytes_of(a)), eio::frame_kind::binary});
  }
  return parts;
}

void runtime_impl::deliver(const std::vector<socket*>& targets, const std::vector<eio::shared_message>& parts,
                           bool is_volatile) {
  if (parts.empty()) return;
  sessions.clear();
  for (socket* s : targets) {
    const socket_state& st = access::state(*s);
    if (st.phase == socket_phase::connected && st.conn && !st.conn->closing) sessions.push_back(st.conn->session);
  }
  if (sessions.empty()) return;
  eio::send_options how;
  how.is_volatile = is_volatile;
  core.broadcast_batch(sessions.data(), sessions.size(), parts.data(), parts.size(), now, how);
}

}  // namespace eio::socketio::detail
