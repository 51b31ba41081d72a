#include <eio/wire/compression.hpp>
#include <eio/server.hpp>  // ascii_iequals

#if EIO_WIRE_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <climits>
#include <utility>
#include <vector>

namespace eio::wire {
namespace {

// zlib counts in uInt: hand it at most this many bytes per call.
constexpr std::size_t max_zlib_chunk = std::size_t{1} << 30;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// tchar (RFC 9110 section 5.6.2).
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue (RFC 9110 section 12.4.2) in thousandths; -1 if it does not parse.
int parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int value = (s[0] - '0') * 1000;
  if (s.size() == 1) return value;
  if (s[1] != '.' || s.size() > 5) return -1;
  int scale = 100;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value += (s[i] - '0') * scale;
  }
  return value > 1000 ? -1 : value;
}

// ---------------------------------------------------------------------------
// Sec-WebSocket-Extensions (RFC 6455 section 9.1):
//   extension-list = 1#( extension-token *( ";" extension-param ) )
//   extension-param = token [ "=" (token | quoted-string) ]

struct extension_param {
  std::string name;
  std::optional<std::string> value;
};

struct extension_offer {
  std::string name;
  std::vector<extension_param> params;
};

class extension_parser {
public:
  explicit extension_parser(std::string_view s) : s_(s) {}

  // Every element of the list; nullopt on a syntax error.
  std::optional<std::vector<extension_offer>> parse() {
    std::vector<extension_offer> offers;
    for (;;) {
      skip_ows();
      if (at_end()) return offers;
      if (peek() == ',') {  // empty list elements are allowed (RFC 9110 section 5.6.1.2)
        ++pos_;
        continue;
      }
      extension_offer offer;
      if (!token(offer.name)) return std::nullopt;
      for (;;) {
        skip_ows();
        if (at_end() || peek() == ',') break;
        if (peek() != ';') return std::nullopt;
        ++pos_;
        skip_ows();
        extension_param param;
        if (!token(param.name)) return std::nullopt;
        skip_ows();
        if (!at_end() && peek() == '=') {
          ++pos_;
          skip_ows();
          std::string value;
          if (!at_end() && peek() == '"' ? !quoted_string(value) : !token(value)) return std::nullopt;
          param.value = std::move(value);
        }
        offer.params.push_back(std::move(param));
      }
      offers.push_back(std::move(offer));
      if (!at_end()) ++pos_;  // the ','
    }
  }

private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ows() {
    while (!at_end() && is_ows(peek())) ++pos_;
  }
  bool token(std::string& out) {
    const std::size_t start = pos_;
    while (!at_end() && is_tchar(peek())) ++pos_;
    out.assign(s_.substr(start, pos_ - start));
    return pos_ > start;
  }
  // quoted-string (RFC 9110 section 5.6.4), unescaped into `out`.
  bool quoted_string(std::string& out) {
    ++pos_;  // the opening quote
    while (!at_end()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end()) return false;
        out += s_[pos_++];
      } else if (c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F)) {
        out += c;
      } else {
        return false;
      }
    }
    return false;  // no closing quote
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// A window-bits value of RFC 7692 section 7.1.2: "8" to "15", no leading
// zero. -1 otherwise.
int parse_window_bits(std::string_view s) {
  if (s.size() == 1 && (s[0] == '8' || s[0] == '9')) return s[0] - '0';
  if (s.size() == 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '5') return 10 + (s[1] - '0');
  return -1;
}

