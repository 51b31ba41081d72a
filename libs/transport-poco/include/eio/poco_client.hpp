// eio::poco_client: an Engine.IO client on Poco Net, for one URL.
//
// It runs an eio::client (the sans-I/O core) and performs its actions:
// HTTP requests with Poco's HTTPClientSession / HTTPSClientSession (a fresh
// connection per request, so a long-poll GET and a POST are in flight
// together), WebSocket connections with our own RFC 6455 handshake and
// eio::websocket codec over a StreamSocket or SecureStreamSocket, TLS with
// certificate verification unless `insecure`.
//
// Threads: one driver thread owns the eio::client; every HTTP request and
// every WebSocket connection runs its blocking I/O on a small worker thread
// that posts the outcome back to the driver through a queue. The
// application calls send()/close() from any thread and reads what happened,
// in order, with next().
//
// Besides the core's events, next() reports what a diagnostic tool needs to
// see of the wire (when poco_client_options::observe): every HTTP exchange
// (status, headers, body, time), every WebSocket handshake (accepted, or the
// HTTP status and headers that refused it) and every WebSocket message that
// arrived.
//
// Its I/O half, eio::poco_client_io, carries out eio::client actions for any
// driver: poco_client's, and eio::socketio_poco's (libs/socketio-poco),
// whose Socket.IO manager owns one eio::client per reconnection attempt.
//
// The blocking helpers below (parse_endpoint, check_connect, http_exchange_once)
// are the same machinery for one step at a time.
#pragma once

#include <eio/client.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eio {

// Where an Engine.IO endpoint is: http://, https://, ws:// or wss://.
struct endpoint {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path = "/engine.io/";  // always ends with '/'
  std::vector<std::pair<std::string, std::string>> query;  // from the URL, decoded

  // "host" or "host:port" when the port is not the scheme's default (the Host header).
  std::string authority() const;
};

// Parses `url`. An empty path or "/" means "/engine.io/"; a path without a
// trailing slash gets one (as engine.io-client's addTrailingSlash). Returns
// nullopt with `error` set for another scheme, no host, or a bad port.
std::optional<endpoint> parse_endpoint(std::string_view url, std::string& error);

