// A packet that owns its bytes, for expectations and for keeping what a
// decoder returned past its next call (views die with it). Standard library
// only: shared by the tests and the fuzz targets.
#pragma once

#include <eio/parser.hpp>

#include <string>
#include <vector>

namespace eio::test {

struct owned_packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string data;

  packet view() const { return packet{type, binary, data}; }
  friend bool operator==(const owned_packet& a, const owned_packet& b) {
    return a.type == b.type && a.binary == b.binary && a.data == b.data;
  }
};

inline owned_packet own(const packet& p) { return owned_packet{p.type, p.binary, std::string(p.data)}; }

inline void append_owned(const std::vector<packet>& from, std::vector<owned_packet>& to) {
  for (const auto& p : from) to.push_back(own(p));
}

inline std::vector<owned_packet> to_owned(const std::vector<packet>& packets) {
  std::vector<owned_packet> owned;
  append_owned(packets, owned);
  return owned;
}

inline std::vector<packet> views(const std::vector<owned_packet>& from) {
  std::vector<packet> out;
  out.reserve(from.size());
  for (const auto& p : from) out.push_back(p.view());
  return out;
}

}  // namespace eio::test
