// The JSON choice for eio::socketio, measured (README.md "Dependencies",
// BENCHMARKS.md "Socket.IO codec").
//
// (a) scan/<impl>/<input>: what the server's hot path needs from each EVENT:
//     validate the data, find the event name, count the arguments and the
//     binary placeholders. Implementations:
//       eio_ondemand     eio::socketio::decoder::scan (simdjson On Demand, one
//                        pass; also gives the arguments' byte range)
//       simdjson_dom     simdjson's DOM parser (runtime-dispatched SIMD), then
//                        a walk of its tape (no byte offsets available)
//       nlohmann_sax     nlohmann::json::sax_parse with a handler that tracks
//                        the name, the arguments and placeholders
//       nlohmann_accept  nlohmann::json::accept (validation only)
//       nlohmann_parse   nlohmann::json::parse (a document), then a walk
//       poco_parse       Poco::JSON::Parser (a document), then a walk
//       memcpy           a copy of the same bytes: the floor
//     Inputs: small ["message","hello"]; object_1k, an event with a 1 KiB
//     object argument; binary_3, a binary event with 3 nested placeholders.
// (b) value/<impl>: the application-facing type: build an argument list with
//     nested values and two binaries, convert it to wire data (JSON text with
//     placeholders + attachments), convert that back (binaries restored) and
//     read every field with typed access.
//       nlohmann_json / nlohmann_ordered  eio::socketio::to_wire / from_wire
//       poco             Poco::JSON (no binary type: a {"_binary": <bytes>}
//                        marker object and the same two walks, by hand)
#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace eio::socketio;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "eio_socketio_bench: %s\n", what.c_str());
  std::exit(1);
}

// ------------------------------------------------------------------ inputs

struct scan_input {
  const char* name;
  std::string data;
  packet_type type;
  std::size_t attachments;
  std::size_t args;
  std::size_t placeholders;
};

std::string object_1k() {
  std::string o = "[\"message\",{";
  for (int i = 0; o.size() < 1000; ++i) {
    if (i > 0) o += ',';
    const std::string k = "\"field_" + std::to_string(i) + "\":";
    switch (i % 4) {
      case 0: o += k + "\"some text value " + std::to_string(i * 7919) + "\""; break;
      case 1: o += k + std::to_string(i * 104729); break;
      case 2: o += k + "[1.5,true,null,\"x\"]"; break;
      default: o += k + "{\"nested\":" + std::to_string(i) + ",\"ok\":false}"; break;
    }
  }
  return o + "}]";
}

const std::vector<scan_input>& scan_inputs() {
  static const std::vector<scan_input> inputs = {
      {"small", R"(["message","hello"])", packet_type::event, 0, 1, 0},
      {"object_1k", object_1k(), packet_type::event, 0, 1, 0},
      {"binary_3",
       R"(["upload",{"file":{"_placeholder":true,"num":0},"meta":{"thumbs":[{"_placeholder":true,"num":1},)"
       R"({"num":2,"_placeholder":true}],"name":"photo.jpg","size":123456}}])",
       packet_type::binary_event, 3, 1, 3},
  };
  return inputs;
}

// What every implementation reports, checked once per benchmark.
struct scan_result {
  std::string name;
  std::size_t args = 0;
  std::size_t placeholders = 0;
};

void check(const scan_input& in, const scan_result& r, const char* impl) {
  if (r.name != (std::string(in.name) == "small" || std::string(in.name) == "object_1k" ? "message" : "upload") ||
      r.args != in.args || r.placeholders != in.placeholders) {
    die(std::string(impl) + " scanned " + in.name + " wrong: name '" + r.name + "', " + std::to_string(r.args) +
        " args, " + std::to_string(r.placeholders) + " placeholders");
  }
}

// --------------------------------------------------- (a) the implementations

scan_result scan_eio(decoder& d, const scan_input& in) {
  payload_info info;
  if (d.scan(in.data, in.type, in.attachments, info)) die("eio scan failed");
  return {std::string(info.name), info.arg_count, info.placeholder_count};
}

