// eiotool probe: connect, the raw handshake and the same-sid check (probe.hpp).
#include "probe.hpp"

#include <eio/wire/url.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <cstdio>

namespace eio::tool::probing {

int probe::run() {
  std::string error;
  url_ = args_.url;
  if (args_.socketio) {
    if (!socketio_usage()) return exit_usage;
    // A Socket.IO server's Engine.IO path is /socket.io/ unless said otherwise.
    if (const std::optional<wire::url> u = wire::parse_url(url_, error); u && (u->path.empty() || u->path == "/")) {
      url_ = u->scheme + "://" + u->authority() + "/socket.io/" + (u->query.empty() ? "" : "?" + u->query);
    }  // else parse_endpoint below says what is wrong
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

int probe::steps() {
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

step& probe::add(std::string name) {
  steps_.emplace_back();
  steps_.back().name = std::move(name);
  return steps_.back();
}

bool probe::connect_step() {
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

std::string probe::polling_target(bool with_sid) const {
  std::string t = where_.path + "?";
  for (const auto& [name, value] : where_.query) t += name + "=" + value + "&";
  t += version_ == protocol_version::v4 ? "EIO=4" : "EIO=3";
  t += "&transport=polling";
  if (with_sid) t += "&sid=" + sid_;
  return t;
}

bool probe::handshake_step() {
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

bool probe::same_sid_step() {
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

}  // namespace eio::tool::probing
