// eio_floor_server: the least work a server can do for the WebSocket cases of
// benchmarks/compare (1, 2, 3, 6), so that the comparison can say how much of
// a server's time per message the kernel takes whatever the server does.
//
// It is not an Engine.IO server: it answers only a direct WebSocket
// handshake (`?EIO=4&transport=websocket`), sends the open packet, then
// echoes every message and relays "broadcast:<rest>" as `eiotool serve`
// does, encoded once for all receivers. No sessions, timers, pings (its runs
// are shorter than the ping interval it announces), limits or validation
// beyond RFC 6455 framing, which it reads with eio's own frame reader.
//
// Two ways to wait for sockets, one protocol:
//   --io epoll  level-triggered epoll; a recv per ready socket, the frames
//               one turn produced written with one send per connection;
//   --io uring  io_uring (liburing, kernel 6.1+): a multishot recv armed on
//               every connection, reading into buffers the kernel picks from
//               a shared ring; the turn's sends queued and submitted with the
//               wait, one system call a turn.
#include <eio/websocket_codec.hpp>
#include <eio/wire/http_text.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef EIO_FLOOR_URING
#include <liburing.h>
#endif

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ws = eio::websocket;

constexpr std::size_t max_head_bytes = 16 * 1024;
constexpr std::size_t max_message_bytes = 1'000'000;

struct connection {
  int fd = -1;
  bool upgraded = false;
  bool close_after_write = false;
  bool dead = false;        // closed for reading; freed once nothing is in flight
  bool listed = false;      // in `dirty`
  bool write_armed = false;  // epoll only: EPOLLOUT is asked for
  std::string in;           // bytes not consumed yet
  std::string out;          // bytes to write
  ws::frame_reader reader{max_message_bytes, true};
  // io_uring only: the bytes an in-flight send reads (they must stay put
  // until it completes), and how many operations name the connection (it is
  // freed when none does).
  std::string sending;
  unsigned in_flight = 0;
  std::size_t index = 0;  // in `open_connections`
};

// What both ways of waiting share: the connections and the protocol.
class floor_protocol {
public:
  std::vector<connection*> dirty;  // has bytes to write since the last flush

  connection* open(int fd) {
    auto c = std::make_unique<connection>();
    c->fd = fd;
    c->index = open_.size();
    open_.push_back(c.get());
    return c.release();
  }
  // Forgets `c` (not yet freed: the caller frees it when nothing refers to it).
  void forget(connection& c) {
    if (c.index < open_.size() && open_[c.index] == &c) {
      open_[c.index] = open_.back();
      open_[c.index]->index = c.index;
      open_.pop_back();
    }
    c.upgraded = false;
  }

  // Bytes arrived on `c`.
  void received(connection& c, std::string_view bytes) {
    if (c.close_after_write) return;
    // Read straight from the arrival when nothing waits; keep only the tail.
    const bool direct = c.in.empty();
    if (!direct) c.in.append(bytes);
    const std::string_view input = direct ? bytes : std::string_view(c.in);
    std::size_t used = c.upgraded ? 0 : read_head(c, input);
    if (c.upgraded) used += read_frames(c, input.substr(used));
    if (direct) {
      c.in.assign(input.substr(used));
    } else {
      c.in.erase(0, used);
    }
    if (!c.upgraded && c.in.size() > max_head_bytes) reply_and_close(c, "431 Request Header Fields Too Large");
  }

private:
  void mark(connection& c) {
    if (c.listed) return;
    c.listed = true;
    dirty.push_back(&c);
  }

