// The event loop of eio::poco_server: non-blocking sockets in a PollSet,
// HTTP/1.1 requests parsed with Poco's message classes once their head is
// buffered, WebSocket frames through eio::websocket's codec, and the
// eio::server core deciding everything Engine.IO.
#include <eio/base64.hpp>
#include <eio/poco_server.hpp>
#include <eio/websocket_codec.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/SHA1Engine.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <sstream>
#include <unordered_map>

namespace eio {
namespace {

millis steady_now() {
  return std::chrono::duration_cast<millis>(std::chrono::steady_clock::now().time_since_epoch());
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Whether comma-separated header `value` lists `token` (RFC 9110 section 5.6.1).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 6455 section 4.2.2: base64(SHA-1(key + GUID)).
std::string websocket_accept_value(const std::string& key) {
  Poco::SHA1Engine sha1;
  sha1.update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  std::string out;
  base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()), out);
  return out;
}

// Decodes a chunked body (RFC 9112 section 7.1) from `in`, appending data to
// `body`. Returns false while more bytes are needed; `error` on bad framing.
struct chunked_decoder {
  enum class state { size, data, data_crlf, trailer } at = state::size;
  std::size_t remaining = 0;
  bool error = false;

  bool fail() {
    error = true;
    return false;
  }

  bool feed(std::string& in, std::string& body, std::size_t limit, bool& too_large) {
    for (;;) {
      if (at == state::size || at == state::trailer) {
        const std::size_t eol = in.find("\r\n");
        if (eol == std::string::npos) {
          if (in.size() > 4096) error = true;  // no chunk line is this long
          return false;
        }
        const std::string line = in.substr(0, eol);
        in.erase(0, eol + 2);
        if (at == state::trailer) {
          if (line.empty()) return true;  // end of trailers
          continue;
        }
        std::size_t size = 0, digits = 0;
        for (const char c : line) {  // hex digits, then optional extensions after ';'
          const auto u = static_cast<unsigned char>(c);
          if (!std::isxdigit(u)) break;
          if (++digits > 15) return fail();
          size = size * 16 + static_cast<std::size_t>(std::isdigit(u) ? u - '0' : std::tolower(u) - 'a' + 10);
        }
        if (digits == 0) return fail();
        if (size == 0) {
          at = state::trailer;
          continue;
        }
        if (body.size() + size > limit) {
          too_large = true;
          return false;
        }
        remaining = size;
        at = state::data;
      }
      if (at == state::data) {
        const std::size_t take = std::min(remaining, in.size());
        body.append(in, 0, take);
        in.erase(0, take);
        remaining -= take;
        if (remaining > 0) return false;
        at = state::data_crlf;
      }
      if (at == state::data_crlf) {
        if (in.size() < 2) return false;
        if (in.compare(0, 2, "\r\n") != 0) return fail();
        in.erase(0, 2);
        at = state::size;
      }
    }
  }
};

}  // namespace

struct poco_server::impl {
  struct connection {
    connection_id id = 0;
    Poco::Net::StreamSocket socket;
    std::string in;
    std::string out;
    bool websocket = false;
    bool close_after_write = false;
    bool want_write = false;
    // The HTTP request being read or answered (one at a time: no pipelining).
    bool head_done = false;
    bool awaiting_answer = false;  // handed to the core, not answered yet
    bool keep_alive = true;
    bool chunked = false;
    std::size_t body_expected = 0;
    chunked_decoder chunks;
    std::string body;
    std::string websocket_key;
    millis request_started{0};
    websocket::frame_reader reader;
  };

  poco_server_options options;
  event_handler handler;
  server engine;
  Poco::Net::ServerSocket listener;
  Poco::Net::PollSet poll;
  std::unordered_map<connection_id, std::unique_ptr<connection>> connections;
  std::unordered_map<Poco::Net::SocketImpl*, connection_id> by_socket;  // keyed by the shared impl
  connection_id next_id = 1;
  std::atomic<bool> stopping{false};
  millis last_sweep{0};

