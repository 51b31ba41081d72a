// eio::poco_client: the driver thread; eio::poco_client_io, the HTTP and
// WebSocket workers it shares with other drivers; and the one-step helpers
// they use (see include/eio/poco_client.hpp).
#include <eio/wire/clock.hpp>
#include <eio/wire/http_text.hpp>
#include <eio/wire/response_reader.hpp>
#include <eio/wire/url.hpp>

#include <eio/poco_client.hpp>

#include <eio/base64.hpp>
#include <eio/websocket_codec.hpp>

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timestamp.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <istream>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace eio {
namespace {

using wire::has_token;
using wire::websocket_accept_value;

using wire::steady_now;

Poco::Timespan to_timespan(millis m) { return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(m.count()) * 1000); }

// One client context per verification mode, shared by every connection.
Poco::Net::Context::Ptr tls_context(bool insecure) {
  static std::once_flag once;
  static Poco::Net::Context::Ptr verifying;
  static Poco::Net::Context::Ptr trusting;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.loadDefaultCAs = true;
    verifying = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    params.loadDefaultCAs = false;
    trusting = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    trusting->enableExtendedCertificateVerification(false);  // no host name check either
  });
  return insecure ? trusting : verifying;
}

std::string exception_text(const Poco::Exception& e) { return e.displayText(); }

// A connected socket (TLS completed for https/wss). Fills `report` as it
// goes; throws Poco::Exception from the step that fails. `register_socket`
// sees the plain socket before it connects and again once connected, so it
// can be shut down from another thread (and may throw to give up: a stop
// that came while the socket had no descriptor yet).
Poco::Net::StreamSocket connect_socket(const endpoint& where, const poco_client_options& options,
                                       connect_report& report,
                                       const std::function<void(Poco::Net::StreamSocket&)>& register_socket = {}) {
  Poco::Net::StreamSocket plain;
  if (register_socket) register_socket(plain);
  const Poco::Net::SocketAddress address(where.host, where.port);
  report.address = address.toString();
  const millis t0 = steady_now();
  plain.connect(address, to_timespan(options.connect_timeout));
  if (register_socket) register_socket(plain);
  report.tcp_connected = true;
  report.tcp_time = steady_now() - t0;
  plain.setNoDelay(true);
  plain.setReceiveTimeout(to_timespan(options.connect_timeout));
  plain.setSendTimeout(to_timespan(options.connect_timeout));
  if (!where.tls) return plain;
  const millis t1 = steady_now();
  Poco::Net::SecureStreamSocket secure =
      Poco::Net::SecureStreamSocket::attach(plain, where.host, tls_context(options.insecure));
  report.tls_time = steady_now() - t1;
  report.tls_ok = true;
  if (secure.havePeerCertificate()) {
    const Poco::Net::X509Certificate certificate = secure.peerCertificate();
    report.certificate_subject = certificate.subjectName();
    report.certificate_issuer = certificate.issuerName();
    const Poco::DateTime expires = certificate.expiresOn();
    report.certificate_expires = Poco::DateTimeFormatter::format(expires, Poco::DateTimeFormat::ISO8601_FORMAT);
    report.certificate_days_left = static_cast<long>((expires.timestamp() - Poco::Timestamp()) / Poco::Timespan::DAYS);
  }
  return secure;
}

std::string random_bytes(std::size_t n) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

std::uint32_t random_mask() {
  const std::string b = random_bytes(4);
  std::uint32_t key = 0;
  for (const char c : b) key = (key << 8) | static_cast<unsigned char>(c);
  return key;
}

// Reads an HTTP response head (and what came after it) from `socket`.
struct response_head {
  int status = 0;
  std::string reason;
  header_list headers;
  std::string rest;  // bytes after the blank line
};

