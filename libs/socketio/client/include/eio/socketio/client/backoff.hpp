// eio::socketio::client::backoff: the reconnection delays of socket.io-client
// (lib/contrib/backo2.js, 4.8.3), with the randomness passed in.
//
// The n-th delay (n = attempts so far, from 0) is min * 2^n; with a jitter j
// in (0, 1] one random number r in [0, 1) moves it by floor(r * j * delay),
// down when floor(r * 10) is even and up when it is odd; the result is
// capped at max and truncated to whole milliseconds. With the defaults
// (1000, 5000, 0.5) the delays lie in [500, 1500], [1000, 3000], [2000,
// 5000], then 5000 at most.
//
// Where we differ: once min * 2^n no longer fits in a double (n about
// 1014), backo2 computes NaN and waits 0 ms on every other attempt; here the
// delay stays at max.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace eio::socketio::client {

class backoff {
public:
  // A jitter outside (0, 1] means none (backo2's constructor rule).
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, double jitter) noexcept;

  // The next delay; counts one attempt. `random` returns a number in
  // [0, 1); it is called once, and only when there is jitter.
  std::chrono::milliseconds duration(const std::function<double()>& random);
  std::uint64_t attempts() const noexcept { return attempts_; }
  void reset() noexcept { attempts_ = 0; }

private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  double jitter_;
  std::uint64_t attempts_ = 0;
};

}  // namespace eio::socketio::client
