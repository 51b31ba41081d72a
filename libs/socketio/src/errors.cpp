#include <eio/socketio/packet.hpp>

#include <array>

namespace eio::socketio {
namespace {

struct errc_info {
  errc code;
  std::string_view name;
  std::string_view message;
};

constexpr std::array<errc_info, 21> errc_table{{
    {errc::empty_packet, "empty_packet", "empty packet (no type)"},
    {errc::unknown_packet_type, "unknown_packet_type", "unknown packet type"},
    {errc::invalid_attachments, "invalid_attachments", "invalid attachment count"},
    {errc::too_many_attachments, "too_many_attachments", "too many attachments"},
    {errc::namespace_too_long, "namespace_too_long", "namespace too long"},
    {errc::invalid_namespace, "invalid_namespace", "invalid namespace"},
    {errc::invalid_utf8, "invalid_utf8", "invalid UTF-8"},
    {errc::ack_id_too_large, "ack_id_too_large", "ack id too large"},
    {errc::invalid_json, "invalid_json", "invalid JSON"},
    {errc::json_too_deep, "json_too_deep", "JSON nested too deep"},
    {errc::invalid_payload, "invalid_payload", "invalid payload for the packet type"},
    {errc::reserved_event_name, "reserved_event_name", "reserved event name"},
    {errc::invalid_placeholder, "invalid_placeholder", "invalid binary placeholder"},
    {errc::placeholder_out_of_range, "placeholder_out_of_range", "placeholder num out of range"},
    {errc::duplicate_placeholder, "duplicate_placeholder", "two placeholders name the same attachment"},
    {errc::missing_placeholder, "missing_placeholder", "an attachment has no placeholder"},
    {errc::duplicate_key, "duplicate_key", "an object has the same key twice"},
    {errc::unexpected_binary, "unexpected_binary", "binary data when no packet waits for attachments"},
    {errc::unexpected_text, "unexpected_text", "text packet while attachments are pending"},
    {errc::attachments_too_large, "attachments_too_large", "attachments too large"},
    {errc::attachment_timeout, "attachment_timeout", "attachments not complete in time"},
}};

constexpr std::array<std::string_view, 7> packet_type_names{"CONNECT",       "DISCONNECT",   "EVENT",     "ACK",
                                                            "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"};

const errc_info* find(errc e) noexcept {
  for (const auto& info : errc_table) {
    if (info.code == e) return &info;
  }
  return nullptr;
}

class socketio_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "eio.socketio"; }
  std::string message(int value) const override {
    const errc_info* info = find(static_cast<errc>(value));
    return info ? std::string(info->message) : "unknown eio.socketio error";
  }
};

}  // namespace

std::string_view to_string(packet_type type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  return index < packet_type_names.size() ? packet_type_names[index] : std::string_view("UNKNOWN");
}

std::optional<packet_type> packet_type_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < packet_type_names.size(); ++i) {
    if (packet_type_names[i] == name) return static_cast<packet_type>(i);
  }
  return std::nullopt;
}

bool operator==(const packet& a, const packet& b) noexcept {
  return a.type == b.type && a.nsp == b.nsp && a.id == b.id && a.attachments == b.attachments && a.data == b.data;
}

const std::error_category& socketio_category() noexcept {
  static const socketio_category_impl category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), socketio_category()}; }

std::string_view errc_name(errc e) noexcept {
  const errc_info* info = find(e);
  return info ? info->name : std::string_view("unknown");
}

std::string_view errc_name(const std::error_code& code) noexcept {
  return code.category() == socketio_category() ? errc_name(static_cast<errc>(code.value()))
                                                : std::string_view("unknown");
}

std::optional<errc> errc_from_name(std::string_view name) noexcept {
  for (const auto& info : errc_table) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

}  // namespace eio::socketio
