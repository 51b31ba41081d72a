// eio::poco_attached_server: the core behind one mutex, fed by the threads of a
// Poco::Net::HTTPServer. Each request thread hands its request to the core,
// then waits on its own condition variable until the core's answer for its
// connection_id arrives (at once, or later for a held poll). A WebSocket's
// thread runs a blocking receive loop; its outgoing frames go through an
// outbox written by one thread at a time (whoever drained the core's actions).
//
// Locks, always taken in this order: impl::mutex (the core, the exchange and
// link tables), then websocket_link::mutex (one outbox). No socket I/O
// happens under impl::mutex, except a zero-timeout poll of a held poll's socket.
#include "http_text.hpp"
#include "steady_clock.hpp"

#include <eio/base64.hpp>
#include <eio/poco_attached_server.hpp>
#include <eio/utf8.hpp>

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <istream>
#include <limits>
#include <mutex>
#include <ostream>
#include <thread>
#include <unordered_map>
#include <vector>

namespace eio {
namespace {


using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Poco::Net::WebSocket;

// RFC 6455 section 7.4.1 close codes.
constexpr std::uint16_t close_normal = 1000;
constexpr std::uint16_t close_protocol_error = 1002;
constexpr std::uint16_t close_invalid_payload = 1007;
constexpr std::uint16_t close_too_big = 1009;

Poco::Timespan timespan_of(millis m) { return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(m.count()) * 1000); }

void write_response(HTTPServerResponse& response, const http_response& r, bool keep_alive) {
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(r.status));
  for (const auto& h : r.headers) response.add(h.name, h.value);
  response.setContentLength(static_cast<std::streamsize>(r.body.size()));
  if (!keep_alive) response.setKeepAlive(false);
  // send() and a flush, not sendBuffer(), whose bytes wait in a stream Poco
  // flushes only when the response is destroyed: a lingering close shuts
  // the write side before that.
  std::ostream& body = response.send();
  body.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
  body.flush();
}

void write_plain(HTTPServerResponse& response, int status, std::string text, bool keep_alive = true) {
  write_response(response, {0, status, {{"Content-Type", "text/plain; charset=UTF-8"}}, std::move(text)}, keep_alive);
}

// Whether the client of a held exchange closed its connection: readable with
// nothing to read is end of stream (or an error). Bytes waiting are a next
// request, not a goodbye.
bool peer_gone(Poco::Net::StreamSocket& socket) {
  try {
    if (!socket.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) return false;
    return socket.available() <= 0;
  } catch (const Poco::Exception&) {
    return true;
  }
}

// One frame for a WebSocket, in the order the core queued it.
struct outgoing {
  enum class kind : std::uint8_t { text, binary, pong, close } what = kind::text;
  std::string data;  // the payload; a close's reason
  std::uint16_t code = close_normal;
};

void write_frame(WebSocket& socket, const outgoing& o) {
  const int length = static_cast<int>(o.data.size());
  int flags = WebSocket::FRAME_TEXT;
  switch (o.what) {
    case outgoing::kind::text: break;
    case outgoing::kind::binary: flags = WebSocket::FRAME_BINARY; break;
    case outgoing::kind::pong: flags = int{WebSocket::FRAME_FLAG_FIN} | int{WebSocket::FRAME_OP_PONG}; break;
    case outgoing::kind::close:
      socket.shutdown(o.code, o.data);  // the close frame (RFC 6455 section 5.5.1) ...
      socket.shutdownSend();            // ... then FIN: a well-behaved peer answers and closes
      return;
  }
  if (socket.sendFrame(o.data.data(), length, flags) != length) throw Poco::Net::NetException("short WebSocket write");
}

// A WebSocket connection: its socket once the handshake is done, and the
// outbox its writers share. One writer at a time empties the outbox (a
// thread that finds another writing leaves its frames to it), which keeps
// the frames in the core's order without holding the server's mutex over I/O.
struct websocket_link {
  explicit websocket_link(connection_id i) : id(i) {}
  const connection_id id;
  bool closed_by_core = false;  // under impl::mutex: the core queued websocket_close and forgot it

