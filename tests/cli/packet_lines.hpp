// The eiotool JSON-line packet form, read and written independently of
// eiotool's own code (with Poco), so the tests check the tool rather than
// agree with it.
#pragma once

#include "vectors.hpp"

#include <string>
#include <vector>

namespace eio::test {

// Parses `eiotool decode` output: every line (each ending in '\n') one
// object with a "type" name and a "data" string, plus "binary":true for
// binary packets, whose data is base64. Throws std::runtime_error naming the
// line that breaks this.
std::vector<owned_packet> parse_packet_lines(const std::string& text);

// The packets as input for `eiotool encode`, one JSON object per line.
std::string to_packet_lines(const std::vector<owned_packet>& packets);

}  // namespace eio::test
