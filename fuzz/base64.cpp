// Fuzz target: eio::base64_encode / base64_decode / base64_decode_into.
//
// Input: arbitrary bytes, used twice: as base64 text to decode, and as bytes
// to encode.
//
// Invariants:
//   1. base64_decode and base64_decode_into agree: same verdict, same error
//      offset, same bytes; error offsets lie within the text (text.size() for
//      a bad length); the output fits base64_max_decoded_size().
//   2. Text that decodes re-encodes to text that decodes to the same bytes,
//      padded or with the padding stripped.
//   3. Any bytes encode to base64_encoded_size() characters that decode back.
#include "fuzz_support.hpp"

#include <eio/base64.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace eio;

std::string decode_or_abort(std::string_view text) {
  std::string bytes;
  std::size_t error_offset = 0;
  EIO_FUZZ_CHECK(base64_decode(text, bytes, error_offset));
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // 1. Arbitrary text.
  std::string decoded = "prefix";
  std::size_t error_offset = 0;
  const bool ok = base64_decode(input, decoded, error_offset);
  if (ok) {
    EIO_FUZZ_CHECK(decoded.compare(0, 6, "prefix") == 0);  // appends
    decoded.erase(0, 6);
    EIO_FUZZ_CHECK(decoded.size() <= base64_max_decoded_size(input.size()));
  } else {
    EIO_FUZZ_CHECK(error_offset <= input.size());
  }

  // Exactly the promised room, on the heap, so ASan sees a write past it.
  const std::size_t room = base64_max_decoded_size(input.size());
  const std::unique_ptr<char[]> dest(new char[room == 0 ? 1 : room]);
  bool into_ok = false;
  std::size_t into_error_offset = 0;
  const std::size_t written = base64_decode_into(input, dest.get(), into_ok, into_error_offset);
  EIO_FUZZ_CHECK(into_ok == ok);
  if (ok) {
    EIO_FUZZ_CHECK(written == decoded.size());
    EIO_FUZZ_CHECK(std::string_view(dest.get(), written) == decoded);
  } else {
    EIO_FUZZ_CHECK(into_error_offset == error_offset);
  }

  // 2. Text that decoded.
  if (ok) {
    std::string text;
    base64_encode(decoded, text);
    EIO_FUZZ_CHECK(text.size() == base64_encoded_size(decoded.size()));
    EIO_FUZZ_CHECK(decode_or_abort(text) == decoded);
    while (!text.empty() && text.back() == '=') text.pop_back();
    EIO_FUZZ_CHECK(decode_or_abort(text) == decoded);
  }

  // 3. Arbitrary bytes.
  std::string text = "prefix";
  base64_encode(input, text);
  EIO_FUZZ_CHECK(text.compare(0, 6, "prefix") == 0);
  EIO_FUZZ_CHECK(text.size() == 6 + base64_encoded_size(input.size()));
  EIO_FUZZ_CHECK(decode_or_abort(std::string_view(text).substr(6)) == input);
  return 0;
}
