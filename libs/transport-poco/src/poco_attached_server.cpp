// eio::poco_attached_server: the core behind one mutex, fed by the threads of a
// Poco::Net::HTTPServer. Each request thread hands its request to the core,
// then waits on its own condition variable until the core's answer for its
// connection_id arrives (at once, or later for a held poll). A WebSocket's
// thread writes the 101 itself, takes the raw socket from Poco and runs a
// blocking receive loop over eio::websocket::frame_reader, the same RFC 6455
// reader as poco_server's (and the one the fuzzers cover); its outgoing
// frames go through an outbox written by one thread at a time (whoever
// drained the core's actions), framed by the same codec.
//
// Locks, always taken in this order: impl::mutex (the core, the exchange and
// link tables), then websocket_link::mutex (one outbox). No socket I/O
// happens under impl::mutex, except a zero-timeout poll of a held poll's socket.
#include <eio/wire/http_text.hpp>
#include <eio/wire/clock.hpp>

#include <eio/poco_attached_server.hpp>
#include <eio/websocket_codec.hpp>
#include <eio/wire/drain.hpp>

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/StreamSocket.h>

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
  std::uint16_t code = websocket::close_normal;
};

// Writes all of `bytes` (a blocking socket with a send timeout).
void send_all(Poco::Net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = socket.sendBytes(bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20)));
    if (n <= 0) throw Poco::Net::NetException("short WebSocket write");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_frame(Poco::Net::StreamSocket& socket, const outgoing& o, std::string& scratch) {
  scratch.clear();
  switch (o.what) {
    case outgoing::kind::text: websocket::append_frame(websocket::opcode::text, o.data, scratch); break;
    case outgoing::kind::binary: websocket::append_frame(websocket::opcode::binary, o.data, scratch); break;
    case outgoing::kind::pong: websocket::append_frame(websocket::opcode::pong, o.data, scratch); break;
    case outgoing::kind::close:
      websocket::append_close_frame(o.code, o.data, scratch);  // the close frame (RFC 6455 section 5.5.1) ...
      send_all(socket, scratch);
      socket.shutdownSend();  // ... then FIN: a well-behaved peer answers and closes
      return;
  }
  send_all(socket, scratch);
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
  std::optional<Poco::Net::StreamSocket> socket;  // set once, before `ready`; then used without the lock
  std::string scratch;  // the frame being written, used by the writer only
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
        write_frame(*socket, o, scratch);
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
          socket->shutdown();
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
    wire::drain_core(core, [this](action& a) { apply(a); }, [&](event& e) {
      if (!handler) return;
      in_handler = this;
      try {
        handler(core, e, t);
      } catch (...) {
        // The handler must not throw; an exception here would leave the
        // core's queues half drained under the lock.
      }
      in_handler = nullptr;
    });
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
            wire::host_field_problem(host_fields, request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0)) {
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
    if (const auto refusal = wire::check_websocket_upgrade(r, false)) {
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

    // The 101 (RFC 6455 section 4.2.2), with the core's own headers
    // (Set-Cookie, ...); then the raw socket is ours, with whatever Poco read
    // past the request's head (frames the client sent before our answer).
    std::string early;
    auto* request_impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    try {
      if (!request_impl) throw Poco::Net::NetException("not a server request");
      response.setStatusAndReason(HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
      response.set("Upgrade", "websocket");
      response.set("Connection", "Upgrade");
      response.set("Sec-WebSocket-Accept", wire::websocket_accept_value(*r.header_value("sec-websocket-key")));
      for (const auto& h : *ex.accept) response.add(h.name, h.value);
      response.send().flush();
      Poco::Net::StreamSocket socket = request_impl->detachSocket();
      Poco::Buffer<char> buffered(0);
      request_impl->session().drainBuffer(buffered);
      early.assign(buffered.begin(), buffered.size());
      // A client answers pings every ping_interval, so silence past this is
      // a dead peer the core has timed out already; the bound frees the thread.
      socket.setReceiveTimeout(
          timespan_of(options.core.ping_interval + options.core.ping_timeout + options.core.upgrade_timeout));
      socket.setSendTimeout(timespan_of(options.send_timeout));
      link->socket.emplace(socket);
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
    receive_loop(*link, std::move(early));
  }

  // Reads the socket's bytes through eio::websocket::frame_reader until the
  // connection ends; whole messages go to the core (read in place: the
  // events viewing them are taken before `in` changes, under the lock).
  void receive_loop(websocket_link& link, std::string in) {
    Poco::Net::StreamSocket& socket = *link.socket;
    websocket::frame_reader reader(options.core.max_http_buffer_size, /*require_masked=*/true, /*allow_compressed=*/false,
                                   options.max_fragments_per_message);
    bool error = false;
    std::optional<std::uint16_t> close_code;  // a close frame to send as we end
    std::string close_reason;
    char buffer[16 * 1024];
    for (bool ended = false; !ended;) {
      std::size_t offset = 0;
      for (;;) {
        websocket::frame_event frame;
        offset += reader.read_in_place(in.data() + offset, in.size() - offset, frame);
        using kind = websocket::frame_event::kind;
        if (frame.what == kind::need_more) break;
        if (frame.what == kind::message) {
          locked([&](millis t) {
            if (link.closed_by_core) return;
            if (frame.in_input) {
              core.websocket_message(link.id, frame.message_kind, frame.data, t);
            } else {
              core.websocket_message_owned(link.id, frame.message_kind, reader.take_message(), t);
            }
          });
          continue;
        }
        if (frame.what == kind::ping) {
          outgoing pong;
          pong.what = outgoing::kind::pong;
          pong.data = std::string(frame.data);
          link.push(std::move(pong));
          link.flush();
          continue;
        }
        if (frame.what == kind::pong) continue;
        if (frame.what == kind::close) {
          // Echo the peer's code (section 5.5.1); 1000 when it gave none.
          close_code = frame.close_code == 1005 ? websocket::close_normal : frame.close_code;
        } else {  // the peer broke the protocol
          error = true;
          close_code = frame.close_code;
          close_reason = frame.reason;
        }
        ended = true;
        break;
      }
      if (ended) break;
      in.erase(0, offset);
      int n = 0;
      try {
        n = socket.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::Exception&) {
        error = true;  // reset, timeout (a dead peer), or our own shutdown after a failed write
        break;
      }
      if (n <= 0) break;  // end of stream
      in.append(buffer, static_cast<std::size_t>(n));
    }

    if (close_code) {
      outgoing close;
      close.what = outgoing::kind::close;
      close.code = *close_code;
      close.data = close_reason;
      link.push(std::move(close));
    }
    locked([&](millis t) {
      if (!link.closed_by_core) {
        core.websocket_closed(link.id, error ? connection_end::failed : connection_end::closed, t,
                              error && close_code ? close_reason + " (" + std::to_string(*close_code) + ")" : std::string());
      }
    });
    link.flush();
    {
      std::unique_lock<std::mutex> lock(link.mutex);
      link.idle.wait(lock, [&] { return !link.writing; });
      link.done = true;
    }
    unlink(link);
    if (close_code) linger(socket, /*already_shut=*/true);  // after our close frame, the peer may still be sending
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

  void linger(Poco::Net::StreamSocket& socket, bool already_shut) {
    if (!lingers(socket)) return;
    try {
      if (!already_shut) socket.shutdownSend();
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

  // After an HTTP answer that ends the connection (Poco closes the socket
  // when the handler returns).
  void linger_after(HTTPServerRequest& request, HTTPServerResponse& response) {
    auto* request_impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (!request_impl || !response.sent() || response.getKeepAlive()) return;
    if (response.getStatus() == HTTPResponse::HTTP_SWITCHING_PROTOCOLS) return;  // the WebSocket's own, done
    linger(request_impl->socket(), false);
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
        link.socket->shutdown();
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
    // Request and WebSocket threads may still hold impl_ for a while: from
    // now on they reach nothing of the application's, which may be gone.
    impl_->handler = nullptr;
    impl_->hooks = timer_hooks{};
  }
  impl_->timer.join();
}

millis poco_attached_server::now() noexcept { return wire::steady_now(); }

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
