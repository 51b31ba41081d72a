// Loads the shared test vectors (tests/vectors/*.json, format in its README)
// for the unit tests, the eiotool tests and the corpus tools.
#pragma once

#include <eio/parser.hpp>

#include "owned_packet.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace eio::test {

struct vector_case {
  std::string file;  // the vector file's name, for messages
  std::string name;
  protocol_version version = protocol_version::v4;
  bool websocket = false;  // form: websocket frame, else polling payload
  bool binary = false;     // binary frame / v3 binary payload
  std::string input;       // the raw bytes
  std::vector<owned_packet> packets;
  std::optional<errc> error;
  std::size_t error_offset = 0;
  bool canonical = false;
  decode_options options;
};

// GoogleTest names a failing case by its file and name.
inline void PrintTo(const vector_case& c, std::ostream* os) { *os << c.file << ": " << c.name; }

// Directory holding the vector files (compiled in from CMake).
std::string vectors_dir();
// Every case of every *.json file in vectors_dir(), in file-name order.
// Throws std::runtime_error naming the file and case on malformed data.
std::vector<vector_case> load_all_vectors();

// "message(text) \"hi\"" style, for failure messages.
std::string describe(const std::vector<owned_packet>& packets);

}  // namespace eio::test
