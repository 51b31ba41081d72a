// Cluster messages to and from the Node adapters' bytes.
#include <eio/socketio_redis/wire.hpp>

#include <eio/base64.hpp>
#include <eio/socketio/value.hpp>
#include <eio/utf8.hpp>

#define MSGPACK_NO_BOOST 1
#include <msgpack.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace eio::socketio_redis {

using json = nlohmann::json;
namespace sio = eio::socketio;

namespace {

// Whether `d` is an integer that int 64 or uint 64 holds: a JavaScript
// number that notepack packs as an integer (and JSON.stringify writes
// without a fraction).
bool packs_as_integer(double d) {
  return std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 && d < 18446744073709551616.0;
}

// float 64 (0xcb), whatever the value. msgpack-c's pack_double packs an
// integral value as an integer itself, converting 2^64 to uint64_t on the
// way (undefined behaviour: its range check lets 2^64 through).
void pack_float64(msgpack::sbuffer& out, double d) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  char bytes[9] = {static_cast<char>(0xcb)};
  for (int i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
  out.write(bytes, sizeof bytes);
}

void pack(msgpack::sbuffer& out, msgpack::packer<msgpack::sbuffer>& pk, const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded: pk.pack_nil(); return;
    case json::value_t::boolean: v.get<bool>() ? pk.pack_true() : pk.pack_false(); return;
    case json::value_t::number_integer: pk.pack_int64(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: pk.pack_uint64(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: {
      // notepack: a JavaScript number that is an integer is packed as an
      // integer, any other as float 64. Integers that 64 bits do not hold
      // go as float 64 too (notepack wraps them: 2^64 becomes 0).
      const double d = v.get<double>();
      if (packs_as_integer(d)) {
        if (d >= 0) {
          pk.pack_uint64(static_cast<std::uint64_t>(d));
        } else {
          pk.pack_int64(static_cast<std::int64_t>(d));
        }
      } else {
        pack_float64(out, d);
      }
      return;
    }
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      return;
    }
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      pk.pack_bin(static_cast<std::uint32_t>(b.size()));
      pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<std::uint32_t>(b.size()));
      return;
    }
    case json::value_t::array:
      pk.pack_array(static_cast<std::uint32_t>(v.size()));
      for (const auto& e : v) pack(out, pk, e);
      return;
    case json::value_t::object:
      pk.pack_map(static_cast<std::uint32_t>(v.size()));
      for (auto it = v.begin(); it != v.end(); ++it) {
        pk.pack_str(static_cast<std::uint32_t>(it.key().size()));
        pk.pack_str_body(it.key().data(), static_cast<std::uint32_t>(it.key().size()));
        pack(out, pk, it.value());
      }
      return;
  }
}

// A number from a peer as an integer in [0, max]: NaN, infinities and
// values out of range (which a cast would make undefined) give nullopt.
std::optional<double> bounded(const json& v, double max) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > max) return std::nullopt;
  return std::trunc(d);
}

// A peer's string as Node reads it (Buffer.toString("utf8"), which notepack
// and node-redis use): each ill-formed sequence, its maximal subpart, becomes
// one U+FFFD (Unicode 15, section 3.9). So every string we read from a peer
// is UTF-8, as every string the reference reads is, and encodes again as
// JSON (nlohmann refuses to dump a string that is not UTF-8).
std::string node_string(std::string_view bytes) {
  std::size_t valid = eio::utf8_valid_prefix(bytes);
  if (valid == bytes.size()) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 2);
  for (;;) {
    out.append(bytes.data(), valid);
    bytes.remove_prefix(valid);
    if (bytes.empty()) return out;
    out += "\xEF\xBF\xBD";
    bytes.remove_prefix(eio::utf8_maximal_subpart(bytes));
    valid = eio::utf8_valid_prefix(bytes);
  }
}

bool is_undefined(const msgpack::object& o) {
  return o.type == msgpack::type::EXT && o.via.ext.type() == 0 && o.via.ext.size == 1 && o.via.ext.data()[0] == 0;
}

