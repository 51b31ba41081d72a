// eio::wire::connections (see connections.hpp): the per-connection logic of
// an Engine.IO adapter, with the sockets left to connection_io.
#include <eio/wire/compression.hpp>
#include <eio/wire/connections.hpp>
#include <eio/wire/drain.hpp>
#include <eio/wire/http_reader.hpp>
#include <eio/wire/http_text.hpp>
#include <eio/wire/output_buffer.hpp>

#include <eio/utf8.hpp>
#include <eio/websocket_codec.hpp>

#include <algorithm>

namespace eio::wire {

// One connection. HTTP/1.1, one request at a time (no pipelining), until an
// upgrade makes it a WebSocket.
struct connection_state {
  connection_id id = 0;
  std::string remote_address;
  std::string in;
  // WebSocket bytes of `in` already handled but still viewed by the
  // message events they made: erased once pump() has taken the events
  // (server::websocket_message's contract).
  std::size_t in_handled = 0;
  bool handled_listed = false;  // in connections::handled_
  output_buffer out;
  bool websocket = false;
  bool close_after_write = false;
  bool want_write = false;     // as last told to connection_io::want_write
  bool flush_pending = false;  // listed in connections::unflushed_
  // Set by an answer that ends an exchange (an HTTP response, the 101 of a
  // WebSocket handshake and the core's open packet after it): once it is
  // written, the buffers it grew are let go at once, so a connection that
  // then waits (a held GET, a keep-alive connection, a fresh WebSocket)
  // holds none, and the next connection reuses the memory.
  bool release_when_written = false;
  // Read or written since the last sweep; a connection quiet for a whole
  // sweep interval lets its empty buffers go (a WebSocket after traffic).
  bool active_since_sweep = true;
  // The HTTP request being read. Made when a request's first bytes come
  // and let go once it is read, so the connections an idle polling session
  // holds (its long-poll GET, its keep-alive POST connection) and WebSocket
  // connections carry none.
  std::unique_ptr<http_reader> http;
  bool head_done = false;        // its head was read
  bool reading_post = false;     // a POST the core waits to see the body of (begin_post said so)
  bool awaiting_answer = false;  // handed to the core, not answered yet
  bool keep_alive = true;
  std::string websocket_key;
  http_encoding response_encoding = http_encoding::identity;  // for the answer to the GET being served
  std::optional<permessage_deflate_params> offered_deflate;  // negotiated on the upgrade request
  millis request_started{0};
  millis closing_since{0};  // first seen with close_after_write by the sweep
  // Lingering close: input read and dropped, linger_left bytes more at most
  // (linger_bytes while its answer waits, as many again once it is
  // written); once write_shut, closed at linger_deadline.
  bool lingering = false;
  bool write_shut = false;
  std::size_t linger_left = 0;
  millis linger_deadline{0};
  // What only a WebSocket needs, made when the upgrade is accepted.
  struct websocket_side {
    websocket::frame_reader reader;
    std::optional<permessage_deflate> deflate;
    std::string inflated;  // scratch for compressed messages
  };
  std::unique_ptr<websocket_side> ws;  // made when `websocket` first becomes true; kept after it closes
};

void connection_state_deleter::operator()(connection_state* state) const noexcept { delete state; }

void connection_io::hand_over(connection_id id, unsigned, handed_over_connection) { close(id); }

namespace {

constexpr std::string_view loop_tags = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
static_assert(loop_tags.size() == max_loops);

constexpr millis sweep_interval{1000};
// Read bytes handled before more are taken: a fast sender is bounded by what
// one message may be rather than by how fast it sends.
constexpr std::size_t process_at = 256 * 1024;

}  // namespace

void tag_session_ids(server_options& options, unsigned loop, unsigned loop_count) {
  if (loop_count < 2) return;
  options.generate_id = [tag = loop_tags[loop % max_loops], base = options.generate_id] {
    if (base) return tag + base();
    std::string id = random_session_id();
    id.front() = tag;
    return id;
  };
}

unsigned owner_loop(std::string_view sid, unsigned loop_count, unsigned fallback) noexcept {
  if (loop_count < 2 || sid.empty()) return fallback;
  const std::size_t tag = loop_tags.find(sid.front());
  return tag < loop_count ? static_cast<unsigned>(tag) : fallback;
}

connections::connections(server& core, connection_io& io, connection_options options, event_handler handler)
    : core_(core), io_(io), options_(std::move(options)), handler_(std::move(handler)) {
  core_.attach_output(this);
}

connections::~connections() { core_.attach_output(nullptr); }

// ------------------------------------------------------------ coming and going

connection_id connections::insert(handed_over_connection c) {
  c->id = next_id_++;
  c->request_started = now_;
  c->http.reset();
  c->head_done = false;
  c->reading_post = false;
  c->awaiting_answer = false;
  c->want_write = false;
  c->flush_pending = false;
  c->handled_listed = false;
  const connection_id id = c->id;
  table_.emplace(id, std::move(c));
  return id;
}

connection_id connections::open(millis now, std::string remote_address) {
  now_ = now;
  handed_over_connection c(new connection_state);
  c->remote_address = std::move(remote_address);
  return insert(std::move(c));
}

connection_id connections::adopt(millis now, handed_over_connection state) {
  now_ = now;
  return insert(std::move(state));
}

void connections::start(connection_id id, millis now) {
  now_ = now;
  connection* c = find(id);
  if (!c) return;
  update_want_write(*c);
  if (!c->in.empty()) process_input(id);
}

connections::connection* connections::find(connection_id id) noexcept {
  const auto found = table_.find(id);
  return found == table_.end() ? nullptr : found->second.get();
}

// Takes a connection out of the table without closing it.
handed_over_connection connections::detach(connection_id id) {
  const auto found = table_.find(id);
  if (found == table_.end()) return nullptr;
  handed_over_connection c = std::move(found->second);
  table_.erase(found);
  return c;
}

// Closes and forgets a connection; tells the core what it loses.
void connections::drop(connection_id id, bool tell_core) {
  handed_over_connection c = detach(id);
  if (!c) return;
  io_.close(id);
  const bool was_websocket = c->websocket;
  const bool was_waiting = c->awaiting_answer || (c->head_done && !c->websocket);
  if (c->ws) retired_.push_back(std::move(c));  // events may still view its read buffer
  if (!tell_core) return;
  if (was_websocket) {
    core_.websocket_closed(id, connection_end::closed, now_);
  } else if (was_waiting) {
    core_.http_closed(id, now_);
  }
}

void connections::peer_closed(connection_id id, millis now) {
  now_ = now;
  drop(id, true);
}

// ------------------------------------------------------------ input

void connections::received(connection_id id, std::string_view bytes, millis now) {
  now_ = now;
  connection* c = find(id);
  if (!c) return;
  if (options_.lingering_close && input_unwanted(*c)) {
    // Read and dropped (lingering close): linger_left bytes in all at most,
    // then the connection closes anyway.
    if (!c->lingering) start_discarding(*c);
    if (bytes.size() > c->linger_left) return drop(id, true);
    c->linger_left -= bytes.size();
    return;
  }
  c->in.append(bytes);
  c->active_since_sweep = true;
  // Bytes pile up while a request waits for its answer (a held poll): a
  // client may send the next request, not an unbounded stream. What the
  // reader takes goes first: a head refused for its body (413) is answered,
  // and the body behind it dropped, not held.
  const std::size_t http_bound = options_.max_header_bytes + core_.options().max_http_buffer_size;
  if (!c->websocket && c->in.size() > http_bound) {
    process_input(id);
    if (!(c = find(id))) return;
    if (options_.lingering_close && input_unwanted(*c)) return start_discarding(*c);
    if (!c->websocket && c->in.size() > http_bound) return drop(id, true);
  }
  if (c->in.size() >= process_at) {
    process_input(id);
    pump(now);  // its events may view `in`, which is about to grow
    if (!(c = find(id))) return;
    if (options_.lingering_close && input_unwanted(*c)) start_discarding(*c);
  }
}

void connections::input_done(connection_id id, millis now) {
  now_ = now;
  process_input(id);
}

// Whether whatever the connection reads from now on can only be dropped: it
// closes after the answer it has (or waits for), and no body of that
// request is being read. Reading it into `in` would only hold memory, and
// not reading it would leave the kernel to reset the connection on close.
bool connections::input_unwanted(const connection& c) const noexcept {
  return c.lingering || c.close_after_write ||
         (!c.keep_alive && c.awaiting_answer && !c.reading_post && c.websocket_key.empty());
}

void connections::start_discarding(connection& c) {
  if (c.lingering) return;
  c.lingering = true;
  c.linger_left = options_.linger_bytes;
  release_input(c);
}

// A connection that reads no more lets its read buffer go: at once, or, if
// message events not yet taken view it (a message and a close frame in one
// read, say), once pump() has taken them (erase_handled_input).
void connections::release_input(connection& c) {
  c.http.reset();
  if (c.handled_listed) return;
  c.in.clear();
  c.in.shrink_to_fit();
  c.in_handled = 0;
}

// The connection's last bytes are written: shut its write side (the peer
// reads the end of the answer) and keep dropping its input until the peer
// ends, linger_timeout passes or linger_bytes came (RFC 9112 section 9.6),
// instead of closing over input still coming.
void connections::linger(connection_id id) {
  connection* c = find(id);
  if (!c || c->write_shut) return;
  if (!options_.lingering_close || options_.linger_timeout <= millis(0) || options_.linger_bytes == 0) {
    return drop(id, true);
  }
  if (!io_.shutdown_send(id)) return drop(id, true);
  c->write_shut = true;
  c->linger_deadline = now_ + options_.linger_timeout;
  c->lingering = true;
  c->linger_left = options_.linger_bytes;  // afresh: what came while the answer waited was bounded on its own
  release_input(*c);
  update_want_write(*c);
}

void connections::process_input(connection_id id) {
  connection* c = find(id);
  while (c && !c->close_after_write) {
    if (c->websocket) return read_frames(*c);
    if (c->awaiting_answer) return;  // one request at a time
    if (!c->http) {
      if (c->in.empty()) return;
      c->http = std::make_unique<http_reader>(
          http_reader_limits{options_.max_header_bytes, options_.max_header_count, core_.options().max_http_buffer_size});
    }
    const bool had_head = c->http->has_head();
    const http_read_result read = c->http->feed(c->in);
    switch (read.event) {
      case http_read_event::need_more:
        c->in.clear();  // all consumed
        return;
      case http_read_event::error:
        c->in.erase(0, read.consumed);
        return reject_request(*c, read.error.status, read.error.reason, !had_head && c->http->has_head());
      case http_read_event::head:
        // start_request erases the head, unless it hands the connection over.
        if (!start_request(*c, std::move(c->http->head()), read.consumed)) return;
        break;
      case http_read_event::body_done:
        c->in.erase(0, read.consumed);
        if (c->reading_post) {
          c->reading_post = false;
          c->awaiting_answer = true;
          core_.finish_post(c->id, std::move(c->http->body()), now_);
        }
        c->http.reset();
        break;
    }
    c = find(id);
  }
}

// The reader refused the request. A body over the limit goes through the
// core when the core waits for it (413, and the session closes, as in the
// reference); a Content-Length over the limit, seen at the head, too (the
// core decides what to answer). A body that breaks off after its request was
// answered (read only to be dropped) ends the connection without a word; the
// rest gets its status here.
void connections::reject_request(connection& c, int status, std::string_view reason, bool at_head) {
  c.keep_alive = false;
  if (status == 413 && c.reading_post) {
    c.reading_post = false;
    c.awaiting_answer = true;
    core_.body_too_large(c.id, now_);
    return;
  }
  if (status == 413 && at_head) {
    http_head head = std::move(c.http->head());
    if (route_elsewhere(c, head.request, 0)) return;
    return refuse_large_body(c.id, std::move(head));
  }
  if (!c.head_done && c.http->has_head()) {  // the answered request's dropped body: close, lingering
    c.close_after_write = true;
    return write_some(c.id);
  }
  if (c.head_done) core_.http_closed(c.id, now_);  // a body that broke off: the core forgets the exchange
  c.in.clear();
  respond_plain(c, status, reason);
}

// With several loops, a request naming a session of another loop goes to
// that loop as the bytes it came as: the head (`head_bytes` of it still lead
// c.in, the rest the reader holds) and whatever followed. Returns true when
// the connection left this loop.
bool connections::route_elsewhere(connection& c, const http_request& request, std::size_t head_bytes) {
  if (options_.loop_count < 2) return false;
  const auto sid = request.query_param("sid");
  if (!sid) return false;
  const unsigned owner = owner_loop(*sid, options_.loop_count, options_.loop);
  if (owner == options_.loop) return false;
  std::string bytes(c.http->raw_head());
  bytes.append(c.in, head_bytes, std::string::npos);
  c.in = std::move(bytes);
  const connection_id id = c.id;
  io_.hand_over(id, owner, detach(id));
  return true;
}

void connections::refuse_large_body(connection_id id, http_head head) {
  connection* c = find(id);
  if (!c) return;
  c->in.clear();  // the body is not read
  start_request(*c, std::move(head), 0);
  c = find(id);
  if (!c) return;
  c->keep_alive = false;
  if (c->reading_post) {
    c->reading_post = false;
    c->awaiting_answer = true;
    core_.body_too_large(id, now_);
  }
}

// Handles a parsed head whose `head_bytes` lead c.in (0: already gone);
// returns false when the connection got an answer instead, or went to the
// loop that owns the session it names.
bool connections::start_request(connection& c, http_head head, std::size_t head_bytes) {
  http_request& request = head.request;
  if (head_bytes > 0 && route_elsewhere(c, request, head_bytes)) return false;
  c.in.erase(0, head_bytes);
  if (c.in.empty()) std::string().swap(c.in);  // nothing behind the head yet: a held GET keeps no read buffer
  c.head_done = true;
  c.request_started = now_;
  c.keep_alive = head.keep_alive;
  request.remote_address = c.remote_address;
  if (!head.expects_body) c.http.reset();  // read in full

  const std::string& path = core_.options().path;
  const std::string_view bare_path = std::string_view(path).substr(0, path.size() - (path.size() > 1 && path.back() == '/'));
  if (request.path != path && request.path != bare_path) {
    if (head.expects_body) c.keep_alive = false;  // not worth reading a body for a 404
    respond_plain(c, 404, "Not Found");
    return true;  // the caller looks the connection up again: it may be gone
  }
  const auto upgrade = find_header(request.headers, "upgrade");
  if (upgrade && ascii_iequals(*upgrade, "websocket")) {
    if (const auto refusal = check_websocket_upgrade(request, head.expects_body)) {
      c.keep_alive = false;
      header_list headers{{"Content-Type", "text/plain; charset=UTF-8"}};
      if (refusal->name_our_version) headers.push_back({"Sec-WebSocket-Version", "13"});
      write_response(c, 400, headers, std::string(refusal->reason));
      finish_exchange(c);
      return false;
    }
    c.websocket_key = std::string(*request.header_value("sec-websocket-key"));
    c.offered_deflate.reset();
    if (options_.per_message_deflate) {
      if (const auto extensions = find_header(request.headers, "sec-websocket-extensions")) {
        c.offered_deflate = negotiate_permessage_deflate(*extensions, permessage_deflate_config{});
      }
    }
    c.awaiting_answer = true;
    core_.handle_websocket(c.id, request, now_);
    return true;
  }
  if (request.method != "POST") {
    // A body on anything else is read and dropped after the answer.
    if (head.expects_body) c.http->discard_body();
    c.response_encoding = http_encoding::identity;
    if (options_.http_compression && request.method == "GET") {
      if (const auto accepted = find_header(request.headers, "accept-encoding")) c.response_encoding = choose_encoding(*accepted);
    }
    c.awaiting_answer = true;
    core_.handle_request(c.id, std::move(request), now_);
    return true;
  }
  if (!core_.begin_post(c.id, request, now_)) {
    c.awaiting_answer = true;  // answered already; the body is skipped by closing after the answer
    c.keep_alive = false;
    return true;
  }
  c.reading_post = true;
  if (!head.expects_body) {  // an empty POST body is complete at once
    c.reading_post = false;
    c.awaiting_answer = true;
    core_.finish_post(c.id, std::string(), now_);
  }
  return true;
}

void connections::read_frames(connection& c) {
  std::size_t offset = c.in_handled;
  const connection_id id = c.id;
  bool answered_ping = false;
  const auto mark_handled = [&] {
    c.in_handled = offset;  // erased after pump() has taken the events viewing it
    if (offset > 0 && !c.handled_listed) {
      c.handled_listed = true;
      handled_.push_back(id);
    }
  };
  for (;;) {
    websocket::frame_event frame;
    const std::size_t used = c.ws->reader.read_in_place(c.in.data() + offset, c.in.size() - offset, frame);
    offset += used;
    using kind = websocket::frame_event::kind;
    if (frame.what == kind::need_more) break;
    if (frame.what == kind::message && frame.compressed) {
      const inflate_result inflated = c.ws->deflate ? c.ws->deflate->decompress(frame.data, core_.options().max_http_buffer_size,
                                                                                c.ws->inflated)
                                                    : inflate_result::corrupt;
      if (inflated == inflate_result::ok &&
          (frame.message_kind == frame_kind::binary || utf8_valid_prefix(c.ws->inflated) == c.ws->inflated.size())) {
        core_.websocket_message_owned(id, frame.message_kind, std::move(c.ws->inflated), now_);  // handed over
        c.ws->inflated = std::string();
        continue;
      }
      frame.what = kind::error;  // closed below like any protocol error
      frame.close_code = inflated == inflate_result::too_big ? websocket::close_too_big : websocket::close_invalid_data;
      frame.reason = inflated == inflate_result::too_big ? "message too big"
                     : inflated == inflate_result::corrupt ? "bad compressed data"
                                                           : "invalid UTF-8";
    } else if (frame.what == kind::message) {
      // In place, the message stays in `in` until the events viewing it
      // were taken; one the reader assembled (fragments, or split across
      // reads) is handed over with the reader's buffer.
      if (frame.in_input) {
        core_.websocket_message(id, frame.message_kind, frame.data, now_);
      } else {
        core_.websocket_message_owned(id, frame.message_kind, c.ws->reader.take_message(), now_);
      }
      continue;
    }
    if (frame.what == kind::ping) {
      c.out.append_with([&](std::string& out) { websocket::append_frame(websocket::opcode::pong, frame.data, out); });
      answered_ping = true;
      continue;
    }
    if (frame.what == kind::pong) continue;
    // A close or a protocol error ends the connection: answer with a close
    // frame (RFC 6455 section 5.5.1), then tell the core.
    const bool error = frame.what == kind::error;
    c.out.append_with([&](std::string& out) {
      websocket::append_close_frame(error ? frame.close_code : websocket::close_normal, error ? frame.reason : "", out);
    });
    c.close_after_write = true;
    offset = c.in.size();  // nothing more is read; what came before may still be viewed
    mark_handled();
    c.websocket = false;
    core_.websocket_closed(id, error ? connection_end::failed : connection_end::closed, now_,
                           error ? std::string(frame.reason) + " (" + std::to_string(frame.close_code) + ")" : std::string());
    write_some(id);
    return;
  }
  mark_handled();
  if (answered_ping) write_some(id);  // the pong goes now, not with the next message
}

// ------------------------------------------------------------ output

void connections::respond_plain(connection& c, int status, std::string_view text) {
  write_response(c, status, {{"Content-Type", "text/plain; charset=UTF-8"}}, std::string(text));
  finish_exchange(c);
}

void connections::write_response(connection& c, int status, const header_list& headers, const std::string& body) {
  // Polling data as the reference compresses it: 200 answers to a GET that
  // accepts an encoding, from the threshold up.
  std::string compressed;
  const http_encoding encoding = c.response_encoding;
  c.response_encoding = http_encoding::identity;
  const bool compress = encoding != http_encoding::identity && status == 200 &&
                        body.size() >= options_.compression_threshold && compress_body(encoding, body, compressed);
  const std::string& sent = compress ? compressed : body;
  c.out.append_with([&](std::string& out) {
    // Sized before it is written: the buffer was let go after the last answer (release_buffers).
    std::size_t size = out.size() + 160 + sent.size();  // the status line, Content-Length and the rest
    for (const auto& h : headers) size += h.name.size() + h.value.size() + 4;
    out.reserve(size);
    append_status_line(status, out);
    for (const auto& h : headers) {
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
    if (compress) {
      out += "Content-Encoding: ";
      out += content_encoding_name(encoding);
      out += "\r\nVary: Accept-Encoding\r\n";
    }
    out += "Content-Length: " + std::to_string(sent.size()) + "\r\n";
    if (!c.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    out += sent;
  });
}

// The exchange is answered: the next request may come on this connection.
void connections::finish_exchange(connection& c) {
  c.awaiting_answer = false;
  c.head_done = false;
  c.release_when_written = true;
  if (!c.keep_alive) c.close_after_write = true;
  write_some(c.id);
}

void connections::apply(action& a) {
  if (auto* response = std::get_if<http_response>(&a)) {
    connection* c = find(response->connection);
    if (!c || c->websocket) return;
    if (c->websocket_key.size() && c->awaiting_answer) c->keep_alive = false;  // a refused upgrade ends the connection
    if (c->reading_post) {
      // Answered before its body came (the session closed meanwhile): the
      // body is not read, so the connection cannot carry another request.
      c->reading_post = false;
      c->keep_alive = false;
    }
    write_response(*c, response->status, response->headers, response->body);
    c->websocket_key.clear();
    finish_exchange(*c);
    if (connection* again = find(response->connection); again && !again->close_after_write) {
      process_input(again->id);  // a request that came behind this one
    }
  } else if (auto* accept = std::get_if<websocket_accept>(&a)) {
    connection* c = find(accept->connection);
    if (!c) return;
    c->ws = std::make_unique<connection::websocket_side>(connection::websocket_side{
        websocket::frame_reader(core_.options().max_http_buffer_size, true,
                                /*allow_compressed=*/c->offered_deflate.has_value(), options_.max_fragments_per_message),
        std::nullopt, std::string()});
    if (c->offered_deflate) c->ws->deflate.emplace(*c->offered_deflate);
    c->out.append_with([&](std::string& out) {
      out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
      out += "Sec-WebSocket-Accept: " + websocket_accept_value(c->websocket_key) + "\r\n";
      if (c->offered_deflate) out += "Sec-WebSocket-Extensions: " + c->offered_deflate->header_value() + "\r\n";
      for (const auto& h : accept->headers) out += h.name + ": " + h.value + "\r\n";
      out += "\r\n";
    });
    c->websocket = true;
    c->awaiting_answer = false;
    c->head_done = false;
    std::string().swap(c->websocket_key);
    write_some(c->id);
    if (connection* again = find(accept->connection)) {
      // After the 101: what the core sends with it (the open packet) leaves
      // in this pump's flush, and the buffers go once that is written.
      again->release_when_written = true;
      if (again->in.size() > again->in_handled) process_input(again->id);  // frames that came with the handshake
    }
  } else if (auto* send = std::get_if<websocket_send>(&a)) {
    connection* c = find(send->connection);
    if (!c || !c->websocket) return;
    append_message(*c, send->kind, send->data, {}, send->shared_tail ? &send->shared_tail : nullptr);
  } else if (auto* close = std::get_if<websocket_close>(&a)) {
    connection* c = find(close->connection);
    if (!c) return;
    c->out.append_with([&](std::string& out) { websocket::append_close_frame(close->code, "", out); });
    c->websocket = false;  // the core has forgotten it already
    c->close_after_write = true;
    write_some(c->id);
  }
}

// One WebSocket message, `head` then `body` (or *tail), framed onto the
// connection's output: compressed when permessage-deflate was agreed, else
// with a shared body referenced, not copied (written by a gather write).
void connections::append_message(connection& c, frame_kind kind, std::string_view head, std::string_view body,
                                 const shared_bytes* tail) {
  const auto op = kind == frame_kind::text ? websocket::opcode::text : websocket::opcode::binary;
  if (tail) body = **tail;
  if (c.ws->deflate) {
    message_scratch_.assign(head);
    message_scratch_ += body;
    if (c.ws->deflate->compress(message_scratch_, c.ws->inflated)) {
      c.out.append_with([&](std::string& out) {
        websocket::append_frame_header(op, true, c.ws->inflated.size(), out, /*compressed=*/true);
        out += c.ws->inflated;
      });
      return mark_unflushed(c);
    }
  }
  c.out.append_with([&](std::string& out) {
    websocket::append_frame_header(op, true, head.size() + body.size(), out);
    out += head;
    if (!tail) out += body;
  });
  if (tail) c.out.append_shared(*tail);
  mark_unflushed(c);
}

// Written once the core's outputs are all applied (pump), one write per connection.
void connections::mark_unflushed(connection& c) {
  if (c.flush_pending) return;
  c.flush_pending = true;
  unflushed_.push_back(c.id);
}

void connections::write_message(connection_id id, frame_kind kind, std::string_view prefix, std::string_view body) {
  if (connection* c = find(id); c && c->websocket) append_message(*c, kind, prefix, body, nullptr);
}

void connections::write_shared_message(connection_id id, frame_kind kind, std::string_view prefix,
                                       const shared_bytes& body) {
  if (connection* c = find(id); c && c->websocket) append_message(*c, kind, prefix, {}, &body);
}

std::size_t connections::unsent_bytes(connection_id id) const noexcept {
  const auto found = table_.find(id);
  return found == table_.end() ? 0 : found->second->out.size();
}

void connections::pump(millis now) {
  now_ = now;
  for (;;) {
    drain_core(core_, [this](action& a) { apply(a); }, [this](event& e) {
      if (handler_) handler_(core_, e, now_);
    });
    if (unflushed_.empty()) {
      // Every event that could view read buffers has been taken.
      erase_handled_input();
      retired_.clear();
      return;
    }
    // Write what the outputs appended; a write that fails drops its
    // connection, which may give the core more to say: go round again.
    flushing_.swap(unflushed_);
    for (const connection_id id : flushing_) {
      if (connection* c = find(id)) {
        c->flush_pending = false;
        write_some(id);
      }
    }
    flushing_.clear();
  }
}

void connections::erase_handled_input() {
  for (const connection_id id : handled_) {
    if (connection* c = find(id)) {
      c->handled_listed = false;
      if (c->lingering) {
        release_input(*c);  // it reads no more
      } else {
        c->in.erase(0, c->in_handled);
        c->in_handled = 0;
      }
    }
  }
  handled_.clear();
}

void connections::writable(connection_id id, millis now) {
  now_ = now;
  write_some(id);
  core_.output_progress(id, now);  // the low watermark, if the session waits for it
}

void connections::flush(connection_id id, millis now) {
  now_ = now;
  write_some(id);
}

void connections::write_some(connection_id id) {
  connection* c = find(id);
  if (!c) return;
  while (!c->out.empty()) {
    iovec pieces[64];
    const long n = io_.send(id, pieces, c->out.gather(pieces, 64));
    if (n == connection_io::failed) return drop(id, true);
    if (n < 0) break;  // would block: wait until writable
    c->out.consume(static_cast<std::size_t>(n));
  }
  // A peer that does not read: its bytes are not ours to keep forever.
  if (c->out.size() > options_.max_output_bytes) return drop(id, true);
  if (c->out.empty() && c->close_after_write) return linger(id);
  if (c->out.empty() && c->release_when_written) release_buffers(*c);
  c->active_since_sweep = true;
  update_want_write(*c);
}

void connections::release_buffers(connection& c) {
  c.release_when_written = false;
  c.out.release_memory();  // only when all is written
  if (c.in.empty() && !c.handled_listed) std::string().swap(c.in);
}

void connections::update_want_write(connection& c) {
  const bool want = !c.out.empty();
  if (want == c.want_write) return;
  c.want_write = want;
  io_.want_write(c.id, want);
}

// ------------------------------------------------------------ time

std::optional<millis> connections::next_deadline() const {
  const millis sweep_due = last_sweep_ + sweep_interval;
  const std::optional<millis> core_due = core_.next_deadline();
  return core_due && *core_due < sweep_due ? *core_due : sweep_due;
}

bool connections::on_timeout(millis now) {
  now_ = now;
  if (const auto due = core_.next_deadline(); due && *due <= now) core_.on_timeout(now);
  const bool sweeping = now - last_sweep_ >= sweep_interval;
  if (sweeping) sweep(now);
  pump(now);
  return sweeping;
}

// Slowloris: a request head or body that does not arrive in time gets 408.
// Lingering connections close at their deadline; a connection whose last
// bytes wait for a peer that does not read gets the body timeout.
void connections::sweep(millis now) {
  last_sweep_ = now;
  std::vector<connection_id> slow;
  std::vector<connection_id> stuck;
  for (const auto& [id, c] : table_) {
    if (!c->active_since_sweep) release_buffers(*c);
    c->active_since_sweep = false;
    if (c->write_shut) {  // lingering: its own deadline, nothing else
      if (now >= c->linger_deadline) stuck.push_back(id);
      continue;
    }
    if (c->close_after_write) {
      if (c->closing_since == millis{0}) {
        c->closing_since = now;
      } else if (now - c->closing_since > options_.body_timeout) {
        stuck.push_back(id);
      }
      continue;
    }
    if (c->websocket || c->awaiting_answer) continue;
    const bool reading_head = !c->head_done;
    if (reading_head && c->in.empty() && (!c->http || c->http->buffered_head_bytes() == 0)) {
      // An idle keep-alive connection: allow it the body timeout.
      if (now - c->request_started > options_.body_timeout) slow.push_back(id);
      continue;
    }
    if (now - c->request_started > (reading_head ? options_.header_timeout : options_.body_timeout)) slow.push_back(id);
  }
  for (const connection_id id : stuck) drop(id, true);
  for (const connection_id id : slow) {
    if (connection* c = find(id)) {
      const bool idle = !c->head_done && c->in.empty() && (!c->http || c->http->buffered_head_bytes() == 0);
      if (idle) {
        drop(id, true);
      } else {
        if (c->head_done) core_.http_closed(id, now);
        c->keep_alive = false;
        respond_plain(*c, 408, "Request Timeout");
      }
    }
  }
}

// ------------------------------------------------------------ stopping

void connections::shutdown(millis now) {
  now_ = now;
  core_.shutdown(now);
  pump(now);
}

bool connections::output_pending() const noexcept {
  return std::any_of(table_.begin(), table_.end(), [](const auto& c) { return !c.second->out.empty(); });
}

void connections::flush_all(millis now) {
  now_ = now;
  std::vector<connection_id> ids;
  ids.reserve(table_.size());
  for (const auto& c : table_) ids.push_back(c.first);
  for (const connection_id id : ids) write_some(id);
}

void connections::close_all(millis now) {
  now_ = now;
  while (!table_.empty()) drop(table_.begin()->first, false);
  retired_.clear();
}

}  // namespace eio::wire
