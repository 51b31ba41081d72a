// Reading a command's input: a file, or standard input for "-".
#pragma once

#include <string>

namespace eio::tool {

// Every byte of the file at `path`, or of standard input when `path` is "-".
// Throws std::runtime_error naming the file and the system's reason.
std::string read_input(const std::string& path);

// Writes `bytes` to standard output and flushes. Throws std::runtime_error
// if the write fails (a full disk must not look like success).
void write_output(const std::string& bytes);

}  // namespace eio::tool