response_head read_head(Poco::Net::StreamSocket& socket) {
  std::string buffer;
  char chunk[4096];
  wire::http_response_view view;
  for (;;) {
    const wire::response_read read = wire::read_response(buffer, false, view, {}, {false, /*head_only=*/true});
    if (read.status == wire::response_status::complete) {
      response_head head;
      head.status = view.status;
      head.reason = std::string(view.reason);
      for (const auto& [name, value] : view.headers) head.headers.push_back({std::string(name), std::string(value)});
      head.rest = buffer.substr(read.consumed);
      return head;
    }
    if (read.status == wire::response_status::error) throw Poco::ProtocolException(read.error);
    const int n = socket.receiveBytes(chunk, sizeof chunk);
    if (n <= 0) throw Poco::Net::ConnectionResetException(buffer.empty() ? "closed before any response" : "closed inside the response head");
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

// ------------------------------------------------------------ endpoint

std::string endpoint::authority() const {
  wire::url u;
  u.tls = tls;
  u.host = host;
  u.port = port;
  return u.authority();
}

std::optional<endpoint> parse_endpoint(std::string_view url, std::string& error) {
  const std::optional<wire::url> parsed = wire::parse_url(url, error);
  if (!parsed) return std::nullopt;
  endpoint e;
  e.tls = parsed->tls;
  e.host = parsed->host;
  e.port = parsed->port;
  const std::string path = wire::percent_decode(parsed->path);
  if (path.empty() || path == "/") {
    e.path = "/engine.io/";
  } else {
    e.path = path.back() == '/' ? path : path + "/";
  }
  for (auto& [name, value] : parsed->query_params()) {
    // The client core adds these itself.
    if (name == "EIO" || name == "transport" || name == "sid" || name == "t") continue;
    e.query.emplace_back(std::move(name), std::move(value));
  }
  return e;
}

// ------------------------------------------------------------ one step at a time

connect_report check_connect(const endpoint& where, const poco_client_options& options) {
  connect_report report;
  try {
    Poco::Net::StreamSocket socket = connect_socket(where, options, report);
    try {
      socket.shutdown();
    } catch (const Poco::Exception&) {
    }
    socket.close();
  } catch (const Poco::Exception& e) {
    report.error = exception_text(e);
  } catch (const std::exception& e) {
    report.error = e.what();
  }
  return report;
}

namespace {

http_exchange run_exchange(const endpoint& where, const poco_client_options& options, http_exchange x,
                           const header_list& headers, const std::string& content_type, millis timeout,
                           const std::function<void(Poco::Net::StreamSocket&)>& register_socket) {
  const millis t0 = steady_now();
  try {
    connect_report report;
    Poco::Net::StreamSocket socket = connect_socket(where, options, report, register_socket);
    x.connect_time = steady_now() - t0;
    Poco::Net::HTTPClientSession session(socket);
    session.setTimeout(to_timespan(timeout));
    socket.setReceiveTimeout(to_timespan(timeout));
    socket.setSendTimeout(to_timespan(timeout));
    Poco::Net::HTTPRequest request(x.method, x.target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setHost(where.authority());
    for (const header& h : options.headers) request.add(h.name, h.value);
    for (const header& h : headers) request.add(h.name, h.value);
    if (!content_type.empty()) request.setContentType(content_type);
    if (x.method == "POST" || !x.request_body.empty()) request.setContentLength(static_cast<std::streamsize>(x.request_body.size()));
    request.setKeepAlive(false);
    std::ostream& out = session.sendRequest(request);
    out << x.request_body;
    out.flush();
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    x.status = static_cast<int>(response.getStatus());
    x.reason = response.getReason();
    for (const auto& [name, value] : response) x.headers.push_back({name, value});
    Poco::StreamCopier::copyToString(in, x.body);
  } catch (const Poco::TimeoutException&) {
    x.status = 0;
    x.error = "timed out after " + std::to_string(timeout.count()) + " ms";
  } catch (const Poco::Exception& e) {
    x.status = 0;
    x.error = exception_text(e);
  } catch (const std::exception& e) {
    x.status = 0;
    x.error = e.what();
  }
  x.elapsed = steady_now() - t0;
  return x;
}

}  // namespace

http_exchange http_exchange_once(const endpoint& where, const poco_client_options& options, std::string method,
                                 std::string target, const header_list& headers, std::string body,
                                 std::string content_type, std::optional<millis> request_timeout) {
  http_exchange x;
  x.method = std::move(method);
  x.target = std::move(target);
  x.request_body = std::move(body);
  return run_exchange(where, options, std::move(x), headers, content_type,
                      request_timeout.value_or(options.request_timeout), {});
}

// ------------------------------------------------------------ poco_client_io

namespace {

// One WebSocket connection's worker state. The worker thread alone touches
// the socket; the driver hands it frames through `outgoing` and wakes it.
struct websocket_link {
  explicit websocket_link(connection_id connection) : id(connection), wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~websocket_link() {
    if (wake >= 0) ::close(wake);
  }
  void poke() {
    const std::uint64_t one = 1;
    if (wake >= 0) (void)!::write(wake, &one, sizeof one);
  }
  void queue(std::string frame) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      outgoing.push_back(std::move(frame));
    }
    poke();
  }
  void request_close() {
    closing = true;
    poke();
  }
  void abort() {
    aborted = true;
    poke();
  }

  const connection_id id;
  const int wake;
  std::mutex mutex;
  std::deque<std::string> outgoing;  // whole frames, masked
  std::atomic<bool> closing{false};  // send a close frame, then end
  std::atomic<bool> aborted{false};  // end at once (the client is going away)
};

}  // namespace

struct poco_client_io::impl {
  impl(endpoint e, poco_client_options o, std::function<void(poco_client_io_report)> r)
      : where(std::move(e)), options(std::move(o)), report(std::move(r)) {}

  void perform(client_action what, millis long_poll) {
    if (auto* r = std::get_if<client_http_request>(&what)) {
      start_http(std::move(*r), long_poll);
    } else if (auto* o = std::get_if<client_websocket_open>(&what)) {
      start_websocket(*o);
    } else if (auto* s = std::get_if<client_websocket_send>(&what)) {
      if (auto it = links.find(s->connection); it != links.end()) {
        std::string frame;
        websocket::append_masked_frame(s->kind == frame_kind::text ? websocket::opcode::text : websocket::opcode::binary,
                                       s->data, random_mask(), frame);
        it->second->queue(std::move(frame));
      }
    } else if (auto* c = std::get_if<client_websocket_close>(&what)) {
      if (auto it = links.find(c->connection); it != links.end()) {
        it->second->request_close();
        links.erase(it);
      }
    }
  }

  // ---- workers

  template <typename Work>
  void start_worker(Work work) {
    std::lock_guard<std::mutex> lock(worker_mutex);
    const unsigned long id = ++last_worker;
    workers.emplace(id, std::thread([this, id, work = std::move(work)]() mutable {
      work(id);
      std::lock_guard<std::mutex> done(worker_mutex);
      finished.push_back(id);
      http_sockets.erase(id);
    }));
  }

  void reap_workers() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(worker_mutex);
      for (const unsigned long id : finished) {
        if (auto it = workers.find(id); it != workers.end()) {
          done.push_back(std::move(it->second));
          workers.erase(it);
        }
      }
      finished.clear();
    }
    for (auto& t : done) t.join();
  }

  void start_http(client_http_request r, millis long_poll) {
    millis timeout = options.request_timeout;
    // A long-poll GET is held by the server until it has something to
    // send, at the latest the next ping.
    if (r.method == "GET") timeout += long_poll;
    start_worker([this, r = std::move(r), timeout](unsigned long worker) mutable {
      http_exchange x;
      x.request_id = r.request_id;
      x.method = r.method;
      x.target = r.target;
      x.request_body = std::move(r.body);
      x = run_exchange(where, options, std::move(x), {}, r.content_type, timeout, [this, worker](Poco::Net::StreamSocket& s) {
        std::lock_guard<std::mutex> lock(worker_mutex);
        if (stopped) throw Poco::Net::NetException("stopped");
        http_sockets[worker] = s;
      });
      report(std::move(x));
    });
  }

  void start_websocket(const client_websocket_open& o) {
    auto link = std::make_shared<websocket_link>(o.connection);
    links.emplace(o.connection, link);
    {
      std::lock_guard<std::mutex> lock(worker_mutex);
      all_links.push_back(link);
    }
    start_worker([this, link, target = o.target](unsigned long) { run_websocket(*link, target); });
  }

  // The worker of one WebSocket: handshake, then frames both ways until
  // either side closes.
  void run_websocket(websocket_link& link, const std::string& target) {
    websocket_handshake hs;
    hs.connection = link.id;
    hs.target = target;
    const millis t0 = steady_now();
    Poco::Net::StreamSocket socket;
    std::string pending;  // bytes read past the handshake
    try {
      connect_report report_;
      socket = connect_socket(where, options, report_, [&](Poco::Net::StreamSocket& s) {
        std::lock_guard<std::mutex> lock(worker_mutex);
        if (stopped) throw Poco::Net::NetException("stopped");
        ws_sockets[link.id] = s;
      });
      socket.setReceiveTimeout(to_timespan(options.request_timeout));
      socket.setSendTimeout(to_timespan(options.request_timeout));
      std::string key;
      base64_encode(random_bytes(16), key);
      std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + where.authority() +
                            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                            "\r\nSec-WebSocket-Version: 13\r\n";
      for (const header& h : options.headers) request += h.name + ": " + h.value + "\r\n";
      request += "\r\n";
      socket.sendBytes(request.data(), static_cast<int>(request.size()));
      response_head head = read_head(socket);
      hs.status = head.status;
      hs.reason = head.reason;
      hs.headers = head.headers;
      const auto upgrade = find_header(head.headers, "upgrade");
      const auto connection = find_header(head.headers, "connection");
      const auto accept = find_header(head.headers, "sec-websocket-accept");
      if (head.status != 101) {
        hs.error = "answered " + std::to_string(head.status) + " " + head.reason + " instead of 101";
        hs.body = std::move(head.rest);
        // The refusal's body, when its length is known and small (an
        // Engine.IO error is a short JSON object).
        if (const auto length = find_header(head.headers, "content-length")) {
          const std::size_t want = std::min<std::size_t>(std::strtoul(std::string(*length).c_str(), nullptr, 10), 64 * 1024);
          char chunk[4096];
          while (hs.body.size() < want) {
            const int n = socket.receiveBytes(chunk, sizeof chunk);
            if (n <= 0) break;
            hs.body.append(chunk, static_cast<std::size_t>(n));
          }
        }
      } else if (!upgrade || !ascii_iequals(*upgrade, "websocket")) {
        hs.error = "101 without \"Upgrade: websocket\"";
      } else if (!connection || !has_token(*connection, "upgrade")) {
        hs.error = "101 without \"Connection: Upgrade\"";
      } else if (!accept || *accept != websocket_accept_value(key)) {
        hs.error = "wrong Sec-WebSocket-Accept";
      } else {
        hs.accepted = true;
        pending = std::move(head.rest);
      }
    } catch (const Poco::TimeoutException&) {
      hs.error = "timed out after " + std::to_string(options.request_timeout.count()) + " ms";
    } catch (const Poco::Exception& e) {
      hs.error = exception_text(e);
    } catch (const std::exception& e) {
      hs.error = e.what();
    }
    hs.elapsed = steady_now() - t0;
    const bool accepted = hs.accepted;
    report(std::move(hs));
    if (accepted) pump_websocket(link, socket, std::move(pending));
    try {
      socket.close();
    } catch (const Poco::Exception&) {
    }
    std::lock_guard<std::mutex> lock(worker_mutex);
    ws_sockets.erase(link.id);
  }

  void pump_websocket(websocket_link& link, Poco::Net::StreamSocket& socket, std::string buffer) {
    websocket::frame_reader reader(options.max_message_bytes, /*require_masked=*/false);
    const connection_id id = link.id;
    const auto closed = [this, id] { report(websocket_ended{id}); };
    const auto write_all = [&socket](const std::string& bytes) {
      std::size_t sent = 0;
      while (sent < bytes.size()) {
        const int n = socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
        if (n <= 0) throw Poco::Net::ConnectionResetException("send failed");
        sent += static_cast<std::size_t>(n);
      }
    };
    try {
      char chunk[16 * 1024];
      for (;;) {
        // Frames already read first, then what the driver queued, then wait.
        for (;;) {
          websocket::frame_event frame;
          buffer.erase(0, reader.read(buffer, frame));
          if (frame.what == websocket::frame_event::kind::need_more) break;
          if (frame.what == websocket::frame_event::kind::message) {
            report(websocket_received{id, frame.message_kind, std::string(frame.data)});
          } else if (frame.what == websocket::frame_event::kind::ping) {
            std::string pong;
            websocket::append_masked_frame(websocket::opcode::pong, frame.data, random_mask(), pong);
            write_all(pong);
          } else if (frame.what == websocket::frame_event::kind::close ||
                     frame.what == websocket::frame_event::kind::error) {
            std::string reply;
            // Echo the peer's close code (RFC 6455 section 5.5.1), or name
            // the error we close for.
            const bool peer_closed = frame.what == websocket::frame_event::kind::close;
            const std::uint16_t code = peer_closed ? (frame.close_code == 1005 ? websocket::close_normal : frame.close_code)
                                                   : frame.close_code;
            websocket::append_masked_close_frame(code, "", random_mask(), reply);
            write_all(reply);
            return closed();
          }
        }
        std::deque<std::string> out;
        {
          std::lock_guard<std::mutex> lock(link.mutex);
          out.swap(link.outgoing);
        }
        for (const std::string& frame : out) write_all(frame);
        if (link.aborted) return;
        if (link.closing) {
          std::string frame;
          websocket::append_masked_close_frame(websocket::close_normal, "", random_mask(), frame);
          write_all(frame);
          return;  // the core expects no more about this connection
        }
        if (socket.impl()->available() <= 0) {
          pollfd fds[2] = {{socket.impl()->sockfd(), POLLIN, 0}, {link.wake, POLLIN, 0}};
          if (::poll(fds, 2, 1000) < 0) continue;
          if (fds[1].revents) {
            std::uint64_t count;
            (void)!::read(link.wake, &count, sizeof count);
          }
          if (!fds[0].revents) continue;
        }
        const int n = socket.receiveBytes(chunk, sizeof chunk);
        if (n <= 0) return closed();
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
    } catch (const Poco::TimeoutException&) {
      // A partial TLS record that never completed: treat as a drop.
      if (!link.closing && !link.aborted) closed();
    } catch (const Poco::Exception&) {
      if (!link.closing && !link.aborted) closed();
    }
  }

  // Unblocks every worker (WebSockets aborted, sockets shut down mid-request)
  // and joins it.
  void stop() {
    std::map<unsigned long, std::thread> running;
    {
      std::lock_guard<std::mutex> lock(worker_mutex);
      stopped = true;
      for (auto& link : all_links) {
        if (auto l = link.lock()) l->abort();
      }
      for (auto& [id, s] : http_sockets) {
        try {
          s.shutdown();
        } catch (const Poco::Exception&) {
        }
      }
      for (auto& [id, s] : ws_sockets) {
        try {
          s.shutdown();
        } catch (const Poco::Exception&) {
        }
      }
      running.swap(workers);
    }
    for (auto& [id, t] : running) t.join();
    links.clear();
  }

  const endpoint where;
  const poco_client_options options;
  const std::function<void(poco_client_io_report)> report;

  std::map<connection_id, std::shared_ptr<websocket_link>> links;  // the driver's

  std::mutex worker_mutex;
  std::atomic<bool> stopped{false};
  unsigned long last_worker = 0;
  std::map<unsigned long, std::thread> workers;
  std::vector<unsigned long> finished;
  std::map<unsigned long, Poco::Net::StreamSocket> http_sockets;     // by worker
  std::map<connection_id, Poco::Net::StreamSocket> ws_sockets;       // by connection
  std::vector<std::weak_ptr<websocket_link>> all_links;
};

