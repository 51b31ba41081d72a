// Fuzz target: eio::socketio_redis's decoders (wire.hpp), on what the other
// nodes of a cluster put on Redis, which a buggy or hostile peer may have
// written.
//
// Input: a selector byte, then the bytes to decode. Selector bits 0-2 (bits
// 3-7 are ignored):
//   0  a msgpack value (from_msgpack), then the value functions on it
//   1  JSON text (from_json_text), then the value functions on it
//   2  a ClusterAdapter message as the sharded adapter publishes it
//      (decode_cluster_message: JSON when it starts with '{', else msgpack)
//   3  a Redis Streams entry (from_stream_fields): the rest cut at each 0xc1
//      byte (found in neither msgpack, UTF-8 nor base64) into fields named
//      uid, nsp, type, data, uid, ... in turn
//   4  the same, with each data field that does not start with '{'
//      base64-encoded by the target first, so that mutations reach the
//      msgpack inside
//   5  a persisted session (decode_session): base64 text
//   6  the same, from msgpack bytes the target base64-encodes
//   7  a stream id (parse_stream_id); the first 16 bytes also make an id
//      (ms, seq big-endian) to print and parse back
// fuzz/make_corpus.py writes seeds in this layout (REDIS_WIRE_SEEDS).
//
// Invariants (beyond "no crash, no hang, no sanitizer report"):
//   1. Bounded work: under a sanitizer with malloc hooks (ASan), decoding
//      allocates at most alloc_per_byte (1 KiB) per input byte plus 256 KiB,
//      so a header that announces gigabytes costs nothing.
//   2. Values: every string and key is UTF-8 (Node hands the reference
//      strings, never bytes); containers nest at most max_peer_depth deep;
//      a msgpack value holds no more values than its bytes; the value
//      packs (to_msgpack) to bytes that decode to it again, and JSON text's
//      value dumps to text that parses to it again.
//   3. Cluster messages: the type is 1-13, and the value's `type` equals it
//      as a number; the fields the type does not use (the table in
//      eio/socketio/cluster.hpp) are empty; strings are UTF-8; an event's
//      data is ["name", ...], an answer's one value. Encoded again
//      (encode_cluster_message, and to_stream_fields) it decodes to the same
//      message (uid, nsp, type, request_id, opts, packet data and
//      attachments, rooms, close, client_count, sockets), which encodes to
//      the same bytes (encodings are canonical). Exempt: an event with
//      binary that also holds objects shaped like placeholders, which no
//      encoding tells apart from the real ones (socket.io-parser neither).
//      Messages read from a stream entry are checked through stream fields
//      only: the entry's data is a value of its own, one level shallower.
//   4. Sessions: sid and pid non-empty, strings UTF-8; encode_session gives
//      text that decodes to the same session and encodes to the same text.
//   5. Stream ids: parse_stream_id accepts exactly [0-9]+-[0-9]+ with both
//      numbers below 2^64; to_string gives that text without leading zeros
//      and parses back to the same id.
//   6. The value functions on any value: what event_from_value,
//      options_from_value and socket_from_value read converts back
//      (event_to_value, options_to_value, socket_to_value) to a value they
//      read as the same thing.
#include "fuzz_support.hpp"

#include <eio/base64.hpp>
#include <eio/socketio/value.hpp>
#include <eio/socketio_redis/wire.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

// The sanitizers' malloc hooks (sanitizer/allocator_interface.h), weak so
// that the replay builds without a sanitizer link too.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*))
    __attribute__((weak));

