#include "reproducer.hpp"

#include <eio/base64.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace eio::tool::fuzz {

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\\') out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string save(const reproducer& r, const std::string& dir) {
  Poco::JSON::Object root;
  root.set("format", "eiotool-fuzz-reproducer/1");
  root.set("target", r.url);
  root.set("seed", r.seed);
  root.set("case", r.index);
  root.set("category", std::string(to_string(r.the_case.what)));
  root.set("name", r.the_case.name);
  root.set("session", std::string(to_string(r.the_case.session)));
  root.set("sid", r.sid);  // replaced by a fresh session's sid on replay
  root.set("failure", r.failure);
  Poco::JSON::Array chunks;
  for (const auto& part : r.the_case.chunks) {
    Poco::JSON::Object c;
    c.set("connection", part.connection);
    c.set("delay_ms", part.delay_ms);
    std::string encoded;
    base64_encode(part.bytes, encoded);
    c.set("base64", encoded);                           // the exact bytes
    c.set("preview", printable(part.bytes, 400));        // for people
    chunks.add(c);
  }
  root.set("chunks", chunks);
  std::filesystem::create_directories(dir);
  const std::string path = (std::filesystem::path(dir) / (std::string(to_string(r.the_case.what)) + "-seed" +
                                                           std::to_string(r.seed) + "-case" + std::to_string(r.index) +
                                                           ".json")).string();
  std::ofstream out(path, std::ios::binary);
  root.stringify(out, 2);
  out << "\n";
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

bool load(const std::string& path, reproducer& r, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  try {
    Poco::JSON::Parser parser;
    const auto root = parser.parse(in).extract<Poco::JSON::Object::Ptr>();
    if (root->optValue<std::string>("format", "") != "eiotool-fuzz-reproducer/1") {
      error = path + ": not an eiotool fuzz reproducer";
      return false;
    }
    r.url = root->optValue<std::string>("target", "");
    r.seed = root->optValue<std::uint64_t>("seed", 0);
    r.index = root->optValue<std::uint64_t>("case", 0);
    if (!parse_category(root->getValue<std::string>("category"), r.the_case.what)) {
      error = path + ": unknown category";
      return false;
    }
    r.the_case.name = root->optValue<std::string>("name", "");
    const std::string session = root->optValue<std::string>("session", "none");
    r.the_case.session = session == "v4" ? session_need::v4 : session == "v3" ? session_need::v3 : session_need::none;
    r.sid = root->optValue<std::string>("sid", "");
    r.failure = root->optValue<std::string>("failure", "");
    const auto chunks = root->getArray("chunks");
    if (!chunks) {
      error = path + ": no chunks";
      return false;
    }
    for (std::size_t i = 0; i < chunks->size(); ++i) {
      const auto c = chunks->getObject(static_cast<unsigned>(i));
      chunk part;
      part.connection = c->getValue<unsigned>("connection");
      part.delay_ms = c->optValue<unsigned>("delay_ms", 0);
      std::size_t bad = 0;
      if (part.connection > 64 || !base64_decode(c->getValue<std::string>("base64"), part.bytes, bad)) {
        error = path + ": bad chunk " + std::to_string(i);
        return false;
      }
      r.the_case.chunks.push_back(std::move(part));
    }
  } catch (const Poco::Exception& e) {
    error = path + ": " + e.displayText();
    return false;
  }
  return true;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace eio::tool::fuzz