poco_client_io::poco_client_io(endpoint where, poco_client_options options,
                               std::function<void(poco_client_io_report)> report)
    : impl_(std::make_unique<impl>(std::move(where), std::move(options), std::move(report))) {}

poco_client_io::~poco_client_io() { impl_->stop(); }

const endpoint& poco_client_io::where() const noexcept { return impl_->where; }
const poco_client_options& poco_client_io::options() const noexcept { return impl_->options; }

void poco_client_io::perform(client_action what, millis long_poll) {
  if (impl_->stopped) return;
  impl_->perform(std::move(what), long_poll);
}

void poco_client_io::reap() { impl_->reap_workers(); }

void poco_client_io::stop() { impl_->stop(); }

// ------------------------------------------------------------ poco_client

struct poco_client::impl {
  impl(endpoint e, poco_client_options o)
      : core(make_core_options(e, o)), io(e, o, [this](poco_client_io_report r) { post_report(std::move(r)); }) {}

  static client_options make_core_options(const endpoint& where, const poco_client_options& options) {
    client_options c = options.core;
    c.path = where.path;
    c.query = where.query;
    c.extra_headers = options.headers;
    return c;
  }

  const endpoint& where() const noexcept { return io.where(); }
  const poco_client_options& options() const noexcept { return io.options(); }