// simdjson DOM: placeholders by walking the tape.
std::size_t dom_placeholders(simdjson::dom::element e) {
  std::size_t n = 0;
  if (e.is_array()) {
    for (simdjson::dom::element child : e.get_array()) n += dom_placeholders(child);
  } else if (e.is_object()) {
    simdjson::dom::object o = e.get_object();
    bool placeholder = false;
    for (auto field : o) {
      if (field.key == "_placeholder" && field.value.is_bool() && field.value.get_bool().value()) placeholder = true;
      n += dom_placeholders(field.value);
    }
    if (placeholder) ++n;
  }
  return n;
}

scan_result scan_simdjson_dom(simdjson::dom::parser& parser, const scan_input& in) {
  simdjson::dom::element root;
  if (parser.parse(in.data.data(), in.data.size()).get(root)) die("simdjson DOM failed");
  simdjson::dom::array array;
  if (root.get_array().get(array)) die("not an array");
  scan_result r;
  bool first = true;
  for (simdjson::dom::element e : array) {
    if (first) {
      std::string_view name;
      if (e.get_string().get(name) || is_reserved_event_name(name)) die("bad name");
      r.name = name;
      first = false;
      continue;
    }
    ++r.args;
    r.placeholders += dom_placeholders(e);
  }
  return r;
}

// nlohmann SAX: a handler with a frame per open array/object.
class sax_scanner : public nlohmann::json_sax<nlohmann::json> {
public:
  scan_result result;

  bool null() override { return value(); }
  bool boolean(bool v) override {
    if (!frames_.empty() && frames_.back().object && frames_.back().last_key == key_kind::placeholder && v) {
      frames_.back().placeholder_true = true;
    }
    return value();
  }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override {
    if (!frames_.empty() && frames_.back().object && frames_.back().last_key == key_kind::num) frames_.back().num = true;
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override {
    if (frames_.size() == 1 && !frames_.back().object && frames_.back().count == 0) {
      if (is_reserved_event_name(s)) return false;
      result.name = s;
    }
    return value();
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    value();
    frames_.push_back({true});
    return true;
  }
  bool key(string_t& k) override {
    frame& f = frames_.back();
    ++f.keys;
    f.last_key = k == "_placeholder" ? key_kind::placeholder : k == "num" ? key_kind::num : key_kind::other;
    return true;
  }
  bool end_object() override {
    const frame f = frames_.back();
    frames_.pop_back();
    if (f.placeholder_true) ++result.placeholders;
    return true;
  }
  bool start_array(std::size_t) override {
    value();
    frames_.push_back({false});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

  void reset() {
    result = {};
    frames_.clear();
  }

private:
  enum class key_kind : std::uint8_t { other, placeholder, num };
  struct frame {
    bool object = false;
    bool placeholder_true = false;
    bool num = false;
    key_kind last_key = key_kind::other;
    std::size_t keys = 0;
    std::size_t count = 0;
  };
  bool value() {
    if (!frames_.empty()) {
      if (frames_.size() == 1 && !frames_.back().object && frames_.back().count > 0) ++result.args;
      ++frames_.back().count;
    }
    return true;
  }
  std::vector<frame> frames_;
};

scan_result scan_nlohmann_sax(sax_scanner& sax, const scan_input& in) {
  sax.reset();
  if (!nlohmann::json::sax_parse(in.data, &sax)) die("nlohmann SAX failed");
  return sax.result;
}

template <class Json>
std::size_t json_placeholders(const Json& v) {
  std::size_t n = 0;
  if (v.is_object()) {
    const auto flag = v.find("_placeholder");
    if (flag != v.end() && flag->is_boolean() && flag->template get<bool>()) ++n;
  }
  if (v.is_array() || v.is_object()) {
    for (const auto& child : v) n += json_placeholders(child);
  }
  return n;
}

scan_result scan_nlohmann_parse(const scan_input& in) {
  const nlohmann::json v = nlohmann::json::parse(in.data, nullptr, false);
  if (v.is_discarded() || !v.is_array() || v.empty() || !v[0].is_string()) die("nlohmann parse failed");
  scan_result r;
  r.name = v[0].get<std::string>();
  if (is_reserved_event_name(r.name)) die("reserved");
  r.args = v.size() - 1;
  r.placeholders = json_placeholders(v);
  return r;
}

std::size_t poco_placeholders(const Poco::Dynamic::Var& v) {
  std::size_t n = 0;
  if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
    const auto array = v.extract<Poco::JSON::Array::Ptr>();
    for (const auto& child : *array) n += poco_placeholders(child);
  } else if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
    const auto object = v.extract<Poco::JSON::Object::Ptr>();
    const Poco::Dynamic::Var flag = object->get("_placeholder");
    if (flag.isBoolean() && flag.extract<bool>()) ++n;
    for (const auto& [key, child] : *object) n += poco_placeholders(child);
  }
  return n;
}

