// The log lines of `eiotool serve`, both applications: one line per call on
// stderr (a single fprintf keeps lines from several loops whole).
#pragma once

#include <eio/server.hpp>

#include <cstdio>
#include <string>

namespace eio::tool {

enum class log_level { error, warn, info, debug };

inline log_level parse_log_level(const std::string& name) {
  if (name == "error") return log_level::error;
  if (name == "warn") return log_level::warn;
  if (name == "debug") return log_level::debug;
  return log_level::info;
}

template <typename... Args>
void log_line(const char* format, Args... args) {
  char line[1024];
  std::snprintf(line, sizeof line, format, args...);
  std::fprintf(stderr, "%s\n", line);
}

// "refused GET /engine.io/?...: 400 Bad request (context)".
inline void log_refused(const connection_error_event& refused) {
  log_line("refused %s %s?%s: %d %s (%s)", refused.request->method.c_str(), refused.request->path.c_str(),
           refused.request->query.c_str(), static_cast<int>(refused.code), std::string(default_message(refused.code)).c_str(),
           refused.context.c_str());
}

}  // namespace eio::tool
