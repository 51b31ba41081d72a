// `eiotool fuzz`: one TCP connection of a case or a health check, with
// what it received (Poco sockets, timeouts in milliseconds).
#pragma once

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <chrono>
#include <string>
#include <string_view>

namespace eio::tool::fuzz {

using clock_type = std::chrono::steady_clock;

// One TCP connection of a case or a check. Closed with a reset (SO_LINGER 0)
// so thousands of cases leave no TIME_WAIT behind to exhaust local ports.
class connection {
public:
  bool open(const Poco::Net::SocketAddress& address, long timeout_ms, std::string& error) {
    try {
      socket_.connect(address, Poco::Timespan(timeout_ms * 1000));
      socket_.setNoDelay(true);
      socket_.setSendTimeout(Poco::Timespan(timeout_ms * 1000));
      open_ = true;
      return true;
    } catch (const Poco::Exception& e) {
      error = e.displayText();
      return false;
    }
  }
  ~connection() { close(); }

  void close() {
    if (!open_) return;
    open_ = false;
    try {
      socket_.setLinger(true, 0);
      socket_.close();
    } catch (const Poco::Exception&) {
    }
  }

  // Writes everything unless the peer stops reading or closes.
  bool write(std::string_view bytes) {
    if (!open_ || peer_closed_) return false;
    try {
      std::size_t at = 0;
      while (at < bytes.size()) {
        const int n = socket_.sendBytes(bytes.data() + at, static_cast<int>(std::min<std::size_t>(bytes.size() - at, 1 << 16)));
        if (n <= 0) return false;
        at += static_cast<std::size_t>(n);
      }
      return true;
    } catch (const Poco::Exception&) {
      return false;
    }
  }

  // Reads what arrives within `wait_ms`; false once the peer closed.
  bool read(long wait_ms) {
    if (!open_ || peer_closed_) return false;
    try {
      if (!socket_.poll(Poco::Timespan(wait_ms * 1000), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
        return true;
      }
      char buffer[16384];
      const int n = socket_.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) {
        peer_closed_ = true;
        return false;
      }
      received.append(buffer, static_cast<std::size_t>(n));
      last_arrival = clock_type::now();
      return true;
    } catch (const Poco::Exception&) {
      peer_closed_ = true;
      return false;
    }
  }

  bool is_open() const noexcept { return open_; }
  bool peer_closed() const noexcept { return peer_closed_; }

  std::string received;
  clock_type::time_point last_arrival{};

private:
  Poco::Net::StreamSocket socket_;
  bool open_ = false;
  bool peer_closed_ = false;
};

}  // namespace eio::tool::fuzz