namespace {

using namespace eio::socketio_redis;
using eio::fuzz::is_utf8;
using json = nlohmann::json;
namespace sio = eio::socketio;

// ---- invariant 1: bytes allocated while decoding

// A decoded value costs up to about a hundred bytes per input byte
// (msgpack-c's objects, nlohmann's nodes, U+FFFD for one bad byte), a
// FETCH_SOCKETS_RESPONSE of one-byte sockets about 730 (each a
// socket_details of some 280 bytes, in a vector that doubles: measured
// with 3900 of them). What a container header announces must cost nothing
// until its values are there: 136 nested headers cost 6 KB per byte before
// the fix.
constexpr std::size_t alloc_per_byte = 1024;
constexpr std::size_t alloc_constant = 256 * 1024;

bool counting = false;
std::size_t allocated = 0;

void on_malloc(const volatile void*, std::size_t size) {
  if (counting) allocated += size;
}
void on_free(const volatile void*) {}

bool hooks_installed() {
  static const bool installed = __sanitizer_install_malloc_and_free_hooks != nullptr &&
                                __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
  return installed;
}

// Runs `decode` on input of `size` bytes and checks what it allocated.
template <class F>
auto measured(std::size_t size, F&& decode) {
  const bool measure = hooks_installed();
  allocated = 0;
  counting = measure;
  auto result = decode();
  counting = false;
  if (measure && allocated > alloc_per_byte * size + alloc_constant) {
    std::fprintf(stderr, "decoding %zu bytes allocated %zu bytes\n", size, allocated);
    EIO_FUZZ_CHECK(allocated <= alloc_per_byte * size + alloc_constant);
  }
  return result;
}

// ---- invariant 2: values

bool all_utf8(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return is_utf8(v.get_ref<const std::string&>());
    case json::value_t::array:
      for (const auto& e : v) {
        if (!all_utf8(e)) return false;
      }
      return true;
    case json::value_t::object:
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!is_utf8(it.key()) || !all_utf8(it.value())) return false;
      }
      return true;
    default: return true;
  }
}

// Containers nested in `v`, `v` included.
std::size_t levels(const json& v) {
  if (!v.is_array() && !v.is_object()) return 0;
  std::size_t deepest = 0;
  for (const auto& e : v) deepest = std::max(deepest, levels(e));
  return deepest + 1;
}

std::size_t count_values(const json& v) {
  std::size_t n = 1;
  if (v.is_array() || v.is_object()) {
    for (const auto& e : v) n += count_values(e);
  }
  return n;
}

// Values compared as their msgpack: NaN equals itself, 3.0 equals 3 (as in
// JavaScript, where both are one number).
std::string canonical(const json& v) { return to_msgpack(v); }

void check_value(const json& v) {
  EIO_FUZZ_CHECK(all_utf8(v));
  EIO_FUZZ_CHECK(levels(v) <= max_peer_depth);
  const std::string packed = to_msgpack(v);
  const auto again = from_msgpack(packed);
  EIO_FUZZ_CHECK(again);
  EIO_FUZZ_CHECK(canonical(*again) == packed);
}

// ---- invariant 3: cluster messages

using sio::message_type;

bool one_of(message_type t, std::initializer_list<message_type> types) {
  return std::find(types.begin(), types.end(), t) != types.end();
}
bool uses_opts(message_type t) {
  return one_of(t, {message_type::broadcast, message_type::sockets_join, message_type::sockets_leave,
                    message_type::disconnect_sockets, message_type::fetch_sockets});
}
bool carries_event(message_type t) { return one_of(t, {message_type::broadcast, message_type::server_side_emit}); }
bool carries_answer(message_type t) {
  return one_of(t, {message_type::server_side_emit_response, message_type::broadcast_ack});
}
bool uses_request_id(message_type t) {
  return one_of(t, {message_type::broadcast, message_type::fetch_sockets, message_type::fetch_sockets_response,
                    message_type::server_side_emit, message_type::server_side_emit_response,
                    message_type::broadcast_client_count, message_type::broadcast_ack});
}

bool all_utf8(const std::vector<std::string>& strings) {
  for (const auto& s : strings) {
    if (!is_utf8(s)) return false;
  }
  return true;
}

bool all_utf8(const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (const auto& [name, value] : pairs) {
    if (!is_utf8(name) || !is_utf8(value)) return false;
  }
  return true;
}

void check_socket(const sio::socket_details& s) {
  EIO_FUZZ_CHECK(is_utf8(s.id));
  EIO_FUZZ_CHECK(all_utf8(s.rooms));
  EIO_FUZZ_CHECK(all_utf8(s.data));
  EIO_FUZZ_CHECK(all_utf8(s.handshake.headers));
  EIO_FUZZ_CHECK(all_utf8(s.handshake.query));
  EIO_FUZZ_CHECK(is_utf8(s.handshake.time) && is_utf8(s.handshake.address) && is_utf8(s.handshake.url));
  EIO_FUZZ_CHECK(all_utf8(s.handshake.auth));
}

void check_options(const sio::broadcast_options& o) {
  EIO_FUZZ_CHECK(all_utf8(o.rooms));
  EIO_FUZZ_CHECK(all_utf8(o.except));
  if (o.flags.timeout) EIO_FUZZ_CHECK(o.flags.timeout->count() >= 0);
}

