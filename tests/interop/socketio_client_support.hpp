// What the interop tests of our Socket.IO client share: a server process
// started and stopped by the test (Node or `eiotool serve --socketio`), a
// journal of what the listeners saw, bounded waits, values of every JSON
// type with binary nested, and a proxy that cuts connections as a dropped
// network would.
#pragma once

#include <eio/socketio_poco_client.hpp>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <istream>
#include <list>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eio::test {

using namespace std::chrono_literals;
namespace sc = eio::socketio::client;
using eio::socketio::value;

// A Socket.IO server the tests run against: a program and its arguments.
struct peer {
  std::string name;
  std::string program;
  // The program's arguments for a server on `port` (0: a free one), with
  // connection state recovery on or off. Its first line on stdout says
  // "listening on http://HOST:PORT" (and maybe a path and more after it).
  std::function<std::vector<std::string>(int port, bool recovery)> arguments;
};

// One run of a peer's server.
class server_process {
public:
  server_process(const peer& p, bool recovery) : peer_(p), recovery_(recovery) { start(0); }
  ~server_process() { kill(); }

  // Starts on `on_port` (0: a free one) and reads the "listening on" line.
  void start(int on_port) {
    Poco::Pipe out;
    handle_.emplace(Poco::Process::launch(peer_.program, peer_.arguments(on_port, recovery_), nullptr, &out, nullptr));
    Poco::PipeInputStream in(out);
    std::string line;
    std::getline(in, line);
    static const std::regex listening("listening on (http://[^/: ]+:([0-9]+))");
    std::smatch m;
    if (!std::regex_search(line, m, listening)) throw std::runtime_error(peer_.name + " did not start: \"" + line + "\"");
    url = m[1];
    port = std::stoi(m[2]);
  }

  void kill() {
    if (!handle_) return;
    Poco::Process::kill(*handle_);
    handle_->wait();
    handle_.reset();
  }

  std::string url;
  int port = 0;

private:
  const peer& peer_;
  bool recovery_;
  std::optional<Poco::ProcessHandle> handle_;
};

// What the listeners saw, from the loop thread, for the test thread.
class journal {
public:
  void add(std::string line) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(std::move(line));
    }
    changed_.notify_all();
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  // Waits until `line` is there (up to `timeout`).
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& l : lines_) {
        if (l == line) return true;
      }
      return false;
    });
  }
  // Waits until `n` lines start with `prefix` (up to `timeout`).
  bool wait_count(const std::string& prefix, std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      std::size_t seen = 0;
      for (const auto& l : lines_) seen += l.rfind(prefix, 0) == 0;
      return seen >= n;
    });
  }
  std::size_t count(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const auto& l : lines_) n += l.rfind(prefix, 0) == 0;
    return n;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

inline sc::poco_socket watched(sc::poco_manager& io, journal& j, const std::string& nsp, sc::socket_options options = {}) {
  sc::poco_socket s = io.socket(nsp, std::move(options));
  s.on_connect([&j, nsp] { j.add("connect " + nsp); });
  s.on_connect_error([&j, nsp](const sc::error_info& e) {
    j.add("connect_error " + nsp + " " + e.message + (e.data ? " " + e.data->dump() : "") + (e.refused ? " refused" : ""));
  });
  s.on_disconnect([&j, nsp](sc::disconnect_reason r, const std::string&) {
    j.add("disconnect " + nsp + " " + std::string(to_string(r)));
  });
  return s;
}

inline value get(std::future<value> f, std::chrono::milliseconds timeout = 10s) {
  if (f.wait_for(timeout) != std::future_status::ready) throw std::runtime_error("no acknowledgement in time");
  return f.get();
}

// Every JSON type, unicode, and binary nested at every level.
inline value every_type() {
  return value::array({"str", "ünïcødé 😀 \"quoted\" \\ \n\t", "", 0, -1, 1.5, 9007199254740991LL, -1e-7, true, false,
                       nullptr, value::array(), value::object(), value::array({1, value::array({2, value::array({3})})}),
                       value{{"a", value{{"b", value::array({nullptr, true})}}}},
                       value::binary({0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}),
                       value{{"nested", value::array({value::binary({'x'}), value{{"deep", value::binary({})}}})}}});
}

// The client's three ways to connect: polling only, WebSocket only, the upgrade.
inline std::vector<std::vector<transport_kind>> every_transport_choice() {
  return {{transport_kind::polling}, {transport_kind::websocket}, {transport_kind::polling, transport_kind::websocket}};
}
// A test name for a peer and one of those: "node_polling_only", "eio_upgrade".
inline std::string transports_name(const peer& p, const std::vector<transport_kind>& kinds) {
  return p.name + "_" + (kinds.size() == 2 ? std::string("upgrade") : std::string(to_string(kinds.front())) + "_only");
}

inline sc::poco_manager_options with_transports(std::vector<transport_kind> transports) {
  sc::poco_manager_options o;
  o.core.transports = std::move(transports);
  return o;
}

// A TCP proxy on 127.0.0.1 in front of `port`: cut() severs every
// connection it carries (both sides see the end at once, with no close
// frame or packet), and new connections are carried as before.
class cutting_proxy {
public:
  explicit cutting_proxy(int target_port) : target_(target_port), listener_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    port = listener_.address().port();
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~cutting_proxy() {
    stopping_ = true;
    acceptor_.join();
    cut();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : pipes_) p.pumps[0].join(), p.pumps[1].join();
  }
  cutting_proxy(const cutting_proxy&) = delete;
  cutting_proxy& operator=(const cutting_proxy&) = delete;

  void cut() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : pipes_) {
      for (auto* s : {&p.client, &p.server}) {
        try {
          s->shutdown();
        } catch (...) {  // already gone
        }
      }
    }
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  int port = 0;

private:
  struct pipe {
    Poco::Net::StreamSocket client;
    Poco::Net::StreamSocket server;
    std::thread pumps[2];
  };

  static void pump(Poco::Net::StreamSocket from, Poco::Net::StreamSocket to) {
    char buffer[16384];
    try {
      for (;;) {
        const int n = from.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) break;
        for (int sent = 0; sent < n;) sent += to.sendBytes(buffer + sent, n - sent);
      }
    } catch (...) {  // cut or closed
    }
    try {
      to.shutdown();
      from.shutdown();
    } catch (...) {
    }
  }

  void accept_loop() {
    while (!stopping_) {
      if (!listener_.poll(Poco::Timespan(20'000), Poco::Net::Socket::SELECT_READ)) continue;
      Poco::Net::StreamSocket client = listener_.acceptConnection();
      Poco::Net::StreamSocket server;
      try {
        server.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(target_)));
      } catch (...) {
        client.close();  // the server is down: the client sees a refused connection as a drop
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      pipe& p = pipes_.emplace_back();
      p.client = client;
      p.server = server;
      p.pumps[0] = std::thread(pump, client, server);
      p.pumps[1] = std::thread(pump, server, client);
    }
  }

  int target_;
  Poco::Net::ServerSocket listener_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<pipe> pipes_;
};

}  // namespace eio::test
