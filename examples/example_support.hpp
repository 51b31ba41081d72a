// What the examples share and the README leaves out: the command line (a
// port) and stopping on SIGINT or SIGTERM.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace example {

// --port P (0: any free port); `fallback` without it.
inline std::uint16_t port_argument(int argc, char** argv, std::uint16_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0) return static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
  }
  return fallback;
}

// NAME N: a number (for --max-payload, say); `fallback` without it.
inline std::size_t number_argument(int argc, char** argv, const char* name, std::size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
  }
  return fallback;
}

// SIGINT and SIGTERM are taken by wait_for_stop_signal() (call first, before
// any thread starts, so every thread inherits the mask).
inline void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Returns once SIGINT or SIGTERM comes.
inline void wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
}

}  // namespace example