scan_result scan_poco(Poco::JSON::Parser& parser, const scan_input& in) {
  parser.reset();
  const Poco::Dynamic::Var root = parser.parse(in.data);
  const auto array = root.extract<Poco::JSON::Array::Ptr>();
  scan_result r;
  r.name = array->getElement<std::string>(0);
  if (is_reserved_event_name(r.name)) die("reserved");
  r.args = array->size() - 1;
  r.placeholders = poco_placeholders(root);
  return r;
}

// ------------------------------------------------------- (a) the benchmarks

void finish(benchmark::State& state, const scan_input& in) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.data.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["bytes"] = static_cast<double>(in.data.size());
}

void bm_scan_eio(benchmark::State& state, const scan_input* in) {
  decoder d;
  check(*in, scan_eio(d, *in), "eio");
  for (auto _ : state) {
    payload_info info;
    benchmark::DoNotOptimize(d.scan(in->data, in->type, in->attachments, info));
    benchmark::DoNotOptimize(info);
  }
  finish(state, *in);
}

void bm_scan_simdjson_dom(benchmark::State& state, const scan_input* in) {
  simdjson::dom::parser parser;
  check(*in, scan_simdjson_dom(parser, *in), "simdjson DOM");
  for (auto _ : state) benchmark::DoNotOptimize(scan_simdjson_dom(parser, *in));
  finish(state, *in);
}

void bm_scan_nlohmann_sax(benchmark::State& state, const scan_input* in) {
  sax_scanner sax;
  check(*in, scan_nlohmann_sax(sax, *in), "nlohmann SAX");
  for (auto _ : state) benchmark::DoNotOptimize(scan_nlohmann_sax(sax, *in));
  finish(state, *in);
}

void bm_scan_nlohmann_accept(benchmark::State& state, const scan_input* in) {
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::accept(in->data));
  finish(state, *in);
}

void bm_scan_nlohmann_parse(benchmark::State& state, const scan_input* in) {
  check(*in, scan_nlohmann_parse(*in), "nlohmann parse");
  for (auto _ : state) benchmark::DoNotOptimize(scan_nlohmann_parse(*in));
  finish(state, *in);
}

void bm_scan_poco(benchmark::State& state, const scan_input* in) {
  Poco::JSON::Parser parser;
  check(*in, scan_poco(parser, *in), "Poco");
  for (auto _ : state) benchmark::DoNotOptimize(scan_poco(parser, *in));
  finish(state, *in);
}

