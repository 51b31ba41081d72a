// eio_crosscheck_helper: the native half of the cross-check against the
// official JavaScript parsers (crosscheck.js drives it).
//
// Reads one JSON case per line on stdin:
//   {"id":N, "eio":3|4, "form":"polling"|"websocket",
//    "binary":bool,            binary_supported for our encoder
//    "encoded_binary":bool,    the official encoding is a Buffer (v3 binary
//                              payload, binary frame); defaults to "binary"
//    "encoded_b64":"...",      what the official encoder produced
//    "packets":[{"type":"message","data":"...","binary":bool}]}
// (binary data in base64), decodes `encoded_b64` with our decoder, encodes
// `packets` with our encoder, and writes one JSON line per case:
//   {"id":N, "decoded":[packets] | "error":"<errc name> at <offset>",
//    "encoded_b64":"...", "encoded_binary":bool}
// plus "split_error" when feeding the payload in pieces gave another result
// than decoding it whole (the decoder promises they are the same), and
// "helper_error" when the case itself could not be read.
//
// The transport base64 is Poco's, not ours: the oracle must not depend on the
// code under test. Output strings are raw UTF-8 (our decoder validates it);
// only '"', '\\' and control characters are escaped.

#include <eio/parser.hpp>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <Poco/Exception.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <exception>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string from_base64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

std::string to_base64(std::string_view bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string describe(const eio::decode_error& error) {
  return std::string(eio::errc_name(error.code)) + " at " +
         std::to_string(error.offset);
}

void append_packets(const std::vector<eio::packet>& packets, std::string& out) {
  out += '[';
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const eio::packet& p = packets[i];
    if (i != 0) out += ',';
    out += "{\"type\":";
    append_json_string(eio::to_string(p.type), out);
    out += ",\"binary\":";
    out += p.binary ? "true" : "false";
    out += ",\"data\":";
    append_json_string(p.binary ? std::string_view(to_base64(p.data)) : p.data, out);
    out += '}';
  }
  out += ']';
}

// The codec's semantics are under test, not its limits: the official parsers
// have none (the servers enforce maxHttpBufferSize), so lift ours.
eio::decode_options unlimited_options() {
  eio::decode_options options;
  options.max_payload_bytes = std::numeric_limits<std::size_t>::max();
  options.max_packets = std::numeric_limits<std::size_t>::max();
  return options;
}

struct owned_packet {
  eio::packet_type type = eio::packet_type::message;
  bool binary = false;
  std::string data;

  bool operator==(const owned_packet& other) const {
    return type == other.type && binary == other.binary && data == other.data;
  }
};

// Feeds `payload` in pieces of `piece` bytes the way a server reading a
// request body would, passing every unconsumed byte each time. Copies each
// call's packets out, since their views last only until the next feed().
eio::decode_error decode_in_pieces(eio::payload_decoder& decoder, std::string_view payload, std::size_t piece,
                                   std::vector<owned_packet>& out) {
  decoder.reset();
  std::size_t start = 0;
  std::size_t end = 0;
  std::vector<eio::packet> fed;
  for (;;) {
    end = std::min(payload.size(), end + piece);
    const bool last = end == payload.size();
    fed.clear();
    const auto result = decoder.feed(payload.substr(start, end - start), last, fed);
    for (const auto& p : fed) out.push_back({p.type, p.binary, std::string(p.data)});
    if (result.error) return result.error;
    start += result.consumed;
    if (last) {
      if (!result.done) throw std::logic_error("feed(last) neither failed nor finished");
      return {};
    }
  }
}

bool same_result(const eio::decode_error& whole, const std::vector<eio::packet>& whole_packets,
                 const eio::decode_error& split, const std::vector<owned_packet>& split_packets) {
  if (whole.code != split.code) return false;
  if (whole.code) return whole.offset == split.offset;
  if (whole_packets.size() != split_packets.size()) return false;
  for (std::size_t i = 0; i < whole_packets.size(); ++i) {
    const eio::packet& p = whole_packets[i];
    if (!(owned_packet{p.type, p.binary, std::string(p.data)} == split_packets[i])) return false;
  }
  return true;
}

// Pieces for case `id`: the whole payload in 1..17 parts, or one byte at a
// time for small payloads (bytes^2 work, as every feed sees the whole tail).
std::size_t piece_size(long long id, std::size_t bytes) {
  if (bytes <= 512 && id % 3 == 0) return 1;
  const auto parts = static_cast<std::size_t>(1 + id % 17);
  return std::max<std::size_t>(1, (bytes + parts - 1) / parts);
}

