// The Engine.IO client core: every rule that moves an eio::client from one
// state to another lives in this file.
//
// The session's life (state x input -> what happens):
//
//   input \ state     opening                  open                          closing
//   open packet       handshake: open event,   ignored                       ignored
//                     poll, probe a WebSocket
//   GET response      decode, deliver; poll again unless pausing or closed (any state);
//                     opening: no open packet in it -> close: transport error
//   POST response     next POST if anything is buffered; pausing: maybe "5"
//   HTTP non-200/fail close: transport error (opening: handshake refused)
//   ws opened         main: wait for open      probe: send "2probe"
//   ws message        main: decode, deliver    probe: "3probe" -> pausing; else drop the probe
//   ws closed/failed  main: transport close/error; probe: drop it, polling goes on
//   ping              ignored                  queue pong                    dropped (after "1")
//   pong (v3)         arm the next ping
//   close packet      close: transport close
//   silence_due       close: ping timeout
//   ping_at (v3)      -                        queue ping                    dropped (after "1")
//   app send          buffer (opening: waits for the handshake)  refused
//   app close         closed at once           closing: flush, "1", closed
//
// The upgrade (probe_state): none -> connecting (ws open sent) -> probing
// ("2probe" sent) -> pausing ("3probe" seen: the Node client's
// Polling.pause(): no new GET or POST, wait for the ones in flight) -> none
// ("5" sent, the WebSocket is the transport, the buffer flushed on it). Why
// this cannot lose or reorder a packet:
//   client -> server: POSTs stop at "3probe"; "5" leaves only after the last
//     POST was answered, and the server decodes a POST before answering it,
//     so every polled packet was delivered before the WebSocket's first.
//   server -> client: the server sends nothing but "3probe" on the probe
//     before "5", and answers a held GET (noop) once probed; "5" leaves only
//     after that GET's response was read, so every polled packet was read
//     before the WebSocket's first message.
#include <eio/client.hpp>

#include <eio/base64.hpp>
#include <eio/utf8.hpp>

#include <cassert>
#include <cstdlib>

namespace eio {

namespace {

constexpr std::string_view post_content_type = "text/plain;charset=UTF-8";

void append_percent_encoded(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
}

// Just enough JSON for the open packet: one object whose values are strings,
// numbers, booleans, null, arrays or objects. Unknown keys are skipped.
class handshake_json {
public:
  explicit handshake_json(std::string_view text) : text_(text) {}