  impl(poco_server_options o, event_handler h)
      : options(std::move(o)), handler(std::move(h)), engine(options.engine) {
    listener.bind(Poco::Net::SocketAddress(options.host, options.port), true);
    listener.listen(1024);
    listener.setBlocking(false);
    poll.add(listener, Poco::Net::PollSet::POLL_READ);
  }

  void run() {
    while (!stopping.load(std::memory_order_relaxed)) {
      millis now = steady_now();
      long wait_ms = 100;  // also how soon stop() is noticed
      if (const auto due = engine.next_deadline()) wait_ms = std::clamp<long>(static_cast<long>((*due - now).count()), 0, wait_ms);
      const Poco::Net::PollSet::SocketModeMap ready = poll.poll(Poco::Timespan(wait_ms * 1000));
      now = steady_now();
      for (const auto& [socket, mode] : ready) {
        if (socket == listener) {
          accept_all(now);
          continue;
        }
        const auto found = by_socket.find(socket.impl());
        if (found == by_socket.end()) continue;
        const connection_id id = found->second;
        if (mode & Poco::Net::PollSet::POLL_WRITE) write_some(id);
        if (mode & (Poco::Net::PollSet::POLL_READ | Poco::Net::PollSet::POLL_ERROR)) read_some(id, now);
        pump(now);
      }
      if (const auto due = engine.next_deadline(); due && *due <= now) engine.on_timeout(now);
      if (now - last_sweep >= millis(1000)) sweep_slow_requests(now);
      pump(now);
    }
    const millis now = steady_now();
    engine.shutdown(now);
    pump(now);
    // Flush what the sockets take within a short bound, then close them all.
    const millis give_up = now + millis(2000);
    while (steady_now() < give_up && std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c.second->out.empty(); })) {
      poll.poll(Poco::Timespan(20 * 1000));
      std::vector<connection_id> ids;
      for (const auto& c : connections) ids.push_back(c.first);
      for (const connection_id id : ids) write_some(id);
    }
    while (!connections.empty()) drop(connections.begin()->first, false);
  }

  void accept_all(millis now) {
    for (;;) {
      Poco::Net::StreamSocket socket;
      try {
        socket = listener.acceptConnection();
      } catch (const Poco::Exception&) {
        return;  // nothing more to accept now (EAGAIN), or a transient error
      }
      if (connections.size() >= options.max_connections) {
        socket.close();  // refused: the client sees the connection close at once
        continue;
      }
      socket.setBlocking(false);
      socket.setNoDelay(true);
      auto c = std::make_unique<connection>();
      c->id = next_id++;
      c->socket = socket;
      c->request_started = now;
      c->reader = websocket::frame_reader(options.engine.max_http_buffer_size);
      by_socket[socket.impl()] = c->id;
      poll.add(socket, Poco::Net::PollSet::POLL_READ);
      connections.emplace(c->id, std::move(c));
    }
  }

  connection* find(connection_id id) {
    const auto found = connections.find(id);
    return found == connections.end() ? nullptr : found->second.get();
  }

  // Closes and forgets a connection; tells the core what it loses.
  void drop(connection_id id, bool tell_core) {
    connection* c = find(id);
    if (!c) return;
    const bool was_websocket = c->websocket;
    const bool was_waiting = c->awaiting_answer || (c->head_done && !c->websocket);
    try {
      poll.remove(c->socket);
    } catch (const Poco::Exception&) {
    }
    by_socket.erase(c->socket.impl());
    try {
      c->socket.close();
    } catch (const Poco::Exception&) {
    }
    connections.erase(id);
    if (!tell_core) return;
    const millis now = steady_now();
    if (was_websocket) {
      engine.websocket_closed(id, false, now);
    } else if (was_waiting) {
      engine.http_closed(id, now);
    }
  }

  void read_some(connection_id id, millis now) {
    connection* c = find(id);
    if (!c) return;
    char buffer[64 * 1024];
    for (;;) {
      int n = 0;
      try {
        n = c->socket.receiveBytes(buffer, sizeof buffer);
      } catch (const Poco::TimeoutException&) {
        break;
      } catch (const Poco::Exception&) {
        return drop(id, true);
      }
      if (n < 0) break;                  // would block
      if (n == 0) return drop(id, true);  // the peer closed
      c->in.append(buffer, static_cast<std::size_t>(n));
      // Bytes pile up while a request waits for its answer (a held poll):
      // a client may send the next request, not an unbounded stream.
      if (!c->websocket && c->in.size() > options.max_header_bytes + options.engine.max_http_buffer_size) {
        return drop(id, true);
      }
      if (n < static_cast<int>(sizeof buffer)) break;
    }
    process_input(id, now);
  }

  void process_input(connection_id id, millis now) {
    connection* c = find(id);
    while (c && !c->close_after_write) {
      if (c->websocket) {
        read_frames(*c, now);
        return;
      }
      if (c->awaiting_answer) return;  // one request at a time
      if (!c->head_done) {
        const std::size_t end = c->in.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (c->in.size() > options.max_header_bytes) return reply_and_close(*c, 431, "Request Header Fields Too Large");
          return;
        }
        if (end + 4 > options.max_header_bytes) return reply_and_close(*c, 431, "Request Header Fields Too Large");
        if (!start_request(*c, end, now)) return;
        c = find(id);
        continue;
      }
      if (!read_body(*c, now)) return;
      c = find(id);
    }
  }

  // Parses the head; returns false when the connection got an answer instead.
  bool start_request(connection& c, std::size_t head_end, millis now) {
    Poco::Net::HTTPRequest parsed;
    try {
      std::istringstream head(c.in.substr(0, head_end + 4));
      parsed.read(head);
    } catch (const Poco::Exception&) {
      reply_and_close(c, 400, "Bad Request");
      return false;
    }
    c.in.erase(0, head_end + 4);
    c.head_done = true;
    c.request_started = now;
    c.keep_alive = parsed.getKeepAlive();
    c.body.clear();
    c.chunks = {};
    c.chunked = parsed.getChunkedTransferEncoding();
    c.body_expected = parsed.hasContentLength() ? static_cast<std::size_t>(std::max<Poco::Int64>(0, parsed.getContentLength64())) : 0;

    http_request request;
    request.method = parsed.getMethod();
    const std::string& uri = parsed.getURI();
    const std::size_t question = uri.find('?');
    request.path = uri.substr(0, question);
    if (question != std::string::npos) request.query = uri.substr(question + 1);
    for (const auto& [name, value] : parsed) request.headers.push_back({name, value});
    try {
      request.remote_address = c.socket.peerAddress().toString();
    } catch (const Poco::Exception&) {
    }

    const std::string& path = options.engine.path;
    const std::string_view bare_path = std::string_view(path).substr(0, path.size() - (path.size() > 1 && path.back() == '/'));
    if (request.path != path && request.path != bare_path) {
      respond_plain(c, 404, "Not Found");
      return true;
    }
    const auto upgrade = find_header(request.headers, "upgrade");
    if (upgrade && iequals(*upgrade, "websocket")) {
      // RFC 6455 section 4.2.1: our own checks; the core checks Engine.IO's.
      const auto version = find_header(request.headers, "sec-websocket-version");
      const auto key = find_header(request.headers, "sec-websocket-key");
      const auto connection_header = find_header(request.headers, "connection");
      std::string decoded;
      std::size_t bad = 0;
      if (request.method != "GET" || !version || *version != "13" || !key || !base64_decode(*key, decoded, bad) ||
          decoded.size() != 16 || !connection_header || !has_token(*connection_header, "upgrade")) {
        reply_and_close(c, 400, "Bad WebSocket handshake");
        return false;
      }
      c.websocket_key = std::string(*key);
      c.awaiting_answer = true;
      engine.handle_websocket(c.id, request, now);
      return true;
    }
    if (request.method != "POST") {
      c.awaiting_answer = true;
      engine.handle_request(c.id, std::move(request), now);
      return true;
    }
    c.awaiting_answer = false;
    if (!engine.begin_post(c.id, request, now)) {
      c.awaiting_answer = true;  // answered already; the body is skipped by closing after the answer
      c.keep_alive = false;
      return true;
    }
    if (!c.chunked && c.body_expected > options.engine.max_http_buffer_size) {
      c.awaiting_answer = true;
      c.keep_alive = false;
      engine.body_too_large(c.id, now);
      return true;
    }
    return true;
  }

  // Reads a POST body; returns false while more bytes are needed.
  bool read_body(connection& c, millis now) {
    const std::size_t limit = options.engine.max_http_buffer_size;
    if (c.chunked) {
      bool too_large = false;
      const bool done = c.chunks.feed(c.in, c.body, limit, too_large);
      if (too_large) {
        c.awaiting_answer = true;
        c.keep_alive = false;
        engine.body_too_large(c.id, now);
        return false;
      }
      if (c.chunks.error) {
        reply_and_close(c, 400, "Bad chunked body");
        return false;
      }
      if (!done) return false;
    } else {
      const std::size_t take = std::min(c.body_expected - c.body.size(), c.in.size());
      c.body.append(c.in, 0, take);
      c.in.erase(0, take);
      if (c.body.size() < c.body_expected) return false;
    }
    c.awaiting_answer = true;
    engine.finish_post(c.id, std::move(c.body), now);
    c.body.clear();
    return false;  // wait for the answer before reading the next request
  }

  void read_frames(connection& c, millis now) {
    std::size_t offset = 0;
    const connection_id id = c.id;
    for (;;) {
      websocket::frame_event frame;
      const std::size_t used = c.reader.read(std::string_view(c.in).substr(offset), frame);
      offset += used;
      using kind = websocket::frame_event::kind;
      if (frame.what == kind::need_more) break;
      if (frame.what == kind::message) {
        engine.websocket_message(id, frame.message_kind, frame.data, now);
        continue;
      }
      if (frame.what == kind::ping) {
        websocket::append_frame(websocket::opcode::pong, frame.data, c.out);
        continue;
      }
      if (frame.what == kind::pong) continue;
      // A close or a protocol error ends the connection: answer with a close
      // frame (RFC 6455 section 5.5.1), then tell the core.
      const bool error = frame.what == kind::error;
      websocket::append_close_frame(error ? frame.close_code : websocket::close_normal, error ? frame.reason : "", c.out);
      c.close_after_write = true;
      c.in.clear();
      c.websocket = false;
      engine.websocket_closed(id, error, now);
      write_some(id);
      return;
    }
    c.in.erase(0, offset);
  }

  void respond_plain(connection& c, int status, std::string_view text) {
    write_response(c, status, {{"Content-Type", "text/plain; charset=UTF-8"}}, std::string(text));
    finish_exchange(c);
  }

  void reply_and_close(connection& c, int status, std::string_view text) {
    c.keep_alive = false;
    respond_plain(c, status, text);
  }

  void write_response(connection& c, int status, const header_list& headers, const std::string& body) {
    std::string& out = c.out;
    out += "HTTP/1.1 " + std::to_string(status) + " ";
    out += Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    out += "\r\n";
    for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!c.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    out += body;
  }

  // The exchange is answered: the next request may come on this connection.
  void finish_exchange(connection& c) {
    c.awaiting_answer = false;
    c.head_done = false;
    if (!c.keep_alive) c.close_after_write = true;
    write_some(c.id);
  }

  void apply(action& a, millis now) {
    if (auto* response = std::get_if<http_response>(&a)) {
      connection* c = find(response->connection);
      if (!c || c->websocket) return;
      if (c->websocket_key.size() && c->awaiting_answer) c->keep_alive = false;  // a refused upgrade ends the connection
      write_response(*c, response->status, response->headers, response->body);
      c->websocket_key.clear();
      finish_exchange(*c);
      if (connection* again = find(response->connection); again && !again->close_after_write) {
        process_input(again->id, now);  // a request that came behind this one
      }
    } else if (auto* accept = std::get_if<websocket_accept>(&a)) {
      connection* c = find(accept->connection);
      if (!c) return;
      std::string& out = c->out;
      out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
      out += "Sec-WebSocket-Accept: " + websocket_accept_value(c->websocket_key) + "\r\n";
      for (const auto& h : accept->headers) out += h.name + ": " + h.value + "\r\n";
      out += "\r\n";
      c->websocket = true;
      c->awaiting_answer = false;
      c->head_done = false;
      c->websocket_key.clear();
      write_some(c->id);
      if (!c->in.empty()) process_input(c->id, now);  // frames that came with the handshake
    } else if (auto* send = std::get_if<websocket_send>(&a)) {
      connection* c = find(send->connection);
      if (!c || !c->websocket) return;
      websocket::append_frame(send->kind == frame_kind::text ? websocket::opcode::text : websocket::opcode::binary,
                              send->data, c->out);
      write_some(c->id);
    } else if (auto* close = std::get_if<websocket_close>(&a)) {
      connection* c = find(close->connection);
      if (!c) return;
      websocket::append_close_frame(close->code, "", c->out);
      c->websocket = false;  // the core has forgotten it already
      c->close_after_write = true;
      write_some(c->id);
    }
  }

  // Runs the core's outputs until both queues are empty: actions to sockets,
  // events to the application (which may queue more of both).
  void pump(millis now) {
    for (;;) {
      bool any = false;
      while (auto a = engine.next_action()) {
        any = true;
        apply(*a, now);
      }
      while (auto e = engine.next_event()) {
        any = true;
        if (handler) handler(engine, *e, now);
      }
      if (!any) return;
    }
  }

  void write_some(connection_id id) {
    connection* c = find(id);
    if (!c) return;
    while (!c->out.empty()) {
      int n = 0;
      try {
        n = c->socket.sendBytes(c->out.data(), static_cast<int>(std::min<std::size_t>(c->out.size(), 1 << 20)));
      } catch (const Poco::TimeoutException&) {
        n = -1;
      } catch (const Poco::Exception&) {
        return drop(id, true);
      }
      if (n < 0) break;  // would block: wait until writable
      c->out.erase(0, static_cast<std::size_t>(n));
    }
    const bool want_write = !c->out.empty();
    if (want_write != c->want_write) {
      c->want_write = want_write;
      poll.update(c->socket, Poco::Net::PollSet::POLL_READ | (want_write ? Poco::Net::PollSet::POLL_WRITE : 0));
    }
    if (!want_write && c->close_after_write) drop(id, true);
  }

  // Slowloris: a request head or body that does not arrive in time gets 408.
  void sweep_slow_requests(millis now) {
    last_sweep = now;
    std::vector<connection_id> slow;
    for (const auto& [id, c] : connections) {
      if (c->websocket || c->awaiting_answer || c->close_after_write) continue;
      const bool reading_head = !c->head_done;
      if (reading_head && c->in.empty()) {
        // An idle keep-alive connection: allow it the body timeout.
        if (now - c->request_started > options.body_timeout) slow.push_back(id);
        continue;
      }
      if (now - c->request_started > (reading_head ? options.header_timeout : options.body_timeout)) slow.push_back(id);
    }
    for (const connection_id id : slow) {
      if (connection* c = find(id)) {
        const bool idle = !c->head_done && c->in.empty();
        if (idle) {
          drop(id, true);
        } else {
          if (c->head_done) engine.http_closed(id, now);
          reply_and_close(*c, 408, "Request Timeout");
        }
      }
    }
  }

};

poco_server::poco_server(poco_server_options options, event_handler handler)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler))) {}

poco_server::~poco_server() = default;

std::uint16_t poco_server::port() const noexcept { return impl_->listener.address().port(); }

void poco_server::run() { impl_->run(); }

void poco_server::stop() noexcept { impl_->stopping.store(true, std::memory_order_relaxed); }

}  // namespace eio
