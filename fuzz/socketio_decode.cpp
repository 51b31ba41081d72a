// Fuzz target: eio::socketio: decoder, encoder, assembler and values.
//
// Input: one selector byte, then either one text packet or a program.
//   bits 0-1   max_attachments: default (10), 1, 3, 1000
//   bit 2      max_namespace_bytes 8 (else the default)
//   bit 3      max_depth 4 (else the default)
//   bit 4      max_attachment_bytes 16 (else the default)
//   bit 5      attachment_timeout 100 ms (else the default)
//   bit 6      program mode (else: the rest is one text packet, followed by
//              as many 3-byte binary messages as it announces)
//   bit 7      unused (ignored)
// A program is a run of operations, each an op byte:
//   op % 4 == 0   text packet: two length bytes (little endian), then the text
//   op % 4 == 1   binary message: one length byte, then the bytes
//   op % 4 == 2   the clock moves (op >> 2) * 16 ms; on_timeout(now)
//   op % 4 == 3   bit 2 clear: text packet: one length byte, then the text
//                 bit 2 set: a packet built from fields, for the encoder: a
//                 type byte (% 8), an nsp length byte and the nsp, an id
//                 byte (0: none, else the next 8 bytes), an attachment count
//                 byte, a data length byte and the data
// fuzz/make_corpus.py writes the same layout; keep the two in step.
//
// Invariants (beyond "no crash, no sanitizer report"):
//   1. Every error is of category eio.socketio, with its offset within the
//      text or binary message it was given.
//   2. decode(encode(p)) == p for every decoded packet (the encoder accepts
//      each), with the same payload_info; encoding is canonical (encoding
//      the re-decoded packet gives the same text). scan() of the data alone
//      agrees with decode(). For packets built from fields: whatever the
//      encoder accepts and scan() accepts decodes back to the same packet;
//      what the encoder refuses leaves its output untouched.
//   3. The scan (simdjson) accepts exactly what nlohmann's strict RFC 8259
//      parser accepts, as far as JSON goes (other errors, such as depth or
//      the shape of the payload, aside).
//   4. Complete packets convert to values (from_wire, attachments restored)
//      and back (to_wire) to data the scan accepts and that converts to the
//      same value.
//   5. The assembler: pending iff next_deadline(); pending bytes within
//      max_attachment_bytes; attachments of a complete packet are as many
//      as announced; nothing pending after an error.
#include <eio/socketio/assembler.hpp>
#include <eio/socketio/packet.hpp>
#include <eio/socketio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#define EIO_FUZZ_CHECK(cond)                                                                 \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);      \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace {

using namespace eio::socketio;

decode_options options_from(std::uint8_t selector) {
  static constexpr std::size_t max_attachments[] = {decode_options{}.max_attachments, 1, 3, 1000};
  decode_options o;
  o.max_attachments = max_attachments[selector & 0x03];
  if ((selector & 0x04) != 0) o.max_namespace_bytes = 8;
  if ((selector & 0x08) != 0) o.max_depth = 4;
  if ((selector & 0x10) != 0) o.max_attachment_bytes = 16;
  if ((selector & 0x20) != 0) o.attachment_timeout = millis(100);
  return o;
}

void check_error(const decode_error& e, std::size_t size) {
  EIO_FUZZ_CHECK(e.code.category() == socketio_category());
  EIO_FUZZ_CHECK(e.offset <= size);
  EIO_FUZZ_CHECK(errc_name(e.code) != "unknown");
}

bool same_info(const payload_info& a, const payload_info& b) {
  return a.name_kind == b.name_kind && a.name == b.name && a.args_offset == b.args_offset &&
         a.args_size == b.args_size && a.arg_count == b.arg_count && a.placeholder_count == b.placeholder_count &&
         a.max_placeholder_num == b.max_placeholder_num && a.placeholders_valid == b.placeholders_valid;
}

