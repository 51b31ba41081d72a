// eiotool probe: a whole client session through eio::poco_client (probe.hpp).
#include "probe.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <cstdio>

namespace eio::tool::probing {

// The packets of a polling body or WebSocket message, for watching pings.
std::vector<packet_type> packet_types(protocol_version version, std::string_view body, bool binary_payload) {
  std::vector<packet> packets;
  payload_decoder decoder(version, binary_payload ? payload_format::binary : payload_format::text);
  (void)decoder.decode(body, packets);
  std::vector<packet_type> types;
  for (const packet& p : packets) types.push_back(p.type);
  return types;
}

void probe::take(const poco_client_event& e) {
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

void probe::heartbeat_packet(packet_type t, millis at) {
  // v4: the server pings. v3: the client pings and the server answers.
  const packet_type beat = version_ == protocol_version::v4 ? packet_type::ping : packet_type::pong;
  if (t == beat && opened_at_) beats_.push_back(at);
}

std::string probe::session_failure() const {
  std::string text = closed_ ? std::string(to_string(closed_->reason)) + (closed_->description.empty() ? "" : " (" + closed_->description + ")")
                             : "no answer within " + std::to_string(args_.timeout) + " ms";
  return text;
}

void probe::session_steps() {
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

void probe::upgrade_step(const handshake_info& hi) {
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

void probe::messages_step() {
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

void probe::listen_step() {
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

void probe::heartbeat_step(const handshake_info& hi) {
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

void probe::skip_rest(const std::string& why) {
  for (const char* name : {"upgrade", "messages", "heartbeat"}) {
    if (std::string(name) == "upgrade" && args_.transport != "upgrade") continue;
    step& s = add(name);
    s.result = outcome::skip;
    s.summary = why;
  }
}

void probe::finish() {
  if (!closed_) {
    client_->close();
    pump(steady::now() + millis(1000), [&] { return closed_.has_value(); });
  }
  client_.reset();
}

}  // namespace eio::tool::probing