  void reply_and_close(connection& c, std::string_view status) {
    c.out.append("HTTP/1.1 ").append(status).append("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    c.close_after_write = true;
    mark(c);
  }

  static std::string_view header(std::string_view head, std::string_view name) {
    for (std::size_t line = head.find("\r\n"); line != std::string_view::npos && line + 2 < head.size();) {
      const std::size_t start = line + 2;
      const std::size_t end = head.find("\r\n", start);
      const std::string_view field = head.substr(start, end - start);
      line = end;
      if (field.size() <= name.size() || field[name.size()] != ':') continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = (field[i] | 0x20) == (name[i] | 0x20);
      }
      if (!same) continue;
      std::string_view value = field.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    return {};
  }

  // The handshake request; returns the bytes it used (0: not all here yet).
  std::size_t read_head(connection& c, std::string_view input) {
    const std::size_t end = input.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    const std::string_view head = input.substr(0, end + 2);
    const std::string_view request_line = head.substr(0, head.find("\r\n"));
    const std::string_view key = header(head, "sec-websocket-key");
    if (request_line.substr(0, 4) != "GET " || request_line.find("transport=websocket") == std::string_view::npos ||
        key.empty()) {
      reply_and_close(c, "400 Bad Request");
      return end + 4;
    }
    const std::string accept = eio::wire::websocket_accept_value(key);
    c.out.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    c.out.append(accept).append("\r\n\r\n");
    const std::string open_packet = "0{\"sid\":\"floor" + std::to_string(++sessions_) +
                                    "\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":" +
                                    std::to_string(max_message_bytes) + "}";
    ws::append_frame(ws::opcode::text, open_packet, c.out);
    c.upgraded = true;
    mark(c);
    return end + 4;
  }

  std::size_t read_frames(connection& c, std::string_view input) {
    std::size_t offset = 0;
    for (;;) {
      ws::frame_event frame;
      offset += c.reader.read(input.substr(offset), frame);
      using kind = ws::frame_event::kind;
      switch (frame.what) {
        case kind::need_more:
          return offset;
        case kind::message:
          message(c, frame.message_kind, frame.data);
          break;
        case kind::ping:
          ws::append_frame(ws::opcode::pong, frame.data, c.out);
          mark(c);
          break;
        case kind::pong:
          break;
        case kind::close:
        case kind::error:
          ws::append_close_frame(frame.what == kind::error ? frame.close_code : ws::close_normal, "", c.out);
          c.close_after_write = true;
          forget(c);
          mark(c);
          return input.size();
      }
    }
  }

  // One Engine.IO v4 packet: "4..." is echoed, "4broadcast:<rest>" goes to
  // everyone as "4<rest>", binary is echoed as it came, "1" closes.
  void message(connection& c, eio::frame_kind kind, std::string_view data) {
    if (kind == eio::frame_kind::binary) {
      ws::append_frame(ws::opcode::binary, data, c.out);
      mark(c);
      return;
    }
    constexpr std::string_view broadcast = "4broadcast:";
    if (data.substr(0, broadcast.size()) == broadcast) {
      frame_.clear();
      const std::string_view rest = data.substr(broadcast.size());
      ws::append_frame_header(ws::opcode::text, true, rest.size() + 1, frame_);
      frame_.push_back('4');
      frame_.append(rest);
      for (connection* receiver : open_) {
        if (!receiver->upgraded) continue;
        receiver->out.append(frame_);
        mark(*receiver);
      }
      return;
    }
    if (!data.empty() && data.front() == '4') {
      ws::append_frame(ws::opcode::text, data, c.out);
      mark(c);
    } else if (data == "1") {
      ws::append_close_frame(ws::close_normal, "", c.out);
      c.close_after_write = true;
      forget(c);
      mark(c);
    }
  }

  std::vector<connection*> open_;
  std::string frame_;  // a broadcast's frame, built once
  std::uint64_t sessions_ = 0;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "eio_floor_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

int listen_on(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) die("bind");
  if (listen(fd, 4096) < 0) die("listen");
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("eio_floor_server: listening on http://127.0.0.1:%u/engine.io/\n", ntohs(address.sin_port));
  std::fflush(stdout);
  return fd;
}

void set_no_delay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ------------------------------------------------------------------ epoll

class epoll_floor {
public:
  explicit epoll_floor(int listener) : listener_(listener) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1");
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.ptr = nullptr;  // the listener
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &e);
  }

  [[noreturn]] void run() {
    std::vector<epoll_event> ready(1024);
    for (;;) {
      const int n = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()), -1);
      if (n < 0 && errno != EINTR) die("epoll_wait");
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<connection*>(ready[i].data.ptr);
        if (!c) {
          accept_all();
          continue;
        }
        if (ready[i].events & EPOLLOUT) write(*c);
        if (ready[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read(*c);
      }
      flush();
    }
  }

