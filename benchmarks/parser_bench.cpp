// eio::parser throughput, decode and encode, with memcpy of the same number of
// bytes as the reference in the same run (STYLE.md item 13). Every benchmark
// reports bytes/s of wire bytes: the encoded form, whichever way it is going.
//
// Steady state, as a server runs: one decoder, one packet vector and one
// output string per benchmark, reused across iterations.
//
// Inputs (bench_inputs.hpp; benchmarks/js/parser_bench.js builds the same):
//   v4_payload_100x32        v4 polling payload, 100 text messages of 32 B
//   v3_text_payload_100x32   the same as a v3 text payload ("33:4...")
//   v4_polling_binary_64k    one 64 KiB binary message, v4 polling ("b<base64>")
//   v4_ws_binary_64k         the same, v4 WebSocket binary frame (raw bytes)
//   v3_ws_binary_64k         the same, v3 WebSocket binary frame (type byte + bytes)
//   v4_payload_1000x1k       v4 polling payload, 1000 messages of 1048 B mixed UTF-8
//   v4_ws_text_1m            one 1 MiB mixed UTF-8 message, v4 WebSocket text frame
//   v4_polling_text_1m       the same message as a v4 polling payload
#include "bench_inputs.hpp"

#include <eio/parser.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace eio;

// Room for the 1 MiB inputs; the default limit is the reference's 1e6 bytes.
decode_options bench_options() {
  decode_options options;
  options.max_payload_bytes = 4 * 1024 * 1024;
  return options;
}

struct payload_input {
  std::string name;
  protocol_version version;
  std::vector<packet> packets;
  std::string wire;
  payload_format format = payload_format::text;
};

struct frame_input {
  std::string name;
  protocol_version version;
  packet message;
  std::string wire;
  frame_kind kind = frame_kind::text;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "eio_parser_bench: %s\n", what.c_str());
  std::exit(1);
}

std::vector<packet> text_messages(const std::vector<std::string>& contents) {
  std::vector<packet> packets;
  for (const auto& text : contents) packets.push_back(packet{packet_type::message, false, text});
  return packets;
}

payload_input make_payload(std::string name, protocol_version version, std::vector<packet> packets) {
  payload_input in{std::move(name), version, std::move(packets), {}};
  in.format = encode_payload(in.packets, version, false, in.wire);
  // Sanity: the wire form decodes back to the packets, or the numbers mean nothing.
  payload_decoder decoder(version, in.format, bench_options());
  std::vector<packet> decoded;
  if (decoder.decode(in.wire, decoded) || decoded != in.packets) die(in.name + ": does not round-trip");
  return in;
}

frame_input make_frame(std::string name, protocol_version version, packet message) {
  frame_input in{std::move(name), version, message, {}};
  in.kind = encode_frame(message, version, true, in.wire);
  packet decoded;
  std::string scratch;
  if (decode_frame(in.wire, in.kind, version, decoded, scratch, bench_options()) || decoded != message) {
    die(in.name + ": does not round-trip");
  }
  return in;
}

void set_bytes(benchmark::State& state, std::size_t wire_bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(wire_bytes));
  state.counters["wire_bytes"] = static_cast<double>(wire_bytes);
}

void decode_payload(benchmark::State& state, const payload_input& in) {
  payload_decoder decoder(in.version, in.format, bench_options());
  std::vector<packet> out;
  out.reserve(in.packets.size());
  for (auto _ : state) {
    out.clear();
    const decode_error error = decoder.decode(in.wire, out);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out.size() != in.packets.size()) state.SkipWithError("wrong packet count");
  set_bytes(state, in.wire.size());
}

void encode_payload_bench(benchmark::State& state, const payload_input& in) {
  std::string out;
  out.reserve(in.wire.size());
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(encode_payload(in.packets, in.version, false, out));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != in.wire) state.SkipWithError("different bytes");
  set_bytes(state, in.wire.size());
}