  std::mutex mutex;  // guards what follows
  std::condition_variable idle;  // `writing` went false
  std::deque<outgoing> outbox;
  std::optional<WebSocket> socket;  // set once, before `ready`; then used without the lock
  bool ready = false;
  bool writing = false;
  bool close_sent = false;
  bool done = false;  // no more writes: broken, or the receive loop ended

  void push(outgoing o) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!done && !close_sent) outbox.push_back(std::move(o));
  }

  void flush() {
    std::unique_lock<std::mutex> lock(mutex);
    if (!ready || writing) return;
    writing = true;
    while (!outbox.empty() && !done) {
      outgoing o = std::move(outbox.front());
      outbox.pop_front();
      if (close_sent) continue;  // nothing follows a close frame
      if (o.what == outgoing::kind::close) close_sent = true;
      lock.unlock();
      bool ok = true;
      try {
        write_frame(*socket, o);
      } catch (const Poco::Exception&) {
        ok = false;
      }
      lock.lock();
      if (!ok) {
        // Cut the connection: the receive loop wakes up (end of stream) and
        // tells the core.
        done = true;
        outbox.clear();
        try {
          socket->StreamSocket::shutdown();
        } catch (const Poco::Exception&) {
        }
      }
    }
    writing = false;
    idle.notify_all();
  }
};

// An HTTP exchange waiting for the core's answer.
struct exchange {
  std::condition_variable answered;
  std::optional<http_response> response;
  std::optional<header_list> accept;
};

}  // namespace

struct poco_attached_server::impl {
  poco_attached_server_options options;
  event_handler handler;
  timer_hooks hooks;

  std::mutex mutex;  // guards everything below
  server core;
  std::unordered_map<connection_id, exchange*> exchanges;  // requests waiting for their answer
  std::unordered_map<connection_id, std::shared_ptr<websocket_link>> links;  // WebSockets whose thread runs
  std::condition_variable links_ended;
  std::vector<std::shared_ptr<websocket_link>> dirty;  // outboxes to flush once the mutex is released
  bool stopped = false;
  // The timer thread.
  std::condition_variable timer_wake;
  std::optional<millis> timer_armed;  // the deadline it sleeps until, while it sleeps
  bool timer_stop = false;
  std::thread timer;

  std::atomic<connection_id> next_id{1};

  // The impl whose event handler this thread is running (its mutex is held).
  static thread_local impl* in_handler;

  impl(poco_attached_server_options o, event_handler h, timer_hooks t)
      : options(std::move(o)), handler(std::move(h)), hooks(std::move(t)), core(options.core) {}

  // ---- the core, under the lock

  // Runs f(now) under the lock (or directly, from inside the event handler),
  // runs the core's outputs, then writes the WebSocket frames they queued.
  template <class F>
  void locked(F&& f) {
    if (in_handler == this) {
      f(poco_attached_server::now());  // the pump running below us drains what this queues
      return;
    }
    std::vector<std::shared_ptr<websocket_link>> to_flush;
    {
      std::lock_guard<std::mutex> lock(mutex);
      const millis t = poco_attached_server::now();
      f(t);
      pump(t);
      to_flush.swap(dirty);
      wake_timer();
    }
    for (const auto& link : to_flush) link->flush();
  }

  // The core's actions to exchanges and outboxes, its events to the
  // application, until both queues are empty. Under the lock.
  void pump(millis t) {
    for (;;) {
      bool any = false;
      while (auto a = core.next_action()) {
        any = true;
        apply(*a);
      }
      while (auto e = core.next_event()) {
        any = true;
        if (!handler) continue;
        in_handler = this;
        try {
          handler(core, *e, t);
        } catch (...) {
          // The handler must not throw; an exception here would leave the
          // core's queues half drained under the lock.
        }
        in_handler = nullptr;
      }
      if (!any) return;
    }
  }

