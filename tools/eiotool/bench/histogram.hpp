// A log-bucketed latency histogram: 32 buckets per power of two (about 3%
// resolution), exact below 64 ns, fixed size, so recording never allocates.
// One per worker thread; merged after the threads have stopped.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace eio::tool::bench {

class latency_histogram {
public:
  static constexpr int sub_bits = 5;
  static constexpr int sub_count = 1 << sub_bits;                 // buckets per power of two
  static constexpr int bucket_count = (64 - sub_bits) * sub_count + 2 * sub_count;

  void record(std::uint64_t nanos) noexcept {
    ++buckets_[index(nanos)];
    ++count_;
    sum_ += nanos;
    max_ = std::max(max_, nanos);
  }

  void merge(const latency_histogram& other) noexcept {
    for (int i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The value below which `fraction` of the samples lie: the middle of the
  // bucket that holds that sample, never above the maximum seen.
  std::uint64_t percentile(double fraction) const noexcept {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < bucket_count; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(max_, (lower_bound(i) + lower_bound(i + 1)) / 2);
    }
    return max_;
  }

private:
  static int index(std::uint64_t v) noexcept {
    if (v < 2 * sub_count) return static_cast<int>(v);
    const int exponent = 63 - __builtin_clzll(v);  // >= sub_bits + 1
    const auto mantissa = static_cast<int>(v >> (exponent - sub_bits));  // in [32, 63]
    return (exponent - sub_bits + 1) * sub_count + (mantissa - sub_count);
  }
  static std::uint64_t lower_bound(int i) noexcept {
    if (i < 2 * sub_count) return static_cast<std::uint64_t>(i);
    const int exponent = i / sub_count + sub_bits - 1;
    const auto mantissa = static_cast<std::uint64_t>(i % sub_count + sub_count);
    return mantissa << (exponent - sub_bits);
  }

  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace eio::tool::bench
