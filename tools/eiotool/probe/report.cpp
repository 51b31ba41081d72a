// eiotool probe: the checklist, the JSON object and the verdict (probe.hpp).
#include "probe.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <cstdio>
#include <sstream>

namespace eio::tool::probing {

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

const char* probe::label(outcome o) {
  switch (o) {
    case outcome::pass: return "ok";
    case outcome::fail: return "FAIL";
    case outcome::skip: return "skip";
  }
  return "?";
}

std::string probe::verdict(int status) const {
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

void probe::print(int status) const {
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

}  // namespace eio::tool::probing