  // ---- inputs to the driver

  void post(std::function<void(millis)> input) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      inputs.push_back(std::move(input));
    }
    wake.notify_one();
  }

  // An outcome from a worker, for the core (and for the application when observing).
  void post_report(poco_client_io_report r) {
    post([this, r = std::move(r)](millis now) mutable {
      const bool observe = options().observe;
      if (auto* x = std::get_if<http_exchange>(&r)) {
        if (observe) emit(*x);
        if (x->status == 0) {
          core.http_failed(x->request_id, now);
        } else {
          core.http_response_received(x->request_id, x->status, x->headers, std::move(x->body), now);
        }
      } else if (auto* hs = std::get_if<websocket_handshake>(&r)) {
        if (observe) emit(*hs);
        if (hs->accepted) {
          core.websocket_opened(hs->connection, now);
        } else {
          core.websocket_failed(hs->connection, now);
        }
      } else if (auto* m = std::get_if<websocket_received>(&r)) {
        if (observe) emit(*m);
        core.websocket_message(m->connection, m->kind, m->data, now);
      } else if (auto* end = std::get_if<websocket_ended>(&r)) {
        core.websocket_closed(end->connection, now);
      }
    });
  }

  void emit(poco_client_event e) {
    {
      std::lock_guard<std::mutex> lock(event_mutex);
      events.push_back(std::move(e));
    }
    event_ready.notify_all();
  }

  // ---- the driver thread

  void drive() {
    for (;;) {
      std::deque<std::function<void(millis)>> batch;
      {
        std::unique_lock<std::mutex> lock(mutex);
        const std::optional<millis> due = core.next_deadline();
        const auto ready = [&] { return stopping || !inputs.empty(); };
        if (due) {
          wake.wait_until(lock, std::chrono::steady_clock::time_point(*due), ready);
        } else {
          wake.wait(lock, ready);
        }
        if (stopping) return;
        batch.swap(inputs);
      }
      for (auto& input : batch) input(steady_now());
      const millis now = steady_now();
      if (const auto due = core.next_deadline(); due && *due <= now) core.on_timeout(now);
      carry_out();
      io.reap();
    }
  }

  void carry_out() {
    // A long-poll GET is held by the server until it has something to
    // send, at the latest the next ping.
    const millis long_poll = core.handshake() ? core.handshake()->ping_interval + core.handshake()->ping_timeout : millis(0);
    while (auto next_action = core.next_action()) io.perform(std::move(*next_action), long_poll);
    while (auto happened = core.next_event()) emit(std::move(*happened));
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_one();
    if (driver.joinable()) driver.join();
    io.stop();
  }

  client core;  // the driver's alone (and open()'s before the driver starts)

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void(millis)>> inputs;
  bool stopping = false;
  std::thread driver;

  std::mutex event_mutex;
  std::condition_variable event_ready;
  std::deque<poco_client_event> events;

  poco_client_io io;  // last: its workers post into the members above until it stops
};

poco_client::poco_client(std::string_view url, poco_client_options options) {
  std::string error;
  std::optional<endpoint> where = parse_endpoint(url, error);
  if (!where) throw std::invalid_argument(error);
  impl_ = std::make_unique<impl>(std::move(*where), std::move(options));
  impl_->driver = std::thread([this] { impl_->drive(); });
}

poco_client::~poco_client() { impl_->stop(); }

const endpoint& poco_client::target() const noexcept { return impl_->where(); }

void poco_client::open() {
  impl_->post([this](millis now) { impl_->core.open(now); });
}

void poco_client::send(std::string data, frame_kind kind) {
  impl_->post([this, data = std::move(data), kind](millis now) mutable { impl_->core.send(std::move(data), kind, now); });
}

void poco_client::close() {
  impl_->post([this](millis now) { impl_->core.close(now); });
}

std::optional<poco_client_event> poco_client::next(millis timeout) {
  std::unique_lock<std::mutex> lock(impl_->event_mutex);
  if (!impl_->event_ready.wait_for(lock, timeout, [&] { return !impl_->events.empty(); })) return std::nullopt;
  poco_client_event e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

}  // namespace eio
