#include "serve_socketio.hpp"

#include "command.hpp"
#include "socketio_demo_app.hpp"

#include <eio/socketio_poco_server.hpp>

#include <Poco/Exception.h>

#include <memory>

namespace eio::tool {

int run_socketio_serve(poco_server_options options, const socketio_serve_settings& settings,
                       const std::function<void(poco_server&)>& started) {
  const log_level level = settings.level;
  socketio::server_options sio;
  sio.connect_timeout = settings.connect_timeout;
  sio.limits.max_attachments = settings.max_attachments;
  if (settings.state_recovery) {
    socketio::recovery_options recovery;
    recovery.max_disconnection_duration = *settings.state_recovery;
    sio.connection_state_recovery = recovery;
  }
  if (level >= log_level::info) {
    sio.on_connection_error = [](std::string_view engine_id, std::string_view reason) {
      log_line("error %.*s: %.*s", static_cast<int>(engine_id.size()), engine_id.data(), static_cast<int>(reason.size()), reason.data());
    };
  }
  socketio::server io(std::move(sio));

  const std::string host = options.host;
  std::unique_ptr<poco_socketio_server> server;
  try {
    server = std::make_unique<poco_socketio_server>(io, std::move(options), [level](loop_context&, event& e) {
      if (const auto* refused = std::get_if<connection_error_event>(&e); refused && level >= log_level::info) log_refused(*refused);
    });
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "error: cannot listen on %s: %s\n", host.c_str(), e.displayText().c_str());
    return exit_failure;
  }
  // The demo's handlers go in before the loops run (the runtimes are made at
  // their loops' first turn); its name needs the port, known by now.
  const std::string node_name = settings.node_name.empty() ? host + ":" + std::to_string(server->engine_io().port()) : settings.node_name;
  socketio_demo demo(io, node_name);
  if (level >= log_level::info) {
    demo.on_connect([](const socketio::socket& s) { log_line("connect %s %s", s.nsp().name().c_str(), s.id().c_str()); });
    demo.on_disconnect([](const socketio::socket& s, std::string_view reason) {
      log_line("disconnect %s %s: %.*s", s.nsp().name().c_str(), s.id().c_str(), static_cast<int>(reason.size()), reason.data());
    });
  }
  started(server->engine_io());
  server->run();
  return exit_ok;
}

}  // namespace eio::tool
