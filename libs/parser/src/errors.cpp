#include <eio/parser.hpp>

#include <array>

namespace eio {
namespace {

struct errc_info {
  errc code;
  std::string_view name;
  std::string_view message;
};

constexpr std::array<errc_info, 12> errc_table{{
    {errc::empty_payload, "empty_payload", "empty payload"},
    {errc::empty_packet, "empty_packet", "empty packet (no type)"},
    {errc::unknown_packet_type, "unknown_packet_type", "unknown packet type"},
    {errc::invalid_base64, "invalid_base64", "invalid base64"},
    {errc::invalid_utf8, "invalid_utf8", "invalid UTF-8"},
    {errc::invalid_length, "invalid_length", "invalid length prefix"},
    {errc::length_too_long, "length_too_long", "length prefix has too many digits"},
    {errc::truncated, "truncated", "input ends inside a packet"},
    {errc::length_splits_character, "length_splits_character", "length ends inside a surrogate pair"},
    {errc::invalid_payload_marker, "invalid_payload_marker", "invalid binary payload marker (not 0 or 1)"},
    {errc::payload_too_large, "payload_too_large", "payload too large"},
    {errc::too_many_packets, "too_many_packets", "too many packets in payload"},
}};

constexpr std::array<std::string_view, 7> packet_type_names{"open", "close", "ping", "pong",
                                                            "message", "upgrade", "noop"};

const errc_info* find(errc e) noexcept {
  for (const auto& info : errc_table) {
    if (info.code == e) return &info;
  }
  return nullptr;
}

class parser_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "eio.parser"; }
  std::string message(int value) const override {
    const errc_info* info = find(static_cast<errc>(value));
    return info ? std::string(info->message) : "unknown eio.parser error";
  }
};

}  // namespace

std::string_view to_string(packet_type type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  return index < packet_type_names.size() ? packet_type_names[index] : std::string_view("unknown");
}

std::optional<packet_type> packet_type_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < packet_type_names.size(); ++i) {
    if (packet_type_names[i] == name) return static_cast<packet_type>(i);
  }
  return std::nullopt;
}

bool operator==(const packet& a, const packet& b) noexcept {
  return a.type == b.type && a.binary == b.binary && a.data == b.data;
}

const std::error_category& parser_category() noexcept {
  static const parser_category_impl category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), parser_category()}; }

std::string_view errc_name(errc e) noexcept {
  const errc_info* info = find(e);
  return info ? info->name : std::string_view("unknown");
}

std::string_view errc_name(const std::error_code& code) noexcept {
  return code.category() == parser_category() ? errc_name(static_cast<errc>(code.value())) : std::string_view("unknown");
}

std::optional<errc> errc_from_name(std::string_view name) noexcept {
  for (const auto& info : errc_table) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

}  // namespace eio