bool same_options(const sio::broadcast_options& a, const sio::broadcast_options& b) {
  return a.rooms == b.rooms && a.except == b.except && a.flags.is_volatile == b.flags.is_volatile &&
         a.flags.compress == b.flags.compress && a.flags.local == b.flags.local && a.flags.timeout == b.flags.timeout;
}

bool empty_options(const sio::broadcast_options& o) { return same_options(o, sio::broadcast_options{}); }

// The packet's data as a value: an event's array, or an answer's one value
// in an array of one. nullopt when it does not parse.
std::optional<json> packet_value(const sio::event_packet& p, bool answer) {
  json v;
  const std::string text = answer ? "[" + p.data + "]" : p.data;
  if (sio::from_wire(text, v, SIZE_MAX)) return std::nullopt;
  return v;
}

// False for an event whose binary sits next to objects shaped like
// placeholders: to_wire numbers the binary's placeholders as it finds them,
// and the others then collide with them or point past the attachments.
bool placeholders_unambiguous(const sio::event_packet& p, bool answer) {
  if (p.attachments.empty()) return true;
  json v;
  const std::string text = answer ? "[" + p.data + "]" : p.data;
  const std::error_code e = sio::from_wire(text, p.attachments, v, SIZE_MAX);
  return e != sio::errc::invalid_placeholder && e != sio::errc::placeholder_out_of_range &&
         e != sio::errc::duplicate_placeholder && e != sio::errc::missing_placeholder;
}

void check_shape(const sio::cluster_message& m) {
  const int type = static_cast<int>(m.type);
  EIO_FUZZ_CHECK(type >= 1 && type <= 13);
  EIO_FUZZ_CHECK(is_utf8(m.uid) && is_utf8(m.nsp) && is_utf8(m.request_id));
  EIO_FUZZ_CHECK(!m.nsp.empty());
  check_options(m.opts);
  EIO_FUZZ_CHECK(all_utf8(m.rooms));
  for (const auto& s : m.sockets) check_socket(s);
  EIO_FUZZ_CHECK(is_utf8(m.packet.data));

  // What the type does not use stays empty (cluster.hpp).
  if (!uses_opts(m.type)) EIO_FUZZ_CHECK(empty_options(m.opts));
  if (!uses_request_id(m.type)) EIO_FUZZ_CHECK(m.request_id.empty());
  if (!carries_event(m.type) && !carries_answer(m.type)) {
    EIO_FUZZ_CHECK(m.packet.data.empty() && m.packet.attachments.empty());
  }
  if (!one_of(m.type, {message_type::sockets_join, message_type::sockets_leave})) EIO_FUZZ_CHECK(m.rooms.empty());
  if (m.type != message_type::disconnect_sockets) EIO_FUZZ_CHECK(!m.close);
  if (m.type != message_type::fetch_sockets_response) EIO_FUZZ_CHECK(m.sockets.empty());
  if (m.type != message_type::broadcast_client_count) EIO_FUZZ_CHECK(m.client_count == 0);
  EIO_FUZZ_CHECK(m.offset.empty() && m.encoded.empty());

  if (carries_event(m.type)) {
    const auto v = packet_value(m.packet, false);
    EIO_FUZZ_CHECK(v && v->is_array() && !v->empty() && (*v)[0].is_string());
  }
  if (carries_answer(m.type) && !m.packet.data.empty()) {
    const auto v = packet_value(m.packet, true);
    EIO_FUZZ_CHECK(v && v->size() == 1);
  }
}

bool same_socket(const sio::socket_details& a, const sio::socket_details& b) {
  // Headers are left out: several of one name come back as one, joined
  // with ", " (the reference's IncomingHttpHeaders).
  return a.id == b.id && a.rooms == b.rooms && canonical(a.data) == canonical(b.data) &&
         a.handshake.time == b.handshake.time && a.handshake.address == b.handshake.address &&
         a.handshake.xdomain == b.handshake.xdomain && a.handshake.secure == b.handshake.secure &&
         a.handshake.issued == b.handshake.issued && a.handshake.url == b.handshake.url &&
         a.handshake.query == b.handshake.query && canonical(a.handshake.auth) == canonical(b.handshake.auth);
}

