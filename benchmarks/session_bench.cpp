// eio::server (the sans-I/O core) on its own, no sockets: what one idle
// session costs in memory and what one small message costs in time.
//
//   idle_websocket_session/N   N v4 WebSocket sessions, handshake done, drained
//   idle_polling_session/N     N v4 polling sessions, each with a GET held open
//                              (the state a polling client idles in)
//     bytes_per_session        live heap bytes per session, every allocation
//                              rounded up to 16 (allocator granularity); the
//                              server's own tables (slots, maps, timer set)
//                              count, as they grow with sessions
//     allocs_per_session       live allocations per session
//   websocket_message_in       "4" + 31 bytes in a text frame -> message_event
//   websocket_message_out      send() of 31 bytes -> websocket_send action
//   polling_post_100           a POST of 100 such messages -> 100 message_events
//     time_per_message         CPU time per message (every queued action and event
//                              drained, as an adapter would)
//
// Targets (our issue): at most 1 KiB per idle session excluding user data,
// under 200 ns per small message.
#include <eio/parser.hpp>
#include <eio/server.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <variant>
#include <vector>

// ---------------------------------------------------------------- counting allocator
//
// Every operator new in the process goes through here: a 16-byte header holds
// the size, so delete knows what it frees whichever form is called.

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> live_allocations{0};

constexpr std::size_t header_size = 16;  // keeps max_align_t alignment

std::size_t granular(std::size_t size) { return (size + 15) / 16 * 16; }

void* counted_new(std::size_t size) {
  void* block = std::malloc(size + header_size);
  if (!block) throw std::bad_alloc();
  *static_cast<std::size_t*>(block) = size;
  live_bytes.fetch_add(granular(size), std::memory_order_relaxed);
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return static_cast<char*>(block) + header_size;
}

void counted_delete(void* p) noexcept {
  if (!p) return;
  void* block = static_cast<char*>(p) - header_size;
  live_bytes.fetch_sub(granular(*static_cast<std::size_t*>(block)), std::memory_order_relaxed);
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(block);
}

}  // namespace

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_delete(p); }

namespace {

using namespace eio;

constexpr millis now{0};  // the clock stands still: no timer fires

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "eio_session_bench: %s\n", what);
  std::exit(1);
}

http_request get(std::string query) {
  http_request r;
  r.method = "GET";
  r.path = "/engine.io/";
  r.query = std::move(query);
  r.remote_address = "127.0.0.1";
  return r;
}

// Drains everything queued; returns the message events seen.
std::size_t drain(server& s) {
  while (s.next_action()) {
  }
  std::size_t messages = 0;
  while (auto e = s.next_event()) messages += std::holds_alternative<message_event>(*e) ? 1 : 0;
  return messages;
}

// The session the last handshake made (its connection_event), events drained.
session_ref handshake_ref(server& s) {
  std::optional<session_ref> ref;
  while (auto e = s.next_event()) {
    if (const auto* c = std::get_if<connection_event>(&*e)) ref = c->session;
  }
  while (s.next_action()) {
  }
  if (!ref) die("handshake failed");
  return *ref;
}

// ---------------------------------------------------------------- memory

void report_memory(benchmark::State& state, std::size_t bytes, std::size_t allocations, std::size_t sessions) {
  state.counters["bytes_per_session"] = static_cast<double>(bytes) / static_cast<double>(sessions);
  state.counters["allocs_per_session"] = static_cast<double>(allocations) / static_cast<double>(sessions);
}

void idle_websocket_session(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const http_request request = get("EIO=4&transport=websocket");
  for (auto _ : state) {
    server s;
    const std::size_t bytes_before = live_bytes.load();
    const std::size_t allocations_before = live_allocations.load();
    for (std::size_t i = 0; i < n; ++i) {
      s.handle_websocket(i + 1, request, now);
      drain(s);
    }
    if (s.session_count() != n) die("websocket sessions did not open");
    report_memory(state, live_bytes.load() - bytes_before, live_allocations.load() - allocations_before, n);
  }
}

void idle_polling_session(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    server s;
    const std::size_t bytes_before = live_bytes.load();
    const std::size_t allocations_before = live_allocations.load();
    connection_id next = 1;
    for (std::size_t i = 0; i < n; ++i) {
      s.handle_request(next++, get("EIO=4&transport=polling"), now);
      const session_ref ref = handshake_ref(s);
      // The client polls again at once; the server holds that GET.
      s.handle_request(next++, get("EIO=4&transport=polling&sid=" + std::string(s.session_id(ref))), now);
      drain(s);
    }
    if (s.session_count() != n) die("polling sessions did not open");
    report_memory(state, live_bytes.load() - bytes_before, live_allocations.load() - allocations_before, n);
  }
}

// ---------------------------------------------------------------- time

const std::string message_text = "hello, this is thirty-one bytes";  // + the type digit: 32 B
static_assert(sizeof("hello, this is thirty-one bytes") - 1 == 31);

void per_message(benchmark::State& state, std::size_t messages_per_iteration) {
  const auto messages = static_cast<double>(state.iterations()) * static_cast<double>(messages_per_iteration);
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
  // Seconds per message of CPU time, printed with an SI prefix ("134n").
  state.counters["time_per_message"] =
      benchmark::Counter(messages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void websocket_message_in(benchmark::State& state) {
  server s;
  s.handle_websocket(1, get("EIO=4&transport=websocket"), now);
  drain(s);
  const std::string frame = "4" + message_text;
  for (auto _ : state) {
    s.websocket_message(1, frame_kind::text, frame, now);
    if (drain(s) != 1) die("websocket message not delivered");
  }
  per_message(state, 1);
}

void websocket_message_out(benchmark::State& state) {
  server s;
  s.handle_websocket(1, get("EIO=4&transport=websocket"), now);
  const session_ref ref = handshake_ref(s);
  for (auto _ : state) {
    if (!s.send(ref, message_text, frame_kind::text, now)) die("send refused");
    std::optional<action> a = s.next_action();
    if (!a || !std::holds_alternative<websocket_send>(*a)) die("no websocket_send");
    benchmark::DoNotOptimize(a);
    drain(s);
  }
  per_message(state, 1);
}

void polling_post_100(benchmark::State& state) {
  server s;
  s.handle_request(1, get("EIO=4&transport=polling"), now);
  const session_ref ref = handshake_ref(s);
  std::vector<packet> packets(100, packet{packet_type::message, false, message_text});
  http_request post = get("EIO=4&transport=polling&sid=" + std::string(s.session_id(ref)));
  post.method = "POST";
  post.headers = {{"Content-Type", "text/plain;charset=UTF-8"}};
  encode_payload(packets, protocol_version::v4, false, post.body);
  connection_id next = 2;
  for (auto _ : state) {
    s.handle_request(next++, post, now);  // a copy: the adapter builds one request per POST
    if (drain(s) != packets.size()) die("POST not delivered");
  }
  per_message(state, packets.size());
}

}  // namespace

BENCHMARK(idle_websocket_session)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(idle_polling_session)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(websocket_message_in);
BENCHMARK(websocket_message_out);
BENCHMARK(polling_post_100);

BENCHMARK_MAIN();