  std::optional<handshake_info> parse() {
    handshake_info info;
    bool has_sid = false;
    skip_space();
    if (!eat('{')) return std::nullopt;
    skip_space();
    if (eat('}')) return std::nullopt;
    for (;;) {
      skip_space();
      std::string key;
      if (!string(key)) return std::nullopt;
      skip_space();
      if (!eat(':')) return std::nullopt;
      skip_space();
      if (key == "sid") {
        if (!string(info.sid)) return std::nullopt;
        has_sid = true;
      } else if (key == "upgrades") {
        if (!eat('[')) return std::nullopt;
        skip_space();
        if (!eat(']')) {
          for (;;) {
            skip_space();
            std::string name;
            if (!string(name)) return std::nullopt;
            info.upgrades.push_back(std::move(name));
            skip_space();
            if (eat(']')) break;
            if (!eat(',')) return std::nullopt;
          }
        }
      } else if (key == "pingInterval" || key == "pingTimeout" || key == "maxPayload") {
        std::uint64_t n = 0;
        if (!number(n)) return std::nullopt;
        if (key == "pingInterval") info.ping_interval = millis(static_cast<millis::rep>(n));
        if (key == "pingTimeout") info.ping_timeout = millis(static_cast<millis::rep>(n));
        if (key == "maxPayload") info.max_payload = static_cast<std::size_t>(n);
      } else if (!skip_value()) {
        return std::nullopt;
      }
      skip_space();
      if (eat('}')) break;
      if (!eat(',')) return std::nullopt;
    }
    skip_space();
    if (at_ != text_.size()) return std::nullopt;  // one object and nothing after it
    if (!has_sid || info.sid.empty()) return std::nullopt;
    return info;
  }

private:
  bool eat(char c) {
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) return false;
      const char e = text_[at_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {  // a sid is URL-safe base64; keep BMP escapes as UTF-8, no surrogate pairing
          if (at_ + 4 > text_.size()) return false;
          unsigned v = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            v <<= 4;
            if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
            else return false;
          }
          append_utf8(static_cast<char32_t>(v), out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool number(std::uint64_t& out) {
    const std::size_t start = at_;
    out = 0;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      out = out * 10 + static_cast<std::uint64_t>(text_[at_++] - '0');
      if (at_ - start > 15) return false;
    }
    return at_ > start;
  }
  // Skips any value of a key we do not read. Nesting is bounded: the text
  // comes from the server, and recursion must not exhaust our stack.
  bool skip_value(int depth = 0) {
    if (at_ >= text_.size() || depth > 32) return false;
    const char c = text_[at_];
    if (c == '"') {
      std::string ignored;
      return string(ignored);
    }
    if (c == '[') {
      ++at_;
      skip_space();
      if (eat(']')) return true;
      for (;;) {
        skip_space();
        if (!skip_value(depth + 1)) return false;
        skip_space();
        if (eat(']')) return true;
        if (!eat(',')) return false;
      }
    }
    if (c == '{') {
      ++at_;
      skip_space();
      if (eat('}')) return true;
      for (;;) {
        skip_space();
        std::string ignored;
        if (!string(ignored)) return false;
        skip_space();
        if (!eat(':')) return false;
        skip_space();
        if (!skip_value(depth + 1)) return false;
        skip_space();
        if (eat('}')) return true;
        if (!eat(',')) return false;
      }
    }
    // Numbers (signs, fractions, exponents), true, false, null.
    const std::size_t start = at_;
    while (at_ < text_.size() && text_[at_] != ',' && text_[at_] != '}' && text_[at_] != ']') ++at_;
    return at_ > start;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

std::string_view to_string(client_state state) noexcept {
  switch (state) {
    case client_state::idle: return "idle";
    case client_state::opening: return "opening";
    case client_state::open: return "open";
    case client_state::closing: return "closing";
    case client_state::closed: return "closed";
  }
  return "unknown";
}

client::client(client_options options) : options_(std::move(options)) {
  // A client that may use no transport at all is a programming error.
  assert(options_.polling || options_.websocket);
}

std::optional<client_action> client::next_action() {
  return actions_.take();
}

std::optional<client_event> client::next_event() {
  return events_.take();
}

std::string client::target(transport_kind kind) const {
  std::string t = options_.path;
  t += '?';
  for (const auto& [name, value] : options_.query) {
    append_percent_encoded(name, t);
    t += '=';
    append_percent_encoded(value, t);
    t += '&';
  }
  t += options_.version == protocol_version::v4 ? "EIO=4" : "EIO=3";
  t += "&transport=";
  t += to_string(kind);
  if (options_.version == protocol_version::v3 && options_.b64) t += "&b64=1";
  if (handshake_) {
    t += "&sid=";
    append_percent_encoded(handshake_->sid, t);
  }
  return t;
}

// ------------------------------------------------------------ the application

void client::open(millis now) {
  (void)now;
  if (state_ != client_state::idle) return;
  state_ = client_state::opening;
  if (options_.polling) {
    // The Node client starts on polling whenever it may: it works through
    // every proxy, and the upgrade moves it to WebSocket if that works too.
    transport_ = transport_kind::polling;
    get_ = next_id();
    actions_.emplace_back(client_http_request{*get_, "GET", target(transport_kind::polling), options_.extra_headers, {}, {}});
  } else {
    transport_ = transport_kind::websocket;
    websocket_ = next_id();
    actions_.emplace_back(client_websocket_open{*websocket_, target(transport_kind::websocket)});
  }
}

bool client::send(std::string data, frame_kind kind, millis now) {
  const bool binary = kind == frame_kind::binary;
  // Text the transport could not carry is refused here, where the caller
  // hears of it, rather than sent broken: text that is not UTF-8 (no
  // payload or text frame may hold it), and, while a v4 session may still go
  // by polling, text holding the payload separator '\x1e', which would cut
  // the message in two (the server's send() has the same rule).
  if (!binary) {
    if (utf8_valid_prefix(data) != data.size()) return false;
    const bool may_poll = options_.polling && !(transport_ == transport_kind::websocket && state_ == client_state::open);
    if (options_.version == protocol_version::v4 && may_poll && data.find('\x1e') != std::string::npos) return false;
  }
  switch (state_) {
    case client_state::opening:
      queue(packet_type::message, std::move(data), binary);  // goes out after the handshake
      return true;
    case client_state::open:
      queue(packet_type::message, std::move(data), binary);
      flush(now);
      return true;
    case client_state::idle:
    case client_state::closing:
    case client_state::closed:
      return false;
  }
  return false;
}

void client::close(millis now) {
  switch (state_) {
    case client_state::idle:
    case client_state::opening:
      return finish(close_reason::forced_close, "");
    case client_state::open:
      // The Node client waits for the buffer to drain, then sends the close
      // packet; queueing "1" last gives the same order.
      state_ = client_state::closing;
      queue(packet_type::close, {}, false);
      close_queued_ = true;
      return flush(now);
    case client_state::closing:
    case client_state::closed:
      return;
  }
}

// ------------------------------------------------------------ HTTP

void client::http_response_received(connection_id request_id, int status, const header_list& headers,
                                    std::string body, millis now) {
  const bool is_get = get_ == request_id;
  const bool is_post = post_ == request_id;
  if (!is_get && !is_post) return;  // after close, or a request we gave up
  if (is_get) get_.reset();
  if (is_post) post_.reset();
  if (state_ == client_state::closed) return;

  if (status != 200) {
    // The Node client: "xhr poll error" / "xhr post error", then transport error.
    std::string what = std::string(is_get ? "poll" : "post") + " answered " + std::to_string(status);
    if (!body.empty()) what += ": " + body;
    events_.emplace_back(client_error_event{what});
    return finish(close_reason::transport_error, what);
  }
  if (is_post) {
    // The POST's packets were delivered (the server decodes before "ok"):
    // the next batch may go, or the paused upgrade may proceed.
    flush(now);
    return maybe_finish_pause(now);
  }

  // A GET: one payload. v3 servers answer binary payloads for clients
  // without b64, with Content-Type application/octet-stream.
  payload_format format = payload_format::text;
  if (options_.version == protocol_version::v3) {
    for (const header& h : headers) {
      if (ascii_iequals(h.name, "content-type") && ascii_iequals(h.value, "application/octet-stream")) format = payload_format::binary;
    }
  }
  decode_options limits;
  limits.max_payload_bytes = body.size() + 1;  // the server's limit is on what it accepts, not on what it sends
  limits.max_packets = body.size() + 1;
  payload_decoder decoder(options_.version, format, limits);
  std::vector<packet> packets;
  const decode_error error = decoder.decode(body, packets);
  for (const packet& p : packets) {
    receive(p, now);
    if (state_ == client_state::closed) return;
  }
  if (error) {
    events_.emplace_back(client_error_event{"bad poll payload: " + std::string(errc_name(error.code))});
    return finish(close_reason::parse_error, std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset));
  }
  if (state_ == client_state::opening) {
    // A failure that ends the session is reported as an error first, like
    // every other "transport error" here (engine.io-client's _onError emits
    // "error", then "close").
    const std::string what = "the handshake response carried no open packet";
    events_.emplace_back(client_error_event{what});
    return finish(close_reason::transport_error, what);
  }
  // Keep one GET in flight, except while pausing for the upgrade or after
  // it (the WebSocket carries everything then).
  if (transport_ == transport_kind::polling && probe_ != probe_state::pausing) start_poll(now);
  maybe_finish_pause(now);
}

void client::http_failed(connection_id request_id, millis now) {
  (void)now;
  if (get_ != request_id && post_ != request_id) return;
  const bool is_get = get_ == request_id;
  if (is_get) get_.reset();
  else post_.reset();
  if (state_ == client_state::closed) return;
  const std::string what = is_get ? "xhr poll error" : "xhr post error";
  events_.emplace_back(client_error_event{what});
  finish(close_reason::transport_error, what);
}

void client::start_poll(millis now) {
  (void)now;
  if (get_ || state_ == client_state::closed) return;
  get_ = next_id();
  actions_.emplace_back(client_http_request{*get_, "GET", target(transport_kind::polling), options_.extra_headers, {}, {}});
}

// ------------------------------------------------------------ WebSocket

void client::websocket_opened(connection_id connection, millis now) {
  (void)now;
  if (state_ == client_state::closed) return;
  if (connection == websocket_) {
    websocket_ready_ = true;  // the server speaks first: the open packet
    return;
  }
  if (connection == probe_conn_ && probe_ == probe_state::connecting) {
    // engine.io-protocol "Upgrade": the probe proves the WebSocket carries
    // packets both ways before polling is given up.
    std::string frame;
    const frame_kind kind = encode_frame(packet{packet_type::ping, false, "probe"}, options_.version, true, frame);
    actions_.emplace_back(client_websocket_send{connection, kind, std::move(frame)});
    probe_ = probe_state::probing;
  }
}

void client::websocket_failed(connection_id connection, millis now) {
  (void)now;
  if (state_ == client_state::closed) return;
  if (connection == websocket_) {
    websocket_.reset();
    events_.emplace_back(client_error_event{"websocket error"});
    return finish(close_reason::transport_error, "websocket error");
  }
  if (connection == probe_conn_) {
    probe_conn_.reset();  // never opened: nothing to close
    drop_probe("probe error: websocket failed", now);
  }
}

void client::websocket_message(connection_id connection, frame_kind kind, std::string_view data, millis now) {
  if (state_ == client_state::closed) return;
  packet p;
  const decode_error error = decode_frame(data, kind, options_.version, p, scratch_);
  if (connection == websocket_) {
    if (error) {
      events_.emplace_back(client_error_event{"bad frame: " + std::string(errc_name(error.code))});
      return finish(close_reason::parse_error, std::string(errc_name(error.code)) + " at byte " + std::to_string(error.offset));
    }
    return receive(p, now);
  }
  if (connection != probe_conn_) return;
  switch (probe_) {
    case probe_state::probing:
      if (!error && p.type == packet_type::pong && p.data == "probe") {
        // Pause polling (Polling.pause): nothing new goes out on it; the
        // GET and POST in flight finish first, then "5".
        probe_ = probe_state::pausing;
        events_.emplace_back(client_upgrading_event{});
        return maybe_finish_pause(now);
      }
      return drop_probe("probe error: unexpected probe answer", now);
    case probe_state::none:
    case probe_state::connecting:
    case probe_state::pausing:
      // The server sends nothing else before "5".
      return drop_probe("probe error: unexpected message on the probe", now);
  }
}

void client::websocket_closed(connection_id connection, millis now) {
  if (state_ == client_state::closed) return;
  if (connection == websocket_) {
    websocket_.reset();
    return finish(close_reason::transport_close, "the server closed the websocket");
  }
  if (connection == probe_conn_) {
    probe_conn_.reset();
    drop_probe("probe error: websocket closed", now);
  }
}

void client::start_probe() {
  probe_conn_ = next_id();
  probe_ = probe_state::connecting;
  actions_.emplace_back(client_websocket_open{*probe_conn_, target(transport_kind::websocket)});
}

void client::drop_probe(std::string why, millis now) {
  if (probe_conn_) actions_.emplace_back(client_websocket_close{*probe_conn_});
  probe_conn_.reset();
  const bool was_pausing = probe_ == probe_state::pausing;
  probe_ = probe_state::none;
  events_.emplace_back(client_error_event{std::move(why)});
  // Pausing stopped the polling loop; polling goes on, so restart it.
  if (was_pausing && state_ != client_state::closed && transport_ == transport_kind::polling) {
    start_poll(now);
    flush(now);
  }
}

// Polling is paused once neither a GET nor a POST is in flight: then "5"
// and the WebSocket takes over (engine.io-client Socket._probe's pause()).
void client::maybe_finish_pause(millis now) {
  if (probe_ != probe_state::pausing || get_ || post_ || state_ == client_state::closed) return;
  std::string frame;
  const frame_kind kind = encode_frame(packet{packet_type::upgrade, false, {}}, options_.version, true, frame);
  actions_.emplace_back(client_websocket_send{*probe_conn_, kind, std::move(frame)});
  websocket_ = probe_conn_;
  websocket_ready_ = true;
  probe_conn_.reset();
  probe_ = probe_state::none;
  transport_ = transport_kind::websocket;
  events_.emplace_back(client_upgrade_event{});
  flush(now);
}

// ------------------------------------------------------------ packets in

void client::receive(const packet& p, millis now) {
  if (handshake_) silence_due_ = now + handshake_->ping_interval + handshake_->ping_timeout;
  switch (p.type) {
    case packet_type::open:
      if (state_ == client_state::opening) return on_handshake(p.data, now);
      return;  // a second open packet means nothing
    case packet_type::close:
      return finish(close_reason::transport_close, "the server closed the session");
    case packet_type::ping:
      // Nothing before the open packet counts (as for messages below; the
      // protocol starts with the open packet): no pong, which would wait in
      // the buffer and go out after the handshake, answering out of turn.
      if (state_ == client_state::opening) return;
      // v4: the server pings, we answer (engine.io-protocol "Heartbeat").
      // A v3 server never pings; answering costs nothing. The pong echoes
      // the ping's data as it came, binary or text: a binary ping's bytes
      // sent back as text made a frame that is not UTF-8 (found by
      // fuzz/client_session.cpp).
      queue(packet_type::pong, std::string(p.data), p.binary);
      return flush(now);
    case packet_type::pong:
      // v3: the next ping goes pingInterval after this pong (engine.io-client 3 setPing).
      if (options_.version == protocol_version::v3 && handshake_) ping_at_ = now + handshake_->ping_interval;
      return;
    case packet_type::message:
      if (state_ == client_state::opening) return;  // nothing before the open packet counts
      events_.emplace_back(client_message_event{p.binary ? frame_kind::binary : frame_kind::text, std::string(p.data)});
      return;
    case packet_type::upgrade:
    case packet_type::noop:
      return;
  }
}

void client::on_handshake(std::string_view json, millis now) {
  std::optional<handshake_info> info = handshake_json(json).parse();
  if (!info) {
    events_.emplace_back(client_error_event{"bad handshake"});
    return finish(close_reason::parse_error, "bad handshake JSON");
  }
  handshake_ = std::move(*info);
  state_ = client_state::open;
  silence_due_ = now + handshake_->ping_interval + handshake_->ping_timeout;
  if (options_.version == protocol_version::v3) ping_at_ = now + handshake_->ping_interval;
  events_.emplace_back(client_open_event{*handshake_, transport_});
  if (transport_ == transport_kind::polling && options_.websocket && options_.upgrade) {
    for (const std::string& name : handshake_->upgrades) {
      if (name == "websocket") {
        start_probe();
        break;
      }
    }
  }
  // Packets the application sent while opening go now (on the handshake
  // transport). The handshake GET's caller starts the next poll.
  flush(now);
}

// ------------------------------------------------------------ packets out

void client::queue(packet_type type, std::string data, bool binary) {
  // The close packet is the last thing the session says. A pong to a ping
  // heard while closing, or a v3 ping falling due then, would sit behind it
  // and never leave, yet count in buffered_packets(); engine.io-client's
  // _sendPacket drops every packet once closing, and so do we.
  if (close_queued_) return;
  buffer_.push_back(queued{type, binary, std::move(data)});
}

void client::flush(millis now) {
  (void)now;
  if (state_ != client_state::open && state_ != client_state::closing) return;
  if (buffer_.empty()) return;
  if (transport_ == transport_kind::websocket) {
    if (!websocket_ || !websocket_ready_) return;
    while (!buffer_.empty()) {
      const queued q = std::move(buffer_.front());
      buffer_.pop_front();
      std::string frame;
      const bool binary_ok = !(options_.version == protocol_version::v3 && options_.b64);
      const frame_kind kind = encode_frame(packet{q.type, q.binary, q.data}, options_.version, binary_ok, frame);
      actions_.emplace_back(client_websocket_send{*websocket_, kind, std::move(frame)});
      if (q.type == packet_type::close) {
        // The close packet is the last thing the session says.
        return finish(close_reason::forced_close, "");
      }
    }
    return;
  }
  // Polling: one POST at a time (the server refuses overlapping POSTs), and
  // none once "3probe" paused polling.
  if (post_ || probe_ == probe_state::pausing) return;
  // One payload of whole packets within the server's maxPayload, but at
  // least one packet (engine.io-client Socket._getWritablePackets).
  const std::size_t limit = handshake_ && handshake_->max_payload ? handshake_->max_payload : SIZE_MAX;
  std::string body;
  std::string piece;
  std::size_t taken = 0;
  bool has_close = false;
  for (const queued& q : buffer_) {
    piece.clear();
    const packet p{q.type, q.binary, q.data};
    // A v3 text payload is the concatenation of one-packet payloads; v4
    // joins packets with the record separator.
    encode_payload(&p, 1, options_.version, false, piece);
    const std::size_t extra = piece.size() + (options_.version == protocol_version::v4 && taken > 0 ? 1 : 0);
    if (taken > 0 && body.size() + extra > limit) break;
    if (options_.version == protocol_version::v4 && taken > 0) body += '\x1e';
    body += piece;
    ++taken;
    if (q.type == packet_type::close) {
      has_close = true;
      break;
    }
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(taken));
  post_ = next_id();
  actions_.emplace_back(client_http_request{*post_, "POST", target(transport_kind::polling), options_.extra_headers,
                                            std::move(body), std::string(post_content_type)});
  if (has_close) finish(close_reason::forced_close, "");
}

// ------------------------------------------------------------ timers

std::optional<millis> client::next_deadline() const noexcept {
  if (state_ != client_state::open && state_ != client_state::closing) return std::nullopt;
  std::optional<millis> earliest = silence_due_;
  if (ping_at_ && (!earliest || *ping_at_ < *earliest)) earliest = ping_at_;
  return earliest;
}

void client::on_timeout(millis now) {
  if (state_ != client_state::open && state_ != client_state::closing) return;
  if (silence_due_ && *silence_due_ <= now) {
    return finish(close_reason::ping_timeout, "nothing from the server for pingInterval + pingTimeout");
  }
  if (ping_at_ && *ping_at_ <= now) {
    // v3: the client pings (engine.io-protocol v3 "Heartbeat"); the pong
    // arms the next one.
    ping_at_.reset();
    queue(packet_type::ping, {}, false);
    flush(now);
  }
}

// ------------------------------------------------------------ closing

void client::finish(close_reason reason, std::string description) {
  if (state_ == client_state::closed) return;
  state_ = client_state::closed;
  // Every connection still open is closed; HTTP requests in flight are
  // forgotten (their responses are ignored).
  if (websocket_) actions_.emplace_back(client_websocket_close{*websocket_});
  if (probe_conn_) actions_.emplace_back(client_websocket_close{*probe_conn_});
  websocket_.reset();
  probe_conn_.reset();
  probe_ = probe_state::none;
  get_.reset();
  post_.reset();
  buffer_.clear();
  silence_due_.reset();
  ping_at_.reset();
  events_.emplace_back(client_close_event{reason, std::move(description)});
}

}  // namespace eio
