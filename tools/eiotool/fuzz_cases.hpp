// The cases of `eiotool fuzz`: what bytes to send, generated from a seed.
//
// Pure: no sockets, no clock. A case is a list of chunks, each written on one
// of the case's TCP connections (opened in order of first use) after a pause.
// Cases that need a live session get its sid when they are generated; the
// runner (fuzz_command.cpp) opens that session first and, on replay,
// substitutes a fresh sid for the recorded one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eio::tool::fuzz {

// xoshiro256** seeded through splitmix64 (Blackman and Vigna): small, fast,
// and the same sequence on every platform, which std:: distributions are not.
class rng {
public:
  explicit rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  // Uniform in [0, n); 0 when n is 0. Modulo bias is irrelevant here.
  std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
  bool chance(unsigned percent) noexcept { return below(100) < percent; }
  template <class T, std::size_t N>
  const T& pick(const std::array<T, N>& items) noexcept {
    return items[below(N)];
  }

private:
  std::array<std::uint64_t, 4> state_{};
};

std::uint64_t splitmix64(std::uint64_t& state) noexcept;

// socketio (fuzz_socketio.hpp) runs only with `eiotool fuzz --socketio`, so
// it is not among all_categories.
enum class category : std::uint8_t { handshake, http, payload, sequence, websocket, mutation, socketio };
inline constexpr std::array<category, 6> all_categories = {category::handshake, category::http, category::payload,
                                                           category::sequence,  category::websocket,
                                                           category::mutation};
std::string_view to_string(category c) noexcept;
bool parse_category(std::string_view name, category& out) noexcept;

// The session a case runs in, opened by the runner before the case.
enum class session_need : std::uint8_t { none, v4, v3 };
std::string_view to_string(session_need n) noexcept;

struct chunk {
  unsigned connection = 0;  // 0-based; connections open in order of first use
  unsigned delay_ms = 0;    // pause before writing
  std::string bytes;
};

struct fuzz_case {
  category what = category::handshake;
  std::string name;  // the generator's short description ("double GET", "opcode 0x3")
  session_need session = session_need::none;
  std::vector<chunk> chunks;
};

// Where the target lives, for Host headers and request targets.
struct target_info {
  std::string host_header;  // "127.0.0.1:3000"
  std::string path;         // "/engine.io/"
};

// What a generator needs before it runs: the session kind to open.
session_need session_for(category c, rng& random);

// Makes one case of category `c`. `sid` is the session's ID when
// session_for() asked for one (else empty). Draws only from `random`.
fuzz_case make_case(category c, rng& random, const target_info& target, session_need session,
                    const std::string& sid);

}  // namespace eio::tool::fuzz
