// eio::wire::connections: every HTTP/1.1 and WebSocket connection of one
// event loop, sans I/O, around that loop's eio::server core.
//
// This is what an adapter would otherwise write again: read requests
// (http_reader), route them (the core, or the loop that owns the session
// they name), frame WebSocket messages (frame_reader in place, the codec's
// writers, permessage-deflate), answer (the core's actions, compression of
// polling answers), sweep slow requests (408), bound what a peer may make us
// hold, and end connections with a lingering close (RFC 9112 section 9.6).
// The adapter keeps the sockets, the poll and the clock:
//
//   adapter (sockets, poll, clock)           connections                       server core
//   accept        -> open(now, address) -> id, then start(id, now)
//   readable      -> received(id, bytes, now) ... input_done(id, now)  -> handle_request, ...
//   read 0/error  -> peer_closed(id, now)                              -> websocket_closed, ...
//   writable      -> writable(id, now)                                 -> output_progress
//   each turn     -> pump(now): actions onto connections, events to the handler
//   timer         -> next_deadline(), on_timeout(now)                  -> on_timeout
//                 <- connection_io: send(id, pieces), want_write(id, on),
//                    shutdown_send(id), close(id), hand_over(id, loop, state)
//
// connection_io is how connections asks for I/O: it is called from inside
// these member functions and must not call back into them (record, act,
// return). Every call that can change a connection takes `now`; nothing here
// reads a clock, and nothing throws but std::bad_alloc.
//
// The contract of eio::server (README, "What an adapter writer must know")
// is kept here once for every adapter: message events view the read buffer
// until pump() has taken them, the direct path (connection_output) writes
// open WebSocket sessions' messages into the connection's output_buffer,
// shared broadcast bodies are gathered, not copied, and a connection
// dropped while events may still view its bytes is kept until they are taken.
#pragma once

#include <eio/server.hpp>
#include <eio/wire/http_reader.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eio::wire {

