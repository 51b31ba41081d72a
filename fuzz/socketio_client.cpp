// Fuzz target: eio::socketio::client::manager, the sans-I/O Socket.IO client.
//
// The input is a program: one option byte, then up to max_operations
// operations, each an opcode byte and its arguments (a short input reads as
// zeros). The program plays server, adapter and application at once: it
// answers the Engine.IO session (handshakes, then Socket.IO packets built
// from fields or raw bytes, binary attachments, drops, failures, answers for
// connections that do not exist), makes sockets on three namespaces,
// connects and disconnects them, emits with and without acks, timeouts and
// volatile, answers the server's acks (now and later), closes and reopens
// the manager, and moves the clock.
//
// Option byte:
//   bits 0-1  transports: websocket only, polling only, polling + websocket, websocket + polling
//   bit 2     reconnection off
//   bits 3-4  reconnection_attempts: infinite, 0, 1, 3
//   bit 5     auto_connect off
//   bit 6     a connect timeout of 50 ms (else none)
//
// Invariants (abort on violation):
//   1. Every ack callback is called at most once, and never for an emit
//      that returned an error.
//   2. A socket that is connected has an id and is active.
//   3. Buffered packets and bytes stay within the socket's bounds.
//   4. WebSocket sends and closes only on connections the manager opened;
//      no action for a connection after its close action.
//   5. on_timeout(t) leaves next_deadline() empty or later than t.
#include "fuzz_support.hpp"

#include <eio/base64.hpp>
#include <eio/socketio/client/manager.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace eio;
namespace sc = eio::socketio::client;
using eio::socketio::value;
using fuzz::reader;

constexpr std::size_t max_operations = 200;
const char* const namespaces[] = {"/", "/a", "/b"};

class harness {
public:
  explicit harness(reader& in) : in_(in) {
    const std::uint8_t o = in.byte();
    switch (o & 3) {
      case 0: options_.transports = {transport_kind::websocket}; break;
      case 1: options_.transports = {transport_kind::polling}; break;
      case 2: options_.transports = {transport_kind::polling, transport_kind::websocket}; break;
      default: options_.transports = {transport_kind::websocket, transport_kind::polling}; break;
    }
    options_.reconnection = (o & 4) == 0;
    static constexpr std::uint64_t attempts[] = {sc::infinite_attempts, 0, 1, 3};
    options_.reconnection_attempts = attempts[(o >> 3) & 3];
    options_.auto_connect = (o & 32) == 0;
    options_.timeout = (o & 64) ? std::optional<millis>(millis(50)) : std::nullopt;
    options_.reconnection_delay = millis(10);
    options_.reconnection_delay_max = millis(40);
    options_.random_seed = 7;
    socket_options_.max_buffered_packets = 8;
    socket_options_.max_buffered_bytes = 256;
    manager_ = std::make_unique<sc::manager>(options_);
  }

  void run() {
    for (std::size_t i = 0; i < max_operations && !in_.empty(); ++i) step();
  }

private:
  void step() {
    switch (in_.below(16)) {
      case 0: {  // make (and maybe connect) a socket
        sc::socket& s = manager_->socket(namespaces[in_.below(3)], socket_options_, now_);
        s.on_any([this](const std::string&, const value&, const sc::ack_responder& ack) {
          if (ack.wanted()) responders_.push_back(ack);
        });
        break;
      }
      case 1:
        if (auto* s = some_socket()) s->connect(now_);
        break;
      case 2:
        if (auto* s = some_socket()) s->disconnect(now_);
        break;
      case 3:
        in_.flag() ? manager_->close(now_) : manager_->open(now_);
        break;
      case 4:
        emit();
        break;
      case 5:  // answer a stored ack
        if (!responders_.empty()) {
          const std::size_t k = in_.below(static_cast<std::uint32_t>(responders_.size()));
          (void)responders_[k](in_.flag() ? value::array({value::binary({1, 2})}) : value::array({"x"}));
        }
        break;
      case 6:  // the clock
        advance(millis(in_.byte() * (in_.flag() ? 1 : 100)));
        break;
      case 7:  // the WebSocket opens and the handshake comes
        if (ws_) {
          manager_->websocket_opened(*ws_, now_);
          manager_->websocket_message(*ws_, frame_kind::text, handshake(), now_);
        }
        break;
      case 8:  // a Socket.IO packet from fields
        server_says(frame_kind::text, "4" + packet_from_fields());
        break;
      case 9:  // raw text or binary
        server_says(in_.flag() ? frame_kind::binary : frame_kind::text, in_.bytes(24));
        break;
      case 10:  // an attachment-sized binary
        server_says(frame_kind::binary, in_.bytes(8));
        break;
      case 11:  // the WebSocket drops or fails
        if (ws_) {
          const connection_id id = *ws_;
          ws_.reset();
          in_.flag() ? manager_->websocket_closed(id, now_) : manager_->websocket_failed(id, now_);
        }
        break;
      case 12:  // polling: answer the GET (handshake or packets) or fail it
        if (get_) {
          const connection_id id = *get_;
          get_.reset();
          if (in_.below(4) == 0) {
            manager_->http_failed(id, now_);
          } else {
            std::string body = in_.flag() ? handshake() : "4" + packet_from_fields();
            if (in_.flag()) body += "\x1e" "4" + packet_from_fields();
            manager_->http_response_received(id, in_.below(8) == 0 ? 400 : 200, {}, body, now_);
          }
        }
        break;
      case 13:  // polling: answer the POST
        if (post_) {
          const connection_id id = *post_;
          post_.reset();
          manager_->http_response_received(id, 200, {}, "ok", now_);
        }
        break;
      case 14:  // an answer for a connection that does not exist
        manager_->websocket_message(in_.byte() | (std::uint64_t{in_.byte()} << 32), frame_kind::text, "40{\"sid\":\"x\"}", now_);
        break;
      default:
        if (auto* s = some_socket()) s->off_all();
        break;
    }
    drain();
    check_sockets();
  }

