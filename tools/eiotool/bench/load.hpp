// The load generator behind `eiotool bench`: raw Engine.IO v4 clients
// (polling handshake, or straight WebSocket with ?transport=websocket) on
// non-blocking sockets, driven by one epoll loop per worker thread.
//
// Steady state allocates nothing per message: every session's request heads
// are built once, output goes to per-connection strings that keep their
// capacity, input is read into one scratch buffer per thread, echo payloads
// are windows of one pattern buffer (so generating and verifying one is a
// memcpy and a memcmp).
#pragma once

#include "histogram.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <netinet/in.h>

namespace eio::tool::bench {

enum class load_mode { echo, idle, fanout, handshake };
enum class load_transport { websocket, polling };

struct load_target {
  std::string host;  // as given in the URL, for the Host header
  std::uint16_t port = 80;
  std::string path = "/engine.io/";
  sockaddr_in address{};
};

struct load_options {
  // One server; fanout also several (the nodes of a cluster): the receivers
  // are spread over them in turn and each has a sender, the senders taking
  // turns, so every node both publishes and receives.
  std::vector<load_target> targets;
  unsigned senders = 0;  // fanout: senders on the first N targets only (0: on each)
  load_mode mode = load_mode::echo;
  load_transport transport = load_transport::websocket;
  unsigned connections = 1;     // sessions (echo, idle), receivers (fanout), parallel handshakers
  unsigned inflight = 1;        // echo: messages in flight per session
  std::size_t size = 32;        // bytes of each message's data
  bool binary = false;          // echo: binary messages
  double duration = 5;          // seconds measured, after every session is open
  double rate = 10;             // fanout: broadcasts per second
  unsigned threads = 1;
  unsigned open_window = 64;    // sessions being opened at once, per thread
  double open_timeout = 60;     // seconds to open every session
  std::string on_open;          // idle: shell command run once all sessions are open
  bool progress = true;         // a line on stderr every second
  unsigned busy_poll_us = 0;    // each thread polls without sleeping this long before it waits

  // fanout: how many senders take turns (sessions 0 .. n-1, on targets 0 .. n-1)
  std::uint32_t sender_count() const {
    const auto n = static_cast<std::uint32_t>(targets.size());
    return senders == 0 || senders > n ? n : senders;
  }
};

struct load_result {
  double elapsed = 0;           // seconds measured
  double open_seconds = 0;      // until every session was open (or failed)
  std::uint64_t sessions_opened = 0;
  std::uint64_t sessions_alive = 0;  // open at the end
  std::uint64_t sessions_failed = 0;
  std::uint64_t messages = 0;   // echo: verified echoes; fanout: deliveries; handshake: open+close cycles
  std::uint64_t bytes = 0;      // echo: data bytes echoed
  std::uint64_t broadcasts = 0; // fanout: broadcasts sent
  std::uint64_t expected = 0;   // fanout: broadcasts x receivers
  std::uint64_t lost = 0;       // fanout: expected - delivered after the drain
  std::uint64_t errors = 0;     // every error, mismatches included
  std::uint64_t mismatches = 0; // echoes that differ from what was sent
  std::uint64_t pings = 0;      // pings answered
  double client_cpu = 0;        // seconds of this process's CPU while measuring
  std::string first_error;
  latency_histogram latency;    // nanoseconds
};

// Runs the load described by `options`; throws std::runtime_error when it
// cannot start at all (no epoll, no threads).
load_result run_load(const load_options& options);

}  // namespace eio::tool::bench
