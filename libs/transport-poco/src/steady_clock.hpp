// The adapter's clock (internal): milliseconds of std::chrono::steady_clock,
// the `now` that every call into the sans-I/O cores carries.
#pragma once

#include <eio/server.hpp>

#include <chrono>

namespace eio::detail {

inline millis steady_now() noexcept {
  return std::chrono::duration_cast<millis>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace eio::detail