// The response to one permessage-deflate offer, or nullopt to decline it
// (RFC 7692 section 5 and 7.1).
std::optional<permessage_deflate_params> accept_offer(const extension_offer& offer,
                                                      const permessage_deflate_config& config) {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  // 0: not offered
  bool client_max_window_bits_offered = false;
  int client_max_window_bits = 15;
  bool seen[4] = {false, false, false, false};
  const auto first_time = [&](int which) { return !std::exchange(seen[which], true); };
  for (const auto& param : offer.params) {
    if (ascii_iequals(param.name, "server_no_context_takeover")) {
      if (!first_time(0) || param.value) return std::nullopt;
      server_no_context_takeover = true;
    } else if (ascii_iequals(param.name, "client_no_context_takeover")) {
      if (!first_time(1) || param.value) return std::nullopt;
      client_no_context_takeover = true;
    } else if (ascii_iequals(param.name, "server_max_window_bits")) {
      if (!first_time(2) || !param.value) return std::nullopt;
      server_max_window_bits = parse_window_bits(*param.value);
      if (server_max_window_bits < 0) return std::nullopt;
    } else if (ascii_iequals(param.name, "client_max_window_bits")) {
      if (!first_time(3)) return std::nullopt;
      client_max_window_bits_offered = true;
      if (param.value) {
        client_max_window_bits = parse_window_bits(*param.value);
        if (client_max_window_bits < 0) return std::nullopt;
      }
    } else {
      return std::nullopt;  // a parameter not defined for offers (section 7)
    }
  }
  permessage_deflate_params params;
  params.level = std::clamp(config.level, -1, 9);
  params.mem_level = std::clamp(config.mem_level, 1, 9);
  params.server_no_context_takeover = server_no_context_takeover || config.server_no_context_takeover;
  params.client_no_context_takeover = client_no_context_takeover || config.client_no_context_takeover;
  // Our window: what we want, never more than the client allows (section
  // 7.1.2.1).
  const int server_wanted = std::clamp(config.server_max_window_bits, 8, 15);
  if (server_max_window_bits != 0) {
    params.server_max_window_bits = std::min(server_wanted, server_max_window_bits);
    params.send_server_max_window_bits = true;
  } else {
    params.server_max_window_bits = server_wanted;
    params.send_server_max_window_bits = server_wanted < 15;
  }
  // The client's window: limited only if the client said it can be
  // (section 7.1.2.2); if we must limit it and cannot, decline, as ws does.
  const int client_wanted = std::clamp(config.client_max_window_bits, 8, 15);
  if (client_max_window_bits_offered) {
    params.client_max_window_bits = std::min(client_wanted, client_max_window_bits);
    params.send_client_max_window_bits = params.client_max_window_bits < 15;
  } else {
    if (client_wanted < 15) return std::nullopt;
    params.client_max_window_bits = 15;
  }
  return params;
}

}  // namespace

// ---------------------------------------------------------------------------
// HTTP response compression

std::string_view content_encoding_name(http_encoding encoding) noexcept {
  switch (encoding) {
    case http_encoding::gzip:
      return "gzip";
    case http_encoding::deflate:
      return "deflate";
    case http_encoding::identity:
      break;
  }
  return "";
}

http_encoding choose_encoding(std::string_view accept_encoding) {
  // Weights in thousandths; -1: not named.
  int gzip = -1;
  int deflate = -1;
  int star = -1;
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    const std::size_t semicolon = element.find(';');
    const std::string_view name = trim(element.substr(0, semicolon));
    if (!is_token(name)) continue;  // empty elements too
    int q = 1000;
    if (semicolon != std::string_view::npos) {
      // weight = OWS ";" OWS "q=" qvalue; anything else makes the element void.
      const std::string_view weight = trim(element.substr(semicolon + 1));
      if (weight.size() < 2 || lower(weight[0]) != 'q' || weight[1] != '=') continue;
      q = parse_qvalue(weight.substr(2));
      if (q < 0) continue;
    }
    // The first mention of a coding counts.
    int* slot = ascii_iequals(name, "gzip") || ascii_iequals(name, "x-gzip") ? &gzip
                : ascii_iequals(name, "deflate")                      ? &deflate
                : name == "*"                                   ? &star
                                                                : nullptr;
    if (slot && *slot < 0) *slot = q;
  }
  if (gzip < 0) gzip = std::max(star, 0);
  if (deflate < 0) deflate = std::max(star, 0);
  if (gzip > 0 && gzip >= deflate) return http_encoding::gzip;
  if (deflate > 0) return http_encoding::deflate;
  return http_encoding::identity;
}

bool compression_available() noexcept { return EIO_WIRE_HAVE_ZLIB != 0; }

#if EIO_WIRE_HAVE_ZLIB
bool compress_body(http_encoding encoding, std::string_view in, std::string& out) {
  if (encoding == http_encoding::identity) {
    out.assign(in);
    return true;
  }
  z_stream stream{};
  // windowBits 15 + 16 asks zlib for a gzip wrapper, plain 15 for the zlib one.
  const int window_bits = encoding == http_encoding::gzip ? 15 + 16 : 15;
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.clear();
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  std::size_t remaining = in.size();
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (stream.avail_in == 0 && remaining > 0) {
      const std::size_t take = std::min(remaining, max_zlib_chunk);
      stream.next_in = const_cast<Bytef*>(next);
      stream.avail_in = static_cast<uInt>(take);
      next += take;
      remaining -= take;
    }
    // Room for all of it at once, usually (deflateBound is for Z_FINISH).
    const std::size_t room = std::max<std::size_t>(deflateBound(&stream, static_cast<uLong>(stream.avail_in)), 64);
    const std::size_t old = out.size();
    out.resize(old + room);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    stream.avail_out = static_cast<uInt>(room);
    ret = deflate(&stream, remaining > 0 ? Z_NO_FLUSH : Z_FINISH);
    out.resize(old + room - stream.avail_out);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) break;
  }
  deflateEnd(&stream);
  return ret == Z_STREAM_END;
}
#else
bool compress_body(http_encoding encoding, std::string_view in, std::string& out) {
  if (encoding != http_encoding::identity) return false;
  out.assign(in);
  return true;
}
#endif

