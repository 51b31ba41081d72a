// A complete Engine.IO server on a plain epoll loop: the whole adapter, in
// one file, on eio::wire (no Poco). It echoes every message to its sender.
//
//   epoll_server [--port P]    (0: any free port; prints "port N" once listening)
//
// eio::wire::connections does everything that is not I/O: it reads the
// HTTP requests and WebSocket frames, hands them to the eio::server core,
// carries out the core's answers, sweeps slow requests and closes
// connections gracefully. What an adapter writes is what is left: accept,
// read, write, the poll, the clock, and stopping. Another event loop (Asio,
// io_uring, a game engine's) would look like this file.
#include <eio/wire/clock.hpp>
#include <eio/wire/connections.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

// The I/O around eio::wire::connections: connection_io is what the wire
// layer asks of us (write, watch for writability, shut, close).
class epoll_server final : public eio::wire::connection_io {
public:
  using handler = eio::wire::connections::event_handler;

  epoll_server(eio::server_options core_options, eio::wire::connection_options wire_options, handler on_event)
      : core_(std::move(core_options)), wire_(core_, *this, wire_options, std::move(on_event)) {}

  ~epoll_server() override {
    if (listener_ >= 0) ::close(listener_);
    if (epoll_ >= 0) ::close(epoll_);
  }

  // Binds and listens on 127.0.0.1:port; returns the port (or 0 on failure).
  std::uint16_t listen(std::uint16_t port) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (epoll_ < 0 || listener_ < 0) return 0;
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 || ::listen(listener_, 1024) < 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
      return 0;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = 0;  // the listener; connections are their id (from 1)
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &event);
    return ntohs(address.sin_port);
  }

  // Serves until stop_requested; then closes every session (their last
  // bytes get up to two seconds) and every connection.
  void run() {
    epoll_event events[256];
    while (!stop_requested) {
      now_ = eio::wire::steady_now();
      int timeout = 100;  // also how soon a stop is noticed
      if (const auto due = wire_.next_deadline()) {
        timeout = static_cast<int>(std::clamp<long long>((*due - now_).count(), 0, timeout));
      }
      const int ready = ::epoll_wait(epoll_, events, 256, timeout);
      now_ = eio::wire::steady_now();
      for (int i = 0; i < ready; ++i) {
        const eio::connection_id id = events[i].data.u64;
        if (id == 0) {
          accept_all();
          continue;
        }
        if (events[i].events & EPOLLOUT) wire_.writable(id, now_);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_some(id);
        wire_.pump(now_);  // the core's answers and events, before the next read
      }
      wire_.on_timeout(now_);
    }
    wire_.shutdown(now_);
    const eio::millis give_up = now_ + eio::millis(2000);
    while (wire_.output_pending() && eio::wire::steady_now() < give_up) {
      ::epoll_wait(epoll_, events, 256, 20);
      wire_.flush_all(eio::wire::steady_now());
    }
    wire_.close_all(eio::wire::steady_now());
  }

  // ---- connection_io

  long send(eio::connection_id id, const iovec* pieces, std::size_t count) override {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(pieces);
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fds_.at(id), &message, MSG_NOSIGNAL);  // a gather write: shared bodies not copied
    if (n >= 0) return static_cast<long>(n);
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? would_block : failed;
  }

  void want_write(eio::connection_id id, bool on) override {
    epoll_event event{};
    event.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    event.data.u64 = id;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fds_.at(id), &event);
  }

  bool shutdown_send(eio::connection_id id) override { return ::shutdown(fds_.at(id), SHUT_WR) == 0; }

  void close(eio::connection_id id) override {
    const auto found = fds_.find(id);
    if (found == fds_.end()) return;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, found->second, nullptr);
    ::close(found->second);
    fds_.erase(found);
  }

private:
  void accept_all() {
    for (;;) {
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: no more for now
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      char ip[INET_ADDRSTRLEN] = "";
      ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
      const eio::connection_id id = wire_.open(now_, std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port)));
      fds_[id] = fd;
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = id;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
      wire_.start(id, now_);
    }
  }

  // Reads what the socket has (1 MiB at most a turn: the poll is
  // level-triggered, the rest is reported again), then lets the wire layer
  // handle it.
  void read_some(eio::connection_id id) {
    char buffer[64 * 1024];
    for (int turn = 0; turn < 16; ++turn) {
      const auto found = fds_.find(id);
      if (found == fds_.end()) return;  // closed meanwhile
      const ssize_t n = ::recv(found->second, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      if (n <= 0) return wire_.peer_closed(id, now_);  // the peer ended, or the socket failed
      wire_.received(id, std::string_view(buffer, static_cast<std::size_t>(n)), now_);
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
    }
    wire_.input_done(id, now_);
  }

  eio::server core_;
  eio::wire::connections wire_;
  int epoll_ = -1;
  int listener_ = -1;
  std::unordered_map<eio::connection_id, int> fds_;
  eio::millis now_{0};
};

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 3000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0) port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
  }
  std::signal(SIGINT, [](int) { stop_requested = 1; });
  std::signal(SIGTERM, [](int) { stop_requested = 1; });

  epoll_server server(eio::server_options{}, eio::wire::connection_options{}, [](eio::server& core, eio::event& e, eio::millis now) {
    if (auto* m = std::get_if<eio::message_event>(&e)) core.send(m->session, m->data, m->kind, now);  // echo
  });
  const std::uint16_t listening = server.listen(port);
  if (listening == 0) {
    std::perror("epoll_server: cannot listen");
    return 1;
  }
  std::printf("port %u\n", listening);
  std::fflush(stdout);
  server.run();
  return 0;
}
