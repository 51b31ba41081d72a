// `eiotool bench`: run_workers, the coordinating thread: starts the workers
// (worker.hpp), opens every session, measures, drains, and sums the counters.
#include "load.hpp"
#include "worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace eio::tool::bench {
namespace {

double cpu_seconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct totals {
  std::uint64_t opened = 0, failed = 0, closed = 0, messages = 0, bytes = 0, errors = 0, mismatches = 0, pings = 0;
};

totals sum(const std::vector<worker_counters>& counters) {
  totals t;
  for (const auto& c : counters) {
    t.opened += c.opened.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
    t.closed += c.closed.load(std::memory_order_relaxed);
    t.messages += c.messages.load(std::memory_order_relaxed);
    t.bytes += c.bytes.load(std::memory_order_relaxed);
    t.errors += c.errors.load(std::memory_order_relaxed);
    t.mismatches += c.mismatches.load(std::memory_order_relaxed);
    t.pings += c.pings.load(std::memory_order_relaxed);
  }
  return t;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

load_result run_load(const load_options& options) {
  return run_workers(options, "handshakes", [&options](shared_state& shared, worker_counters& counters, unsigned id) {
    return std::make_unique<worker>(options, shared, counters, id);
  });
}

load_result run_workers(const load_options& options, const char* cycles, const make_worker& make) {
  raise_open_file_limit();
  shared_state shared;
  {
    // Text stays within the letters (no record separator, valid UTF-8);
    // binary uses every byte value.
    std::uint32_t x = 2463534242u;
    shared.pattern.resize(options.size + pattern_shift);
    for (char& ch : shared.pattern) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      ch = options.binary ? static_cast<char>(x >> 24) : static_cast<char>('a' + (x >> 8) % 26);
    }
  }

  const unsigned threads = std::max(1u, options.threads);
  std::vector<worker_counters> counters(threads);
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned t = 0; t < threads; ++t) workers.push_back(make(shared, counters[t], t));
  std::uint32_t total_sessions = options.connections;
  const bool fanout = options.mode == load_mode::fanout;
  // Fanout: the senders are sessions 0 .. senders-1 of worker 0.
  const std::uint32_t senders = fanout ? options.sender_count() : 0u;
  for (std::uint32_t k = 0; k < senders; ++k) workers[0]->add_session(k, /*sender=*/true);
  if (fanout) workers[0]->has_sender_ = true;
  for (std::uint32_t i = 0; i < total_sessions; ++i) workers[i % threads]->add_session(senders + i, false);
  total_sessions += senders;

  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->run(); });

  load_result result;
  const std::int64_t started = now_ns();
  auto seconds_since = [](std::int64_t t) { return static_cast<double>(now_ns() - t) / 1e9; };
  auto progress = [&](const char* phase, double seconds, std::uint64_t rate_count, double interval) {
    if (!options.progress) return;
    const totals t = sum(counters);
    std::fprintf(stderr, "bench: %s %4.1fs open %llu/%u failed %llu closed %llu %s %.0f/s errors %llu\n", phase, seconds,
                 static_cast<unsigned long long>(t.opened), total_sessions, static_cast<unsigned long long>(t.failed),
                 static_cast<unsigned long long>(t.closed),
                 options.mode == load_mode::handshake ? cycles : options.mode == load_mode::fanout ? "deliveries" : "messages",
                 interval > 0 ? static_cast<double>(rate_count) / interval : 0.0, static_cast<unsigned long long>(t.errors));
  };

  // Phase 1: open every session (handshake mode: every handshaker's first).
  std::int64_t last_tick = started;
  std::uint64_t last_messages = 0;
  for (;;) {
    const totals t = sum(counters);
    if (t.opened + t.failed >= total_sessions) break;
    if (seconds_since(started) > options.open_timeout) {
      std::lock_guard<std::mutex> lock(shared.error_lock);
      if (shared.first_error.empty()) shared.first_error = "not every session opened within the open timeout";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (now_ns() - last_tick >= 1'000'000'000) {
      last_tick = now_ns();
      progress("opening", seconds_since(started), 0, 0);
    }
  }
  result.open_seconds = seconds_since(started);
  // These two lines mark the measured span for whoever watches stderr
  // (benchmarks/redis_cluster.mjs reads the servers' CPU at each).
  if (options.progress) {
    std::fprintf(stderr, "bench: all sessions open: %llu of %u\n", static_cast<unsigned long long>(sum(counters).opened), total_sessions);
  }
  if (options.mode == load_mode::idle && !options.on_open.empty()) {
    // The workers keep answering pings meanwhile.
    const int status = std::system(options.on_open.c_str());
    if (status != 0) std::fprintf(stderr, "bench: --on-open command exited with status %d\n", status);
  }

  // Phase 2: measure.
  const totals before = sum(counters);
  const double cpu_before = cpu_seconds();
  const std::int64_t measure_start = now_ns();
  shared.measure_start = measure_start;
  shared.measuring.store(true);
  if (options.mode == load_mode::fanout) shared.sending.store(true);
  last_tick = measure_start;
  last_messages = before.messages;
  const auto measure_end = measure_start + static_cast<std::int64_t>(options.duration * 1e9);
  while (now_ns() < measure_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(50, std::max<std::int64_t>(1, (measure_end - now_ns()) / 1'000'000))));
    const std::int64_t now = now_ns();
    if (now - last_tick >= 1'000'000'000) {
      const totals t = sum(counters);
      progress("running", static_cast<double>(now - measure_start) / 1e9, t.messages - last_messages, static_cast<double>(now - last_tick) / 1e9);
      last_tick = now;
      last_messages = t.messages;
    }
  }
  shared.sending.store(false);
  totals after = sum(counters);
  const double cpu_after = cpu_seconds();
  result.elapsed = static_cast<double>(now_ns() - measure_start) / 1e9;
  if (options.mode == load_mode::fanout) {
    // Let the last broadcasts arrive: up to two seconds.
    result.broadcasts = shared.broadcasts.load();
    const std::uint64_t receivers = after.opened > senders ? after.opened - senders : 0;  // less the senders
    result.expected = result.broadcasts * receivers;
    const std::int64_t drain_end = now_ns() + 2'000'000'000;
    while (now_ns() < drain_end && sum(counters).messages - before.messages < result.expected) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    after = sum(counters);
  }
  if (options.progress) std::fprintf(stderr, "bench: measured, closing the sessions\n");
  shared.measuring.store(false);
  shared.stop.store(true);
  for (auto& t : running) t.join();

  result.sessions_opened = after.opened;
  result.sessions_failed = after.failed;
  result.sessions_alive = after.opened - after.closed;
  if (options.mode == load_mode::handshake) result.sessions_alive = 0;
  result.messages = after.messages - before.messages;
  result.bytes = after.bytes - before.bytes;
  if (options.mode == load_mode::fanout) result.lost = result.expected > result.messages ? result.expected - result.messages : 0;
  result.errors = after.errors;
  result.mismatches = after.mismatches;
  result.pings = after.pings;
  result.client_cpu = cpu_after - cpu_before;
  result.first_error = shared.first_error;
  for (auto& w : workers) result.latency.merge(w->latency());
  workers.clear();
  return result;
}

}  // namespace eio::tool::bench
