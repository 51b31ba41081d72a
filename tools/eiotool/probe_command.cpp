#include "probe_command.hpp"

#include <eio/parser.hpp>
#include <eio/poco_client.hpp>
#include <eio/socketio_poco_client.hpp>

#include <CLI/CLI.hpp>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace eio::tool {
namespace {

struct probe_arguments {
  std::string url;
  std::string transport = "upgrade";
  int eio = 4;
  std::vector<std::string> headers;
  std::string origin;
  std::vector<std::string> sends;
  bool expect_echo = false;
  double listen = 0;  // seconds
  unsigned count = 1;
  bool json = false;
  long timeout = 10000;  // ms, per step
  bool insecure = false;
  // Socket.IO: a CONNECT to `nsp` after the Engine.IO steps, and an emit
  // with an acknowledgement when `emit` is set.
  bool socketio = false;
  std::string nsp = "/";
  std::string auth;  // JSON object
  std::string emit;
  std::string emit_args = "[]";  // JSON array (or one value)
};

const char* const probe_footer = R"text(Examples:
  eiotool probe http://127.0.0.1:3000/
  eiotool probe https://chat.example/socket.io/ --origin https://app.example
  eiotool probe ws://127.0.0.1:3000/ --transport websocket --send hi --expect-echo
  eiotool probe http://127.0.0.1:3000/ --eio 3 --listen 30 --json
  eiotool probe http://127.0.0.1:3000/ --socketio --namespace /admin --auth '{"token":"abc"}'
  eiotool probe https://chat.example/ --socketio --emit ping --args '["hello", 1]'

Steps: connect (TCP/TLS, certificate), handshake (status, sid, upgrades,
timings, CORS for --origin, Set-Cookie), same sid (a second request: a load
balancer without sticky sessions fails here), upgrade (polling -> websocket
and its probe), messages (--send, --expect-echo, --listen), heartbeat (the
first ping; waited for when pingInterval fits in --timeout or --listen).
With --socketio (the path defaults to /socket.io/): socketio (a CONNECT to
--namespace with --auth, answered with its sid, and its pid when the server
has connection state recovery on, or refused: the CONNECT_ERROR's message
and data), emit (--emit EVENT with --args, and its acknowledgement).
Exit status: 0 every step passed, 1 the endpoint answered but a step failed
(the verdict names it), 2 unreachable or bad usage.)text";

using steady = std::chrono::steady_clock;

millis since(steady::time_point start) {
  return std::chrono::duration_cast<millis>(steady::now() - start);
}

std::string ms(millis m) { return std::to_string(m.count()) + " ms"; }

// Engine.IO's HTTP error codes (engine.io Server.errorMessages) and what
// each means for a person looking at a deployment.
std::string error_meaning(int code) {
  switch (code) {
    case 0: return "the server does not enable this transport";
    case 1: return "the server does not know this session";
    case 2: return "a handshake must be a GET";
    case 3: return "the server found the request malformed";
    case 4: return "the server's allowRequest refused it (authentication, origin or another policy)";
    case 5: return "the server does not speak this protocol version (v3 needs allowEIO3)";
    default: return "an error code engine.io does not define";
  }
}

// "403 Forbidden, Engine.IO error 4 "Forbidden": <meaning>" from a refusal.
std::string describe_refusal(int status, const std::string& reason, const std::string& body,
                             Poco::JSON::Object::Ptr into) {
  std::string text = std::to_string(status);
  if (!reason.empty()) text += " " + reason;
  into->set("status", status);
  try {
    Poco::JSON::Parser parser;
    const auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    if (object && object->has("code")) {
      const int code = object->getValue<int>("code");
      const std::string message = object->optValue<std::string>("message", "");
      Poco::JSON::Object::Ptr error = new Poco::JSON::Object(true);
      error->set("code", code);
      error->set("message", message);
      error->set("meaning", error_meaning(code));
      into->set("error", error);
      return text + ", Engine.IO error " + std::to_string(code) + " \"" + message + "\": " + error_meaning(code);
    }
  } catch (const std::exception&) {  // not JSON (Poco::Exception is a std::exception)
  }
  if (!body.empty()) text += ": " + body.substr(0, 200);
  return text;
}

enum class outcome { pass, fail, skip };

struct step {
  std::string name;
  outcome result = outcome::skip;
  std::string summary;
  std::vector<std::string> notes;  // extra lines for people
  Poco::JSON::Object::Ptr details = new Poco::JSON::Object(true);
};

// The packets of a polling body or WebSocket message, for watching pings.
std::vector<packet_type> packet_types(protocol_version version, std::string_view body, bool binary_payload) {
  std::vector<packet> packets;
  payload_decoder decoder(version, binary_payload ? payload_format::binary : payload_format::text);
  (void)decoder.decode(body, packets);
  std::vector<packet_type> types;
  for (const packet& p : packets) types.push_back(p.type);
  return types;
}

class probe {
public:
  explicit probe(const probe_arguments& args) : args_(args) {}

