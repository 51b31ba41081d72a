#include "vectors.hpp"

#include <eio/base64.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace eio::test {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string from_base64(const std::string& text, const std::string& where) {
  std::string bytes;
  std::size_t bad = 0;
  if (!base64_decode(text, bytes, bad)) throw std::runtime_error(where + ": bad base64 at " + std::to_string(bad));
  return bytes;
}

owned_packet parse_packet(const Poco::JSON::Object& json, const std::string& where) {
  owned_packet p;
  auto type = packet_type_from_name(json.getValue<std::string>("type"));
  if (!type) throw std::runtime_error(where + ": unknown packet type");
  p.type = *type;
  p.binary = json.optValue<bool>("binary", false);
  std::string data = json.optValue<std::string>("data", "");
  p.data = p.binary ? from_base64(data, where) : data;
  return p;
}

vector_case parse_case(const Poco::JSON::Object& json, const std::string& file) {
  vector_case c;
  c.file = file;
  c.name = json.getValue<std::string>("name");
  const std::string where = file + ": " + c.name;
  const int eio = json.getValue<int>("eio");
  if (eio != 3 && eio != 4) throw std::runtime_error(where + ": eio must be 3 or 4");
  c.version = eio == 3 ? protocol_version::v3 : protocol_version::v4;
  const std::string form = json.getValue<std::string>("form");
  if (form != "polling" && form != "websocket") throw std::runtime_error(where + ": bad form");
  c.websocket = form == "websocket";
  c.binary = json.optValue<bool>("binary", false);
  if (json.has("input") == json.has("input_base64")) throw std::runtime_error(where + ": need exactly one of input, input_base64");
  c.input = json.has("input") ? json.getValue<std::string>("input")
                              : from_base64(json.getValue<std::string>("input_base64"), where);
  if (auto packets = json.getArray("packets")) {
    for (std::size_t i = 0; i < packets->size(); ++i) c.packets.push_back(parse_packet(*packets->getObject(static_cast<unsigned>(i)), where));
  }
  if (auto error = json.getObject("error")) {
    c.error = errc_from_name(error->getValue<std::string>("code"));
    if (!c.error) throw std::runtime_error(where + ": unknown error code");
    c.error_offset = error->getValue<std::size_t>("offset");
  }
  c.canonical = json.optValue<bool>("canonical", false);
  if (auto options = json.getObject("options")) {
    c.options.max_payload_bytes = options->optValue<std::size_t>("max_payload_bytes", c.options.max_payload_bytes);
    c.options.max_packets = options->optValue<std::size_t>("max_packets", c.options.max_packets);
    c.options.max_length_digits = options->optValue<std::size_t>("max_length_digits", c.options.max_length_digits);
    c.options.validate_utf8 = options->optValue<bool>("validate_utf8", c.options.validate_utf8);
  }
  return c;
}

}  // namespace

std::string vectors_dir() { return EIO_TEST_VECTORS_DIR; }

std::vector<vector_case> load_all_vectors() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(vectors_dir())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<vector_case> cases;
  for (const auto& path : files) {
    Poco::JSON::Parser parser;
    auto root = parser.parse(read_file(path)).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < root->size(); ++i) {
      cases.push_back(parse_case(*root->getObject(static_cast<unsigned>(i)), path.filename().string()));
    }
  }
  return cases;
}

std::string describe(const std::vector<owned_packet>& packets) {
  std::string text = "[";
  for (const auto& p : packets) {
    if (text.size() > 1) text += ", ";
    text += std::string(to_string(p.type)) + (p.binary ? "(binary " : "(text ") + std::to_string(p.data.size()) + " bytes)";
    if (!p.binary && p.data.size() <= 40) text += " \"" + p.data + "\"";
  }
  return text + "]";
}

}  // namespace eio::test