struct connection_options {
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; past it: 431
  std::size_t max_header_count = 100;        // header fields; past it: 431
  // Frames one WebSocket message may come in; past it: close 1009.
  std::size_t max_fragments_per_message = 1024;
  millis header_timeout{10'000};  // a request head must arrive within this: 408
  millis body_timeout{30'000};    // and its body within this: 408
  // Lingering close: after an answer that ends its connection, its write
  // side is shut and its input read and dropped for linger_timeout and
  // linger_bytes at most. Either 0, or lingering_close false (under TLS,
  // where a close_notify would have to be written and records read on):
  // close at once.
  millis linger_timeout{2'000};
  std::size_t linger_bytes = 8 * 1024 * 1024;
  bool lingering_close = true;
  // Bytes waiting to be written to one connection; past it the connection
  // is dropped (a peer that does not read).
  std::size_t max_output_bytes = 64 * 1024 * 1024;
  // gzip/deflate of polling answers (from compression_threshold bytes) and
  // permessage-deflate (RFC 7692); both need eio::wire built with zlib.
  bool http_compression = true;
  std::size_t compression_threshold = 1024;
  bool per_message_deflate = false;
  // Session routing between loops: this loop's index and how many there
  // are (see tag_session_ids).
  unsigned loop = 0;
  unsigned loop_count = 1;
};

// A connection on its way to another loop (connection_io::hand_over): its
// unread bytes and unsent output. Opaque; movable only as this pointer.
struct connection_state;
struct connection_state_deleter {
  void operator()(connection_state* state) const noexcept;
};
using handed_over_connection = std::unique_ptr<connection_state, connection_state_deleter>;

// What connections asks of the I/O around it (see the header comment).
class connection_io {
public:
  static constexpr long would_block = -1;
  static constexpr long failed = -2;
  virtual ~connection_io() = default;
  // Writes what the socket takes now of `pieces` (the connection's unsent
  // bytes, front first; a writer may take the first piece only, as TLS
  // does). Returns the bytes written, would_block (wait for want_write's
  // readiness), or failed (the connection is then dropped).
  virtual long send(connection_id id, const iovec* pieces, std::size_t count) = 0;
  // Whether bytes wait for the socket to become writable; called on change.
  virtual void want_write(connection_id id, bool on) = 0;
  // Lingering close: shut the socket's write side and keep reading it.
  // false when that failed (then the connection is closed).
  virtual bool shutdown_send(connection_id id) = 0;
  // The connection is over: close the socket and forget `id`.
  virtual void close(connection_id id) = 0;
  // A request for a session of loop `loop` came on `id`: hand the socket
  // and `state` to that loop, whose connections::adopt takes it; forget `id`
  // here. Only with connection_options::loop_count > 1.
  virtual void hand_over(connection_id id, unsigned loop, handed_over_connection state);
};

// Session ids carry the loop that owns them (with more than one loop): the
// first character of our own ids (114 random bits remain), a prefix to an
// application's generate_id. Call on each loop's core options.
void tag_session_ids(server_options& options, unsigned loop, unsigned loop_count);
// The loop that owns `sid` (by its tag), or `fallback` when it has none.
unsigned owner_loop(std::string_view sid, unsigned loop_count, unsigned fallback) noexcept;
// The most loops the tags tell apart.
inline constexpr unsigned max_loops = 64;

class connections final : public connection_output {
public:
  // Called for every event of the core, from pump() (and from every call
  // that pumps), as poco_attached_server's handler is. It may call into the
  // core (send, close, broadcast) with the `now` given.
  using event_handler = std::function<void(server& core, event& e, millis now)>;

  connections(server& core, connection_io& io, connection_options options, event_handler handler);
  ~connections() override;
  connections(const connections&) = delete;
  connections& operator=(const connections&) = delete;

  // ---- connections come and go
  // A new connection (remote_address as http_request::remote_address shows
  // it). Then register the socket under the id, and call start().
  connection_id open(millis now, std::string remote_address);
  // A connection another loop handed over (connection_io::hand_over).
  connection_id adopt(millis now, handed_over_connection state);
  // Its socket is registered: arms writing if output waits, and handles
  // the bytes an adopted connection brought.
  void start(connection_id id, millis now);

  // ---- input
  // Bytes read from the socket (copied). Read until the socket would block
  // (or enough for one turn), calling this for each read, then input_done().
  // Whatever the connection cannot use any more (lingering) is dropped here.
  void received(connection_id id, std::string_view bytes, millis now);
  // Handles what received() buffered: requests to the core, frames read.
  void input_done(connection_id id, millis now);
  // The socket ended (read 0) or failed: the connection is dropped and the
  // core told.
  void peer_closed(connection_id id, millis now);

  // ---- output
  // The socket is writable: writes what waits, then tells the core
  // (output_progress, the low watermark).
  void writable(connection_id id, millis now);
  // Writes what waits for `id` now (a TLS record that waited for a read).
  void flush(connection_id id, millis now);
  // The core's actions onto connections and its events to the handler,
  // until both queues are empty; then writes what they produced, one write
  // per connection. Call after every input (the calls above pump where the
  // contract needs it, not always).
  void pump(millis now);

  // ---- time
  // The earliest of the core's next deadline and the next sweep of slow
  // requests and lingering connections (once a second).
  std::optional<millis> next_deadline() const;
  // Runs what is due: the core's timers, the sweep. Returns true when the
  // sweep ran. Pumps.
  bool on_timeout(millis now);

  // ---- stopping
  // core.shutdown(now) and pump: sessions closed, their last bytes queued.
  void shutdown(millis now);
  bool output_pending() const noexcept;
  void flush_all(millis now);
  // Drops every connection without telling the core (it is going away).
  void close_all(millis now);

  bool contains(connection_id id) const noexcept { return table_.count(id) != 0; }
  std::size_t size() const noexcept { return table_.size(); }
  server& core() noexcept { return core_; }
  const connection_options& options() const noexcept { return options_; }

  // connection_output: the core's direct path for open WebSocket sessions.
  void write_message(connection_id id, frame_kind kind, std::string_view prefix, std::string_view body) override;
  void write_shared_message(connection_id id, frame_kind kind, std::string_view prefix, const shared_bytes& body) override;
  std::size_t unsent_bytes(connection_id id) const noexcept override;

private:
  using connection = connection_state;
  connection* find(connection_id id) noexcept;
  connection_id insert(handed_over_connection c);
  handed_over_connection detach(connection_id id);
  void drop(connection_id id, bool tell_core);
  bool input_unwanted(const connection& c) const noexcept;
  void start_discarding(connection& c);
  void release_input(connection& c);
  void linger(connection_id id);
  void process_input(connection_id id);
  bool start_request(connection& c, http_head head, std::size_t head_bytes);
  void reject_request(connection& c, int status, std::string_view reason, bool at_head);
  void refuse_large_body(connection_id id, http_head head);
  bool route_elsewhere(connection& c, const http_request& request, std::size_t head_bytes);
  void read_frames(connection& c);
  void respond_plain(connection& c, int status, std::string_view text);
  void write_response(connection& c, int status, const header_list& headers, const std::string& body);
  void finish_exchange(connection& c);
  void apply(action& a);
  void append_message(connection& c, frame_kind kind, std::string_view head, std::string_view body,
                      const shared_bytes* tail);
  void mark_unflushed(connection& c);
  void write_some(connection_id id);
  void update_want_write(connection& c);
  void release_buffers(connection& c);
  void sweep(millis now);
  void erase_handled_input();

  server& core_;
  connection_io& io_;
  connection_options options_;
  event_handler handler_;
  millis now_{0};  // the `now` of the call being served
  std::unordered_map<connection_id, handed_over_connection> table_;
  connection_id next_id_ = 1;
  millis last_sweep_{0};
  // Connections with frames appended and not yet written: written once the
  // core's outputs are all applied, so one read's answers go in one write.
  std::vector<connection_id> unflushed_;
  std::vector<connection_id> flushing_;  // its swap partner, to keep both capacities
  // WebSocket connections whose read buffer leads with bytes that message
  // events may still view: erased once pump() has taken the events.
  std::vector<connection_id> handled_;
  // Connections dropped while events of theirs may still be queued.
  std::vector<handed_over_connection> retired_;
  std::string message_scratch_;  // a compressed message's bytes before deflate
};

}  // namespace eio::wire