  int run() {
    std::string error;
    url_ = args_.url;
    if (args_.socketio) {
      if (!socketio_usage()) return exit_usage;
      // A Socket.IO server's Engine.IO path is /socket.io/ unless said otherwise.
      try {
        Poco::URI uri(url_);
        if (uri.getPath().empty() || uri.getPath() == "/") {
          uri.setPath("/socket.io/");
          url_ = uri.toString();
        }
      } catch (const Poco::Exception&) {
        // parse_endpoint below says what is wrong
      }
    }
    const std::optional<endpoint> where = parse_endpoint(url_, error);
    if (!where) {
      std::fprintf(stderr, "eiotool probe: %s\n", error.c_str());
      return exit_usage;
    }
    where_ = *where;
    version_ = args_.eio == 3 ? protocol_version::v3 : protocol_version::v4;
    options_.core.version = version_;
    options_.core.polling = args_.transport != "websocket";
    options_.core.websocket = args_.transport != "polling";
    options_.core.upgrade = args_.transport == "upgrade";
    options_.connect_timeout = millis(args_.timeout);
    options_.request_timeout = millis(args_.timeout);
    options_.insecure = args_.insecure;
    options_.observe = true;
    for (const std::string& line : args_.headers) {
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos || colon == 0) {
        std::fprintf(stderr, "eiotool probe: --header needs 'Name: value', got '%s'\n", line.c_str());
        return exit_usage;
      }
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      options_.headers.push_back({line.substr(0, colon), value});
    }
    if (!args_.origin.empty()) options_.headers.push_back({"Origin", args_.origin});

    int status = steps();
    print(status);
    return status;
  }

