// eio::detail::output_queue: the first-in, first-out queue of actions and
// events a core hands out (next_action(), next_event()). Not part of the API.
//
// Why not std::deque: libstdc++'s deque keeps 512-byte blocks, and an
// eio::event is larger than half of one, so each block held one event and
// every event cost an allocation and a free (five per echoed message). This
// keeps one vector and reuses it: once everything queued has been taken it
// starts again from the front, so a core that is drained after every input
// (as the adapters do) allocates nothing in steady state.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace eio::detail {

template <typename T>
class output_queue {
public:
  template <typename... Args>
  void emplace_back(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
  }
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }
  // What the storage holds, taken or not, and its capacity: for the tests
  // of the two memory bounds below.
  std::size_t held() const noexcept { return items_.size(); }
  std::size_t capacity() const noexcept { return items_.capacity(); }
  static constexpr std::size_t keep_capacity = 4096;

  std::optional<T> take() {
    if (empty()) return std::nullopt;
    std::optional<T> out(std::move(items_[head_++]));
    if (head_ == items_.size()) {
      // A burst (every session closing at shutdown, say) leaves a large
      // vector: give it back rather than hold it for good.
      if (items_.capacity() > keep_capacity) {
        std::vector<T>().swap(items_);
      } else {
        items_.clear();
      }
      head_ = 0;
    } else if (head_ >= keep_capacity && head_ * 2 >= items_.size()) {
      // A reader that never catches up: drop the taken half (amortised O(1)).
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return out;
  }

private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // the next to take
};

}  // namespace eio::detail
