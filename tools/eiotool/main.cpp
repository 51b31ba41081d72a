// eiotool: serve, decode and encode Engine.IO traffic from the command line.
// Each subcommand lives in its own <name>_command.cpp; main() only registers
// them, parses the command line and runs the chosen one.
#include "bench_command.hpp"
#include "command.hpp"
#include "decode_command.hpp"
#include "emit_command.hpp"
#include "encode_command.hpp"
#include "fuzz_command.hpp"
#include "probe_command.hpp"
#include "serve_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  using namespace eio::tool;

  CLI::App app{"eiotool: Engine.IO protocol tools (v3 and v4)", "eiotool"};
  app.set_version_flag("--version", EIO_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'eiotool <command> --help' for a command's options and examples.");

  command_action action;
  add_bench_command(app, action);
  add_decode_command(app, action);
  add_emit_command(app, action);
  add_encode_command(app, action);
  add_fuzz_command(app, action);
  add_probe_command(app, action);
  add_serve_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real one is
    // a usage error, whatever CLI11's own code for it.
    const int status = app.exit(e);
    return status == 0 ? exit_ok : exit_usage;
  }

  if (!action) return exit_usage;  // unreachable while a subcommand is required
  try {
    return action();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return exit_failure;
  }
}
