// Values <-> wire data (JSON text with placeholders + attachments), for
// nlohmann::json and nlohmann::ordered_json alike. The JSON itself is
// written and read by nlohmann; this file only swaps binary values and
// placeholder objects (socket.io-parser lib/binary.ts).
#include <eio/socketio/value.hpp>

#include <cstdint>
#include <utility>

namespace eio::socketio {
namespace {

template <class Json>
bool any_binary(const Json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::binary: return true;
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object:
      for (const auto& child : v) {
        if (any_binary(child)) return true;
      }
      return false;
    default: return false;
  }
}

// Replaces every binary in `v` by a placeholder, depth first (arrays by
// index, objects in the Json's key order), moving its bytes to `attachments`.
// Numbers count from `base`, the size `attachments` had when the caller began.
template <class Json>
void deconstruct(Json& v, std::vector<attachment>& attachments, std::size_t base) {
  if (v.is_binary()) {
    attachment& bytes = v.get_binary();  // byte_container_with_subtype<std::vector<std::uint8_t>>
    attachments.push_back(std::move(bytes));
    Json placeholder = Json::object();
    placeholder["_placeholder"] = true;
    placeholder["num"] = attachments.size() - 1 - base;
    v = std::move(placeholder);
  } else if (v.is_array() || v.is_object()) {
    for (auto& child : v) deconstruct(child, attachments, base);
  }
}

// Appends the JSON text of `v`, placeholders for binaries (numbered from
// `base`). Throws nlohmann's type_error 316 for a string that is not UTF-8.
template <class Json>
void append_wire(const Json& v, std::string& out, std::vector<attachment>& attachments, std::size_t base) {
  // JSON.stringify writes NaN and Infinity as null; so does nlohmann.
  if (!any_binary(v)) {
    out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    return;
  }
  Json copy = v;
  deconstruct(copy, attachments, base);
  out += copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

template <class Json>
std::error_code to_wire_impl(const Json& v, std::string& out, std::vector<attachment>& attachments) {
  const std::size_t out_size = out.size();
  const std::size_t base = attachments.size();
  try {
    append_wire(v, out, attachments, base);
  } catch (const nlohmann::json::exception&) {
    out.resize(out_size);
    attachments.resize(base);
    return errc::invalid_utf8;
  }
  return {};
}

template <class Json>
std::error_code to_wire_move(Json&& v, std::string& out, std::vector<attachment>& attachments) {
  const std::size_t out_size = out.size();
  const std::size_t base = attachments.size();
  deconstruct(v, attachments, base);
  try {
    out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    out.resize(out_size);
    attachments.resize(base);
    return errc::invalid_utf8;
  }
  return {};
}

template <class Json>
std::error_code parse(std::string_view json, Json& out) {
  // nlohmann's lexer takes a NUL byte for the end of the input ("[1]\0junk"
  // parses); JSON text never holds one unescaped, so refuse it first.
  if (json.find('\0') != std::string_view::npos) {
    out = Json();
    return errc::invalid_json;
  }
  out = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    out = Json();
    return errc::invalid_json;
  }
  return {};
}

template <class Json>
bool within_depth(const Json& v, std::size_t depth, std::size_t max_depth) {
  if (!v.is_array() && !v.is_object()) return true;
  if (depth + 1 > max_depth) return false;
  for (const auto& child : v) {
    if (!within_depth(child, depth + 1, max_depth)) return false;
  }
  return true;
}

// Puts the attachments back where their placeholders are (the rules of
// decoder::scan for binary packets).
template <class Json>
class reconstructor {
public:
  explicit reconstructor(std::vector<attachment>& attachments)
      : attachments_(attachments), used_(attachments.size(), false) {}