void decode_frame_bench(benchmark::State& state, const frame_input& in) {
  const decode_options options = bench_options();
  packet out;
  std::string scratch;
  for (auto _ : state) {
    const decode_error error = decode_frame(in.wire, in.kind, in.version, out, scratch, options);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  if (out != in.message) state.SkipWithError("different packet");
  set_bytes(state, in.wire.size());
}

void encode_frame_bench(benchmark::State& state, const frame_input& in) {
  std::string out;
  out.reserve(in.wire.size());
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(encode_frame(in.message, in.version, true, out));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != in.wire) state.SkipWithError("different bytes");
  set_bytes(state, in.wire.size());
}

// What a server sends instead of encode_frame(): layout_frame() names the
// bytes (a prefix, then the packet's own data) for a gather write, copying
// nothing, as the JS parser hands back the caller's Buffer.
void encode_zero_copy_bench(benchmark::State& state, const frame_input& in) {
  frame_layout layout;
  for (auto _ : state) {
    benchmark::DoNotOptimize(layout_frame(in.message, in.version, true, layout));
    benchmark::DoNotOptimize(layout);
    benchmark::ClobberMemory();
  }
  if (std::string(layout.prefix()) + std::string(in.message.data) != in.wire) state.SkipWithError("different bytes");
  set_bytes(state, in.wire.size());
}

// The reference: copying the same number of bytes, cache-warm like the rest.
void memcpy_bench(benchmark::State& state, std::size_t size) {
  std::string from(size, 'x');
  std::string to(size, '\0');
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), size);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, size);
}

std::string hex32(std::uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Static: the benchmarks keep references until they run.
  static const bench::contents contents = bench::make_contents();
  const packet binary_message{packet_type::message, true, contents.binary_64k};
  const packet text_message{packet_type::message, false, contents.text_1m};

  static const std::vector<payload_input> payloads = {
      make_payload("v4_payload_100x32", protocol_version::v4, text_messages(contents.small_messages)),
      make_payload("v3_text_payload_100x32", protocol_version::v3, text_messages(contents.small_messages)),
      make_payload("v4_polling_binary_64k", protocol_version::v4, {binary_message}),
      make_payload("v4_payload_1000x1k", protocol_version::v4, text_messages(contents.kb_messages)),
      make_payload("v4_polling_text_1m", protocol_version::v4, {text_message}),
  };
  static const std::vector<frame_input> frames = {
      make_frame("v4_ws_binary_64k", protocol_version::v4, binary_message),
      make_frame("v3_ws_binary_64k", protocol_version::v3, binary_message),
      make_frame("v4_ws_text_1m", protocol_version::v4, text_message),
  };

  std::map<std::size_t, bool> sizes;
  for (const auto& in : payloads) {
    benchmark::AddCustomContext("input " + in.name,
                                std::to_string(in.wire.size()) + " bytes fnv1a " + hex32(bench::fnv1a(in.wire)));
    benchmark::RegisterBenchmark(("decode/" + in.name).c_str(), decode_payload, in);
    benchmark::RegisterBenchmark(("encode/" + in.name).c_str(), encode_payload_bench, in);
    sizes[in.wire.size()] = true;
  }
  for (const auto& in : frames) {
    benchmark::AddCustomContext("input " + in.name,
                                std::to_string(in.wire.size()) + " bytes fnv1a " + hex32(bench::fnv1a(in.wire)));
    benchmark::RegisterBenchmark(("decode/" + in.name).c_str(), decode_frame_bench, in);
    benchmark::RegisterBenchmark(("encode/" + in.name).c_str(), encode_frame_bench, in);
    if (in.message.binary) {
      benchmark::RegisterBenchmark(("encode_zero_copy/" + in.name).c_str(), encode_zero_copy_bench, in);
    }
    sizes[in.wire.size()] = true;
  }
  for (const auto& [size, unused] : sizes) {
    benchmark::RegisterBenchmark(("memcpy/" + std::to_string(size)).c_str(), memcpy_bench, size);
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
