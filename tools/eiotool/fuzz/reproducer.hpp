// `eiotool fuzz`: reproducers, the exact bytes of a case that broke a
// server with what is needed to send it again (`--replay`), as JSON files.
#pragma once

#include "../fuzz_cases.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace eio::tool::fuzz {

struct reproducer {
  fuzz_case the_case;
  std::string sid;
  std::string url;
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  std::string failure;
};

// Writes `r` under `dir` (made if missing); returns the file's path. Throws
// std::runtime_error when it cannot be written.
std::string save(const reproducer& r, const std::string& dir);
// Reads a reproducer written by save(); false with `error` set when the
// file is not one.
bool load(const std::string& path, reproducer& r, std::string& error);
// `bytes` for people: printable ASCII as is, the rest escaped, cut at `max`.
std::string printable(std::string_view bytes, std::size_t max);
// Replaces every `from` in `text` (the old session's sid, on replay).
void replace_all(std::string& text, const std::string& from, const std::string& to);

}  // namespace eio::tool::fuzz