private:
  void accept_all() {
    for (;;) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      set_no_delay(fd);
      connection* c = protocol_.open(fd);
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.ptr = c;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e);
    }
  }

  void read(connection& c) {
    if (c.dead) return;
    for (;;) {
      const ssize_t n = recv(c.fd, buffer_, sizeof buffer_, 0);
      if (n > 0) {
        protocol_.received(c, std::string_view(buffer_, static_cast<std::size_t>(n)));
        if (static_cast<std::size_t>(n) < sizeof buffer_) return;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return kill(c);
    }
  }

  void write(connection& c) {
    while (!c.dead && !c.out.empty()) {
      const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return kill(c);
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    if (c.dead) return;
    if (c.out.empty() && c.close_after_write) return kill(c);
    const bool want_write = !c.out.empty();  // the socket is full: wait until it takes more
    if (want_write == c.write_armed) return;
    c.write_armed = want_write;
    epoll_event e{};
    e.events = EPOLLIN | (want_write ? static_cast<unsigned>(EPOLLOUT) : 0u);
    e.data.ptr = &c;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &e);
  }

  void kill(connection& c) {
    if (c.dead) return;
    c.dead = true;
    protocol_.forget(c);
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    graveyard_.push_back(&c);
  }

  // Writes what the turn produced, a send per connection; then frees the
  // connections that died during it (a broadcast may have listed them).
  void flush() {
    for (std::size_t i = 0; i < protocol_.dirty.size(); ++i) {
      connection* c = protocol_.dirty[i];
      c->listed = false;
      if (!c->write_armed) write(*c);
    }
    protocol_.dirty.clear();
    for (connection* c : graveyard_) delete c;
    graveyard_.clear();
  }

  int listener_;
  int epoll_;
  floor_protocol protocol_;
  std::vector<connection*> graveyard_;
  char buffer_[64 * 1024];
};

// ------------------------------------------------------------------ io_uring

