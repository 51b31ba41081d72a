#include <eio/socketio/client/backoff.hpp>

#include <algorithm>
#include <cmath>

namespace eio::socketio::client {

backoff::backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double jitter) noexcept
    : min_(min), max_(max), jitter_(jitter > 0 && jitter <= 1 ? jitter : 0) {}

std::chrono::milliseconds backoff::duration(const std::function<double()>& random) {
  const double exponent = static_cast<double>(attempts_++);
  double ms = static_cast<double>(min_.count()) * std::pow(2.0, exponent);
  const double max = static_cast<double>(max_.count());
  if (!std::isfinite(ms)) return max_;  // backo2 would compute NaN here (see the header)
  if (jitter_ != 0) {
    const double r = random();
    const double deviation = std::floor(r * jitter_ * ms);
    ms = (static_cast<std::int64_t>(std::floor(r * 10)) & 1) == 0 ? ms - deviation : ms + deviation;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(ms, max)));
}

}  // namespace eio::socketio::client