  std::error_code run(Json& v) {
    if (const std::error_code error = visit(v)) return error;
    if (placed_ != attachments_.size()) return errc::missing_placeholder;
    return {};
  }

private:
  std::error_code visit(Json& v) {
    if (v.is_array()) {
      for (auto& child : v) {
        if (const std::error_code error = visit(child)) return error;
      }
      return {};
    }
    if (!v.is_object()) return {};
    const auto flag = v.find("_placeholder");
    if (flag == v.end() || !flag->is_boolean() || !flag->template get<bool>()) {
      for (auto& child : v) {
        if (const std::error_code error = visit(child)) return error;
      }
      return {};
    }
    const auto num = v.find("num");
    if (v.size() != 2 || num == v.end() || !num->is_number_unsigned()) return errc::invalid_placeholder;
    const auto n = num->template get<std::uint64_t>();
    if (n >= attachments_.size()) return errc::placeholder_out_of_range;
    const auto index = static_cast<std::size_t>(n);
    if (used_[index]) return errc::duplicate_placeholder;
    used_[index] = true;
    ++placed_;
    v = Json::binary(std::move(attachments_[index]));
    return {};
  }

  std::vector<attachment>& attachments_;
  std::vector<bool> used_;
  std::size_t placed_ = 0;
};

template <class Json>
std::error_code from_wire_impl(std::string_view json, std::vector<attachment>* attachments, Json& out,
                               std::size_t max_depth) {
  if (const std::error_code error = parse(json, out)) return error;
  if (!within_depth(out, 0, max_depth)) {
    out = Json();
    return errc::json_too_deep;
  }
  if (attachments == nullptr) return {};
  if (const std::error_code error = reconstructor<Json>(*attachments).run(out)) {
    out = Json();
    return error;
  }
  return {};
}

template <class Json>
std::error_code make_event_impl(std::string_view name, const Json& args, std::string& out,
                                std::vector<attachment>& attachments) {
  if (const std::error_code error = check_event_name(name)) return error;
  const std::size_t out_size = out.size();
  const std::size_t base = attachments.size();
  out += '[';
  append_json_string(name, out);
  try {
    if (args.is_array()) {
      for (const auto& arg : args) {
        out += ',';
        append_wire(arg, out, attachments, base);
      }
    } else {
      out += ',';
      append_wire(args, out, attachments, base);
    }
  } catch (const nlohmann::json::exception&) {
    out.resize(out_size);
    attachments.resize(base);
    return errc::invalid_utf8;
  }
  out += ']';
  return {};
}

}  // namespace

bool has_binary(const nlohmann::json& v) { return any_binary(v); }
bool has_binary(const nlohmann::ordered_json& v) { return any_binary(v); }

std::error_code to_wire(const nlohmann::json& v, std::string& out, std::vector<attachment>& attachments) {
  return to_wire_impl(v, out, attachments);
}
std::error_code to_wire(nlohmann::json&& v, std::string& out, std::vector<attachment>& attachments) {
  return to_wire_move(std::move(v), out, attachments);
}
std::error_code to_wire(const nlohmann::ordered_json& v, std::string& out, std::vector<attachment>& attachments) {
  return to_wire_impl(v, out, attachments);
}
std::error_code to_wire(nlohmann::ordered_json&& v, std::string& out, std::vector<attachment>& attachments) {
  return to_wire_move(std::move(v), out, attachments);
}

std::error_code from_wire(std::string_view json, nlohmann::json& out, std::size_t max_depth) {
  return from_wire_impl(json, static_cast<std::vector<attachment>*>(nullptr), out, max_depth);
}
std::error_code from_wire(std::string_view json, nlohmann::ordered_json& out, std::size_t max_depth) {
  return from_wire_impl(json, static_cast<std::vector<attachment>*>(nullptr), out, max_depth);
}
std::error_code from_wire(std::string_view json, std::vector<attachment> attachments, nlohmann::json& out,
                          std::size_t max_depth) {
  return from_wire_impl(json, &attachments, out, max_depth);
}
std::error_code from_wire(std::string_view json, std::vector<attachment> attachments, nlohmann::ordered_json& out,
                          std::size_t max_depth) {
  return from_wire_impl(json, &attachments, out, max_depth);
}

std::error_code make_event_data(std::string_view name, const nlohmann::json& args, std::string& out,
                                std::vector<attachment>& attachments) {
  return make_event_impl(name, args, out, attachments);
}
std::error_code make_event_data(std::string_view name, const nlohmann::ordered_json& args, std::string& out,
                                std::vector<attachment>& attachments) {
  return make_event_impl(name, args, out, attachments);
}

}  // namespace eio::socketio
