#include <eio/socketio/assembler.hpp>

#include <algorithm>

namespace eio::socketio {

assembler::assembler(decode_options options) : options_(options) {}

void assembler::reset() noexcept {
  pending_ = false;
  pending_bytes_ = 0;
  attachments_.clear();
}

decode_error assembler::fail(errc e, std::size_t offset) noexcept {
  reset();
  return {make_error_code(e), offset};
}

std::optional<millis> assembler::next_deadline() const noexcept {
  if (!pending_) return std::nullopt;
  return deadline_;
}

decode_error assembler::on_timeout(millis now) {
  if (pending_ && now >= deadline_) return fail(errc::attachment_timeout, 0);
  return {};
}

feed_result assembler::on_packet(const packet& p, const payload_info& info, millis now, message& out) {
  feed_result result;
  if (pending_) {
    result.error = now >= deadline_ ? fail(errc::attachment_timeout, 0) : fail(errc::unexpected_text, 0);
    return result;
  }
  if (!is_binary(p.type)) {
    out.header = p;
    out.info = info;
    out.attachments.clear();
    result.complete = true;
    return result;
  }
  // Copy what views the caller's text: it need not outlive this call.
  nsp_.assign(p.nsp);
  data_.assign(p.data);
  name_.assign(info.name);
  header_ = p;
  header_.nsp = nsp_;
  header_.data = data_;
  info_ = info;
  info_.name = name_;
  attachments_.clear();
  // Room for the usual few; a large announced count grows as bytes arrive,
  // never before (max_attachments may have been raised far).
  attachments_.reserve(std::min<std::size_t>(p.attachments, 16));
  pending_ = true;
  pending_bytes_ = 0;
  deadline_ = now + options_.attachment_timeout;
  return result;
}

feed_result assembler::on_binary(std::string_view bytes, millis now, message& out) {
  feed_result result;
  if (!pending_) {
    result.error = fail(errc::unexpected_binary, 0);
    return result;
  }
  if (now >= deadline_) {
    result.error = fail(errc::attachment_timeout, 0);
    return result;
  }
  const std::size_t room = options_.max_attachment_bytes - pending_bytes_;
  if (bytes.size() > room) {
    result.error = fail(errc::attachments_too_large, room);
    return result;
  }
  pending_bytes_ += bytes.size();
  const auto* first = reinterpret_cast<const std::uint8_t*>(bytes.data());
  attachments_.emplace_back(first, first + bytes.size());
  if (attachments_.size() < header_.attachments) return result;

  pending_ = false;
  pending_bytes_ = 0;
  out.header = header_;
  out.info = info_;
  out.attachments = std::move(attachments_);
  attachments_.clear();  // a moved-from vector is valid but unspecified
  result.complete = true;
  return result;
}

}  // namespace eio::socketio