bool unpack(const msgpack::object& o, json& out, std::size_t depth) {
  if (depth > max_peer_depth) return false;
  switch (o.type) {
    case msgpack::type::NIL: out = nullptr; return true;
    case msgpack::type::BOOLEAN: out = o.via.boolean; return true;
    case msgpack::type::POSITIVE_INTEGER: out = o.via.u64; return true;
    case msgpack::type::NEGATIVE_INTEGER: out = o.via.i64; return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      // A JavaScript number: 1.0 is 1, which the event's JSON text then
      // says as JSON.stringify does ("1", not "1.0"), and as to_msgpack
      // packs it.
      if (!packs_as_integer(o.via.f64)) {
        out = o.via.f64;
      } else if (o.via.f64 >= 0) {
        out = static_cast<std::uint64_t>(o.via.f64);
      } else {
        out = static_cast<std::int64_t>(o.via.f64);
      }
      return true;
    case msgpack::type::STR:
      out = node_string(std::string_view(o.via.str.ptr, o.via.str.size));
      return true;
    case msgpack::type::BIN:
      out = json::binary(std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr),
                                                   reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr) + o.via.bin.size));
      return true;
    case msgpack::type::EXT:
      if (is_undefined(o)) {
        out = nullptr;
      } else if (o.via.ext.type() == 0) {  // notepack: ArrayBuffer, typed arrays
        const auto* p = reinterpret_cast<const std::uint8_t*>(o.via.ext.data());
        out = json::binary(std::vector<std::uint8_t>(p, p + o.via.ext.size));
      } else {
        out = nullptr;  // Dates (timestamp ext -1) and others: not carried by Socket.IO events
      }
      return true;
    case msgpack::type::ARRAY:
      out = json::array();
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        json e;
        if (!unpack(o.via.array.ptr[i], e, depth + 1)) return false;
        out.push_back(std::move(e));
      }
      return true;
    case msgpack::type::MAP:
      out = json::object();
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) return false;
        if (is_undefined(kv.val)) continue;  // JSON.stringify would drop it too
        json e;
        if (!unpack(kv.val, e, depth + 1)) return false;
        out[node_string(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size))] = std::move(e);
      }
      return true;
  }
  return false;
}

// Whether the msgpack value in `bytes` can be whole: its headers walked, each
// array and map owing the values it announces, every value at least one
// byte. msgpack-c allocates the elements a header announces when it reads the
// header, and unpack_limit bounds each header alone: 136 nested headers, each
// announcing as many elements as the message has bytes, would have it
// allocate 6 KB for every byte of the message. Refused here first, a peer's
// message costs what its bytes hold.
bool holds_what_it_announces(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t at = 0;
  std::uint64_t owed = 1;  // values still to come
  while (owed > 0) {
    if (owed > n - at) return false;
    const unsigned char h = p[at];
    std::size_t header = 1;        // bytes before the payload
    std::size_t length_bytes = 0;  // of the big-endian length or count after the first byte
    std::uint64_t payload = 0;
    bool payload_length = false;  // the length is the payload's (else a count of elements)
    std::uint64_t per_element = 0;
    if (h <= 0x7f || h >= 0xe0 || h == 0xc0 || h == 0xc2 || h == 0xc3) {
      // fixint, nil, false, true: the header alone
    } else if (h <= 0x8f) {
      owed += 2u * (h & 0x0fu);  // fixmap
    } else if (h <= 0x9f) {
      owed += h & 0x0fu;  // fixarray
    } else if (h <= 0xbf) {
      payload = h & 0x1fu;  // fixstr
    } else {
      switch (h) {
        // bin 8/16/32, str 8/16/32: a length, then the bytes
        case 0xc4: case 0xd9: length_bytes = 1; payload_length = true; break;
        case 0xc5: case 0xda: length_bytes = 2; payload_length = true; break;
        case 0xc6: case 0xdb: length_bytes = 4; payload_length = true; break;
        // ext 8/16/32: a length, the type, then the bytes
        case 0xc7: length_bytes = 1; payload_length = true; header = 2; break;
        case 0xc8: length_bytes = 2; payload_length = true; header = 2; break;
        case 0xc9: length_bytes = 4; payload_length = true; header = 2; break;
        // float 32/64, uint and int 8/16/32/64
        case 0xca: payload = 4; break;
        case 0xcb: payload = 8; break;
        case 0xcc: case 0xd0: payload = 1; break;
        case 0xcd: case 0xd1: payload = 2; break;
        case 0xce: case 0xd2: payload = 4; break;
        case 0xcf: case 0xd3: payload = 8; break;
        // fixext 1/2/4/8/16: the type, then the bytes
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: header = 2; payload = 1u << (h - 0xd4); break;
        // array 16/32, map 16/32: a count of elements, then the elements
        case 0xdc: length_bytes = 2; per_element = 1; break;
        case 0xdd: length_bytes = 4; per_element = 1; break;
        case 0xde: length_bytes = 2; per_element = 2; break;
        case 0xdf: length_bytes = 4; per_element = 2; break;
        default: return false;  // 0xc1, never used
      }
    }
    header += length_bytes;
    if (header > n - at) return false;
    std::uint64_t length = 0;
    for (std::size_t i = 1; i <= length_bytes; ++i) length = (length << 8) | p[at + i];
    if (payload_length) payload = length;
    owed += per_element * length;
    at += header;
    if (payload > n - at) return false;
    at += static_cast<std::size_t>(payload);
    --owed;  // this value
  }
  return true;  // trailing bytes are msgpack-c's to refuse
}

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
    else if (e.is_number()) out.push_back(e.dump());  // rooms may be numbers in JavaScript
  }
  return out;
}

