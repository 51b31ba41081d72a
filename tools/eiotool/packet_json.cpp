#include "packet_json.hpp"

#include <eio/utf8.hpp>

#include "utf8.hpp"

#include <eio/base64.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace eio::tool {
namespace {

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[static_cast<unsigned char>(c) >> 4];
          out += hex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

void append_packet_json(const packet& p, std::string& out) {
  out += "{\"type\":";
  append_json_string(to_string(p.type), out);
  out += ",\"data\":";
  if (p.binary) {
    std::string text;
    text.reserve(base64_encoded_size(p.data.size()));
    base64_encode(p.data, text);
    append_json_string(text, out);
    out += ",\"binary\":true}";
    return;
  }
  if (utf8_valid_prefix(p.data) == p.data.size()) {
    append_json_string(p.data, out);
  } else {
    std::string replaced;
    append_utf8_replacing_invalid(p.data, replaced);
    append_json_string(replaced, out);
  }
  out += '}';
}

bool parse_packet_json(std::string_view line, json_packet& out, std::string& reason) {
  // Poco rejects bad UTF-8 too, but calls it an "unterminated string".
  const std::size_t valid = utf8_valid_prefix(line);
  if (valid != line.size()) {
    reason = "not UTF-8 at column " + std::to_string(valid + 1);
    return false;
  }
  // Checked here because Poco's message for a bare scalar ("Attempt to set
  // value on an empty stack") helps nobody.
  const std::size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos || line[first] != '{') {
    reason = "expected a JSON object";
    return false;
  }
  Poco::JSON::Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var root = parser.parse(std::string(line));
    if (root.type() != typeid(Poco::JSON::Object::Ptr)) {
      reason = "expected a JSON object";
      return false;
    }
    object = root.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    reason = "invalid JSON: " + e.message();
    return false;
  }

  json_packet p;
  bool has_type = false;
  std::string data;
  for (const auto& [key, value] : *object) {
    if (key == "type") {
      const auto type = value.isString() ? packet_type_from_name(value.extract<std::string>()) : std::nullopt;
      if (!type) {
        reason = "\"type\" must be one of open, close, ping, pong, message, upgrade, noop";
        return false;
      }
      p.type = *type;
      has_type = true;
    } else if (key == "data") {
      if (!value.isString()) {
        reason = "\"data\" must be a string";
        return false;
      }
      data = value.extract<std::string>();
    } else if (key == "binary") {
      if (!value.isBoolean()) {
        reason = "\"binary\" must be true or false";
        return false;
      }
      p.binary = value.extract<bool>();
    } else {
      reason = "unknown key \"" + key + "\" (expected type, data, binary)";
      return false;
    }
  }
  if (!has_type) {
    reason = "missing \"type\"";
    return false;
  }
  if (p.binary) {
    std::size_t bad = 0;
    if (!base64_decode(data, p.data, bad)) {
      reason = bad == data.size() ? "binary \"data\" is not base64 (no base64 text has its length)"
                                  : "binary \"data\" is not base64 (at offset " + std::to_string(bad) + " of it)";
      return false;
    }
  } else {
    p.data = std::move(data);
  }
  out = std::move(p);
  return true;
}

}  // namespace eio::tool
