// The Engine.IO server core: construction, the session table, the output
// queues and inspection. The rules live elsewhere: transitions.cpp decides
// what each input does in each state (one dispatch per input, in the order
// of session_machine_test's table, which is the source of truth), and the
// topic files do it: routing.cpp (verification, handshake), polling.cpp,
// upgrade.cpp, heartbeat.cpp (and the timers), outbound.cpp, close.cpp.
#include <eio/server.hpp>

#include "http.hpp"
#include "session.hpp"

namespace eio {

using detail::link_state;
using detail::session;
using detail::session_state;

server::server(server_options options) : options_(std::move(options)) {
  if (!options_.generate_id) options_.generate_id = detail::random_session_id;
}

server::~server() = default;

session* server::lookup(session_ref ref) noexcept {
  if (ref.slot >= slots_.size() || !slots_[ref.slot]) return nullptr;
  session* s = slots_[ref.slot].get();
  return s->ref == ref ? s : nullptr;
}

const session* server::lookup(session_ref ref) const noexcept {
  return const_cast<server*>(this)->lookup(ref);
}

session* server::by_connection(connection_id connection) noexcept {
  const auto found = by_connection_.find(connection);
  return found == by_connection_.end() ? nullptr : slots_[found->second].get();
}

// ------------------------------------------------------------ outputs

std::optional<action> server::next_action() {
  return actions_.take();
}

std::optional<event> server::next_event() {
  // The event taken before this call may view retained bytes: they go now.
  while (!retained_.empty() && retained_.front().first <= events_taken_) retained_.pop_front();
  std::optional<event> e = events_.take();
  if (e) ++events_taken_;
  return e;
}

// Keeps `bytes` until the events queued by the input being handled have
// been taken (seal_retained() dates it once that input is done).
std::string_view server::retain(std::string&& bytes) {
  retained_.emplace_back(unsealed, std::move(bytes));
  return retained_.back().second;
}

void server::seal_retained() noexcept {
  const std::uint64_t after_last_event = events_taken_ + events_.size();
  for (auto it = retained_.rbegin(); it != retained_.rend() && it->first == unsealed; ++it) it->first = after_last_event;
}

// A message for the application. Its bytes are viewed where they lie when
// that is the input being handled (the adapter's buffer, or a body retained
// already), and copied when they lie in a decoder's own storage (base64
// data), which the next input overwrites.
void server::deliver(session& s, const packet& p) {
  std::string_view data = p.data;
  const bool in_input = data.empty() || (data.data() >= stable_input_.data() &&
                                         data.data() + data.size() <= stable_input_.data() + stable_input_.size());
  if (!in_input) data = retain(std::string(data));
  events_.emplace_back(message_event{s.ref, p.binary ? frame_kind::binary : frame_kind::text, data});
}

// ------------------------------------------------------------ inspection

void server::all_sessions(std::vector<session_ref>& out) const {
  out.reserve(out.size() + by_id_.size());
  for (const auto& slot : slots_) {
    if (slot && slot->state != session_state::closed) out.push_back(slot->ref);
  }
}

std::optional<session_ref> server::find_session(std::string_view sid) const {
  const auto found = by_id_.find(sid);
  if (found == by_id_.end()) return std::nullopt;
  return slots_[found->second]->ref;
}

std::string_view server::session_id(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? std::string_view(s->id) : std::string_view();
}

std::optional<transport_kind> server::session_transport(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  if (!s) return std::nullopt;
  return s->link == link_state::websocket ? transport_kind::websocket : transport_kind::polling;
}

std::optional<protocol_version> server::session_protocol(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  if (!s) return std::nullopt;
  return s->version;
}

std::shared_ptr<const session_handshake> server::handshake(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? s->handshake : nullptr;
}

std::size_t server::buffered_bytes(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? buffered_bytes(*s) : 0;
}

std::size_t server::buffered_bytes(const session& s) const noexcept {
  std::size_t unsent = 0;
  if (output_ && s.websocket) unsent = output_->unsent_bytes(*s.websocket);
  return s.buffered_bytes + unsent;
}

std::uint64_t server::volatile_dropped(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? s->volatile_dropped : 0;
}

void server::set_user_data(session_ref ref, void* data) noexcept {
  if (session* s = lookup(ref)) s->user_data = data;
}

void* server::user_data(session_ref ref) const noexcept {
  const session* s = lookup(ref);
  return s ? s->user_data : nullptr;
}

}  // namespace eio