struct poco_client_options {
  // version, transports, upgrade; its path and query are taken from the URL.
  client_options core;
  // Sent with every HTTP request and with the WebSocket handshake (Origin,
  // Authorization, Cookie, ...).
  header_list headers;
  millis connect_timeout{10'000};  // TCP connect, and the TLS handshake
  millis request_timeout{10'000};  // an HTTP exchange or WebSocket handshake after the connect;
                                   // a long-poll GET gets pingInterval + pingTimeout more
  bool insecure = false;           // TLS: accept any certificate and host name
  bool observe = false;            // report http_exchange / websocket_handshake / websocket_received
  // The largest WebSocket message taken from the server; past it the
  // connection closes with 1009 (a server cannot make us buffer without end).
  std::size_t max_message_bytes = 100 * 1024 * 1024;
};

// One HTTP exchange. status 0: no response (`error` says why).
struct http_exchange {
  connection_id request_id = 0;
  std::string method;
  std::string target;
  std::string request_body;
  int status = 0;
  std::string reason;  // the status line's reason phrase
  header_list headers;
  std::string body;
  std::string error;
  millis connect_time{0};  // TCP (and TLS) connect
  millis elapsed{0};       // connect to the whole response
};

// One WebSocket opening handshake (RFC 6455 section 4.1).
struct websocket_handshake {
  connection_id connection = 0;
  std::string target;
  bool accepted = false;
  int status = 0;  // 0: no HTTP response (connect failure, timeout)
  std::string reason;
  header_list headers;
  std::string body;   // of a refusal, as far as it came with the head or Content-Length says
  std::string error;  // why it was not accepted
  millis elapsed{0};
};

// A whole WebSocket message that arrived (Engine.IO frame, undecoded).
struct websocket_received {
  connection_id connection = 0;
  frame_kind kind = frame_kind::text;
  std::string data;
};

using poco_client_event = std::variant<client_event, http_exchange, websocket_handshake, websocket_received>;

// ---------------------------------------------------------------- the I/O half

// The server closed a WebSocket, or it dropped.
struct websocket_ended {
  connection_id connection = 0;
};

// What a worker of poco_client_io found: an HTTP exchange (status 0: no
// response), a WebSocket handshake (accepted or not), a WebSocket message,
// the end of a WebSocket. The driver turns each into the eio::client input
// of the same name (http_response_received / http_failed, websocket_opened /
// websocket_failed, websocket_message, websocket_closed).
using poco_client_io_report = std::variant<http_exchange, websocket_handshake, websocket_received, websocket_ended>;

// Carries out eio::client actions (client_http_request, client_websocket_open,
// _send, _close) over Poco Net: each HTTP request on a fresh connection and
// each WebSocket on a worker thread of its own, as poco_client documents.
// perform(), reap() and stop() are the driver's (one thread); `report` is
// called on worker threads, in order for each connection, until stop()
// returns. Connection ids are the driver's: unique among those it uses.
class poco_client_io {
public:
  // Uses `options`' headers (every request and WebSocket handshake),
  // timeouts, insecure and max_message_bytes; not its core.
  poco_client_io(endpoint where, poco_client_options options, std::function<void(poco_client_io_report)> report);
  // stop()
  ~poco_client_io();
  poco_client_io(const poco_client_io&) = delete;
  poco_client_io& operator=(const poco_client_io&) = delete;

  const endpoint& where() const noexcept;
  const poco_client_options& options() const noexcept;

  // Starts what `action` asks. `long_poll`: added to request_timeout for a
  // GET (the session's pingInterval + pingTimeout, which the server may
  // hold a long-poll for). Nothing once stopped.
  void perform(client_action what, millis long_poll = millis(0));
  // Joins the workers that finished (call from time to time).
  void reap();
  // Aborts every WebSocket and request in flight and joins every worker.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// ---------------------------------------------------------------- the client

class poco_client {
public:
  // Throws std::invalid_argument for a bad URL.
  poco_client(std::string_view url, poco_client_options options);
  // Closes every connection (no close packet: call close() first for a
  // clean end) and joins every thread.
  ~poco_client();
  poco_client(const poco_client&) = delete;
  poco_client& operator=(const poco_client&) = delete;

  const endpoint& target() const noexcept;

  // Starts the handshake (once).
  void open();
  // Queue a message / close the session (the core's send() and close()).
  void send(std::string data, frame_kind kind = frame_kind::text);
  void close();

  // The next thing that happened, waiting up to `timeout`; nullopt when
  // nothing did by then.
  std::optional<poco_client_event> next(millis timeout);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// ---------------------------------------------------------------- one step at a time

struct connect_report {
  bool tcp_connected = false;
  bool tls_ok = false;  // also false without TLS
  std::string error;    // of the step that failed
  std::string address;  // the resolved address connected to
  millis tcp_time{0};
  millis tls_time{0};
  // TLS: the server's certificate (also when verification failed, if the
  // handshake got that far: empty then).
  std::string certificate_subject;
  std::string certificate_issuer;
  std::string certificate_expires;  // ISO 8601, UTC
  long certificate_days_left = 0;
};

// Connects to `where` (and completes the TLS handshake for https/wss), then
// closes. Never throws.
connect_report check_connect(const endpoint& where, const poco_client_options& options);

// One HTTP request on a fresh connection, blocking, bounded by the
// options' timeouts (`request_timeout` overrides options.request_timeout).
// `headers` come after options.headers. Never throws: a failure is an
// exchange with status 0 and `error`.
http_exchange http_exchange_once(const endpoint& where, const poco_client_options& options, std::string method,
                                 std::string target, const header_list& headers, std::string body,
                                 std::string content_type, std::optional<millis> request_timeout = std::nullopt);

}  // namespace eio