  void apply(action& a) {
    if (auto* response = std::get_if<http_response>(&a)) {
      if (const auto found = exchanges.find(response->connection); found != exchanges.end()) {
        found->second->response = std::move(*response);
        found->second->answered.notify_one();
      }  // else its client is gone
    } else if (auto* accept = std::get_if<websocket_accept>(&a)) {
      if (const auto found = exchanges.find(accept->connection); found != exchanges.end()) {
        found->second->accept = std::move(accept->headers);
        found->second->answered.notify_one();
      }
    } else if (auto* send = std::get_if<websocket_send>(&a)) {
      if (const auto found = links.find(send->connection); found != links.end() && !found->second->closed_by_core) {
        outgoing o;
        o.what = send->kind == frame_kind::text ? outgoing::kind::text : outgoing::kind::binary;
        o.data = std::move(send->data);
        if (send->shared_tail) o.data += *send->shared_tail;  // Poco writes one buffer per frame: no gather write here
        found->second->push(std::move(o));
        mark_dirty(found->second);
      }
    } else if (auto* close = std::get_if<websocket_close>(&a)) {
      if (const auto found = links.find(close->connection); found != links.end() && !found->second->closed_by_core) {
        found->second->closed_by_core = true;
        outgoing o;
        o.what = outgoing::kind::close;
        o.code = close->code;
        found->second->push(std::move(o));
        mark_dirty(found->second);
      }
    }
  }

  void mark_dirty(const std::shared_ptr<websocket_link>& link) {
    if (std::find(dirty.begin(), dirty.end(), link) == dirty.end()) dirty.push_back(link);
  }

  // Under the lock: the earliest of the core's timers and the application's.
  std::optional<millis> next_deadline() {
    std::optional<millis> due = core.next_deadline();
    if (hooks.next_deadline) {
      const std::optional<millis> application = hooks.next_deadline(core);
      if (application && (!due || *application < *due)) due = application;
    }
    return due;
  }

  // Under the lock: the timer thread sleeps past the next deadline.
  void wake_timer() {
    const std::optional<millis> due = next_deadline();
    if (due && (!timer_armed || *due < *timer_armed)) timer_wake.notify_one();
  }