void bm_scan_memcpy(benchmark::State& state, const scan_input* in) {
  std::string copy(in->data.size(), '\0');
  for (auto _ : state) {
    std::memcpy(copy.data(), in->data.data(), in->data.size());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
  finish(state, *in);
}

// ------------------------------------------------ (b) application values

// The arguments of one event: ["profile", {...}, <1 KiB>, {"thumb": <16 B>}].
template <class Json>
Json build_json_args(const attachment& big, const attachment& small) {
  Json args = Json::array();
  args.push_back("profile");
  args.push_back({{"user", {{"id", 42}, {"name", "ana"}, {"admin", false}, {"tags", {"a", "b", "c"}}}},
                  {"scores", {1.5, 2.5, 3.5}},
                  {"note", nullptr}});
  args.push_back(Json::binary(big));
  args.push_back({{"thumb", Json::binary(small)}, {"w", 16}});
  return args;
}

template <class Json>
std::size_t read_json_args(const Json& args) {
  std::size_t sum = args[0].template get_ref<const std::string&>().size();
  const Json& user = args[1]["user"];
  sum += static_cast<std::size_t>(user["id"].template get<int>());
  sum += user["name"].template get_ref<const std::string&>().size();
  sum += user["admin"].template get<bool>() ? 1 : 0;
  for (const auto& tag : user["tags"]) sum += tag.template get_ref<const std::string&>().size();
  for (const auto& score : args[1]["scores"]) sum += static_cast<std::size_t>(score.template get<double>());
  sum += args[1]["note"].is_null() ? 1 : 0;
  sum += args[2].get_binary().size();
  sum += args[3]["thumb"].get_binary().size() + static_cast<std::size_t>(args[3]["w"].template get<int>());
  return sum;
}

constexpr std::size_t expected_sum = 7 + 42 + 3 + 0 + 3 + (1 + 2 + 3) + 1 + 1024 + 16 + 16;

template <class Json>
void bm_value_nlohmann(benchmark::State& state) {
  const attachment big(1024, 0xAB);
  const attachment small(16, 0xCD);
  std::string data;
  std::vector<attachment> attachments;
  std::size_t wire_bytes = 0;
  for (auto _ : state) {
    Json args = build_json_args<Json>(big, small);
    data.clear();
    attachments.clear();
    if (to_wire(std::move(args), data, attachments)) die("to_wire failed");
    wire_bytes = data.size();
    Json back;
    if (from_wire(data, std::move(attachments), back)) die("from_wire failed");
    if (read_json_args(back) != expected_sum) die("nlohmann read back wrong");
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["json_bytes"] = static_cast<double>(wire_bytes);
}

// Poco: a binary is a {"_binary": <bytes as a std::string>} object, the only
// way to carry one (Poco::Dynamic::Var has no binary type).
Poco::JSON::Object::Ptr poco_blob(const attachment& bytes) {
  Poco::JSON::Object::Ptr blob = new Poco::JSON::Object;
  blob->set("_binary", std::string(bytes.begin(), bytes.end()));
  return blob;
}

bool is_poco_blob(const Poco::JSON::Object::Ptr& o) { return o->size() == 1 && o->has("_binary"); }

Poco::Dynamic::Var poco_deconstruct(const Poco::Dynamic::Var& v, std::vector<attachment>& out) {
  if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
    const auto array = v.extract<Poco::JSON::Array::Ptr>();
    Poco::JSON::Array::Ptr copy = new Poco::JSON::Array;
    for (const auto& child : *array) copy->add(poco_deconstruct(child, out));
    return copy;
  }
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
    const auto object = v.extract<Poco::JSON::Object::Ptr>();
    if (is_poco_blob(object)) {
      const Poco::Dynamic::Var held = object->get("_binary");  // get() returns a copy
      const std::string& bytes = held.extract<std::string>();
      out.emplace_back(bytes.begin(), bytes.end());
      Poco::JSON::Object::Ptr placeholder = new Poco::JSON::Object;
      placeholder->set("_placeholder", true);
      placeholder->set("num", static_cast<int>(out.size() - 1));
      return placeholder;
    }
    Poco::JSON::Object::Ptr copy = new Poco::JSON::Object;
    for (const auto& [key, child] : *object) copy->set(key, poco_deconstruct(child, out));
    return copy;
  }
  return v;
}

Poco::Dynamic::Var poco_reconstruct(const Poco::Dynamic::Var& v, const std::vector<attachment>& attachments) {
  if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
    Poco::JSON::Array::Ptr array = v.extract<Poco::JSON::Array::Ptr>();
    for (unsigned i = 0; i < array->size(); ++i) array->set(i, poco_reconstruct(array->get(i), attachments));
    return array;
  }
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
    Poco::JSON::Object::Ptr object = v.extract<Poco::JSON::Object::Ptr>();
    const Poco::Dynamic::Var flag = object->get("_placeholder");
    if (flag.isBoolean() && flag.extract<bool>()) {
      return poco_blob(attachments.at(object->getValue<std::size_t>("num")));
    }
    std::vector<std::string> keys;
    object->getNames(keys);
    for (const auto& key : keys) object->set(key, poco_reconstruct(object->get(key), attachments));
    return object;
  }
  return v;
}