void check_same(const sio::cluster_message& a, const sio::cluster_message& b) {
  EIO_FUZZ_CHECK(a.uid == b.uid);
  EIO_FUZZ_CHECK(a.nsp == b.nsp);
  EIO_FUZZ_CHECK(a.type == b.type);
  EIO_FUZZ_CHECK(a.request_id == b.request_id);
  EIO_FUZZ_CHECK(same_options(a.opts, b.opts));
  EIO_FUZZ_CHECK(a.packet.data == b.packet.data);
  EIO_FUZZ_CHECK(a.packet.attachments == b.packet.attachments);
  EIO_FUZZ_CHECK(a.rooms == b.rooms);
  EIO_FUZZ_CHECK(a.close == b.close);
  EIO_FUZZ_CHECK(a.client_count == b.client_count);
  EIO_FUZZ_CHECK(a.sockets.size() == b.sockets.size());
  for (std::size_t i = 0; i < a.sockets.size(); ++i) EIO_FUZZ_CHECK(same_socket(a.sockets[i], b.sockets[i]));
}

enum class source { published, stream };

void check_message(const sio::cluster_message& m, source from) {
  check_shape(m);
  if (!placeholders_unambiguous(m.packet, carries_answer(m.type))) return;

  if (from == source::published) {
    const std::string bytes = encode_cluster_message(m);
    const auto back = decode_cluster_message(bytes);
    if (!back) {
      std::fprintf(stderr, "a re-encoded %s message does not decode\n", std::string(sio::to_string(m.type)).c_str());
      std::abort();
    }
    check_same(m, *back);
    EIO_FUZZ_CHECK(encode_cluster_message(*back) == bytes);
  }

  const stream_fields fields = to_stream_fields(m);
  const auto back = from_stream_fields(fields);
  if (!back) {
    std::fprintf(stderr, "a %s message as stream fields does not decode\n",
                 std::string(sio::to_string(m.type)).c_str());
    std::abort();
  }
  check_same(m, *back);
  EIO_FUZZ_CHECK(to_stream_fields(*back) == fields);
}

// A message read from value `v` (its `type` must be what the message says).
void check_message_from_value(const json& v) {
  const auto m = cluster_message_from_value(v);
  if (!m) return;
  const auto type = v.find("type");
  EIO_FUZZ_CHECK(type != v.end() && type->is_number());
  EIO_FUZZ_CHECK(type->get<double>() == static_cast<double>(static_cast<int>(m->type)));
  check_message(*m, source::published);
}

// ---- invariant 6: the value functions

void check_value_functions(const json& v) {
  if (const auto p = event_from_value(v)) {
    EIO_FUZZ_CHECK(is_utf8(p->data));
    const auto parsed = packet_value(*p, false);
    EIO_FUZZ_CHECK(parsed && parsed->is_array() && !parsed->empty() && (*parsed)[0].is_string());
    if (placeholders_unambiguous(*p, false)) {
      const auto again = event_from_value(event_to_value(*p));
      EIO_FUZZ_CHECK(again && again->data == p->data && again->attachments == p->attachments);
    }
  }

  const sio::broadcast_options o = options_from_value(v);
  check_options(o);
  EIO_FUZZ_CHECK(same_options(options_from_value(options_to_value(o)), o));

  const sio::socket_details s = socket_from_value(v);
  check_socket(s);
  const json as_value = socket_to_value(s);
  const sio::socket_details again = socket_from_value(as_value);
  EIO_FUZZ_CHECK(same_socket(again, s));
  EIO_FUZZ_CHECK(canonical(socket_to_value(again)) == canonical(as_value));

  check_message_from_value(v);
}

// ---- the modes

void msgpack_value(std::string_view bytes) {
  const auto v = measured(bytes.size(), [&] { return from_msgpack(bytes); });
  if (!v) return;
  check_value(*v);
  EIO_FUZZ_CHECK(count_values(*v) <= bytes.size());
  check_value_functions(*v);
}

void json_text(std::string_view text) {
  const auto v = measured(text.size(), [&] { return from_json_text(text); });
  if (!v) return;
  check_value(*v);
  const auto again = from_json_text(v->dump());
  EIO_FUZZ_CHECK(again && canonical(*again) == canonical(*v));
  check_value_functions(*v);
}

void published_message(std::string_view bytes) {
  const auto m = measured(bytes.size(), [&] { return decode_cluster_message(bytes); });
  // The same as reading the value, sniffed as the reference sniffs it.
  std::optional<json> v;
  if (!bytes.empty()) v = bytes[0] == '{' ? from_json_text(bytes) : from_msgpack(bytes);
  EIO_FUZZ_CHECK(m.has_value() == (v && cluster_message_from_value(*v).has_value()));
  if (!m) return;
  check_value(*v);
  check_message_from_value(*v);
}