  void run_timer() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!timer_stop) {
      const std::optional<millis> due = next_deadline();
      const millis t = poco_attached_server::now();
      if (!due || *due > t) {
        timer_armed = due;
        if (due) {
          timer_wake.wait_until(lock, std::chrono::steady_clock::time_point(
                                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(*due)));
        } else {
          timer_wake.wait(lock);
        }
        timer_armed.reset();
        continue;
      }
      if (const auto core_due = core.next_deadline(); core_due && *core_due <= t) core.on_timeout(t);
      if (hooks.on_timeout) {
        in_handler = this;  // the application's timers may call send()/close() on us
        try {
          hooks.on_timeout(core, t);
        } catch (...) {
          // as the event handler: must not throw
        }
        in_handler = nullptr;
      }
      pump(t);
      std::vector<std::shared_ptr<websocket_link>> to_flush;
      to_flush.swap(dirty);
      lock.unlock();
      for (const auto& link : to_flush) link->flush();
      lock.lock();
    }
  }

  // ---- requests, on the HTTPServer's threads

  void serve(HTTPServerRequest& request, HTTPServerResponse& response) {
    http_request r;
    r.method = request.getMethod();
    const std::string& uri = request.getURI();
    const std::size_t question = uri.find('?');
    r.path = uri.substr(0, question);
    if (question != std::string::npos) r.query = uri.substr(question + 1);
    std::size_t host_fields = 0;
    for (const auto& [name, value] : request) {
      r.headers.push_back({name, value});
      if (ascii_iequals(name, "host")) ++host_fields;
    }
    // RFC 9112 section 3.2, which Poco does not check: no Host in HTTP/1.1
    // (or a later 1.x, read as 1.1), or two in any version, is a 400.
    if (const char* problem =
            detail::host_field_problem(host_fields, request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0)) {
      return write_plain(response, 400, problem, false);
    }
    r.remote_address = request.clientAddress().toString();
    const connection_id id = next_id.fetch_add(1, std::memory_order_relaxed);

    const auto upgrade = r.header_value("upgrade");
    if (upgrade && ascii_iequals(*upgrade, "websocket")) return serve_websocket(id, r, request, response);

    exchange ex;
    bool refused = false;
    bool keep_alive = true;
    if (r.method != "POST") {
      locked([&](millis t) {
        if (stopped) {
          refused = true;
          return;
        }
        exchanges[id] = &ex;
        core.handle_request(id, std::move(r), t);
      });
    } else {
      bool read_body = false;
      locked([&](millis t) {
        if (stopped) {
          refused = true;
          return;
        }
        exchanges[id] = &ex;
        read_body = core.begin_post(id, r, t);
      });
      if (!refused && !read_body) keep_alive = false;  // answered already; its body stays unread
      if (!refused && read_body && !read_post_body(id, request, keep_alive)) {
        forget(id);
        return;  // the client went away mid-body: nobody to answer
      }
    }
    if (refused) return write_plain(response, 503, "Server shutting down", false);

    const std::optional<http_response> answer = wait_for_answer(id, ex, request).response;
    if (!answer) {
      if (stopped_now()) write_plain(response, 503, "Server shutting down", false);
      return;  // else the client went away and the core knows
    }
    try {
      write_response(response, *answer, keep_alive);
    } catch (const Poco::Exception&) {
      // The client went away; the core considers it answered, as the
      // reference does for a response written into a closed socket.
    }
  }

  // Reads a POST body up to max_http_buffer_size, then finish_post, or
  // body_too_large one byte past it. Returns false when the body never came.
  bool read_post_body(connection_id id, HTTPServerRequest& request, bool& keep_alive) {
    const std::size_t limit = options.core.max_http_buffer_size;
    const bool sized = request.hasContentLength();
    const Poco::Int64 declared = sized ? request.getContentLength64() : 0;
    if (sized && declared > static_cast<Poco::Int64>(limit)) {
      keep_alive = false;
      locked([&](millis t) { core.body_too_large(id, t); });
      return true;
    }
    std::string body;
    bool failed = false;
    // Without Content-Length or chunked framing an HTTP/1.1 request has no
    // body (RFC 9112 section 6.3); Poco would read one until end of stream.
    if (sized || request.getChunkedTransferEncoding()) {
      try {
        std::istream& in = request.stream();
        char buffer[16 * 1024];
        while (body.size() <= limit) {
          in.read(buffer, static_cast<std::streamsize>(std::min(sizeof buffer, limit + 1 - body.size())));
          const std::streamsize n = in.gcount();
          if (n <= 0) break;
          body.append(buffer, static_cast<std::size_t>(n));
        }
        failed = in.bad() || (sized && body.size() < static_cast<std::size_t>(declared));
      } catch (const Poco::Exception&) {
        failed = true;
      }
    }
    if (failed) {
      locked([&](millis t) { core.http_closed(id, t); });
      return false;
    }
    if (body.size() > limit) {
      keep_alive = false;
      locked([&](millis t) { core.body_too_large(id, t); });
      return true;
    }
    locked([&](millis t) { core.finish_post(id, std::move(body), t); });
    return true;
  }

  bool stopped_now() {
    std::lock_guard<std::mutex> lock(mutex);
    return stopped;
  }

  void forget(connection_id id) {
    std::lock_guard<std::mutex> lock(mutex);
    exchanges.erase(id);
  }

  // Waits until the core answers exchange `id`; meanwhile looks every
  // disconnect_check_interval whether its client went away (then tells the
  // core, and there is nothing to answer). Unregisters the exchange.
  exchange& wait_for_answer(connection_id id, exchange& ex, HTTPServerRequest& request) {
    auto* request_impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    std::vector<std::shared_ptr<websocket_link>> to_flush;
    {
      std::unique_lock<std::mutex> lock(mutex);
      while (!ex.response && !ex.accept && !stopped) {
        if (ex.answered.wait_for(lock, options.disconnect_check_interval) == std::cv_status::no_timeout) continue;
        if (ex.response || ex.accept || !request_impl || !peer_gone(request_impl->socket())) continue;
        exchanges.erase(id);  // nobody to answer now
        const millis t = poco_attached_server::now();
        core.http_closed(id, t);
        pump(t);
        to_flush.swap(dirty);
        wake_timer();
        break;
      }
      exchanges.erase(id);
    }
    for (const auto& link : to_flush) link->flush();
    return ex;
  }

  // ---- WebSocket

  void serve_websocket(connection_id id, const http_request& r, HTTPServerRequest& request,
                       HTTPServerResponse& response) {
    if (const auto refusal = detail::check_websocket_upgrade(r, false)) {
      if (refusal->name_our_version) response.set("Sec-WebSocket-Version", "13");
      return write_plain(response, 400, std::string(refusal->reason), false);
    }

    auto link = std::make_shared<websocket_link>(id);
    exchange ex;
    bool refused = false;
    locked([&](millis t) {
      if (stopped) {
        refused = true;
        return;
      }
      exchanges[id] = &ex;
      links[id] = link;
      core.handle_websocket(id, r, t);
    });
    if (refused) return write_plain(response, 503, "Server shutting down", false);
    wait_for_answer(id, ex, request);
    if (!ex.accept) {
      unlink(*link);
      if (ex.response) {
        try {
          write_response(response, *ex.response, false);
        } catch (const Poco::Exception&) {
        }
      } else if (stopped_now()) {
        write_plain(response, 503, "Server shutting down", false);
      }
      return;
    }

    // Poco's WebSocket writes the 101 with Upgrade, Connection and
    // Sec-WebSocket-Accept (computed from the key) set over what the response
    // holds; the core's own headers (Set-Cookie, ...) go in before it.
    for (const auto& h : *ex.accept) response.add(h.name, h.value);
    try {
      link->socket.emplace(request, response);
      WebSocket& socket = *link->socket;
      // A client answers pings every ping_interval, so silence past this is
      // a dead peer the core has timed out already; the bound frees the thread.
      socket.setReceiveTimeout(
          timespan_of(options.core.ping_interval + options.core.ping_timeout + options.core.upgrade_timeout));
      socket.setSendTimeout(timespan_of(options.send_timeout));
      socket.setMaxPayloadSize(static_cast<int>(
          std::min<std::size_t>(options.core.max_http_buffer_size, std::numeric_limits<int>::max() - 1)));
    } catch (const Poco::Exception&) {
      locked([&](millis t) {
        if (!link->closed_by_core) core.websocket_closed(id, connection_end::failed, t);
      });
      unlink(*link);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(link->mutex);
      link->ready = true;
    }
    link->flush();  // what the core queued since the accept (the open packet, "3probe")
    receive_loop(*link);
  }

  // Reads frames until the connection ends; whole messages go to the core.
  void receive_loop(websocket_link& link) {
    WebSocket& socket = *link.socket;
    const std::size_t limit = options.core.max_http_buffer_size;
    Poco::Buffer<char> message(0);
    int message_opcode = 0;  // of the fragmented message being joined, 0 when none
    std::size_t fragments = 0;  // its frames so far
    bool error = false;
    std::optional<std::uint16_t> close_code;  // a close frame to send as we end
    std::string close_reason;
    for (;;) {
      const std::size_t before = message.size();
      int flags = 0;
      int n = 0;
      try {
        n = socket.receiveFrame(message, flags);
      } catch (const Poco::Net::WebSocketException& e) {
        error = true;
        close_code = e.code() == WebSocket::WS_ERR_PAYLOAD_TOO_BIG ? close_too_big : close_protocol_error;
        break;
      } catch (const Poco::Exception&) {
        error = true;  // reset, timeout (a dead peer), or our own shutdown after a failed write
        break;
      }
      if (n == 0 && flags == 0) break;  // end of stream
      const int opcode = flags & WebSocket::FRAME_OP_BITMASK;
      const bool fin = (flags & WebSocket::FRAME_FLAG_FIN) != 0;
      if (flags & (WebSocket::FRAME_FLAG_RSV1 | WebSocket::FRAME_FLAG_RSV2 | WebSocket::FRAME_FLAG_RSV3)) {
        error = true;  // no extension was negotiated (RFC 6455 section 5.2)
        close_code = close_protocol_error;
        break;
      }
      if (opcode & 0x8) {  // a control frame, possibly between the fragments of a message
        const std::string payload(message.begin() + before, message.size() - before);
        message.resize(before);
        if (!fin || payload.size() > 125) {  // RFC 6455 section 5.5
          error = true;
          close_code = close_protocol_error;
          break;
        }
        if (opcode == WebSocket::FRAME_OP_PING) {
          outgoing pong;
          pong.what = outgoing::kind::pong;
          pong.data = payload;
          link.push(std::move(pong));
          link.flush();
        } else if (opcode == WebSocket::FRAME_OP_CLOSE) {
          // Echo the peer's code (section 5.5.1); 1000 when it gave none.
          std::uint16_t code = close_normal;
          if (payload.size() >= 2) {
            code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                              static_cast<unsigned char>(payload[1]));
          }
          close_code = code;
          break;
        } else if (opcode != WebSocket::FRAME_OP_PONG) {
          error = true;  // reserved control opcode
          close_code = close_protocol_error;
          break;
        }
        continue;
      }
      if (opcode == WebSocket::FRAME_OP_CONT ? message_opcode == 0
                                             : (message_opcode != 0 || (opcode != WebSocket::FRAME_OP_TEXT &&
                                                                        opcode != WebSocket::FRAME_OP_BINARY))) {
        error = true;  // a continuation of nothing, a new message inside one, or a reserved opcode
        close_code = close_protocol_error;
        break;
      }
      if (opcode != WebSocket::FRAME_OP_CONT) message_opcode = opcode;
      if (message.size() > limit) {  // fragments past max_http_buffer_size
        error = true;
        close_code = close_too_big;
        break;
      }
      // RFC 6455 section 5.4 puts no bound on a message's fragments, and each
      // costs a frame read: their number is bounded like the size.
      if (++fragments > std::max<std::size_t>(options.max_fragments_per_message, 1)) {
        error = true;
        close_code = close_too_big;
        close_reason = "message in more than " + std::to_string(fragments - 1) + " fragments";
        break;
      }
      if (!fin) continue;
      const std::string_view data(message.begin(), message.size());
      const bool text = message_opcode == WebSocket::FRAME_OP_TEXT;
      if (text && utf8_valid_prefix(data) != data.size()) {  // RFC 6455 section 8.1
        error = true;
        close_code = close_invalid_payload;
        break;
      }
      locked([&](millis t) {
        if (!link.closed_by_core) core.websocket_message(link.id, text ? frame_kind::text : frame_kind::binary, data, t);
      });
      message.resize(0);
      message_opcode = 0;
      fragments = 0;
    }

    if (close_code) {
      outgoing close;
      close.what = outgoing::kind::close;
      close.code = *close_code;
      close.data = std::move(close_reason);
      link.push(std::move(close));
    }
    locked([&](millis t) {
      if (!link.closed_by_core) {
        core.websocket_closed(link.id, error ? connection_end::failed : connection_end::closed, t,
                              error && close_code ? "closed with " + std::to_string(*close_code) : std::string());
      }
    });
    link.flush();
    {
      std::unique_lock<std::mutex> lock(link.mutex);
      link.idle.wait(lock, [&] { return !link.writing; });
      link.done = true;
    }
    unlink(link);
    if (close_code) linger_on_frames(socket);  // after our close frame, the peer may still be sending
    try {
      socket.close();
    } catch (const Poco::Exception&) {
    }
  }

  // ---- lingering close (RFC 9112 section 9.6; poco_attached_server_options::linger_timeout)
  //
  // Closing a socket over input still coming makes the kernel answer with a
  // reset, which destroys the answer in flight (a 413, a close frame). So
  // once the answer that ends a connection is written, its write side is
  // shut and what the peer still sends is read and dropped until it ends,
  // linger_timeout passes or linger_bytes came. This holds the request's
  // own thread, nothing else (no lock, no session). Under TLS (a
  // close_notify and records to read) the socket just closes.

  bool lingers(const Poco::Net::StreamSocket& socket) const {
    return !socket.secure() && options.linger_timeout > millis(0) && options.linger_bytes > 0;
  }

  // After an HTTP answer that ends the connection (Poco closes the socket
  // when the handler returns).
  void linger_after(HTTPServerRequest& request, HTTPServerResponse& response) {
    auto* request_impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (!request_impl || !response.sent() || response.getKeepAlive()) return;
    Poco::Net::StreamSocket& socket = request_impl->socket();
    if (!lingers(socket)) return;
    try {
      socket.shutdownSend();
      const millis until = poco_attached_server::now() + options.linger_timeout;
      std::size_t left = options.linger_bytes;
      char buffer[16 * 1024];
      for (millis t = poco_attached_server::now(); t < until; t = poco_attached_server::now()) {
        if (!socket.poll(timespan_of(until - t), Poco::Net::Socket::SELECT_READ)) break;
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0 || static_cast<std::size_t>(n) > left) break;  // the peer's end, or past the bound
        left -= static_cast<std::size_t>(n);
      }
    } catch (const Poco::Exception&) {
      // reset or gone: nothing left to protect
    }
  }

  // After a WebSocket close frame (its FIN went with it): a WebSocket reads
  // frames, not bytes, so frames are read and dropped, their payloads
  // counted against linger_bytes.
  void linger_on_frames(WebSocket& socket) {
    if (!lingers(socket)) return;
    try {
      const millis until = poco_attached_server::now() + options.linger_timeout;
      std::size_t left = options.linger_bytes;
      Poco::Buffer<char> frame(0);
      for (millis t = poco_attached_server::now(); t < until; t = poco_attached_server::now()) {
        if (!socket.poll(timespan_of(until - t), Poco::Net::Socket::SELECT_READ)) break;
        socket.setReceiveTimeout(timespan_of(until - t));  // a frame that stops half-way
        int flags = 0;
        frame.resize(0);
        const int n = socket.receiveFrame(frame, flags);
        if ((n == 0 && flags == 0) || n < 0 || static_cast<std::size_t>(n) > left) break;
        left -= static_cast<std::size_t>(n);
      }
    } catch (const Poco::Exception&) {
    }
  }

  void unlink(websocket_link& link) {
    std::lock_guard<std::mutex> lock(mutex);
    links.erase(link.id);
    links_ended.notify_all();
  }

  // ---- shutdown

  void shutdown() {
    bool first = false;
    locked([&](millis t) {
      if (stopped) return;
      stopped = first = true;
      core.shutdown(t);
      for (const auto& entry : exchanges) entry.second->answered.notify_all();
    });
    // From inside the event handler the lock is held: do not wait for the
    // WebSockets (their threads need the lock to end).
    if (!first || in_handler == this) return;
    std::unique_lock<std::mutex> lock(mutex);
    if (links_ended.wait_for(lock, options.close_grace, [&] { return links.empty(); })) return;
    // Peers that did not answer the close frame: shut their sockets under
    // their receive loops, which then end.
    for (const auto& entry : links) {
      websocket_link& link = *entry.second;
      std::lock_guard<std::mutex> link_lock(link.mutex);
      if (!link.ready) continue;
      try {
        link.socket->StreamSocket::shutdown();
      } catch (const Poco::Exception&) {
      }
    }
  }
};

