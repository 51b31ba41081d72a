#include "utf8.hpp"

#include <eio/utf8.hpp>

namespace eio::tool {

void append_utf8_replacing_invalid(std::string_view text, std::string& out) {
  while (!text.empty()) {
    const std::size_t valid = utf8_valid_prefix(text);
    out.append(text.data(), valid);
    text.remove_prefix(valid);
    if (text.empty()) break;
    out += "\xEF\xBF\xBD";  // U+FFFD
    text.remove_prefix(utf8_maximal_subpart(text));
  }
}

}  // namespace eio::tool
