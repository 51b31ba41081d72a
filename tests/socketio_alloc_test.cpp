// The hot path allocates nothing in steady state: decoding an EVENT or ACK
// (header, validation, event name, arguments, placeholders) and relaying it
// under another name, once the decoder and the output string have grown to
// the packets' size. A replaced global operator new counts allocations; this
// file is its own test executable so the count sees nothing else.
#include <eio/socketio/packet.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace eio::socketio {
namespace {

TEST(socketio_alloc, decoding_and_relaying_allocate_nothing_in_steady_state) {
  const std::string packets[] = {
      R"(2["message","hello"])",
      R"(2/chat,12["message",{"from":"ana","text":"h\u00e9llo","at":1733450000000,"tags":["a","b"]}])",
      R"(3/chat,12["ok",{"n":1}])",
      R"(2["n\u0061me with escapes",1,2,3])",
      R"(53-["upload",{"file":{"_placeholder":true,"num":0},"thumbs":[{"num":1,"_placeholder":true},{"_placeholder":true,"num":2}]}])",
      R"(0/admin,{"token":"abc"})",
  };
  decoder d;
  std::string data;
  std::string wire;
  data.reserve(4096);
  wire.reserve(4096);
  std::size_t relayed = 0;
  auto run = [&] {
    for (const std::string& text : packets) {
      packet p;
      payload_info info;
      ASSERT_FALSE(d.decode(text, p, info)) << text;
      if (info.name_kind != event_name_kind::string) continue;
      data.clear();
      ASSERT_FALSE(append_event_data("relayed", info.args(p.data), data));
      wire.clear();
      ASSERT_FALSE(encode(packet{p.type, p.nsp, std::nullopt, p.attachments, data}, wire));
      ++relayed;
    }
  };
  run();  // warm up: the decoder's buffers grow to these packets
  const std::size_t before = allocations.load();
  for (int i = 0; i < 100; ++i) run();
  EXPECT_EQ(allocations.load() - before, 0u);
  EXPECT_EQ(relayed, 101u * 4);
}

}  // namespace
}  // namespace eio::socketio
