// Runs fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer, so the
// corpus is an ordinary test under any compiler. Arguments: files, or
// directories whose regular files (not recursive) are each one input.
// Exits non-zero if a path cannot be read or no input was found; a broken
// invariant aborts inside the target as it would under libFuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool read_file(const std::filesystem::path& path, std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <file or directory>...\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(path, ec)) {
      inputs.push_back(path);
    } else {
      std::fprintf(stderr, "%s: not a file or directory\n", argv[i]);
      return 2;
    }
    if (ec) {
      std::fprintf(stderr, "%s: %s\n", argv[i], ec.message().c_str());
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());  // a stable order makes failures repeatable
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }

  std::string bytes;
  for (const auto& path : inputs) {
    if (!read_file(path, bytes)) {
      std::fprintf(stderr, "%s: cannot read\n", path.string().c_str());
      return 2;
    }
    // Print the name first: if the target aborts, this says which input.
    std::fprintf(stderr, "%s\n", path.string().c_str());
    // A copy sized exactly, as libFuzzer passes it, so ASan sees overreads.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    static std::uint8_t no_bytes = 0;  // libFuzzer never passes a null pointer
    LLVMFuzzerTestOneInput(data.empty() ? &no_bytes : data.data(), data.size());
  }
  std::printf("%zu inputs ran\n", inputs.size());
  return 0;
}