  sc::socket* some_socket() { return manager_->find(namespaces[in_.below(3)]); }

  std::string handshake() {
    return std::string("0{\"sid\":\"e\",\"upgrades\":[") + (in_.flag() ? "\"websocket\"" : "") +
           "],\"pingInterval\":" + std::to_string(50 + in_.byte()) + ",\"pingTimeout\":50}";
  }

  std::string packet_from_fields() {
    static const char* const data[] = {"",
                                       R"({"sid":"s1"})",
                                       R"({"sid":"s1","pid":"p1"})",
                                       R"({"message":"no","data":{"x":1}})",
                                       R"(["ev",1,"off"])",
                                       R"(["ev",{"_placeholder":true,"num":0}])",
                                       R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                                       R"(["a"])",
                                       R"([])",
                                       R"("str")",
                                       R"(["connect"])",
                                       R"([1.5,null])"};
    std::string out(1, static_cast<char>('0' + in_.below(7)));
    if (in_.flag()) out += std::to_string(in_.below(3)) + "-";
    const char* nsp = namespaces[in_.below(3)];
    if (std::string(nsp) != "/") out += std::string(nsp) + ",";
    if (in_.flag()) out += std::to_string(in_.below(4));
    out += data[in_.below(12)];
    return out;
  }

  void server_says(frame_kind kind, const std::string& bytes) {
    if (ws_) {
      manager_->websocket_message(*ws_, kind, bytes, now_);
    } else if (get_) {
      const connection_id id = *get_;
      get_.reset();
      std::string body;
      if (kind == frame_kind::text) {
        body = bytes;
      } else {
        body = "b";
        base64_encode(bytes, body);
      }
      manager_->http_response_received(id, 200, {}, body, now_);
    }
  }

  void emit() {
    sc::socket* s = some_socket();
    if (!s) return;
    sc::emit_options o;
    o.is_volatile = in_.below(4) == 0;
    if (in_.flag()) o.timeout = millis(in_.byte());
    value args = in_.flag() ? value::array({value::binary(std::vector<std::uint8_t>(in_.below(100), 7))})
                            : value::array({std::string(in_.below(100), 'x')});
    if (in_.flag()) {
      std::error_code refused;
      auto calls = std::make_shared<int>(0);
      auto refused_flag = std::make_shared<bool>(false);
      refused = s->emit_with_ack("e", args, [calls, refused_flag](std::error_code, const value&) {
        EIO_FUZZ_CHECK(!*refused_flag);
        EIO_FUZZ_CHECK(++*calls == 1);
      }, now_, o);
      *refused_flag = static_cast<bool>(refused);
      if (refused) EIO_FUZZ_CHECK(*calls == 0);
    } else {
      (void)s->emit("e", args, now_, o);
    }
  }

  void advance(millis d) {
    const millis target = now_ + d;
    for (int guard = 0; guard < 10000; ++guard) {
      const auto due = manager_->next_deadline();
      if (!due || *due > target) break;
      if (*due > now_) now_ = *due;
      manager_->on_timeout(now_);
      drain();
      const auto next = manager_->next_deadline();
      EIO_FUZZ_CHECK(!next || *next > now_);
    }
    now_ = target;
  }

  void drain() {
    while (auto a = manager_->next_action()) {
      if (auto* r = std::get_if<client_http_request>(&*a)) {
        (r->method == "GET" ? get_ : post_) = r->request_id;
      } else if (auto* o = std::get_if<client_websocket_open>(&*a)) {
        EIO_FUZZ_CHECK(opened_.insert(o->connection).second);
        ws_ = o->connection;
      } else if (auto* s = std::get_if<client_websocket_send>(&*a)) {
        EIO_FUZZ_CHECK(opened_.count(s->connection) == 1 && closed_.count(s->connection) == 0);
      } else if (auto* c = std::get_if<client_websocket_close>(&*a)) {
        EIO_FUZZ_CHECK(opened_.count(c->connection) == 1);
        EIO_FUZZ_CHECK(closed_.insert(c->connection).second);
        if (ws_ == c->connection) ws_.reset();
      }
    }
  }

  void check_sockets() {
    for (const char* nsp : namespaces) {
      const sc::socket* s = manager_->find(nsp);
      if (!s) continue;
      if (s->connected()) EIO_FUZZ_CHECK(s->id().has_value() && s->active());
      EIO_FUZZ_CHECK(s->buffered_packets() <= socket_options_.max_buffered_packets);
      EIO_FUZZ_CHECK(s->buffered_bytes() <= socket_options_.max_buffered_bytes);
    }
  }

  reader& in_;
  sc::manager_options options_;
  sc::socket_options socket_options_;
  std::unique_ptr<sc::manager> manager_;
  millis now_{0};
  std::optional<connection_id> ws_;
  std::optional<connection_id> get_;
  std::optional<connection_id> post_;
  std::set<connection_id> opened_;
  std::set<connection_id> closed_;
  std::vector<sc::ack_responder> responders_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  harness h(in);
  h.run();
  return 0;
}