thread_local poco_attached_server::impl* poco_attached_server::impl::in_handler = nullptr;

namespace {

class attached_request_handler : public Poco::Net::HTTPRequestHandler {
public:
  explicit attached_request_handler(std::shared_ptr<poco_attached_server::impl> server) : server_(std::move(server)) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    server_->serve(request, response);
    server_->linger_after(request, response);
  }

private:
  std::shared_ptr<poco_attached_server::impl> server_;
};

class not_found_handler : public Poco::Net::HTTPRequestHandler {
public:
  void handleRequest(HTTPServerRequest&, HTTPServerResponse& response) override {
    write_plain(response, 404, "Not Found");
  }
};

bool on_core_path(const std::string& path, const HTTPServerRequest& request) {
  const std::string& uri = request.getURI();
  const std::string_view request_path = std::string_view(uri).substr(0, uri.find('?'));
  const std::string_view bare_path = std::string_view(path).substr(0, path.size() - (path.size() > 1 && path.back() == '/'));
  return request_path == path || request_path == bare_path;
}

}  // namespace

poco_attached_server::poco_attached_server(poco_attached_server_options options, event_handler handler, timer_hooks hooks)
    : impl_(std::make_shared<impl>(std::move(options), std::move(handler), std::move(hooks))) {
  impl_->timer = std::thread([self = impl_.get()] { self->run_timer(); });
}