#ifdef EIO_FLOOR_URING
class uring_floor {
public:
  explicit uring_floor(int listener) : listener_(listener) {
    // One thread submits, and completions run when it asks for them (not
    // by interrupting it): the cheapest setup kernel 6.1+ offers.
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (const int error = io_uring_queue_init_params(4096, &ring_, &params); error < 0) {
      errno = -error;
      die("io_uring_queue_init (kernel 6.1 or later)");
    }
    // Receive buffers the kernel picks from, so one multishot recv per
    // connection stays armed without a submission per read.
    const std::size_t ring_bytes = buffer_count * sizeof(io_uring_buf);
    void* ring_memory = nullptr;
    if (posix_memalign(&ring_memory, 4096, ring_bytes) != 0) die("posix_memalign");
    buffers_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
    io_uring_buf_ring_init(buffers_ring_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uintptr_t>(ring_memory);
    registration.ring_entries = buffer_count;
    registration.bgid = buffer_group;
    if (const int error = io_uring_register_buf_ring(&ring_, &registration, 0); error < 0) {
      errno = -error;
      die("io_uring_register_buf_ring");
    }
    buffers_.resize(buffer_count * buffer_bytes);
    for (unsigned id = 0; id < buffer_count; ++id) give_back(id);
    arm_accept();
  }

  [[noreturn]] void run() {
    for (;;) {
      const int submitted = io_uring_submit_and_wait(&ring_, 1);
      if (submitted < 0 && submitted != -EINTR) {
        errno = -submitted;
        die("io_uring_submit_and_wait");
      }
      unsigned head = 0;
      unsigned seen = 0;
      io_uring_cqe* cqe = nullptr;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        complete(cqe->user_data, cqe->res, cqe->flags);
      }
      io_uring_cq_advance(&ring_, seen);
      flush();
    }
  }

private:
  static constexpr std::uint64_t accept_tag = 1;
  static constexpr std::uint64_t send_bit = 2;  // connections are aligned: the low bits are free
  static constexpr unsigned buffer_count = 1024;  // a power of two
  static constexpr std::size_t buffer_bytes = 16 * 1024;
  static constexpr int buffer_group = 0;

  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {  // the submission queue is full: hand it to the kernel
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void give_back(unsigned id) {
    io_uring_buf_ring_add(buffers_ring_, buffers_.data() + id * buffer_bytes, buffer_bytes, static_cast<unsigned short>(id),
                          io_uring_buf_ring_mask(buffer_count), 0);
    io_uring_buf_ring_advance(buffers_ring_, 1);
  }

  void arm_accept() {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_multishot_accept(sqe, listener_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, accept_tag);
  }

  void arm_receive(connection& c) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(&c));
    ++c.in_flight;
  }

  void arm_send(connection& c) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(&c) | send_bit);
    ++c.in_flight;
  }

  void complete(std::uint64_t tag, int result, unsigned flags) {
    if (tag == accept_tag) {
      if (result >= 0) {
        set_no_delay(result);
        arm_receive(*protocol_.open(result));
      }
      if (!(flags & IORING_CQE_F_MORE)) arm_accept();  // the multishot accept ended: again
      return;
    }
    auto& c = *reinterpret_cast<connection*>(tag & ~send_bit);
    if (tag & send_bit) {
      --c.in_flight;
      if (result <= 0) {
        kill(c);
      } else {
        c.sending.erase(0, static_cast<std::size_t>(result));
        if (c.sending.empty()) c.sending.swap(c.out);  // what came meanwhile goes next
        if (!c.sending.empty()) {
          arm_send(c);
        } else if (c.close_after_write) {
          kill(c);
        }
      }
    } else {
      const bool more = flags & IORING_CQE_F_MORE;  // the recv stays armed
      if (!more) --c.in_flight;
      if (flags & IORING_CQE_F_BUFFER) {
        const unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
        if (result > 0 && !c.dead) {
          protocol_.received(c, std::string_view(buffers_.data() + id * buffer_bytes, static_cast<std::size_t>(result)));
        }
        give_back(id);
      }
      if (result == -ENOBUFS && !c.dead) {
        arm_receive(c);  // every buffer was taken for a moment: ask again
      } else if (result <= 0) {
        kill(c);
      } else if (!more && !c.dead) {
        arm_receive(c);
      }
    }
    if (c.dead && c.in_flight == 0 && !c.listed) delete &c;
  }

  void kill(connection& c) {
    if (c.dead) return;
    c.dead = true;
    protocol_.forget(c);
    shutdown(c.fd, SHUT_RDWR);  // the armed recv completes, then the fd goes
    close(c.fd);
  }

  // The turn's output: one send queued per connection with bytes and none in
  // flight; submitted with the next wait.
  void flush() {
    for (std::size_t i = 0; i < protocol_.dirty.size(); ++i) {
      connection& c = *protocol_.dirty[i];
      c.listed = false;
      if (c.dead) {
        if (c.in_flight == 0) delete &c;
        continue;
      }
      if (!c.sending.empty() || c.out.empty()) continue;  // the send in flight picks it up
      c.sending.swap(c.out);
      arm_send(c);
    }
    protocol_.dirty.clear();
  }

  int listener_;
  io_uring ring_{};
  io_uring_buf_ring* buffers_ring_ = nullptr;
  std::vector<char> buffers_;
  floor_protocol protocol_;
};
#endif

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 3000;
  std::string io = "epoll";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--io" && i + 1 < argc) {
      io = argv[++i];
    } else {
      std::fprintf(stderr, "usage: eio_floor_server [--port N] [--io epoll|uring]\n");
      return 2;
    }
  }
  const int listener = listen_on(port);
  if (io == "epoll") epoll_floor(listener).run();
#ifdef EIO_FLOOR_URING
  if (io == "uring") uring_floor(listener).run();
#endif
  std::fprintf(stderr, "eio_floor_server: no such way to wait: %s (this build has epoll%s)\n", io.c_str(),
#ifdef EIO_FLOOR_URING
               " and uring"
#else
               ""
#endif
  );
  return 2;
}