private:
  // ---------------------------------------------------------------- steps

  int steps() {
    if (!connect_step()) return unreachable_ ? exit_usage : exit_failure;
    if (args_.transport != "websocket") {
      if (handshake_step()) same_sid_step();
    }
    session_steps();
    if (args_.socketio) socketio_steps();
    for (const step& s : steps_) {
      if (s.result == outcome::fail) return exit_failure;
    }
    return exit_ok;
  }

  step& add(std::string name) {
    steps_.emplace_back();
    steps_.back().name = std::move(name);
    return steps_.back();
  }

  bool connect_step() {
    step& s = add("connect");
    const connect_report r = check_connect(where_, options_);
    s.details->set("address", r.address);
    s.details->set("tcpMs", r.tcp_time.count());
    if (!r.tcp_connected) {
      s.result = outcome::fail;
      s.summary = "cannot connect to " + where_.authority() + ": " + r.error;
      unreachable_ = true;
      return false;
    }
    if (where_.tls) {
      s.details->set("tlsMs", r.tls_time.count());
      if (!r.tls_ok) {
        s.result = outcome::fail;
        s.summary = "TCP connected in " + ms(r.tcp_time) + ", TLS failed: " + r.error;
        if (!args_.insecure) s.notes.push_back("a self-signed or private-CA certificate? --insecure skips the check");
        return false;
      }
      Poco::JSON::Object::Ptr certificate = new Poco::JSON::Object(true);
      certificate->set("subject", r.certificate_subject);
      certificate->set("issuer", r.certificate_issuer);
      certificate->set("expires", r.certificate_expires);
      certificate->set("daysLeft", r.certificate_days_left);
      s.details->set("certificate", certificate);
      s.result = outcome::pass;
      s.summary = r.address + " in " + ms(r.tcp_time) + ", TLS in " + ms(r.tls_time) +
                  (args_.insecure ? " (not verified: --insecure)" : " (verified)");
      s.notes.push_back("certificate " + r.certificate_subject + ", issuer " + r.certificate_issuer + ", expires " +
                        r.certificate_expires + " (" + std::to_string(r.certificate_days_left) + " days)");
      if (r.certificate_days_left < 14) {
        s.result = outcome::fail;
        s.summary += ": the certificate expires in " + std::to_string(r.certificate_days_left) + " days";
      }
      return s.result == outcome::pass;
    }
    s.result = outcome::pass;
    s.summary = r.address + " in " + ms(r.tcp_time);
    return true;
  }

  std::string polling_target(bool with_sid) const {
    std::string t = where_.path + "?";
    for (const auto& [name, value] : where_.query) t += name + "=" + value + "&";
    t += version_ == protocol_version::v4 ? "EIO=4" : "EIO=3";
    t += "&transport=polling";
    if (with_sid) t += "&sid=" + sid_;
    return t;
  }

  bool handshake_step() {
    step& s = add("handshake");
    const http_exchange x = http_exchange_once(where_, options_, "GET", polling_target(false), {}, {}, {});
    s.details->set("ms", x.elapsed.count());
    if (x.status == 0) {
      s.result = outcome::fail;
      s.summary = "no answer to the handshake GET: " + x.error;
      return false;
    }
    s.details->set("status", x.status);
    if (x.status != 200) {
      s.result = outcome::fail;
      s.summary = "refused: " + describe_refusal(x.status, x.reason, x.body, s.details);
      return false;
    }
    const bool binary = find_header(x.headers, "content-type").value_or("") == "application/octet-stream";
    std::vector<packet> packets;
    payload_decoder decoder(version_, binary ? payload_format::binary : payload_format::text);
    const decode_error error = decoder.decode(x.body, packets);
    if (error || packets.empty() || packets.front().type != packet_type::open) {
      s.result = outcome::fail;
      s.summary = "200 but not an Engine.IO open packet: " + x.body.substr(0, 120);
      s.notes.push_back("is the path right? (Socket.IO uses /socket.io/, plain Engine.IO /engine.io/)");
      return false;
    }
    try {
      Poco::JSON::Parser parser;
      const auto open = parser.parse(std::string(packets.front().data)).extract<Poco::JSON::Object::Ptr>();
      sid_ = open->getValue<std::string>("sid");
      s.details->set("sid", sid_);
      Poco::JSON::Array::Ptr upgrades = open->getArray("upgrades");
      s.details->set("upgrades", upgrades ? upgrades : Poco::JSON::Array::Ptr(new Poco::JSON::Array));
      std::string upgrade_list;
      for (std::size_t i = 0; upgrades && i < upgrades->size(); ++i) {
        upgrade_list += (i ? "," : "") + upgrades->getElement<std::string>(static_cast<unsigned>(i));
      }
      s.details->set("pingInterval", open->getValue<long>("pingInterval"));
      s.details->set("pingTimeout", open->getValue<long>("pingTimeout"));
      std::string summary = "200 in " + ms(x.elapsed) + ": sid " + sid_ + ", upgrades [" + upgrade_list + "], pingInterval " +
                            std::to_string(open->getValue<long>("pingInterval")) + ", pingTimeout " +
                            std::to_string(open->getValue<long>("pingTimeout"));
      if (open->has("maxPayload")) {
        s.details->set("maxPayload", open->getValue<long>("maxPayload"));
        summary += ", maxPayload " + std::to_string(open->getValue<long>("maxPayload"));
      }
      s.summary = summary;
    } catch (const Poco::Exception& e) {
      s.result = outcome::fail;
      s.summary = "bad handshake JSON: " + e.displayText();
      return false;
    }
    s.result = outcome::pass;
    // CORS (only a browser enforces it, but a browser is who will fail).
    if (!args_.origin.empty()) {
      const auto allow = find_header(x.headers, "access-control-allow-origin");
      const auto credentials = find_header(x.headers, "access-control-allow-credentials");
      Poco::JSON::Object::Ptr cors = new Poco::JSON::Object(true);
      cors->set("allowOrigin", allow ? std::string(*allow) : std::string());
      cors->set("allowCredentials", credentials ? std::string(*credentials) : std::string());
      s.details->set("cors", cors);
      if (!allow) {
        s.result = outcome::fail;
        s.notes.push_back("CORS: no Access-Control-Allow-Origin for origin " + args_.origin +
                          ": a browser on that origin cannot use polling (server option cors.origin)");
      } else if (*allow != args_.origin && *allow != "*") {
        s.result = outcome::fail;
        s.notes.push_back("CORS: Access-Control-Allow-Origin is " + std::string(*allow) + ", not " + args_.origin);
      } else {
        s.notes.push_back("CORS: Access-Control-Allow-Origin " + std::string(*allow) +
                          (credentials ? ", Access-Control-Allow-Credentials " + std::string(*credentials) : ""));
      }
      if (s.result == outcome::fail) s.summary = "CORS refuses origin " + args_.origin + "; " + s.summary;
    }
    Poco::JSON::Array::Ptr cookies = new Poco::JSON::Array;
    for (const header& h : x.headers) {
      if (h.name.size() == 10 && Poco::icompare(h.name, "set-cookie") == 0) cookies->add(h.value);
    }
    s.details->set("setCookie", cookies);
    s.notes.push_back(cookies->size() == 0 ? std::string("Set-Cookie: none (no sticky-session cookie from this server)")
                                            : "Set-Cookie: " + cookies->getElement<std::string>(0));
    return true;
  }

  bool same_sid_step() {
    step& s = add("same-sid");
    // A noop packet: harmless for the session, answered at once ("ok").
    std::string body;
    const packet noop{packet_type::noop, false, {}};
    encode_payload(&noop, 1, version_, false, body);
    const http_exchange x = http_exchange_once(where_, options_, "POST", polling_target(true), {}, body,
                                               "text/plain;charset=UTF-8");
    s.details->set("ms", x.elapsed.count());
    if (x.status == 200) {
      s.result = outcome::pass;
      s.summary = "a second request with sid " + sid_ + " answered 200 in " + ms(x.elapsed);
    } else if (x.status == 0) {
      s.result = outcome::fail;
      s.summary = "no answer to the second request: " + x.error;
    } else {
      s.result = outcome::fail;
      const std::string refusal = describe_refusal(x.status, x.reason, x.body, s.details);
      const auto error = s.details->getObject("error");
      if (error && error->getValue<int>("code") == 1) {
        s.details->set("problem", "sticky sessions");
        s.summary = "\"Session ID unknown\" on the second request with the sid of the handshake: the requests reach "
                    "different servers, a load balancer without sticky sessions";
        s.notes.push_back("fix: make the balancer sticky (nginx: ip_hash or hash $cookie_...; HAProxy: balance source "
                          "or a cookie; cloud balancers: session affinity), or let clients use --transport websocket "
                          "only (one connection, one server)");
      } else {
        s.summary = "the second request with the same sid was refused: " + refusal;
      }
    }
    // End the probe's raw session; its answer does not matter.
    std::string close_body;
    const packet close_packet{packet_type::close, false, {}};
    encode_payload(&close_packet, 1, version_, false, close_body);
    (void)http_exchange_once(where_, options_, "POST", polling_target(true), {}, close_body, "text/plain;charset=UTF-8");
    return s.result == outcome::pass;
  }

  // ---------------------------------------------------------------- the client session

  // Reads the client's events until `done()` or the deadline; false on the deadline.
  template <typename Done>
  bool pump(steady::time_point deadline, Done done) {
    while (!done()) {
      const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
      if (left.count() <= 0) return false;
      if (auto e = client_->next(left)) take(*e);
    }
    return true;
  }

  void take(const poco_client_event& e) {
    const millis at = since(start_);
    if (const auto* x = std::get_if<http_exchange>(&e)) {
      if (x->method == "GET" && x->status == 200) {
        const bool binary = find_header(x->headers, "content-type").value_or("") == "application/octet-stream";
        for (const packet_type t : packet_types(version_, x->body, binary)) heartbeat_packet(t, at);
      }
      if (x->status != 200 && !http_failure_) http_failure_ = *x;
    } else if (const auto* h = std::get_if<websocket_handshake>(&e)) {
      ws_handshakes_.push_back(*h);
      if (h->accepted) ws_accepted_at_ = at;
    } else if (const auto* m = std::get_if<websocket_received>(&e)) {
      packet p;
      std::string scratch;
      if (!decode_frame(m->data, m->kind, version_, p, scratch)) heartbeat_packet(p.type, at);
    } else if (const auto* c = std::get_if<client_event>(&e)) {
      if (const auto* o = std::get_if<client_open_event>(c)) {
        open_ = *o;
        opened_at_ = at;
      } else if (const auto* msg = std::get_if<client_message_event>(c)) {
        inbox_.push_back(*msg);
        inbox_times_.push_back(at);
      } else if (std::get_if<client_upgrading_event>(c)) {
        upgrading_at_ = at;
      } else if (std::get_if<client_upgrade_event>(c)) {
        upgraded_at_ = at;
      } else if (const auto* cl = std::get_if<client_close_event>(c)) {
        closed_ = *cl;
      } else if (const auto* er = std::get_if<client_error_event>(c)) {
        errors_.push_back(er->message);
      }
    }
  }

  void heartbeat_packet(packet_type t, millis at) {
    // v4: the server pings. v3: the client pings and the server answers.
    const packet_type beat = version_ == protocol_version::v4 ? packet_type::ping : packet_type::pong;
    if (t == beat && opened_at_) beats_.push_back(at);
  }

  std::string session_failure() const {
    std::string text = closed_ ? std::string(to_string(closed_->reason)) + (closed_->description.empty() ? "" : " (" + closed_->description + ")")
                               : "no answer within " + std::to_string(args_.timeout) + " ms";
    return text;
  }

  void session_steps() {
    start_ = steady::now();
    client_ = std::make_unique<poco_client>(url_, options_);
    client_->open();
    const millis step_time(args_.timeout);
    const bool websocket_only = args_.transport == "websocket";
    step& s = add(websocket_only ? "handshake" : "session");
    pump(steady::now() + step_time, [&] { return open_ || closed_; });
    if (!open_) {
      s.result = outcome::fail;
      if (websocket_only && !ws_handshakes_.empty() && !ws_handshakes_.front().accepted) {
        const websocket_handshake& h = ws_handshakes_.front();
        s.summary = h.status ? "websocket refused: " + describe_refusal(h.status, h.reason, h.body, s.details)
                             : "websocket failed: " + h.error;
      } else if (http_failure_ && http_failure_->status != 0) {
        s.summary = "the client session failed: " +
                    describe_refusal(http_failure_->status, http_failure_->reason, http_failure_->body, s.details);
      } else {
        s.summary = "the client session did not open: " + session_failure();
      }
      skip_rest("the session did not open");
      return finish();
    }
    const handshake_info& hi = open_->handshake;
    s.details->set("sid", hi.sid);
    s.details->set("transport", std::string(to_string(open_->transport)));
    s.details->set("ms", opened_at_->count());
    Poco::JSON::Array::Ptr upgrades = new Poco::JSON::Array;
    std::string upgrade_list;
    for (const std::string& u : hi.upgrades) {
      upgrades->add(u);
      upgrade_list += (upgrade_list.empty() ? "" : ",") + u;
    }
    s.details->set("upgrades", upgrades);
    s.details->set("pingInterval", static_cast<long>(hi.ping_interval.count()));
    s.details->set("pingTimeout", static_cast<long>(hi.ping_timeout.count()));
    if (hi.max_payload) s.details->set("maxPayload", static_cast<unsigned long>(hi.max_payload));
    s.result = outcome::pass;
    s.summary = std::string(websocket_only ? "websocket" : "polling") + " session open in " + ms(*opened_at_) + ": sid " +
                hi.sid + ", upgrades [" + upgrade_list + "], pingInterval " + std::to_string(hi.ping_interval.count()) +
                ", pingTimeout " + std::to_string(hi.ping_timeout.count()) +
                (hi.max_payload ? ", maxPayload " + std::to_string(hi.max_payload) : "");

    if (args_.transport == "upgrade") upgrade_step(hi);
    messages_step();
    listen_step();
    heartbeat_step(hi);
    return finish();
  }

  void upgrade_step(const handshake_info& hi) {
    step& s = add("upgrade");
    bool offered = false;
    for (const std::string& u : hi.upgrades) offered = offered || u == "websocket";
    if (!offered) {
      s.result = outcome::fail;
      s.summary = "the server offers no websocket upgrade (upgrades [" + std::string(hi.upgrades.empty() ? "" : "...") +
                  "]): websocket is disabled on the server, or upgrades are off";
      s.details->set("offered", false);
      return;
    }
    s.details->set("offered", true);
    const std::size_t errors_before = errors_.size();
    const bool done = pump(steady::now() + millis(args_.timeout),
                           [&] { return upgraded_at_ || closed_ || errors_.size() > errors_before; });
    if (upgraded_at_) {
      s.result = outcome::pass;
      const millis rtt = *upgrading_at_ - ws_accepted_at_.value_or(*upgrading_at_);
      s.details->set("ms", (*upgraded_at_ - *opened_at_).count());
      s.details->set("probeRoundTripMs", rtt.count());
      s.summary = "websocket accepted, probe answered in " + ms(rtt) + ", upgraded " + ms(*upgraded_at_ - *opened_at_) +
                  " after the handshake";
      return;
    }
    s.result = outcome::fail;
    const websocket_handshake* h = ws_handshakes_.empty() ? nullptr : &ws_handshakes_.back();
    if (h && !h->accepted) {
      if (h->status == 0) {
        s.summary = "the websocket connection failed: " + h->error;
      } else if (h->status == 101) {
        s.summary = "the websocket handshake was answered wrongly: " + h->error;
      } else {
        const bool stripped = !find_header(h->headers, "upgrade");
        s.summary = "websocket refused: " + describe_refusal(h->status, h->reason, h->body, s.details);
        if (stripped && (h->status == 200 || h->status == 400)) {
          s.notes.push_back("no Upgrade header in the answer: a proxy that does not pass \"Upgrade: websocket\" on "
                            "(nginx: proxy_http_version 1.1 and proxy_set_header Upgrade/Connection), or websocket "
                            "disabled on the server");
        }
      }
    } else if (!done) {
      s.summary = h ? "websocket connected but the probe got no answer within " + std::to_string(args_.timeout) + " ms"
                    : "no websocket connection within " + std::to_string(args_.timeout) + " ms";
    } else if (errors_.size() > errors_before) {
      s.summary = "upgrade failed: " + errors_.back();
    } else {
      s.summary = "the session closed during the upgrade: " + session_failure();
    }
  }

  void messages_step() {
    step& s = add("messages");
    if (args_.sends.empty()) {
      s.result = outcome::skip;
      s.summary = "nothing to send (--send TEXT)";
      return;
    }
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    s.details->set("items", items);
    s.result = outcome::pass;
    std::size_t sent = 0;
    millis worst{0};
    for (unsigned round = 0; round < args_.count && s.result == outcome::pass; ++round) {
      for (const std::string& text : args_.sends) {
        const auto t0 = steady::now();
        client_->send(text, frame_kind::text);
        ++sent;
        Poco::JSON::Object::Ptr item = new Poco::JSON::Object(true);
        item->set("sent", text);
        items->add(item);
        if (!args_.expect_echo) continue;
        const std::size_t seen = inbox_.size();
        pump(t0 + millis(args_.timeout), [&] { return inbox_.size() > seen || closed_; });
        if (inbox_.size() == seen) {
          s.result = outcome::fail;
          s.summary = "no echo of \"" + text + "\" within " + std::to_string(args_.timeout) + " ms" +
                      (closed_ ? " (session closed: " + session_failure() + ")" : "");
          break;
        }
        const client_message_event& got = inbox_.back();
        const millis rtt = std::chrono::duration_cast<millis>(steady::now() - t0);
        worst = std::max(worst, rtt);
        item->set("rttMs", rtt.count());
        item->set("received", got.data);
        if (got.data != text || got.kind == frame_kind::binary) {
          s.result = outcome::fail;
          s.summary = "sent \"" + text + "\", got back \"" + got.data.substr(0, 80) + "\"";
          break;
        }
        s.notes.push_back("\"" + text + "\" echoed in " + ms(rtt));
        inbox_.clear();
        inbox_times_.clear();
      }
    }
    if (s.result != outcome::pass) return;
    if (args_.expect_echo) {
      s.summary = std::to_string(sent) + " message(s) echoed, slowest " + ms(worst);
      return;
    }
    // Without --expect-echo: show what came back shortly after.
    pump(steady::now() + std::min(millis(args_.timeout), millis(1000)), [] { return false; });
    s.summary = std::to_string(sent) + " sent, " + std::to_string(inbox_.size()) + " received";
    Poco::JSON::Array::Ptr received = new Poco::JSON::Array;
    for (const client_message_event& m : inbox_) {
      received->add(m.data);
      s.notes.push_back("< " + m.data.substr(0, 200));
    }
    s.details->set("received", received);
    inbox_.clear();
    inbox_times_.clear();
    if (closed_) {
      s.result = outcome::fail;
      s.summary += "; the session closed: " + session_failure();
    }
  }

  void listen_step() {
    if (args_.listen <= 0) return;
    step& s = add("listen");
    const auto until = steady::now() + millis(static_cast<long>(args_.listen * 1000));
    Poco::JSON::Array::Ptr received = new Poco::JSON::Array;
    std::size_t total = 0;
    const bool stop_at_count = args_.sends.empty() && args_.count > 1;
    while (steady::now() < until && !closed_) {
      pump(until, [&] { return !inbox_.empty() || closed_; });
      for (std::size_t i = 0; i < inbox_.size(); ++i) {
        ++total;
        received->add(inbox_[i].data);
        const std::string line = "< +" + ms(inbox_times_[i]) + " " + inbox_[i].data.substr(0, 200);
        if (!args_.json) std::printf("  %s\n", line.c_str());
      }
      inbox_.clear();
      inbox_times_.clear();
      if (stop_at_count && total >= args_.count) break;
    }
    std::fflush(stdout);
    s.details->set("received", received);
    s.result = closed_ ? outcome::fail : outcome::pass;
    s.summary = std::to_string(total) + " message(s) in " + std::to_string(args_.listen) + " s";
    if (closed_) s.summary += "; the session closed: " + session_failure();
  }

  void heartbeat_step(const handshake_info& hi) {
    step& s = add("heartbeat");
    const millis interval = hi.ping_interval;
    const millis budget = std::max(millis(args_.timeout), millis(static_cast<long>(args_.listen * 1000)));
    const bool waitable = interval <= budget;
    if (beats_.empty() && waitable && !closed_) {
      pump(start_ + *opened_at_ + interval + hi.ping_timeout, [&] { return !beats_.empty() || closed_; });
    }
    const std::string what = version_ == protocol_version::v4 ? "ping" : "pong (to the client's ping)";
    if (!beats_.empty()) {
      const millis first = beats_.front() - *opened_at_;
      s.details->set("firstPingMs", first.count());
      s.summary = "first " + what + " " + ms(first) + " after the handshake (pingInterval " + ms(interval) + ")";
      if (beats_.size() > 1) {
        const millis gap = beats_[1] - beats_[0];
        s.details->set("intervalMs", gap.count());
        s.summary += ", then every " + ms(gap);
      }
      // Late beyond pingTimeout means the client would have closed.
      s.result = first <= interval + hi.ping_timeout ? outcome::pass : outcome::fail;
      return;
    }
    if (closed_) {
      s.result = outcome::fail;
      s.summary = "the session closed before a " + what + ": " + session_failure();
    } else if (waitable) {
      s.result = outcome::fail;
      s.summary = "no " + what + " within pingInterval + pingTimeout (" + ms(interval + hi.ping_timeout) + ")";
    } else {
      s.result = outcome::skip;
      s.summary = "pingInterval " + ms(interval) + " is longer than the probe waits (--timeout, or --listen " +
                  std::to_string(interval.count() / 1000 + 1) + " to see one)";
    }
  }

  void skip_rest(const std::string& why) {
    for (const char* name : {"upgrade", "messages", "heartbeat"}) {
      if (std::string(name) == "upgrade" && args_.transport != "upgrade") continue;
      step& s = add(name);
      s.result = outcome::skip;
      s.summary = why;
    }
  }

  void finish() {
    if (!closed_) {
      client_->close();
      pump(steady::now() + millis(1000), [&] { return closed_.has_value(); });
    }
    client_.reset();
  }

  // ---------------------------------------------------------------- Socket.IO

  // Checks the Socket.IO flags; false (after saying why) for bad usage.
  bool socketio_usage() {
    const auto fail = [](const std::string& why) {
      std::fprintf(stderr, "eiotool probe: %s\n", why.c_str());
      return false;
    };
    if (args_.eio != 4) return fail("--socketio needs --eio 4 (Socket.IO v5 runs on Engine.IO v4)");
    if (!args_.sends.empty() || args_.expect_echo) {
      return fail("--send and --expect-echo send raw Engine.IO messages, which a Socket.IO server refuses; use --emit");
    }
    if (args_.nsp.empty() || args_.nsp.front() != '/' || args_.nsp.find(',') != std::string::npos) {
      return fail("--namespace must start with '/' and hold no ',' (got \"" + args_.nsp + "\")");
    }
    try {
      if (!args_.auth.empty()) {
        auth_ = socketio::value::parse(args_.auth);
        if (!auth_.is_object()) return fail("--auth must be a JSON object, got " + args_.auth);
      }
      emit_args_ = socketio::value::parse(args_.emit_args);
    } catch (const socketio::value::exception& e) {
      return fail(std::string("bad JSON in --auth or --args: ") + e.what());
    }
    if (!args_.emit.empty()) {
      if (const std::error_code error = socketio::check_event_name(args_.emit)) {
        return fail("--emit \"" + args_.emit + "\": " + error.message());
      }
    }
    return true;
  }

  // A Socket.IO value for people and for the JSON report: binary shown as
  // {"$binary": "<hex>"}.
  static socketio::value printable(const socketio::value& v) {
    if (v.is_binary()) {
      static const char hex[] = "0123456789abcdef";
      std::string text;
      for (const std::uint8_t b : v.get_binary()) {
        text += hex[b >> 4];
        text += hex[b & 15];
      }
      return socketio::value{{"$binary", text}};
    }
    socketio::value out = v;
    if (v.is_array() || v.is_object()) {
      for (auto& [key, element] : out.items()) element = printable(element);
    }
    return out;
  }

  static Poco::Dynamic::Var to_poco(const socketio::value& v) {
    Poco::JSON::Parser parser;
    return parser.parse(printable(v).dump());
  }

  // The socketio step: a CONNECT to the namespace over a session of our
  // Socket.IO client (eio::socketio::client::poco_manager, reconnection off),
  // then the emit step.
  void socketio_steps() {
    step& s = add("socketio");
    s.details->set("namespace", args_.nsp);
    if (!open_) {
      s.result = outcome::skip;
      s.summary = "the Engine.IO session did not open";
      if (!args_.emit.empty()) add("emit").summary = "the Engine.IO session did not open";
      return;
    }
    namespace sc = socketio::client;
    sc::poco_manager_options o;
    o.core.path = where_.path;
    o.core.extra_headers = options_.headers;
    o.core.transports = args_.transport == "polling"     ? std::vector<transport_kind>{transport_kind::polling}
                        : args_.transport == "websocket" ? std::vector<transport_kind>{transport_kind::websocket}
                                                         : std::vector<transport_kind>{transport_kind::polling, transport_kind::websocket};
    o.core.reconnection = false;
    o.core.timeout = millis(args_.timeout);
    o.connect_timeout = millis(args_.timeout);
    o.request_timeout = millis(args_.timeout);
    o.insecure = args_.insecure;
    // The URL's query goes to every request; its path is the Engine.IO path here.
    Poco::URI uri(url_);
    uri.setPath("/");
    sc::poco_manager io(uri.toString(), o);

    struct outcome_of_connect {
      std::optional<std::string> sid;
      std::optional<std::string> pid;
      std::optional<sc::error_info> error;
      std::optional<std::string> disconnect;
    };
    auto answered = std::make_shared<std::promise<outcome_of_connect>>();
    auto done = std::make_shared<bool>(false);  // the loop's alone
    sc::socket_options so;
    if (!args_.auth.empty()) so.auth = auth_;
    sc::poco_socket socket = io.socket(args_.nsp, so);
    const auto settle = [answered, done](outcome_of_connect r) {
      if (*done) return;
      *done = true;
      answered->set_value(std::move(r));
    };
    // On the loop thread, where post() runs at once: the model socket's state as the CONNECT left it.
    socket.on_connect([&io, settle, nsp = args_.nsp] {
      io.post([settle, nsp](sc::manager& m, millis) {
        const sc::socket* connected = m.find(nsp);
        settle({connected->id(), connected->pid(), std::nullopt, std::nullopt});
      });
    });
    socket.on_connect_error([settle](const sc::error_info& e) { settle({std::nullopt, std::nullopt, e, std::nullopt}); });
    socket.on_disconnect([settle](sc::disconnect_reason r, const std::string& d) {
      settle({std::nullopt, std::nullopt, std::nullopt, std::string(to_string(r)) + (d.empty() ? "" : " (" + d + ")")});
    });
    const auto t0 = steady::now();
    socket.connect();
    std::future<outcome_of_connect> f = answered->get_future();
    if (f.wait_for(millis(args_.timeout)) != std::future_status::ready) {
      s.result = outcome::fail;
      s.summary = "no answer to CONNECT " + args_.nsp + " within " + std::to_string(args_.timeout) + " ms";
      s.notes.push_back("is this a Socket.IO server? (a plain Engine.IO server never answers a CONNECT)");
      if (!args_.emit.empty()) add("emit").summary = "not connected";
      return;
    }
    const outcome_of_connect r = f.get();
    const millis took = std::chrono::duration_cast<millis>(steady::now() - t0);
    s.details->set("ms", took.count());
    if (r.sid) {
      s.result = outcome::pass;
      s.details->set("sid", *r.sid);
      s.details->set("recovery", r.pid.has_value());
      if (r.pid) s.details->set("pid", *r.pid);
      s.summary = "CONNECT " + args_.nsp + " answered in " + ms(took) + ": sid " + *r.sid +
                  (r.pid ? ", pid " + *r.pid + " (connection state recovery on)"
                         : " (no pid: connection state recovery off)");
      if (!args_.auth.empty()) s.notes.push_back("auth " + auth_.dump());
      if (!args_.emit.empty()) emit_step(socket);
      socket.disconnect();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the DISCONNECT go out
      return;
    }
    s.result = outcome::fail;
    if (r.error && r.error->refused) {
      Poco::JSON::Object::Ptr refused = new Poco::JSON::Object(true);
      refused->set("message", r.error->message);
      if (r.error->data) refused->set("data", to_poco(*r.error->data));
      s.details->set("refused", refused);
      s.summary = "CONNECT " + args_.nsp + " refused: \"" + r.error->message + "\"" +
                  (r.error->data ? ", data " + printable(*r.error->data).dump() : "");
      if (r.error->message == "Invalid namespace") {
        s.notes.push_back("the server has no namespace " + args_.nsp + " (io.of(\"" + args_.nsp + "\") on the server)");
      } else {
        s.notes.push_back("a middleware refused the connection (next(err) in io.of(\"" + args_.nsp + "\").use(...))" +
                          std::string(args_.auth.empty() ? ": does it want --auth?" : ": check --auth"));
      }
    } else if (r.error) {
      s.summary = "the Socket.IO session failed: " + r.error->message;
      if (r.error->message.find("Socket.IO server in v2.x") != std::string::npos) {
        s.summary = "the CONNECT was answered without a sid";
        s.notes.push_back("a Socket.IO v2 server (protocol v4), or not a Socket.IO server at all (an echo?)");
      }
    } else {
      s.summary = "disconnected before the CONNECT answer: " + r.disconnect.value_or("");
    }
    if (!args_.emit.empty()) add("emit").summary = "not connected";
  }

  void emit_step(socketio::client::poco_socket& socket) {
    step& s = add("emit");
    s.details->set("event", args_.emit);
    s.details->set("args", to_poco(emit_args_));
    socketio::client::emit_options o;
    o.timeout = millis(args_.timeout);
    const auto t0 = steady::now();
    std::future<socketio::value> f = socket.emit_with_ack(args_.emit, emit_args_, o);
    try {
      const socketio::value answer = f.get();  // the timeout above bounds it
      const millis rtt = std::chrono::duration_cast<millis>(steady::now() - t0);
      s.result = outcome::pass;
      s.details->set("answer", to_poco(answer));
      s.details->set("rttMs", rtt.count());
      s.summary = "\"" + args_.emit + "\" acknowledged in " + ms(rtt) + ": " + printable(answer).dump();
    } catch (const std::system_error& e) {
      s.result = outcome::fail;
      s.details->set("error", std::string(e.code().message()));
      if (e.code() == socketio::client::errc::ack_timeout) {
        s.summary = "no acknowledgement of \"" + args_.emit + "\" within " + std::to_string(args_.timeout) + " ms";
        s.notes.push_back("does the server's handler for \"" + args_.emit + "\" call its callback (the last argument)?");
      } else {
        s.summary = "\"" + args_.emit + "\" failed: " + e.code().message();
      }
    }
  }

  // ---------------------------------------------------------------- output

  static const char* label(outcome o) {
    switch (o) {
      case outcome::pass: return "ok";
      case outcome::fail: return "FAIL";
      case outcome::skip: return "skip";
    }
    return "?";
  }

  std::string verdict(int status) const {
    if (status == exit_ok) {
      const std::string over =
          args_.transport == "upgrade" ? std::string("polling with the websocket upgrade") : args_.transport;
      if (args_.socketio) {
        return "OK: " + url_ + " speaks Socket.IO v5 (Engine.IO v4 over " + over + "), namespace " + args_.nsp +
               " connected";
      }
      return "OK: " + args_.url + " speaks Engine.IO v" + std::to_string(args_.eio) + " over " + over;
    }
    for (const step& s : steps_) {
      if (s.result == outcome::fail) {
        return (status == exit_usage ? "UNREACHABLE: " : "FAILED at " + s.name + ": ") + s.summary;
      }
    }
    return "FAILED";
  }

  void print(int status) const {
    const std::string line = verdict(status);
    if (args_.json) {
      Poco::JSON::Object result(true);
      result.set("url", args_.url);
      result.set("transport", args_.transport);
      result.set("eio", args_.eio);
      Poco::JSON::Object::Ptr steps = new Poco::JSON::Object(true);
      std::string failed;
      for (const step& s : steps_) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object(true);
        o->set("result", std::string(s.result == outcome::pass ? "pass" : s.result == outcome::fail ? "fail" : "skip"));
        o->set("summary", s.summary);
        for (const auto& [key, value] : *s.details) o->set(key, value);
        if (!s.notes.empty()) {
          Poco::JSON::Array::Ptr notes = new Poco::JSON::Array;
          for (const std::string& n : s.notes) notes->add(n);
          o->set("notes", notes);
        }
        steps->set(s.name, o);
        if (s.result == outcome::fail && failed.empty()) failed = s.name;
      }
      result.set("steps", steps);
      result.set("ok", status == exit_ok);
      if (failed.empty()) {
        result.set("failed", Poco::Dynamic::Var());
      } else {
        result.set("failed", failed);
      }
      result.set("verdict", line);
      result.set("exitCode", status);
      std::ostringstream out;
      result.stringify(out);
      std::printf("%s\n", out.str().c_str());
      return;
    }
    std::printf("eiotool probe %s (Engine.IO v%d, %s)\n", args_.url.c_str(), args_.eio, args_.transport.c_str());
    for (const step& s : steps_) {
      std::printf("  [%-4s] %-10s %s\n", label(s.result), s.name.c_str(), s.summary.c_str());
      for (const std::string& n : s.notes) std::printf("  %18s %s\n", "", n.c_str());
    }
    std::printf("verdict: %s\n", line.c_str());
  }

  const probe_arguments& args_;
  std::string url_;  // args_.url, with /socket.io/ as its path for --socketio without one
  socketio::value auth_;
  socketio::value emit_args_;
  endpoint where_;
  protocol_version version_ = protocol_version::v4;
  poco_client_options options_;
  std::vector<step> steps_;
  bool unreachable_ = false;
  std::string sid_;

  std::unique_ptr<poco_client> client_;
  steady::time_point start_;
  std::optional<client_open_event> open_;
  std::optional<millis> opened_at_;
  std::optional<millis> ws_accepted_at_;
  std::optional<millis> upgrading_at_;
  std::optional<millis> upgraded_at_;
  std::optional<client_close_event> closed_;
  std::optional<http_exchange> http_failure_;
  std::vector<websocket_handshake> ws_handshakes_;
  std::vector<std::string> errors_;
  std::vector<client_message_event> inbox_;
  std::vector<millis> inbox_times_;
  std::vector<millis> beats_;  // when pings (v4) or pongs (v3) arrived
};

}  // namespace

