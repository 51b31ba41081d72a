// eio::detail::output_queue, the queue behind next_action()/next_event():
// first in, first out, whatever the pattern of pushes and takes, and no
// unbounded growth when the reader lags or after a burst.
#include <eio/detail/output_queue.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using eio::detail::output_queue;

TEST(OutputQueue, TakesInTheOrderQueued) {
  output_queue<std::string> q;
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.take().has_value());
  q.emplace_back("one");
  q.emplace_back("two");
  q.emplace_back(3, 'x');
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.take().value(), "one");
  q.emplace_back("four");  // queued behind what is left
  EXPECT_EQ(q.take().value(), "two");
  EXPECT_EQ(q.take().value(), "xxx");
  EXPECT_EQ(q.take().value(), "four");
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.take().has_value());
  q.emplace_back("again");  // reused from the front once drained
  EXPECT_EQ(q.take().value(), "again");
}

TEST(OutputQueue, MoveOnlyElements) {
  output_queue<std::unique_ptr<int>> q;
  q.emplace_back(std::make_unique<int>(7));
  q.emplace_back(std::make_unique<int>(8));
  EXPECT_EQ(*q.take().value(), 7);
  EXPECT_EQ(*q.take().value(), 8);
}

// A reader that takes one for every two queued, for long: order holds and
// what is held stays about what is waiting (the taken prefix is dropped).
TEST(OutputQueue, LaggingReaderKeepsOrder) {
  output_queue<int> q;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 20000; ++round) {
    q.emplace_back(next_in++);
    q.emplace_back(next_in++);
    ASSERT_EQ(q.take().value(), next_out++);
  }
  EXPECT_EQ(q.size(), static_cast<std::size_t>(next_in - next_out));
  while (auto v = q.take()) ASSERT_EQ(*v, next_out++);
  EXPECT_EQ(next_out, next_in);
}

// A reader always ten behind never drains the queue: the storage must not
// keep every element ever taken.
TEST(OutputQueue, ReaderAlwaysBehindHoldsBoundedStorage) {
  output_queue<int> q;
  int next_in = 0;
  int next_out = 0;
  for (int i = 0; i < 10; ++i) q.emplace_back(next_in++);
  for (int round = 0; round < 100000; ++round) {
    q.emplace_back(next_in++);
    ASSERT_EQ(q.take().value(), next_out++);
    ASSERT_EQ(q.size(), 10u);
    ASSERT_LE(q.held(), output_queue<int>::keep_capacity + 2 * q.size() + 1) << "round " << round;
  }
}

TEST(OutputQueue, BurstThenSteady) {
  output_queue<std::string> q;
  for (int i = 0; i < 100000; ++i) q.emplace_back(std::to_string(i));
  EXPECT_GT(q.capacity(), output_queue<std::string>::keep_capacity);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(q.take().value(), std::to_string(i));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 0u);  // the burst's memory handed back
  // A small batch drained keeps its storage for the next one.
  for (int i = 0; i < 100; ++i) q.emplace_back("small");
  while (q.take()) {
  }
  const std::size_t kept = q.capacity();
  EXPECT_GE(kept, 100u);
  EXPECT_LE(kept, output_queue<std::string>::keep_capacity);
  for (int i = 0; i < 10; ++i) {
    q.emplace_back("steady");
    ASSERT_EQ(q.take().value(), "steady");
  }
}

}  // namespace