const json* field(const json& v, const char* name) {
  if (!v.is_object()) return nullptr;
  const auto it = v.find(name);
  return it == v.end() ? nullptr : &*it;
}

// The types whose data has a requestId (cluster-adapter.ts; optional for
// BROADCAST and SERVER_SIDE_EMIT, whose senders want answers with one).
bool has_request_id(sio::message_type type) {
  using sio::message_type;
  switch (type) {
    case message_type::broadcast:
    case message_type::fetch_sockets:
    case message_type::fetch_sockets_response:
    case message_type::server_side_emit:
    case message_type::server_side_emit_response:
    case message_type::broadcast_client_count:
    case message_type::broadcast_ack: return true;
    default: return false;
  }
}

std::string string_field(const json& v, const char* name) {
  const json* f = field(v, name);
  if (f == nullptr) return {};
  if (f->is_string()) return f->get<std::string>();
  if (f->is_number()) return f->dump();
  return {};
}

}  // namespace

std::string to_msgpack(const json& v) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pack(buffer, pk, v);
  return std::string(buffer.data(), buffer.size());
}

std::optional<json> from_msgpack(std::string_view bytes) {
  if (!holds_what_it_announces(bytes)) return std::nullopt;
  try {
    std::size_t offset = 0;
    // Nesting bounded; the sizes were checked above, all headers together.
    const std::size_t n = bytes.size();
    const msgpack::unpack_limit limit(n, n, n, n, n, max_peer_depth);
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) return std::nullopt;
    json out;
    if (!unpack(oh.get(), out, 0)) return std::nullopt;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json options_to_value(const sio::broadcast_options& opts) {
  json flags = json::object();
  if (opts.flags.is_volatile) flags["volatile"] = true;
  if (!opts.flags.compress) flags["compress"] = false;
  if (opts.flags.local) flags["local"] = true;
  if (opts.flags.timeout) flags["timeout"] = opts.flags.timeout->count();
  return json{{"rooms", opts.rooms}, {"except", opts.except}, {"flags", std::move(flags)}};
}

sio::broadcast_options options_from_value(const json& v) {
  sio::broadcast_options out;
  if (const json* r = field(v, "rooms")) out.rooms = strings(*r);
  if (const json* e = field(v, "except")) out.except = strings(*e);
  if (const json* f = field(v, "flags"); f != nullptr && f->is_object()) {
    if (const json* x = field(*f, "volatile"); x != nullptr && x->is_boolean()) out.flags.is_volatile = x->get<bool>();
    if (const json* x = field(*f, "compress"); x != nullptr && x->is_boolean()) out.flags.compress = x->get<bool>();
    if (const json* x = field(*f, "local"); x != nullptr && x->is_boolean()) out.flags.local = x->get<bool>();
    if (const json* x = field(*f, "timeout")) {
      if (const auto ms = bounded(*x, 86'400'000.0)) out.flags.timeout = std::chrono::milliseconds(static_cast<long long>(*ms));
    }
  }
  return out;
}

json event_to_value(const sio::event_packet& p) {
  json out;
  // max_peer_depth: an event a peer sent (deeper than a client may) goes
  // out again whole.
  const std::error_code ec = p.attachments.empty() ? sio::from_wire(p.data, out, max_peer_depth)
                                                   : sio::from_wire(p.data, p.attachments, out, max_peer_depth);
  if (ec || !out.is_array()) return json::array();
  return out;
}

std::optional<sio::event_packet> event_from_value(const json& v) {
  if (!v.is_array() || v.empty() || !v[0].is_string()) return std::nullopt;
  sio::event_packet out;
  if (sio::to_wire(v, out.data, out.attachments)) return std::nullopt;
  return out;
}

std::optional<json> single_to_value(const sio::event_packet& p) {
  if (p.data.empty()) return std::nullopt;
  json arr;
  const std::string text = "[" + p.data + "]";
  const std::error_code ec = p.attachments.empty() ? sio::from_wire(text, arr, max_peer_depth)
                                                   : sio::from_wire(text, p.attachments, arr, max_peer_depth);
  if (ec || !arr.is_array() || arr.empty()) return std::nullopt;
  return arr[0];
}

sio::event_packet single_from_value(const json* v) {
  sio::event_packet out;
  if (v == nullptr) return out;
  if (sio::to_wire(*v, out.data, out.attachments)) return {};
  return out;
}

json socket_to_value(const sio::socket_details& s) {
  json headers = json::object();
  for (const auto& [name, value] : s.handshake.headers) {
    auto it = headers.find(name);
    if (it == headers.end()) headers[name] = value;
    else *it = it->get<std::string>() + ", " + value;
  }
  json query = json::object();
  for (const auto& [name, value] : s.handshake.query) query[name] = value;
  json handshake = {{"headers", std::move(headers)}, {"time", s.handshake.time},
                    {"address", s.handshake.address}, {"xdomain", s.handshake.xdomain},
                    {"secure", s.handshake.secure}, {"issued", s.handshake.issued},
                    {"url", s.handshake.url}, {"query", std::move(query)}, {"auth", s.handshake.auth}};
  json out = {{"id", s.id}, {"handshake", std::move(handshake)}, {"rooms", s.rooms}};
  if (!s.data.is_null()) out["data"] = s.data;
  return out;
}

sio::socket_details socket_from_value(const json& v) {
  sio::socket_details out;
  out.id = string_field(v, "id");
  if (const json* r = field(v, "rooms")) out.rooms = strings(*r);
  if (const json* d = field(v, "data")) out.data = *d;
  if (const json* h = field(v, "handshake"); h != nullptr && h->is_object()) {
    if (const json* hs = field(*h, "headers"); hs != nullptr && hs->is_object()) {
      for (auto it = hs->begin(); it != hs->end(); ++it) {
        if (it.value().is_string()) out.handshake.headers.emplace_back(it.key(), it.value().get<std::string>());
        else if (it.value().is_array()) {
          for (const auto& e : it.value()) {
            if (e.is_string()) out.handshake.headers.emplace_back(it.key(), e.get<std::string>());
          }
        }
      }
    }
    if (const json* q = field(*h, "query"); q != nullptr && q->is_object()) {
      for (auto it = q->begin(); it != q->end(); ++it) {
        if (it.value().is_string()) out.handshake.query.emplace_back(it.key(), it.value().get<std::string>());
      }
    }
    out.handshake.time = string_field(*h, "time");
    out.handshake.address = string_field(*h, "address");
    out.handshake.url = string_field(*h, "url");
    if (const json* x = field(*h, "xdomain"); x != nullptr && x->is_boolean()) out.handshake.xdomain = x->get<bool>();
    if (const json* x = field(*h, "secure"); x != nullptr && x->is_boolean()) out.handshake.secure = x->get<bool>();
    if (const json* x = field(*h, "issued")) {
      if (const auto ms = bounded(*x, 9007199254740991.0)) out.handshake.issued = static_cast<std::int64_t>(*ms);
    }
    if (const json* a = field(*h, "auth")) out.handshake.auth = *a;
  }
  return out;
}

json cluster_message_to_value(const sio::cluster_message& m) {
  using sio::message_type;
  json out = {{"uid", m.uid}, {"nsp", m.nsp}, {"type", static_cast<int>(m.type)}};
  json data = json::object();
  switch (m.type) {
    case message_type::broadcast:
      data["opts"] = options_to_value(m.opts);
      data["packet"] = json{{"type", 2}, {"data", event_to_value(m.packet)}};
      if (!m.request_id.empty()) data["requestId"] = m.request_id;
      break;
    case message_type::sockets_join:
    case message_type::sockets_leave:
      data["opts"] = options_to_value(m.opts);
      data["rooms"] = m.rooms;
      break;
    case message_type::disconnect_sockets:
      data["opts"] = options_to_value(m.opts);
      data["close"] = m.close;
      break;
    case message_type::fetch_sockets:
      data["opts"] = options_to_value(m.opts);
      data["requestId"] = m.request_id;
      break;
    case message_type::fetch_sockets_response: {
      data["requestId"] = m.request_id;
      json sockets = json::array();
      for (const auto& s : m.sockets) sockets.push_back(socket_to_value(s));
      data["sockets"] = std::move(sockets);
      break;
    }
    case message_type::server_side_emit:
      data["packet"] = event_to_value(m.packet);
      if (!m.request_id.empty()) data["requestId"] = m.request_id;
      break;
    case message_type::server_side_emit_response:
    case message_type::broadcast_ack: {
      data["requestId"] = m.request_id;
      if (auto v = single_to_value(m.packet)) data["packet"] = std::move(*v);
      break;
    }
    case message_type::broadcast_client_count:
      data["requestId"] = m.request_id;
      data["clientCount"] = m.client_count;
      break;
    case message_type::initial_heartbeat:
    case message_type::heartbeat:
    case message_type::adapter_close: return out;
  }
  out["data"] = std::move(data);
  return out;
}

std::optional<sio::cluster_message> cluster_message_from_value(const json& v) {
  using sio::message_type;
  if (!v.is_object()) return std::nullopt;
  // The reference switches on the number: 3.0 is BROADCAST, 2^32 + 3 is
  // nothing (a cast to int would make it 3).
  const json* type = field(v, "type");
  if (type == nullptr || !type->is_number()) return std::nullopt;
  const double t = type->get<double>();
  if (!(t >= 1 && t <= 13) || std::trunc(t) != t) return std::nullopt;
  sio::cluster_message m;
  m.uid = string_field(v, "uid");
  m.nsp = string_field(v, "nsp");
  if (m.nsp.empty()) m.nsp = "/";
  m.type = static_cast<message_type>(static_cast<int>(t));
  static const json empty = json::object();
  const json* d = field(v, "data");
  const json& data = d != nullptr ? *d : empty;
  // Only where the type has one: the fields a type does not use stay empty.
  if (has_request_id(m.type)) m.request_id = string_field(data, "requestId");
  switch (m.type) {
    case message_type::broadcast: {
      m.opts = options_from_value(field(data, "opts") ? *field(data, "opts") : empty);
      const json* packet = field(data, "packet");
      const json* pd = packet ? field(*packet, "data") : nullptr;
      if (pd == nullptr) return std::nullopt;
      auto p = event_from_value(*pd);
      if (!p) return std::nullopt;
      m.packet = std::move(*p);
      break;
    }
    case message_type::sockets_join:
    case message_type::sockets_leave:
      m.opts = options_from_value(field(data, "opts") ? *field(data, "opts") : empty);
      if (const json* r = field(data, "rooms")) m.rooms = strings(*r);
      break;
    case message_type::disconnect_sockets:
      m.opts = options_from_value(field(data, "opts") ? *field(data, "opts") : empty);
      if (const json* c = field(data, "close"); c != nullptr && c->is_boolean()) m.close = c->get<bool>();
      break;
    case message_type::fetch_sockets:
      m.opts = options_from_value(field(data, "opts") ? *field(data, "opts") : empty);
      break;
    case message_type::fetch_sockets_response:
      if (const json* s = field(data, "sockets"); s != nullptr && s->is_array()) {
        for (const auto& e : *s) m.sockets.push_back(socket_from_value(e));
      }
      break;
    case message_type::server_side_emit: {
      const json* packet = field(data, "packet");
      if (packet == nullptr) return std::nullopt;
      auto p = event_from_value(*packet);
      if (!p) return std::nullopt;
      m.packet = std::move(*p);
      break;
    }
    case message_type::server_side_emit_response:
    case message_type::broadcast_ack: m.packet = single_from_value(field(data, "packet")); break;
    case message_type::broadcast_client_count:
      if (const json* c = field(data, "clientCount")) {
        if (const auto n = bounded(*c, 1e12)) m.client_count = static_cast<std::size_t>(*n);
      }
      break;
    case message_type::initial_heartbeat:
    case message_type::heartbeat:
    case message_type::adapter_close: break;
  }
  return m;
}

std::string encode_cluster_message(const sio::cluster_message& m) {
  using sio::message_type;
  const json v = cluster_message_to_value(m);
  // sharded-adapter.ts encode(): msgpack only for binary-capable types with binary.
  bool binary = false;
  switch (m.type) {
    case message_type::broadcast:
    case message_type::broadcast_ack:
    case message_type::fetch_sockets_response:
    case message_type::server_side_emit:
    case message_type::server_side_emit_response:
      binary = !m.packet.attachments.empty() || sio::has_binary(v);
      break;
    default: break;
  }
  return binary ? to_msgpack(v) : v.dump();
}

std::optional<json> from_json_text(std::string_view text) {
  json v;
  if (sio::from_wire(text, v, max_peer_depth)) return std::nullopt;
  return v;
}

namespace {

// Decimal digits, leading zeros and all (as Redis reads an id), whose value
// fits 64 bits; the overflow check is the only bound on their number.
std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t out = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (out > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    out = out * 10 + d;
  }
  return out;
}

// adapter.ts encode(): the types whose data may hold binary.
bool may_carry_binary(sio::message_type type) {
  using sio::message_type;
  switch (type) {
    case message_type::broadcast:
    case message_type::fetch_sockets_response:
    case message_type::server_side_emit:
    case message_type::server_side_emit_response:
    case message_type::broadcast_ack: return true;
    default: return false;
  }
}

std::optional<json> from_base64_msgpack(std::string_view text) {
  std::string bytes;
  std::size_t error_offset = 0;
  if (!eio::base64_decode(text, bytes, error_offset)) return std::nullopt;
  return from_msgpack(bytes);
}

}  // namespace