void check_stream_entry(std::string_view rest, bool encode_data) {
  static const char* const names[] = {"uid", "nsp", "type", "data"};
  stream_fields fields;
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    const std::size_t end = std::min(rest.find('\xc1', start), rest.size());
    std::string value(rest.substr(start, end - start));
    const std::string name = names[i % 4];
    if (encode_data && name == "data" && (value.empty() || value[0] != '{')) {
      std::string text;
      eio::base64_encode(value, text);
      value = std::move(text);
    }
    fields.emplace_back(name, std::move(value));
    if (end == rest.size()) break;
    start = end + 1;
  }
  std::size_t size = 0;
  for (const auto& [name, value] : fields) size += name.size() + value.size();
  const auto m = measured(size, [&] { return from_stream_fields(fields); });
  if (!m) return;
  // The uid is the last uid field's, when that is UTF-8 (else U+FFFD
  // stands for what is not).
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->first != "uid") continue;
    if (is_utf8(it->second)) EIO_FUZZ_CHECK(m->uid == it->second);
    break;
  }
  check_message(*m, source::stream);
}

void session(std::string_view text) {
  const auto s = measured(text.size(), [&] { return decode_session(text); });
  if (!s) return;
  EIO_FUZZ_CHECK(!s->sid.empty() && !s->pid.empty());
  EIO_FUZZ_CHECK(is_utf8(s->sid) && is_utf8(s->pid) && all_utf8(s->rooms) && all_utf8(s->data));
  const std::string encoded = encode_session(*s);
  const auto again = decode_session(encoded);
  EIO_FUZZ_CHECK(again);
  EIO_FUZZ_CHECK(again->sid == s->sid && again->pid == s->pid && again->rooms == s->rooms);
  EIO_FUZZ_CHECK(canonical(again->data) == canonical(s->data));
  EIO_FUZZ_CHECK(encode_session(*again) == encoded);
}

// [0-9]+ below 2^64, the reference's way: digits compared as text.
std::optional<std::uint64_t> reference_number(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  constexpr std::string_view max = "18446744073709551615";
  if (digits.size() > max.size() || (digits.size() == max.size() && digits > max)) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

std::string without_leading_zeros(std::string_view digits) {
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  return std::string(digits);
}

void stream_id_text(std::string_view text) {
  const auto id = parse_stream_id(text);
  const std::size_t dash = text.find('-');
  std::optional<stream_id> expected;
  if (dash != std::string_view::npos) {
    const auto ms = reference_number(text.substr(0, dash));
    const auto seq = reference_number(text.substr(dash + 1));
    if (ms && seq) expected = stream_id{*ms, *seq};
  }
  EIO_FUZZ_CHECK(id.has_value() == expected.has_value());
  if (!id) return;
  EIO_FUZZ_CHECK(*id == *expected);
  const std::string printed = to_string(*id);
  EIO_FUZZ_CHECK(printed ==
                 without_leading_zeros(text.substr(0, dash)) + "-" + without_leading_zeros(text.substr(dash + 1)));
  EIO_FUZZ_CHECK(parse_stream_id(printed) == id);
}

void stream_id_numbers(std::string_view bytes) {
  if (bytes.size() < 16) return;
  stream_id id;
  for (std::size_t i = 0; i < 8; ++i) id.ms = (id.ms << 8) | static_cast<std::uint8_t>(bytes[i]);
  for (std::size_t i = 8; i < 16; ++i) id.seq = (id.seq << 8) | static_cast<std::uint8_t>(bytes[i]);
  const auto again = parse_stream_id(to_string(id));
  EIO_FUZZ_CHECK(again && *again == id);
  EIO_FUZZ_CHECK(!(id < id) && id <= id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 0x07) {
    case 0: msgpack_value(rest); break;
    case 1: json_text(rest); break;
    case 2: published_message(rest); break;
    case 3: check_stream_entry(rest, false); break;
    case 4: check_stream_entry(rest, true); break;
    case 5: session(rest); break;
    case 6: {
      std::string text;
      eio::base64_encode(rest, text);
      session(text);
      break;
    }
    default:
      stream_id_text(rest);
      stream_id_numbers(rest);
      break;
  }
  return 0;
}