// Invariant 3, on arbitrary bytes taken as the data of an ACK (any array).
void check_against_nlohmann(decoder& d, std::string_view data) {
  // Leading whitespace, which JSON allows, is refused in packet data (the
  // reference reads it into the ack id); compare the grammar after it.
  const std::size_t start = data.find_first_not_of(" \t\n\r");
  if (start != 0 && !data.empty()) {
    payload_info info;
    const decode_error e = d.scan(data, packet_type::ack, 0, info);
    EIO_FUZZ_CHECK(errc_name(e.code) == "invalid_json" && e.offset == 0);
  }
  if (start == std::string_view::npos) return;
  data.remove_prefix(start);
  payload_info info;
  const decode_error e = d.scan(data, packet_type::ack, 0, info);
  // nlohmann stops at a NUL byte as at the end of the input; JSON never has
  // one unescaped, so such data counts as refused.
  const bool has_nul = data.find('\0') != std::string_view::npos;
  const nlohmann::json parsed =
      has_nul ? nlohmann::json(nlohmann::json::value_t::discarded) : nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
  if (!e) {
    EIO_FUZZ_CHECK(!parsed.is_discarded());
    EIO_FUZZ_CHECK(parsed.is_array());
    EIO_FUZZ_CHECK(info.arg_count == parsed.size());
    return;
  }
  check_error(e, data.size());
  if (errc_name(e.code) == "invalid_json") {
    // The same grammar: what nlohmann takes, the scan takes (the decoder's
    // own limit, depth, is another error).
    EIO_FUZZ_CHECK(parsed.is_discarded());
  }
}

// Invariant 2 for one decoded packet.
// `again_decoder` is another decoder than the one that made `info` (whose
// name may view that decoder's storage).
void check_round_trip(decoder& again_decoder, const packet& p, const payload_info& info) {
  std::string encoded = "x";
  EIO_FUZZ_CHECK(!encode(p, encoded));
  const std::string_view text = std::string_view(encoded).substr(1);
  packet again;
  payload_info again_info;
  const decode_error e = again_decoder.decode(text, again, again_info);
  if (e) {
    std::fprintf(stderr, "re-encoded packet does not decode: %s at %zu\n", e.code.message().c_str(), e.offset);
    std::abort();
  }
  EIO_FUZZ_CHECK(again == p);
  EIO_FUZZ_CHECK(same_info(again_info, info));
  std::string twice;
  EIO_FUZZ_CHECK(!encode(again, twice));
  EIO_FUZZ_CHECK(twice == text);

  payload_info scanned;
  EIO_FUZZ_CHECK(!again_decoder.scan(p.data, p.type, p.attachments, scanned));
  EIO_FUZZ_CHECK(same_info(scanned, info));
}

// Invariant 4 for one complete packet.
void check_value(decoder& d, const message& m) {
  if (m.header.data.empty()) return;
  nlohmann::json v;
  std::error_code e;
  if (is_binary(m.header.type)) {
    e = from_wire(m.header.data, m.attachments, v, d.options().max_depth);
  } else {
    e = from_wire(m.header.data, v, d.options().max_depth);
  }
  if (e) {
    std::fprintf(stderr, "from_wire refused data the decoder accepted: %s\n", e.message().c_str());
    std::abort();
  }
  std::string text;
  std::vector<attachment> attachments;
  EIO_FUZZ_CHECK(!to_wire(v, text, attachments));
  EIO_FUZZ_CHECK(attachments.size() == (is_binary(m.header.type) ? m.header.attachments : 0));
  payload_info info;
  const packet_type type = m.header.type;
  const decode_error scan_error = d.scan(text, type, attachments.size(), info);
  if (scan_error) {
    std::fprintf(stderr, "to_wire wrote data the scan refuses: %s at %zu\n", scan_error.code.message().c_str(),
                 scan_error.offset);
    std::abort();
  }
  EIO_FUZZ_CHECK(info.placeholder_count >= attachments.size());
  nlohmann::json back;
  if (is_binary(type)) {
    EIO_FUZZ_CHECK(!from_wire(text, attachments, back, d.options().max_depth));
  } else {
    EIO_FUZZ_CHECK(!from_wire(text, back, d.options().max_depth));
  }
  EIO_FUZZ_CHECK(back == v);
}

// Invariant 2 for a packet built from fields.
void check_built(decoder& d, const packet& p) {
  std::string encoded = "kept";
  const std::error_code e = encode(p, encoded);
  if (e) {
    EIO_FUZZ_CHECK(e.category() == socketio_category());
    EIO_FUZZ_CHECK(encoded == "kept");
    return;
  }
  payload_info scanned;
  if (d.scan(p.data, p.type, p.attachments, scanned)) return;  // data not valid for the type: a precondition
  decode_options unlimited = d.options();
  unlimited.max_attachments = SIZE_MAX;
  unlimited.max_namespace_bytes = SIZE_MAX;
  decoder any(unlimited);
  packet again;
  payload_info info;
  const std::string_view text = std::string_view(encoded).substr(4);
  const decode_error error = any.decode(text, again, info);
  if (error) {
    std::fprintf(stderr, "an encoded packet does not decode: %s at %zu\n", error.code.message().c_str(), error.offset);
    std::abort();
  }
  EIO_FUZZ_CHECK(again == p);
}

