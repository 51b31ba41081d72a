#include "scanner.hpp"

#include <eio/utf8.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <utility>

namespace eio::socketio::detail {
namespace {

namespace od = simdjson::ondemand;

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_end(std::string_view s) noexcept {
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

// The value of a run of decimal digits, saturating at UINT64_MAX: linear in
// the digits whatever their number.
std::uint64_t saturating_decimal(std::string_view digits) noexcept {
  std::uint64_t n = 0;
  for (const char c : digits) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::numeric_limits<std::uint64_t>::max();
    n = n * 10 + d;
  }
  return n;
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One pass over one document. Errors keep the first failure; offsets are
// from the start of the data (the padded copy has the same offsets).
class walker {
public:
  walker(const char* base, std::size_t size, std::size_t attachments, std::size_t max_depth,
         std::vector<std::uint64_t>& seen, std::vector<std::string_view>& keys, payload_info& info)
      : base_(base),
        size_(size),
        attachments_(attachments),
        max_depth_(max_depth),
        seen_(seen),
        keys_(keys),
        info_(info) {}

  decode_error error;

  std::size_t offset(const char* at) const noexcept {
    if (at < base_) return 0;
    return std::min(static_cast<std::size_t>(at - base_), size_);
  }
  bool fail(errc e, const char* at) {
    if (!error) error = {make_error_code(e), offset(at)};
    return false;
  }
  bool fail_json(simdjson::error_code e, const char* at) {
    return fail(e == simdjson::DEPTH_ERROR ? errc::json_too_deep : errc::invalid_json, at);
  }
  const char* where() const noexcept { return at_; }

  // For errors found while moving between values (a missing ',' or ':', a
  // stray byte after the root), where simdjson's iterator stopped: the
  // token it could not take, or the last one it took.
  const char* iterator_location() noexcept {
    const char* location = nullptr;
    if (doc_ != nullptr && doc_->current_location().get(location) == simdjson::SUCCESS) return location;
    return at_;
  }
  void attach(od::document& doc) noexcept { doc_ = &doc; }

  // Marks where the value about to be read starts (for error offsets).
  const char* mark(od::value& v) noexcept {
    const std::string_view token = v.raw_json_token();
    at_ = token.data();
    return at_;
  }

  // A number (its token at `at`). simdjson parses it to a double and
  // refuses some valid JSON numbers it cannot parse (0e618446744073709551616,
  // which JSON.parse reads as 0); for those nlohmann's RFC 8259 grammar
  // decides, on the token alone. Both refuse numbers that overflow a double
  // (1e400). A NUL byte would end nlohmann's input early: never valid.
  bool number(od::value& v, const char* at) {
    double value;
    const auto e = v.get_double().get(value);
    if (e == simdjson::SUCCESS) return true;
    if (e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE) {
      const std::string_view token = trim_end(v.raw_json_token());
      // Not consumed: the enclosing array or object skips it.
      if (token.find('\0') == std::string_view::npos && nlohmann::json::accept(token)) return true;
    }
    return fail_json(e, at);
  }

  // Any value, nested `depth` levels deep (the root is depth 1 if it is an
  // array or object): validated, its placeholders counted.
  bool walk(od::value& v, std::size_t depth) {
    const char* at = mark(v);
    od::json_type type;
    if (auto e = v.type().get(type)) return fail_json(e, at);
    switch (type) {
      case od::json_type::array: {
        if (depth + 1 > max_depth_) return fail(errc::json_too_deep, at);
        od::array array;
        if (auto e = v.get_array().get(array)) return fail_json(e, at);
        return walk_array(array, depth + 1);
      }
      case od::json_type::object: {
        if (depth + 1 > max_depth_) return fail(errc::json_too_deep, at);
        od::object object;
        if (auto e = v.get_object().get(object)) return fail_json(e, at);
        return walk_object(object, at, depth + 1);
      }
      case od::json_type::number: return number(v, at);
      case od::json_type::string: {
        std::string_view text;
        if (auto e = v.get_string().get(text)) return fail_json(e, at);
        return true;
      }
      case od::json_type::boolean: {
        bool flag;
        if (auto e = v.get_bool().get(flag)) return fail_json(e, at);
        return true;
      }
      case od::json_type::null: {
        bool null = false;
        if (auto e = v.is_null().get(null)) return fail_json(e, at);
        return null || fail(errc::invalid_json, at);  // "nul", "nullx"
      }
    }
    return fail(errc::invalid_json, at);
  }

  bool walk_array(od::array& array, std::size_t depth) {
    for (auto element : array) {
      od::value v;
      if (auto e = element.get(v)) return fail_json(e, iterator_location());
      if (!walk(v, depth)) return false;
    }
    return true;
  }

  // An object at `depth`, starting at `at`. A placeholder is an object whose
  // "_placeholder" is `true` (socket.io-parser binary.ts _reconstructPacket:
  // `data._placeholder === true`). Keys are compared unescaped, as
  // JSON.parse sees them.
  bool walk_object(od::object& object, const char* at, std::size_t depth) {
    std::size_t placeholder_keys = 0;
    bool placeholder_true = false;
    std::size_t num_keys = 0;
    bool num_integer = false;
    std::uint64_t num = 0;
    std::size_t other_keys = 0;
    const std::size_t first_key = keys_.size();
    for (auto item : object) {
      od::field field;
      if (auto e = std::move(item).get(field)) return fail_json(e, iterator_location());
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return fail_json(e, iterator_location());
      if (attachments_ > 0) keys_.push_back(key);
      od::value& v = field.value();
      if (key == "_placeholder") {
        ++placeholder_keys;
        const char* value_at = mark(v);
        od::json_type type;
        if (auto e = v.type().get(type)) return fail_json(e, value_at);
        if (type == od::json_type::boolean) {
          bool flag = false;
          if (auto e = v.get_bool().get(flag)) return fail_json(e, value_at);
          placeholder_true = placeholder_true || flag;
          continue;
        }
      } else if (key == "num") {
        ++num_keys;
        num_integer = false;
        const char* value_at = mark(v);
        od::json_type type;
        if (auto e = v.type().get(type)) return fail_json(e, value_at);
        if (type == od::json_type::number) {
          // An integer literal (digits only: no sign, fraction or exponent).
          // JSON has no leading zeros, so 16 digits or more are >= 10^15,
          // beyond any attachment count; saturate rather than overflow.
          const std::string_view token = trim_end(v.raw_json_token());
          if (!number(v, value_at)) return false;
          num_integer = all_digits(token);
          num = num_integer ? saturating_decimal(token) : 0;
          continue;
        }
      } else {
        ++other_keys;
      }
      if (!walk(v, depth)) return false;
    }
    if (attachments_ > 0) {
      // Binary packets: no key twice (JSON.parse would keep the last value
      // and could drop a placeholder that this scan counted).
      const auto first = keys_.begin() + static_cast<std::ptrdiff_t>(first_key);
      std::sort(first, keys_.end());
      const bool duplicate = std::adjacent_find(first, keys_.end()) != keys_.end();
      keys_.resize(first_key);
      if (duplicate) return fail(errc::duplicate_key, at);
    }
    if (!placeholder_true) return true;
    return placeholder(at, placeholder_keys == 1 && num_keys == 1 && num_integer && other_keys == 0, num);
  }

  bool placeholder(const char* at, bool valid, std::uint64_t num) {
    ++info_.placeholder_count;
    if (!valid) {
      info_.placeholders_valid = false;
      return attachments_ == 0 || fail(errc::invalid_placeholder, at);
    }
    const std::size_t capped =
        num > std::numeric_limits<std::size_t>::max() ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(num);
    info_.max_placeholder_num = std::max(info_.max_placeholder_num, capped);
    if (attachments_ == 0) return true;
    if (num >= attachments_) return fail(errc::placeholder_out_of_range, at);
    if (num / 64 >= seen_.size()) return true;  // untracked: more attachments than bytes (see scan)
    std::uint64_t& word = seen_[static_cast<std::size_t>(num / 64)];
    const std::uint64_t bit = std::uint64_t{1} << (num % 64);
    if ((word & bit) != 0) return fail(errc::duplicate_placeholder, at);
    word |= bit;
    return true;
  }

private:
  const char* base_;
  std::size_t size_;
  std::size_t attachments_;
  std::size_t max_depth_;
  std::vector<std::uint64_t>& seen_;
  std::vector<std::string_view>& keys_;
  payload_info& info_;
  const char* at_ = nullptr;
  od::document* doc_ = nullptr;
};

// Where a document-level failure most likely is, for errors simdjson reports
// without a position (its first pass: UTF-8, unescaped control characters).
std::size_t document_error_offset(std::string_view data, simdjson::error_code e) {
  if (e == simdjson::UTF8_ERROR) return utf8_valid_prefix(data);
  if (e == simdjson::UNESCAPED_CHARS) {
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto c = static_cast<unsigned char>(data[i]);
      if (c < 0x20 && !is_json_space(data[i])) return i;
    }
  }
  return 0;
}

enum class root_rule : std::uint8_t { object, string_or_object, event_array, array };

root_rule rule_for(packet_type type) noexcept {
  switch (type) {
    case packet_type::connect: return root_rule::object;
    case packet_type::connect_error: return root_rule::string_or_object;
    case packet_type::event:
    case packet_type::binary_event: return root_rule::event_array;
    default: return root_rule::array;
  }
}

decode_error make_error(errc e, std::size_t offset) { return {make_error_code(e), offset}; }

}  // namespace

scanner::scanner(std::size_t max_depth) {
  // Room for the nesting we allow (our own check comes first) and a first
  // capacity; iterate() grows it for larger documents.
  // A failure here (no memory) shows again, as an error, at the first scan.
  if (parser.allocate(4096, std::max<std::size_t>(max_depth + 2, 16)) != simdjson::SUCCESS) return;
}

decode_error scanner::scan(std::string_view data, packet_type type, std::size_t attachments, std::size_t max_depth,
                           payload_info& info) {
  info = payload_info{};
  const bool binary = is_binary(type);
  if (!binary) attachments = 0;

  // The payload rules of socket.io-parser 4.2.6 (lib/index.ts,
  // Decoder.isPayloadValid), applied when data is present:
  //   CONNECT        isObject(payload)
  //   DISCONNECT     payload === undefined  (so: no data at all)
  //   CONNECT_ERROR  typeof payload === "string" || isObject(payload)
  //   EVENT, BINARY_EVENT  Array.isArray(payload) && (typeof payload[0] === "number" ||
  //                  (typeof payload[0] === "string" && !RESERVED_EVENTS.includes(payload[0])))
  //   ACK, BINARY_ACK      Array.isArray(payload)
  // The decoder checks them only `if (str.charAt(++i))`, i.e. when data is
  // present; we also refuse an EVENT without data (it names no event).
  if (data.empty()) {
    if (type == packet_type::event || type == packet_type::binary_event) return make_error(errc::invalid_payload, 0);
    if (attachments > 0) return make_error(errc::missing_placeholder, 0);
    return {};
  }
  if (type == packet_type::disconnect) return make_error(errc::invalid_payload, 0);
  // JSON allows leading whitespace, but in a packet the reference would have
  // read it into the ack id (Number(" ") == " ", so `42 [1]` is id 0 there):
  // refuse it rather than decode it differently, and so that data the scan
  // accepts always encodes to a packet that decodes to the same data.
  if (is_json_space(data.front())) return make_error(errc::invalid_json, 0);

  padded.assign(data.data(), data.size());
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  const char* base = padded.data();
  // One bit per attachment, but never more bits than the data has bytes: a
  // placeholder takes 29 of them, so a packet announcing more attachments
  // than that fails (missing_placeholder) whatever its nums are, and a
  // caller's huge count cannot size this.
  if (attachments > 0) seen.assign((std::min(attachments, data.size()) + 63) / 64, 0);

  od::document doc;
  if (auto e = parser.iterate(base, data.size(), padded.size()).get(doc)) {
    return make_error(e == simdjson::DEPTH_ERROR ? errc::json_too_deep : errc::invalid_json,
                      document_error_offset(data, e));
  }
  keys.clear();
  walker w(base, data.size(), attachments, max_depth, seen, keys, info);
  w.attach(doc);

  std::string_view root_token;
  if (auto e = doc.raw_json_token().get(root_token)) return make_error(errc::invalid_json, document_error_offset(data, e));
  const char* root_at = root_token.data();
  od::json_type root_type;
  if (auto e = doc.type().get(root_type)) return w.fail_json(e, root_at), w.error;

  const root_rule rule = rule_for(type);
  switch (root_type) {
    case od::json_type::object: {
      if (rule != root_rule::object && rule != root_rule::string_or_object) {
        return make_error(errc::invalid_payload, w.offset(root_at));
      }
      if (max_depth < 1) return make_error(errc::json_too_deep, w.offset(root_at));
      od::object object;
      if (auto e = doc.get_object().get(object)) return w.fail_json(e, root_at), w.error;
      if (!w.walk_object(object, root_at, 1)) return w.error;
      break;
    }
    case od::json_type::string: {
      if (rule != root_rule::string_or_object) return make_error(errc::invalid_payload, w.offset(root_at));
      std::string_view text;
      if (auto e = doc.get_string().get(text)) return w.fail_json(e, root_at), w.error;
      break;
    }
    case od::json_type::array: {
      if (rule != root_rule::event_array && rule != root_rule::array) {
        return make_error(errc::invalid_payload, w.offset(root_at));
      }
      if (max_depth < 1) return make_error(errc::json_too_deep, w.offset(root_at));
      od::array array;
      if (auto e = doc.get_array().get(array)) return w.fail_json(e, root_at), w.error;
      const bool event = rule == root_rule::event_array;
      std::size_t index = 0;
      const char* args_at = nullptr;
      for (auto element : array) {
        od::value v;
        if (auto e = element.get(v)) return w.fail_json(e, w.iterator_location()), w.error;
        const char* at = w.mark(v);
        if (event && index == 0) {
          // The event name: a string (unescaped) or a number.
          od::json_type name_type;
          if (auto e = v.type().get(name_type)) return w.fail_json(e, at), w.error;
          const std::string_view token = trim_end(v.raw_json_token());
          if (name_type == od::json_type::string) {
            std::string_view name;
            if (auto e = v.get_string().get(name)) return w.fail_json(e, at), w.error;
            if (is_reserved_event_name(name)) return make_error(errc::reserved_event_name, w.offset(at));
            info.name_kind = event_name_kind::string;
            if (std::memchr(token.data(), '\\', token.size()) == nullptr) {
              // No escapes: the name is the bytes between the quotes.
              info.name = data.substr(w.offset(at) + 1, name.size());
            } else {
              info.name = name;  // simdjson's string buffer, until the next iterate()
            }
          } else if (name_type == od::json_type::number) {
            if (!w.number(v, at)) return w.error;
            info.name_kind = event_name_kind::number;
            info.name = data.substr(w.offset(at), token.size());
          } else {
            // A number or a string; also not a placeholder ({"toString":...}).
            if (!w.walk(v, 1)) return w.error;
            return make_error(errc::invalid_payload, w.offset(at));
          }
        } else {
          if (args_at == nullptr) args_at = at;
          ++info.arg_count;
          if (!w.walk(v, 1)) return w.error;
        }
        ++index;
      }
      if (event && index == 0) return make_error(errc::invalid_payload, w.offset(root_at) + 1);  // "[]"
      // The document is valid and ends with the root array: its ']' is the
      // last byte that is not whitespace.
      const std::size_t close = trim_end(data).size() - 1;
      if (args_at != nullptr) {
        info.args_offset = w.offset(args_at);
        info.args_size = trim_end(data.substr(info.args_offset, close - info.args_offset)).size();
      } else {
        info.args_offset = close;
      }
      break;
    }
    default:
      // Numbers, booleans, null: no packet type takes them.
      return make_error(errc::invalid_payload, w.offset(root_at));
  }

  // Nothing may follow the root value but whitespace.
  const char* end = nullptr;
  const auto end_error = doc.current_location().get(end);
  if (end_error != simdjson::OUT_OF_BOUNDS) {
    return make_error(errc::invalid_json, w.offset(end_error ? w.where() : end));
  }
  if (attachments > 0 && info.placeholder_count < attachments) return make_error(errc::missing_placeholder, data.size());
  return {};
}

}  // namespace eio::socketio::detail