// ---------------------------------------------------------------------------
// permessage-deflate

std::string permessage_deflate_params::header_value() const {
  std::string value = "permessage-deflate";
  if (server_no_context_takeover) value += "; server_no_context_takeover";
  if (client_no_context_takeover) value += "; client_no_context_takeover";
  if (send_server_max_window_bits) value += "; server_max_window_bits=" + std::to_string(server_max_window_bits);
  if (send_client_max_window_bits) value += "; client_max_window_bits=" + std::to_string(client_max_window_bits);
  return value;
}

std::optional<permessage_deflate_params> negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                                                      const permessage_deflate_config& config) {
  if (!compression_available()) return std::nullopt;
  const auto offers = extension_parser(sec_websocket_extensions).parse();
  if (!offers) return std::nullopt;
  for (const auto& offer : *offers) {
    if (!ascii_iequals(offer.name, "permessage-deflate")) continue;
    if (auto params = accept_offer(offer, config)) return params;
  }
  return std::nullopt;
}

#if EIO_WIRE_HAVE_ZLIB
// Both zlib streams, set up on first use: a connection that only receives
// never pays for a compressor.
struct permessage_deflate::streams {
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ready = false;
  bool inflater_ready = false;

  streams() = default;
  streams(const streams&) = delete;
  streams& operator=(const streams&) = delete;
  ~streams() {
    if (deflater_ready) deflateEnd(&deflater);
    if (inflater_ready) inflateEnd(&inflater);
  }
};

permessage_deflate::permessage_deflate(const permessage_deflate_params& params)
    : params_(params), streams_(std::make_unique<streams>()) {}

permessage_deflate::~permessage_deflate() = default;
permessage_deflate::permessage_deflate(permessage_deflate&&) noexcept = default;
permessage_deflate& permessage_deflate::operator=(permessage_deflate&&) noexcept = default;

namespace {
// The end of a Z_SYNC_FLUSH: an empty stored block (RFC 7692 section 7.2.1).
constexpr unsigned char sync_tail[4] = {0x00, 0x00, 0xFF, 0xFF};

// Makes room in `out` for `needed` bytes (needed <= max_size) without its
// buffer ever passing max_size: geometric growth as usual below that, an
// exact buffer at the end (std::string::reserve may round up to twice the
// old capacity, hence the copy).
void grow_within(std::string& out, std::size_t needed, std::size_t max_size) {
  if (needed <= out.capacity()) return;
  const std::size_t doubled = std::max(needed, 2 * out.capacity());
  if (doubled <= max_size) {
    out.reserve(doubled);
    return;
  }
  std::string exact;
  exact.reserve(max_size);
  exact.append(out);
  out.swap(exact);
}

// The sender ended its DEFLATE stream (a block with BFINAL set, section
// 7.2.3.4): what follows, if anything, is a new stream. Its window carries
// on with context takeover, as the sender may refer back to it.
bool restart(z_stream& z, bool keep_window) {
  Bytef window[1 << 15];
  uInt window_size = 0;
  if (keep_window && inflateGetDictionary(&z, window, &window_size) != Z_OK) return false;
  if (inflateReset(&z) != Z_OK) return false;
  return !keep_window || window_size == 0 || inflateSetDictionary(&z, window, window_size) == Z_OK;
}
}  // namespace