poco_attached_server::poco_attached_server(server_options options, event_handler handler)
    : poco_attached_server(poco_attached_server_options{std::move(options)}, std::move(handler)) {}

poco_attached_server::~poco_attached_server() {
  impl_->shutdown();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->timer_stop = true;
    impl_->timer_wake.notify_all();
  }
  impl_->timer.join();
}

millis poco_attached_server::now() noexcept { return detail::steady_now(); }

bool poco_attached_server::handles(const HTTPServerRequest& request) const {
  return on_core_path(impl_->options.core.path, request);
}

Poco::Net::HTTPRequestHandler* poco_attached_server::create_handler() { return new attached_request_handler(impl_); }

bool poco_attached_server::send(session_ref session, std::string_view data, frame_kind kind, send_options how) {
  bool sent = false;
  impl_->locked([&](millis t) {
    if (!impl_->stopped) sent = impl_->core.send(session, data, kind, t, how);
  });
  return sent;
}

void poco_attached_server::close(session_ref session, close_mode mode) {
  impl_->locked([&](millis t) { impl_->core.close(session, t, mode); });
}

void poco_attached_server::with_server(const std::function<void(server&, millis)>& f) {
  impl_->locked([&](millis t) { f(impl_->core, t); });
}

void poco_attached_server::shutdown() { impl_->shutdown(); }

const poco_attached_server_options& poco_attached_server::options() const noexcept { return impl_->options; }

poco_request_handler_factory::poco_request_handler_factory(poco_attached_server& server,
                                                           Poco::Net::HTTPRequestHandlerFactory::Ptr fallback)
    : server_(server.impl_), fallback_(std::move(fallback)) {}

Poco::Net::HTTPRequestHandler* poco_request_handler_factory::createRequestHandler(const HTTPServerRequest& request) {
  if (on_core_path(server_->options.core.path, request)) return new attached_request_handler(server_);
  if (fallback_) return fallback_->createRequestHandler(request);
  return new not_found_handler;
}

}  // namespace eio
