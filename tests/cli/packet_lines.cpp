#include "packet_lines.hpp"

#include <eio/base64.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>
#include <stdexcept>

namespace eio::test {
namespace {

owned_packet parse_line(const std::string& line) {
  Poco::JSON::Parser parser;
  const auto object = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
  for (const auto& [key, value] : *object) {
    if (key != "type" && key != "data" && key != "binary") throw std::runtime_error("unexpected key " + key);
  }
  owned_packet p;
  const auto type = packet_type_from_name(object->getValue<std::string>("type"));
  if (!type) throw std::runtime_error("unknown type");
  p.type = *type;
  // decode always prints "data", even when empty, and "binary" only when true.
  if (!object->has("data")) throw std::runtime_error("no \"data\"");
  const std::string data = object->getValue<std::string>("data");
  if (object->has("binary")) {
    if (!object->getValue<bool>("binary")) throw std::runtime_error("\"binary\":false is printed");
    p.binary = true;
    std::size_t bad = 0;
    if (!base64_decode(data, p.data, bad)) throw std::runtime_error("binary data is not base64");
  } else {
    p.data = data;
  }
  return p;
}

}  // namespace

std::vector<owned_packet> parse_packet_lines(const std::string& text) {
  std::vector<owned_packet> packets;
  std::size_t start = 0;
  std::size_t number = 0;
  while (start < text.size()) {
    ++number;
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    // Poco's exceptions are std::exceptions whose what() omits the detail,
    // hence the two handlers.
    try {
      if (end == std::string::npos) throw std::runtime_error("no newline at the end");
      packets.push_back(parse_line(line));
    } catch (const Poco::Exception& e) {
      throw std::runtime_error("output line " + std::to_string(number) + " (" + line + "): " + e.displayText());
    } catch (const std::exception& e) {
      throw std::runtime_error("output line " + std::to_string(number) + " (" + line + "): " + e.what());
    }
    start = end + 1;
  }
  return packets;
}

std::string to_packet_lines(const std::vector<owned_packet>& packets) {
  std::string lines;
  for (const auto& p : packets) {
    Poco::JSON::Object object;
    object.set("type", std::string(to_string(p.type)));
    if (p.binary) {
      std::string text;
      base64_encode(p.data, text);
      object.set("data", text);
      object.set("binary", true);
    } else {
      object.set("data", p.data);
    }
    std::ostringstream line;
    object.stringify(line);
    lines += line.str() + "\n";
  }
  return lines;
}

}  // namespace eio::test