void bm_value_poco(benchmark::State& state) {
  const attachment big(1024, 0xAB);
  const attachment small(16, 0xCD);
  Poco::JSON::Parser parser;
  std::size_t wire_bytes = 0;
  for (auto _ : state) {
    Poco::JSON::Array::Ptr args = new Poco::JSON::Array;
    args->add(std::string("profile"));
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("id", 42);
    user->set("name", std::string("ana"));
    user->set("admin", false);
    Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
    for (const char* t : {"a", "b", "c"}) tags->add(std::string(t));
    user->set("tags", tags);
    Poco::JSON::Object::Ptr first = new Poco::JSON::Object;
    first->set("user", user);
    Poco::JSON::Array::Ptr scores = new Poco::JSON::Array;
    for (double s : {1.5, 2.5, 3.5}) scores->add(s);
    first->set("scores", scores);
    first->set("note", Poco::Dynamic::Var());
    args->add(first);
    args->add(poco_blob(big));
    Poco::JSON::Object::Ptr third = new Poco::JSON::Object;
    third->set("thumb", poco_blob(small));
    third->set("w", 16);
    args->add(third);

    std::vector<attachment> attachments;
    const Poco::Dynamic::Var wire = poco_deconstruct(args, attachments);
    std::ostringstream text;
    Poco::JSON::Stringifier::condense(wire, text);
    const std::string data = text.str();
    wire_bytes = data.size();

    parser.reset();
    const Poco::Dynamic::Var back = poco_reconstruct(parser.parse(data), attachments);
    const auto a = back.extract<Poco::JSON::Array::Ptr>();
    std::size_t sum = a->getElement<std::string>(0).size();
    const auto o = a->getObject(1);
    const auto u = o->getObject("user");
    sum += static_cast<std::size_t>(u->getValue<int>("id"));
    sum += u->getValue<std::string>("name").size();
    sum += u->getValue<bool>("admin") ? 1 : 0;
    const auto t = u->getArray("tags");
    for (std::size_t i = 0; i < t->size(); ++i) sum += t->getElement<std::string>(static_cast<unsigned>(i)).size();
    const auto s = o->getArray("scores");
    for (std::size_t i = 0; i < s->size(); ++i) sum += static_cast<std::size_t>(s->getElement<double>(static_cast<unsigned>(i)));
    sum += o->isNull("note") ? 1 : 0;
    sum += a->getObject(2)->getValue<std::string>("_binary").size();
    const auto th = a->getObject(3);
    sum += th->getObject("thumb")->getValue<std::string>("_binary").size() + static_cast<std::size_t>(th->getValue<int>("w"));
    if (sum != expected_sum) die("Poco read back wrong: " + std::to_string(sum));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["json_bytes"] = static_cast<double>(wire_bytes);
}

void register_all() {
  for (const scan_input& in : scan_inputs()) {
    const std::string suffix = std::string("/") + in.name;
    benchmark::RegisterBenchmark(("scan/eio_ondemand" + suffix).c_str(), bm_scan_eio, &in);
    benchmark::RegisterBenchmark(("scan/simdjson_dom" + suffix).c_str(), bm_scan_simdjson_dom, &in);
    benchmark::RegisterBenchmark(("scan/nlohmann_sax" + suffix).c_str(), bm_scan_nlohmann_sax, &in);
    benchmark::RegisterBenchmark(("scan/nlohmann_accept" + suffix).c_str(), bm_scan_nlohmann_accept, &in);
    benchmark::RegisterBenchmark(("scan/nlohmann_parse" + suffix).c_str(), bm_scan_nlohmann_parse, &in);
    benchmark::RegisterBenchmark(("scan/poco_parse" + suffix).c_str(), bm_scan_poco, &in);
    benchmark::RegisterBenchmark(("scan/memcpy" + suffix).c_str(), bm_scan_memcpy, &in);
  }
  benchmark::RegisterBenchmark("value/nlohmann_json", bm_value_nlohmann<nlohmann::json>);
  benchmark::RegisterBenchmark("value/nlohmann_ordered", bm_value_nlohmann<nlohmann::ordered_json>);
  benchmark::RegisterBenchmark("value/poco", bm_value_poco);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