std::optional<stream_id> parse_stream_id(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto ms = parse_u64(text.substr(0, dash));
  const auto seq = parse_u64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return stream_id{*ms, *seq};
}

std::string stream_for_namespace(std::string_view nsp, std::string_view name, std::size_t count) {
  if (count <= 1) return std::string(name);
  // JavaScript: hash = hash * 31 + chr; hash |= 0; over charCodeAt(i).
  std::uint32_t hash = 0;
  const auto add = [&hash](std::uint32_t unit) { hash = hash * 31u + unit; };
  const auto* p = reinterpret_cast<const unsigned char*>(nsp.data());
  for (std::size_t i = 0; i < nsp.size();) {
    // Namespace names are well-formed UTF-8 (the codec checks them).
    const unsigned char lead = p[i];
    const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    std::uint32_t cp = length == 1 ? lead : length == 2 ? lead & 0x1Fu : length == 3 ? lead & 0x0Fu : lead & 0x07u;
    for (std::size_t k = 1; k < length && i + k < nsp.size(); ++k) cp = (cp << 6) | (p[i + k] & 0x3Fu);
    i += length;
    if (cp < 0x10000) {
      add(cp);
    } else {
      cp -= 0x10000;
      add(0xD800u + (cp >> 10));
      add(0xDC00u + (cp & 0x3FFu));
    }
  }
  const long long suffix = static_cast<long long>(static_cast<std::int32_t>(hash)) % static_cast<long long>(count);
  return std::string(name) + "-" + std::to_string(suffix);
}

