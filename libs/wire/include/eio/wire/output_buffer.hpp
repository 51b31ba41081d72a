// What one connection has to write: bytes of its own, and bytes it shares
// with other connections (a broadcast's message, encoded once), in order.
// Written with a gather write, so a shared message is never copied per
// receiver. Standard library only (plus struct iovec for the gather list).
#pragma once

#include <eio/types.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eio::wire {

class output_buffer {
public:
  bool empty() const noexcept { return size_ == 0; }
  // Bytes not written yet.
  std::size_t size() const noexcept { return size_; }

  // Appends bytes of this connection's own.
  void append(std::string_view bytes) {
    own_tail().append(bytes);
    size_ += bytes.size();
  }
  // Runs `write(std::string&)` to append to this connection's own bytes (a
  // frame header, a response head), keeping the count right.
  template <typename Writer>
  void append_with(Writer&& write) {
    std::string& tail = own_tail();
    const std::size_t before = tail.size();
    write(tail);
    size_ += tail.size() - before;
  }
  // Appends a reference to shared bytes (kept alive until written).
  void append_shared(shared_bytes bytes) {
    if (!bytes || bytes->empty()) return;
    size_ += bytes->size();
    chunks_.push_back(chunk{{}, std::move(bytes)});
  }

  // The unwritten bytes as at most `max` pieces, front first; returns how
  // many pieces it filled.
  std::size_t gather(iovec* out, std::size_t max) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = head_; i < chunks_.size() && n < max; ++i) {
      std::string_view bytes = chunks_[i].bytes();
      if (i == head_) bytes.remove_prefix(offset_);
      if (bytes.empty()) continue;
      out[n].iov_base = const_cast<char*>(bytes.data());
      out[n].iov_len = bytes.size();
      ++n;
    }
    return n;
  }
  // The first contiguous piece of the unwritten bytes.
  std::string_view front() const noexcept {
    for (std::size_t i = head_; i < chunks_.size(); ++i) {
      std::string_view bytes = chunks_[i].bytes();
      if (i == head_) bytes.remove_prefix(offset_);
      if (!bytes.empty()) return bytes;
    }
    return {};
  }
  // `n` bytes were written.
  void consume(std::size_t n) noexcept {
    size_ -= n;
    while (n > 0 && head_ < chunks_.size()) {
      const std::size_t left = chunks_[head_].bytes().size() - offset_;
      if (n < left) {
        offset_ += n;
        return;
      }
      n -= left;
      release_head();
    }
    if (size_ == 0) {
      reset();
    } else if (head_ >= 16 && head_ * 2 >= chunks_.size()) {
      // A peer that never quite catches up: drop the written chunks.
      chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Forgets everything unwritten.
  void clear() noexcept {
    size_ = 0;
    reset();
  }
  // Gives the memory kept for the next bytes back; only when all is written.
  // For a connection that goes quiet (an answer written, a WebSocket idle
  // for a while): the capacity of its largest burst would otherwise stay
  // with it for its life.
  void release_memory() noexcept {
    if (size_ == 0) std::vector<chunk>().swap(chunks_);
  }

private:
  struct chunk {
    std::string own;
    shared_bytes shared;
    std::string_view bytes() const noexcept { return shared ? std::string_view(*shared) : std::string_view(own); }
  };

  std::string& own_tail() {
    if (chunks_.empty() || chunks_.back().shared) chunks_.push_back(chunk{});
    return chunks_.back().own;
  }
  void release_head() noexcept {
    chunk& c = chunks_[head_];
    c.shared.reset();
    if (head_ + 1 < chunks_.size()) std::string().swap(c.own);  // not the tail: its memory goes
    ++head_;
    offset_ = 0;
  }
  // All written: keep one chunk's string and its capacity for the next
  // bytes, as a plain string buffer would.
  void reset() noexcept {
    if (!chunks_.empty()) {
      if (chunks_.size() > 1 || chunks_.front().shared) {
        std::string keep = std::move(chunks_.back().own);
        chunks_.clear();
        if (keep.capacity() > 0) chunks_.push_back(chunk{std::move(keep), nullptr});
      }
      if (!chunks_.empty()) chunks_.front().own.clear();
    }
    head_ = 0;
    offset_ = 0;
  }

  std::vector<chunk> chunks_;
  std::size_t head_ = 0;    // the first chunk with unwritten bytes
  std::size_t offset_ = 0;  // bytes of chunks_[head_] written already
  std::size_t size_ = 0;
};

}  // namespace eio::wire