bool permessage_deflate::compress(std::string_view message, std::string& out) {
  out.clear();
  if (!streams_) return false;
  if (message.empty()) {
    // A lone empty stored block (section 7.2.3.6). zlib would give nothing
    // at all after an earlier flush (deflate.c skips duplicate flushes).
    out.assign(1, '\0');
    return true;
  }
  z_stream& d = streams_->deflater;
  if (!streams_->deflater_ready) {
    // Negative window bits: raw DEFLATE, no zlib header (section 7.2.1).
    // zlib refuses a 256-byte window for raw deflate (zlib.h, deflateInit2),
    // so 8 takes 9; that still honours 8: zlib's deflate never looks further
    // back than the window less MIN_LOOKAHEAD (262 bytes, deflate.h
    // MAX_DIST), 250 bytes for a 512-byte window.
    const int window_bits = std::max(params_.server_max_window_bits, 9);
    if (deflateInit2(&d, params_.level, Z_DEFLATED, -window_bits, params_.mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return false;
    }
    streams_->deflater_ready = true;
  }
  const auto* next = reinterpret_cast<const Bytef*>(message.data());
  std::size_t remaining = message.size();
  bool ok = true;
  for (;;) {
    if (d.avail_in == 0 && remaining > 0) {
      const std::size_t take = std::min(remaining, max_zlib_chunk);
      d.next_in = const_cast<Bytef*>(next);
      d.avail_in = static_cast<uInt>(take);
      next += take;
      remaining -= take;
    }
    const std::size_t room = std::max<std::size_t>(deflateBound(&d, static_cast<uLong>(d.avail_in)) + 16, 256);
    const std::size_t old = out.size();
    out.resize(old + room);
    d.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    d.avail_out = static_cast<uInt>(room);
    const int ret = deflate(&d, remaining > 0 ? Z_NO_FLUSH : Z_SYNC_FLUSH);
    out.resize(old + room - d.avail_out);
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      ok = false;
      break;
    }
    // The flush is complete once it returns with output room to spare.
    if (remaining == 0 && d.avail_in == 0 && d.avail_out != 0) break;
  }
  d.next_in = nullptr;
  d.avail_in = 0;
  const bool tail = out.size() >= 4 && std::equal(std::begin(sync_tail), std::end(sync_tail),
                                                  reinterpret_cast<const unsigned char*>(out.data() + out.size() - 4));
  if (ok && tail) out.resize(out.size() - 4);
  if (!ok || !tail || params_.server_no_context_takeover) deflateReset(&d);
  return ok && tail;
}

inflate_result permessage_deflate::decompress(std::string_view payload, std::size_t max_size, std::string& out) {
  out.clear();
  if (!streams_) return inflate_result::corrupt;
  z_stream& z = streams_->inflater;
  if (!streams_->inflater_ready) {
    // At least 9, to be lenient: a zlib-based client asked for 8 uses 9
    // (zlib.h, deflateInit2); a window bigger than the sender's is harmless.
    if (inflateInit2(&z, -std::max(params_.client_max_window_bits, 9)) != Z_OK) return inflate_result::corrupt;
    streams_->inflater_ready = true;
  }
  const auto finish = [&](inflate_result result) {
    z.next_in = nullptr;
    z.avail_in = 0;
    if (result != inflate_result::ok || params_.client_no_context_takeover) inflateReset(&z);
    return result;
  };
  // The payload (in chunks zlib can count), then the tail the sender removed.
  const auto* next = reinterpret_cast<const unsigned char*>(payload.data());
  std::size_t remaining = payload.size();
  bool tail_fed = false;
  unsigned char chunk[16384];
  for (;;) {
    if (z.avail_in == 0) {
      if (remaining > 0) {
        const std::size_t take = std::min(remaining, max_zlib_chunk);
        z.next_in = const_cast<Bytef*>(next);
        z.avail_in = static_cast<uInt>(take);
        next += take;
        remaining -= take;
      } else if (!tail_fed) {
        z.next_in = const_cast<Bytef*>(sync_tail);
        z.avail_in = sizeof sync_tail;
        tail_fed = true;
      } else {
        return finish(inflate_result::ok);
      }
    }
    do {
      z.next_out = chunk;
      z.avail_out = sizeof chunk;
      const int ret = inflate(&z, Z_SYNC_FLUSH);
      if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) return finish(inflate_result::corrupt);
      const std::size_t produced = sizeof chunk - z.avail_out;
      if (produced > max_size - out.size()) return finish(inflate_result::too_big);
      grow_within(out, out.size() + produced, max_size);
      out.append(reinterpret_cast<const char*>(chunk), produced);
      if (ret == Z_STREAM_END) {
        if (!restart(z, !params_.client_no_context_takeover)) return finish(inflate_result::corrupt);
        // Nothing left but (part of) the tail: it would start a stored block
        // of the new stream that no later byte completes.
        if (tail_fed || (remaining == 0 && z.avail_in == 0)) return finish(inflate_result::ok);
      }
      if (ret == Z_BUF_ERROR && produced == 0) break;  // needs more input
    } while (z.avail_in > 0 || z.avail_out == 0);
    if (z.avail_in > 0) return finish(inflate_result::corrupt);  // stuck: zlib took nothing
  }
}

#else
// Without zlib no offer is accepted, so no object is ever made to work.
struct permessage_deflate::streams {};

permessage_deflate::permessage_deflate(const permessage_deflate_params& params)
    : params_(params), streams_(std::make_unique<streams>()) {}
permessage_deflate::~permessage_deflate() = default;
permessage_deflate::permessage_deflate(permessage_deflate&&) noexcept = default;
permessage_deflate& permessage_deflate::operator=(permessage_deflate&&) noexcept = default;
bool permessage_deflate::compress(std::string_view, std::string&) { return false; }
inflate_result permessage_deflate::decompress(std::string_view, std::size_t, std::string&) {
  return inflate_result::corrupt;
}
#endif

}  // namespace eio::wire