std::vector<std::string> streams_to_read(std::string_view name, std::size_t count) {
  if (count <= 1) return {std::string(name)};
  std::vector<std::string> out;
  for (long long i = -static_cast<long long>(count) + 1; i < static_cast<long long>(count); ++i) {
    out.push_back(std::string(name) + "-" + std::to_string(i));
  }
  return out;
}

std::string to_string(const stream_id& id) { return std::to_string(id.ms) + "-" + std::to_string(id.seq); }

stream_fields to_stream_fields(const sio::cluster_message& m) {
  json v = cluster_message_to_value(m);
  stream_fields out = {{"uid", m.uid}, {"nsp", m.nsp}, {"type", std::to_string(static_cast<int>(m.type))}};
  const auto data = v.find("data");
  if (data == v.end()) return out;
  if (may_carry_binary(m.type) && (!m.packet.attachments.empty() || sio::has_binary(*data))) {
    std::string text;
    eio::base64_encode(to_msgpack(*data), text);
    out.emplace_back("data", std::move(text));
  } else {
    out.emplace_back("data", data->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return out;
}

std::optional<sio::cluster_message> from_stream_fields(const stream_fields& fields) {
  json v = json::object();
  std::optional<json> data;
  for (const auto& [name, text] : fields) {
    if (name == "uid" || name == "nsp") {
      v[name] = node_string(text);  // node-redis reads field values as UTF-8 strings
    } else if (name == "type") {
      const auto t = parse_u64(text);
      if (!t || *t > 255) return std::nullopt;
      v["type"] = static_cast<int>(*t);
    } else if (name == "data" && !text.empty()) {
      data = text[0] == '{' ? from_json_text(text) : from_base64_msgpack(text);
      if (!data) return std::nullopt;
    }
  }
  if (data) v["data"] = std::move(*data);
  return cluster_message_from_value(v);
}

std::string glob_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::vector<stream_entry>> parse_entries(const redis_reply& entries) {
  if (entries.type != redis_reply::kind::array) return std::nullopt;
  std::vector<stream_entry> out;
  out.reserve(entries.elements.size());
  for (const redis_reply& e : entries.elements) {
    // [id, [field, value, field, value, ...]]
    if (e.type != redis_reply::kind::array || e.elements.size() != 2) return std::nullopt;
    const auto id = parse_stream_id(e.elements[0].str);
    const redis_reply& flat = e.elements[1];
    if (!id || flat.type != redis_reply::kind::array || flat.elements.size() % 2 != 0) return std::nullopt;
    stream_fields fields;
    fields.reserve(flat.elements.size() / 2);
    for (std::size_t i = 0; i < flat.elements.size(); i += 2) {
      fields.emplace_back(flat.elements[i].str, flat.elements[i + 1].str);
    }
    out.push_back(stream_entry{*id, from_stream_fields(fields)});
  }
  return out;
}

restore_step next_restore_step(stream_id offset, stream_id reached, std::optional<stream_id> applied,
                               std::size_t pages, std::size_t max_pages) {
  if (!applied || *applied < offset) return restore_step::wait;
  if (reached < *applied) return pages >= max_pages ? restore_step::refuse : restore_step::read_more;
  return restore_step::replay;
}

std::string encode_session(const sio::session_to_persist& session) {
  const json v = {{"sid", session.sid}, {"pid", session.pid}, {"rooms", session.rooms}, {"data", session.data}};
  std::string out;
  eio::base64_encode(to_msgpack(v), out);
  return out;
}

std::optional<sio::session_to_persist> decode_session(std::string_view text) {
  const auto v = from_base64_msgpack(text);
  if (!v || !v->is_object()) return std::nullopt;
  sio::session_to_persist out;
  out.sid = string_field(*v, "sid");
  out.pid = string_field(*v, "pid");
  if (out.sid.empty() || out.pid.empty()) return std::nullopt;
  if (const json* r = field(*v, "rooms")) out.rooms = strings(*r);
  if (const json* d = field(*v, "data")) out.data = *d;
  return out;
}

std::optional<sio::cluster_message> decode_cluster_message(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  if (bytes[0] == '{') {
    auto v = from_json_text(bytes);
    if (!v) return std::nullopt;
    return cluster_message_from_value(*v);
  }
  auto v = from_msgpack(bytes);
  if (!v) return std::nullopt;
  return cluster_message_from_value(*v);
}

}  // namespace eio::socketio_redis
