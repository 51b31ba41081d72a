// An adapter's clock: milliseconds of std::chrono::steady_clock, the `now`
// that every call into the sans-I/O cores carries (they never read a clock).
#pragma once

#include <eio/server.hpp>

#include <chrono>

namespace eio::wire {

inline millis steady_now() noexcept {
  return std::chrono::duration_cast<millis>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace eio::wire