void add_probe_command(CLI::App& app, command_action& action) {
  auto args = std::make_shared<probe_arguments>();
  CLI::App* command = app.add_subcommand("probe", "Check an Engine.IO endpoint step by step and say what is wrong");
  command->footer(probe_footer);
  command->add_option("URL", args->url, "http://, https://, ws:// or wss://host[:port][/path/] (path: /engine.io/)")
      ->required();
  command->add_option("--transport", args->transport, "polling, websocket, or upgrade (polling, then websocket)")
      ->check(CLI::IsMember({"polling", "websocket", "upgrade"}))
      ->capture_default_str();
  command->add_option("--eio", args->eio, "Protocol version")->check(CLI::IsMember({3, 4}))->capture_default_str();
  command->add_option("--header", args->headers, "Extra request header 'Name: value' (repeat)");
  command->add_option("--origin", args->origin, "Send this Origin and check the CORS answer");
  command->add_option("--send", args->sends, "Send this text message (repeat)");
  command->add_flag("--expect-echo", args->expect_echo, "Each --send must come back unchanged; time the round trip");
  command->add_option("--listen", args->listen, "Then print incoming messages for SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_option("--count", args->count, "Send the --send messages N times (with --listen alone: stop after N messages)")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  command->add_flag("--json", args->json, "Print one JSON object instead of the checklist");
  command->add_option("--timeout", args->timeout, "Milliseconds each step may take")
      ->check(CLI::Range(1L, 3'600'000L))
      ->capture_default_str();
  command->add_flag("--insecure", args->insecure, "TLS: accept any certificate and host name");
  command->add_flag("--socketio", args->socketio, "Then connect a Socket.IO namespace (path default /socket.io/)");
  command->add_option("--namespace", args->nsp, "--socketio: the namespace to connect")->capture_default_str();
  command->add_option("--auth", args->auth, "--socketio: the CONNECT's auth, a JSON object")->type_name("JSON");
  command->add_option("--emit", args->emit, "--socketio: emit EVENT with --args and wait for its acknowledgement")
      ->type_name("EVENT");
  command->add_option("--args", args->emit_args, "--socketio: the arguments of --emit, a JSON array")
      ->type_name("JSON")
      ->capture_default_str();
  command->callback([args, &action] {
    action = [args] { return probe(*args).run(); };
  });
}

}  // namespace eio::tool