std::string run_case(const std::string& line, long long& id) {
  Poco::JSON::Parser parser;
  const auto json = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
  id = json->getValue<long long>("id");
  const int eio = json->getValue<int>("eio");
  if (eio != 3 && eio != 4) throw std::runtime_error("eio must be 3 or 4");
  const auto version = eio == 3 ? eio::protocol_version::v3 : eio::protocol_version::v4;
  const std::string form = json->getValue<std::string>("form");
  if (form != "polling" && form != "websocket") throw std::runtime_error("form must be polling or websocket");
  const bool websocket = form == "websocket";
  const bool binary_supported = json->getValue<bool>("binary");
  const bool encoded_binary = json->optValue<bool>("encoded_binary", binary_supported);
  const std::string encoded = from_base64(json->getValue<std::string>("encoded_b64"));

  // Owned packet data; a deque so the views into it stay put as it grows.
  std::deque<std::string> storage;
  std::vector<eio::packet> packets;
  const auto json_packets = json->getArray("packets");
  if (!json_packets) throw std::runtime_error("packets missing");
  for (std::size_t i = 0; i < json_packets->size(); ++i) {
    const auto jp = json_packets->getObject(static_cast<unsigned>(i));
    if (!jp) throw std::runtime_error("packet " + std::to_string(i) + " is not an object");
    const auto type = eio::packet_type_from_name(jp->getValue<std::string>("type"));
    if (!type) throw std::runtime_error("packet " + std::to_string(i) + ": unknown type");
    eio::packet p;
    p.type = *type;
    p.binary = jp->optValue<bool>("binary", false);
    const std::string data = jp->optValue<std::string>("data", "");
    storage.push_back(p.binary ? from_base64(data) : data);
    p.data = storage.back();
    packets.push_back(p);
  }

  std::string out = "{\"id\":" + std::to_string(id);

  // (a) decode what the official encoder produced.
  const auto options = unlimited_options();
  std::vector<eio::packet> decoded;
  eio::decode_error error;
  std::string scratch;  // base64 frames decode into it
  // Lives as long as `decoded`: base64 packets view its storage.
  eio::payload_decoder decoder(version, encoded_binary ? eio::payload_format::binary : eio::payload_format::text,
                               options);
  if (websocket) {
    eio::packet p;
    error = eio::decode_frame(encoded, encoded_binary ? eio::frame_kind::binary : eio::frame_kind::text, version,
                              p, scratch, options);
    if (!error) decoded.push_back(p);
  } else {
    error = decoder.decode(encoded, decoded);
    // The same payload split into pieces; the size varies with the case so the
    // run covers many split points. Packets decoded before an error are
    // compared too. `decoded` views `encoded` and `decoder`, which the second
    // decoder leaves alone.
    eio::payload_decoder pieces(decoder.version(), decoder.format(), options);
    const std::size_t piece = piece_size(id, encoded.size());
    std::vector<owned_packet> piece_packets;
    const auto piece_error = decode_in_pieces(pieces, encoded, piece, piece_packets);
    if (!same_result(error, decoded, piece_error, piece_packets)) {
      out += ",\"split_error\":";
      append_json_string("pieces of " + std::to_string(piece) + " bytes: " +
                             (piece_error ? describe(piece_error)
                                          : std::to_string(piece_packets.size()) + " packets"),
                         out);
    }
  }
  if (error) {
    out += ",\"error\":";
    append_json_string(describe(error), out);
  } else {
    out += ",\"decoded\":";
    append_packets(decoded, out);
  }

  // (b) encode the packets.
  std::string ours;
  bool ours_binary = false;
  if (websocket) {
    if (packets.size() != 1) throw std::runtime_error("a websocket case carries exactly one packet");
    ours_binary = eio::encode_frame(packets[0], version, binary_supported, ours) == eio::frame_kind::binary;
  } else {
    ours_binary = eio::encode_payload(packets, version, binary_supported, ours) == eio::payload_format::binary;
  }
  out += ",\"encoded_b64\":";
  append_json_string(to_base64(ours), out);
  out += ",\"encoded_binary\":";
  out += ours_binary ? "true" : "false";
  out += '}';
  return out;
}

std::string helper_error(long long id, const std::string& what) {
  std::string out = "{\"id\":" + std::to_string(id) + ",\"helper_error\":";
  append_json_string(what, out);
  out += '}';
  return out;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  int failures = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    long long id = -1;
    std::string result;
    try {
      result = run_case(line, id);
    } catch (const Poco::Exception& e) {
      result = helper_error(id, e.displayText());
      ++failures;
    } catch (const std::exception& e) {
      result = helper_error(id, e.what());
      ++failures;
    }
    std::cout << result << '\n';
  }
  std::cout.flush();
  return failures == 0 ? 0 : 1;
}
