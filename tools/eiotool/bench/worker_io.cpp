// bench::worker: epoll, sockets, writes (see worker.hpp).
#include "worker.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace eio::tool::bench {

// epoll_wait; with busy_poll_us, non-blocking ones first until something
// is ready or that time is up (the sleep and wake-up it saves are most of
// a round trip on an idle machine: it sharpens the latency case).
// The spin never runs past `timeout` (the next broadcast), and the wait
// after it takes only what is left.
int worker::wait_for_events(std::vector<epoll_event>& events, int timeout) {
  const int capacity = static_cast<int>(events.size());
  if (options_.busy_poll_us > 0 && timeout > 0) {
    const std::int64_t start = now_ns();
    const std::int64_t due = start + static_cast<std::int64_t>(timeout) * 1'000'000;
    const std::int64_t until = std::min(due, start + static_cast<std::int64_t>(options_.busy_poll_us) * 1000);
    do {
      const int n = epoll_wait(epoll_, events.data(), capacity, 0);
      if (n != 0) return n;
    } while (now_ns() < until && !shared_.stop.load(std::memory_order_relaxed));
    timeout = static_cast<int>(std::max<std::int64_t>(0, (due - now_ns()) / 1'000'000));
  }
  return epoll_wait(epoll_, events.data(), capacity, timeout);
}

void worker::run() {
  std::vector<epoll_event> events(1024);
  next_broadcast_ = 0;
  while (!shared_.stop.load(std::memory_order_relaxed)) {
    now_ = now_ns();
    open_more();
    int timeout = 20;
    if (has_sender_ && shared_.sending.load(std::memory_order_relaxed)) {
      if (next_broadcast_ == 0) next_broadcast_ = now_;
      while (now_ >= next_broadcast_) {
        broadcast();
        next_broadcast_ += static_cast<std::int64_t>(1e9 / options_.rate);
      }
      timeout = static_cast<int>(std::min<std::int64_t>(20, (next_broadcast_ - now_) / 1'000'000));
    }
    flush_dirty();
    const int n = wait_for_events(events, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_global("epoll_wait failed");
      return;
    }
    now_ = now_ns();
    measuring_ = shared_.measuring.load(std::memory_order_relaxed);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<connection*>(events[i].data.ptr);
      if (c->fd < 0) continue;
      const std::uint32_t what = events[i].events;
      if (c->connecting) {
        if (!(what & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          fail(*c->owner, std::string("connect: ") + std::strerror(error));
          continue;
        }
        c->connecting = false;
        mark_dirty(*c);
        continue;
      }
      if (what & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (!on_readable(*c)) continue;
      }
      if ((what & EPOLLOUT) && c->fd >= 0) flush(*c);
    }
  }
}

bool worker::connect_to(connection& c) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    fail(*c.owner, std::string("socket: ") + std::strerror(errno));
    return false;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.connecting = true;
  c.websocket = false;
  c.responses_due = 0;
  c.out.clear();
  c.out_sent = 0;
  c.in.clear();
  const auto& address = options_.targets[c.owner->target].address;
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0 && errno != EINPROGRESS) {
    fail(*c.owner, std::string("connect: ") + std::strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = &c;
  c.write_armed = true;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  return true;
}

void worker::close_fd(connection& c) {
  if (c.fd >= 0) ::close(c.fd);  // leaves the epoll set with it
  c.fd = -1;
  c.connecting = false;
  c.write_armed = false;
}

void worker::mark_dirty(connection& c) {
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
}

void worker::flush_dirty() {
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    connection& c = *dirty_[i];
    c.dirty = false;
    if (c.fd >= 0 && !c.connecting) flush(c);
  }
  dirty_.clear();
}

void worker::flush(connection& c) {
  while (c.out_sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      lost_connection(c, std::string("send: ") + std::strerror(errno));
      return;
    }
    c.out_sent += static_cast<std::size_t>(n);
  }
  const bool pending = c.out_sent < c.out.size();
  if (!pending) {
    c.out.clear();
    c.out_sent = 0;
  }
  if (pending != c.write_armed) {
    epoll_event ev{};
    ev.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.write_armed = pending;
  }
}

// Reads what arrived and acts on it. False when the connection is gone.
bool worker::on_readable(connection& c) {
  const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    lost_connection(c, std::string("recv: ") + std::strerror(errno));
    return false;
  }
  if (n == 0) {
    lost_connection(c, "the server closed the connection");
    return false;
  }
  std::string_view input;
  if (c.in.empty()) {
    input = std::string_view(scratch_.data(), static_cast<std::size_t>(n));
  } else {
    c.in.append(scratch_.data(), static_cast<std::size_t>(n));
    input = c.in;
  }
  const int fd = c.fd;
  const std::size_t consumed = consume(c, input);
  if (c.fd != fd || c.fd < 0) return false;  // closed (or reopened) while consuming
  if (c.in.empty()) {
    c.in.assign(input.substr(consumed));
  } else {
    c.in.erase(0, consumed);
  }
  return true;
}

void worker::lost_connection(connection& c, const std::string& why) {
  session& s = *c.owner;
  if (options_.mode == load_mode::handshake && &c == &s.main && c.responses_due == 0 && !s.closing) {
    // A keep-alive connection the server let go between requests: open another.
    close_fd(c);
    if (!shared_.stop.load(std::memory_order_relaxed)) start_handshake(s);
    return;
  }
  if (s.state == session_state::closed) return;
  fail(s, why);
}

}  // namespace eio::tool::bench
