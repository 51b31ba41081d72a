// A broadcast to 10,000 sessions allocates its payload once: the caller's
// shared_bytes. Neither the core's queues (polling sessions) nor its
// WebSocket frames (actions, or the direct path) copy it. Counted by a
// replacement of the global operator new, so this test is a program of its
// own (it would count every other test's allocations too).
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include "server_harness.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t payload_size = 64 * 1024 + 7;
// Allocations the size of the payload, or of the payload with a frame's
// header and prefix around it: what a copy of it would cost. (Growing
// vectors of actions allocate other sizes.)
std::atomic<std::size_t> payload_sized_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  if (size >= payload_size && size <= payload_size + 64) ++payload_sized_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace eio {
namespace {

// Keeps references instead of bytes, as poco_server's output does.
struct referencing_output final : connection_output {
  std::vector<shared_bytes> kept;
  std::size_t copied = 0;
  void write_message(connection_id, frame_kind, std::string_view prefix, std::string_view body) override {
    copied += prefix.size() + body.size();
  }
  void write_shared_message(connection_id, frame_kind, std::string_view, const shared_bytes& body) override {
    kept.push_back(body);
  }
  std::size_t unsent_bytes(connection_id) const noexcept override { return 0; }
};

TEST(session_broadcast, ten_thousand_sessions_share_one_payload) {
  for (const bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "direct path" : "actions");
    server_options options;
    options.max_buffered_bytes = 1 << 30;
    server srv(options);
    referencing_output output;
    if (direct) srv.attach_output(&output);
    std::vector<session_ref> sessions;
    connection_id next = 1;
    for (int i = 0; i < 10'000; ++i) {
      const bool websocket = i % 2 == 0;  // half WebSocket, half polling (queued: no GET held)
      const connection_id c = next++;
      if (websocket) {
        srv.handle_websocket(c, test::websocket("EIO=4&transport=websocket"), millis(0));
      } else {
        srv.handle_request(c, test::get("EIO=4&transport=polling"), millis(0));
      }
      while (srv.next_action()) {
      }
      while (auto e = srv.next_event()) {
        if (const auto* opened = std::get_if<connection_event>(&*e)) sessions.push_back(opened->session);
      }
    }
    ASSERT_EQ(sessions.size(), 10'000u);
    std::vector<action> frames;
    frames.reserve(10'000);
    output.kept.reserve(10'000);

    payload_sized_allocations = 0;
    const shared_bytes payload = std::make_shared<const std::string>(payload_size, 'p');
    EXPECT_EQ(srv.broadcast(sessions, payload, frame_kind::binary, millis(1)), 10'000u);
    while (auto a = srv.next_action()) frames.push_back(std::move(*a));
    EXPECT_EQ(payload_sized_allocations.load(), 1u) << "the caller's buffer, and nothing else of its size";

    // Every receiver refers to it: 5,000 frames (as actions or written
    // directly) and 5,000 polling queues.
    std::size_t referring = direct ? output.kept.size() : 0;
    for (const action& a : frames) {
      if (const auto* s = std::get_if<websocket_send>(&a); s && s->shared_tail == payload) ++referring;
    }
    EXPECT_EQ(referring, 5'000u);
    EXPECT_EQ(output.copied, 0u);
    EXPECT_EQ(payload.use_count(), 1 + 5'000 + 5'000);
  }
}

}  // namespace
}  // namespace eio
