// Runs the eiotool binary under test as a child process: arguments in,
// standard input from a file, exit status and both output streams back.
#pragma once

#include <string>
#include <vector>

namespace eio::test {

// A directory of scratch files, removed with everything in it on
// destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `bytes` to a file `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const;

private:
  std::string path_;
};

struct tool_result {
  // The exit status; a negative value is the signal that killed the child,
  // so a crash never passes for exit code 0, 1 or 2.
  int exit_code = -1000;
  std::string out;
  std::string err;
};

// Runs eiotool with `args` (not including argv[0]) and `input` as its
// standard input. Throws std::runtime_error if the child cannot be started.
tool_result run_eiotool(const std::vector<std::string>& args, const std::string& input = {});

}  // namespace eio::test