struct harness {
  explicit harness(decode_options o) : options(o), d(o), other(o), a(o) {}

  void check_assembler() {
    EIO_FUZZ_CHECK(a.pending() == a.next_deadline().has_value());
    EIO_FUZZ_CHECK(a.pending_bytes() <= options.max_attachment_bytes);
  }

  void completed(const feed_result& r) {
    if (r.error) {
      EIO_FUZZ_CHECK(!r.complete);
      EIO_FUZZ_CHECK(!a.pending());
      return;
    }
    if (!r.complete) {
      EIO_FUZZ_CHECK(a.pending());
      return;
    }
    EIO_FUZZ_CHECK(!a.pending());
    EIO_FUZZ_CHECK(out.attachments.size() == (is_binary(out.header.type) ? out.header.attachments : 0));
    check_value(d, out);
  }

  void text(std::string_view t) {
    // A copy sized exactly, so that ASan sees a read past its end.
    const std::string owned(t);
    packet p;
    payload_info info;
    const decode_error e = d.decode(owned, p, info);
    if (e) {
      check_error(e, owned.size());
      return;
    }
    EIO_FUZZ_CHECK(p.attachments <= options.max_attachments);
    EIO_FUZZ_CHECK(p.nsp.size() <= options.max_namespace_bytes || p.nsp == "/");
    EIO_FUZZ_CHECK(!p.id || *p.id <= options.max_ack_id);
    check_round_trip(other, p, info);
    const feed_result r = a.on_packet(p, info, now, out);
    if (r.error) check_error(r.error, 0);
    completed(r);
    check_assembler();
  }

  void binary(std::string_view bytes) {
    const std::string owned(bytes);
    const feed_result r = a.on_binary(owned, now, out);
    if (r.error) check_error(r.error, owned.size());
    completed(r);
    check_assembler();
  }

  void tick(millis by) {
    now += by;
    const decode_error e = a.on_timeout(now);
    if (e) {
      check_error(e, 0);
      EIO_FUZZ_CHECK(!a.pending());
    }
    if (a.pending()) EIO_FUZZ_CHECK(*a.next_deadline() > now);
    check_assembler();
  }

  decode_options options;
  decoder d;
  decoder other;  // for re-decoding while views into d's storage are live
  assembler a;
  message out;
  millis now{0};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  harness h(options_from(selector));
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  if ((selector & 0x40) == 0) {
    check_against_nlohmann(h.d, rest.empty() ? rest : rest.substr(1));
    h.text(rest);
    for (std::size_t i = 0; h.a.pending() && i < 1000; ++i) {
      const char bytes[3] = {static_cast<char>(i), static_cast<char>(i >> 8), '\xff'};
      h.binary(std::string_view(bytes, 3));
    }
    return 0;
  }

  std::size_t at = 0;
  auto next = [&]() -> std::uint8_t { return at < rest.size() ? static_cast<std::uint8_t>(rest[at++]) : 0; };
  auto take = [&](std::size_t n) {
    const std::string_view bytes = rest.substr(at, n);
    at += bytes.size();
    return bytes;
  };
  for (int ops = 0; at < rest.size() && ops < 200; ++ops) {
    const std::uint8_t op = next();
    switch (op % 4) {
      case 0: {
        std::size_t n = next();
        n |= static_cast<std::size_t>(next()) << 8;
        h.text(take(n));
        break;
      }
      case 1: h.binary(take(next())); break;
      case 2: h.tick(millis((op >> 2) * 16)); break;
      default:
        if ((op & 0x04) == 0) {
          h.text(take(next()));
          break;
        }
        {
          packet p;
          p.type = static_cast<packet_type>(next() % 8);
          const std::string nsp(take(next()));
          p.nsp = nsp;
          if (next() != 0) {
            std::uint64_t id = 0;
            for (int i = 0; i < 8; ++i) id = (id << 8) | next();
            p.id = id >> (next() % 64);
          }
          p.attachments = next() % 4;
          const std::string body(take(next()));
          p.data = body;
          check_built(h.d, p);
        }
        break;
    }
  }
  return 0;
}
