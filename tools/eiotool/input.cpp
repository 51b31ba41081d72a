#include "input.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace eio::tool {
namespace {

std::string system_reason(int error) { return std::strerror(error); }

}  // namespace

std::string read_input(const std::string& path) {
  // stdio rather than iostreams: binary-safe everywhere, and an empty input
  // is not an error.
  const bool from_stdin = path == "-";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned(nullptr, &std::fclose);
  std::FILE* file = stdin;
  if (!from_stdin) {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) throw std::runtime_error("cannot open " + path + ": " + system_reason(errno));
    file = owned.get();
  }
  std::string bytes;
  char buffer[64 * 1024];
  for (;;) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, file);
    bytes.append(buffer, got);
    if (got < sizeof buffer) break;
  }
  if (std::ferror(file)) {
    throw std::runtime_error("cannot read " + (from_stdin ? std::string("standard input") : path) + ": " +
                             system_reason(errno));
  }
  return bytes;
}

void write_output(const std::string& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0) {
    throw std::runtime_error("cannot write standard output: " + system_reason(errno));
  }
}

}  // namespace eio::tool
