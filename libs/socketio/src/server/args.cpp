// Arguments in wire form and as views; the event data this server builds.
#include <eio/socketio/args.hpp>
#include <eio/socketio/callbacks.hpp>

#include "detail.hpp"

namespace eio::socketio {

namespace {

const std::vector<attachment> no_attachments;
const value null_value;

// `json`'s outer brackets removed ("[1,2]" -> "1,2").
std::string unbracket(std::string text) {
  if (text.size() >= 2) {
    text.pop_back();
    text.erase(0, 1);
  } else {
    text.clear();
  }
  return text;
}

}  // namespace

std::error_code make_wire_args(const value& args, wire_args& out) {
  out = wire_args{};
  const value* list = &args;
  value single;
  if (!args.is_array()) {
    single = value::array({args});
    list = &single;
  }
  std::string text;
  if (const std::error_code error = to_wire(*list, text, out.attachments)) {
    out = wire_args{};
    return error;
  }
  out.json = unbracket(std::move(text));
  return {};
}

std::error_code make_wire_value(const value& v, wire_args& out) { return make_wire_args(value::array({v}), out); }

const std::vector<attachment>& args_view::attachments() const noexcept {
  return attachments_ ? *attachments_ : no_attachments;
}

std::size_t args_view::size() const {
  if (!count_) count_ = values().size();
  return *count_;
}

const value& args_view::values() const {
  if (values_) return *values_;
  std::string text;
  text.reserve(json_.size() + 2);
  text += '[';
  text += json_;
  text += ']';
  value parsed;
  std::error_code error;
  if (attachments_ && !attachments_->empty()) {
    error = from_wire(text, *attachments_, parsed);
  } else {
    error = from_wire(text, parsed);
  }
  if (error || !parsed.is_array()) parsed = value::array();
  values_ = std::move(parsed);
  return *values_;
}

const value& args_view::operator[](std::size_t i) const {
  const value& all = values();
  return i < all.size() ? all[i] : null_value;
}

wire_args args_view::to_wire() const {
  wire_args out;
  out.json = std::string(json_);
  if (attachments_) out.attachments = *attachments_;
  return out;
}

// ---------------------------------------------------------------- callbacks

ack_handle::ack_handle(std::function<void(wire_args)> send) : state_(std::make_shared<state>()) {
  state_->send = std::move(send);
}

std::error_code ack_handle::operator()(const value& args) const {
  if (!wanted()) return {};
  wire_args wire;
  if (const std::error_code error = make_wire_args(args, wire)) return error;
  return send(std::move(wire));
}

std::error_code ack_handle::send(wire_args args) const {
  if (!wanted()) return {};
  state_->done = true;
  // Moved out first: the callback may drop the last reference to the state.
  auto fn = std::move(state_->send);
  state_->send = nullptr;
  if (fn) fn(std::move(args));
  return {};
}

next_function::next_function(std::function<void(std::optional<middleware_error>)> resume)
    : state_(std::make_shared<state>()) {
  state_->resume = std::move(resume);
}

void next_function::resume(std::optional<middleware_error> error) const {
  if (!pending()) return;
  state_->done = true;
  auto fn = std::move(state_->resume);
  state_->resume = nullptr;
  if (fn) fn(std::move(error));
}

// ---------------------------------------------------------------- event data

namespace detail {

std::error_code make_event(std::string_view name, const value& args, event_packet& out) {
  out = event_packet{};
  return make_event_data(name, args, out.data, out.attachments);
}

std::error_code make_event(std::string_view name, const args_view& args, event_packet& out) {
  out = event_packet{};
  if (const std::error_code error = append_event_data(name, args.json(), out.data)) return error;
  out.attachments = args.attachments();
  return {};
}

namespace {
// The index just past the JSON string that starts at data[at] (a '"').
std::size_t string_end(std::string_view data, std::size_t at) noexcept {
  for (std::size_t i = at + 1; i < data.size(); ++i) {
    if (data[i] == '\\') {
      ++i;
    } else if (data[i] == '"') {
      return i + 1;
    }
  }
  return data.size();
}
}  // namespace

std::string_view event_args(std::string_view data) noexcept {
  if (data.size() < 2 || data[0] != '[' || data[1] != '"') return {};
  const std::size_t end = string_end(data, 1);
  if (end >= data.size() || data[end] != ',') return {};
  return data.substr(end + 1, data.size() - end - 2);
}

std::string event_name(std::string_view data) {
  if (data.size() < 2 || data[0] != '[' || data[1] != '"') return {};
  const std::size_t end = string_end(data, 1);
  const std::string_view token = data.substr(1, end - 1);
  const value name = value::parse(token.begin(), token.end(), nullptr, false);
  return name.is_string() ? name.get<std::string>() : std::string();
}

wire_args first_arg(const args_view& args) {
  wire_args out;
  if (args.empty()) return out;
  const value& all = args.values();
  if (!all.empty()) make_wire_value(all[0], out);
  return out;
}

std::string describe(const decode_error& error) {
  std::string out(errc_name(error.code));
  out += " at ";
  out += std::to_string(error.offset);
  return out;
}

bool recoverable(std::string_view why) noexcept {
  return why == reason::transport_error || why == reason::transport_close || why == reason::forced_close ||
         why == reason::ping_timeout || why == reason::server_shutting_down || why == reason::forced_server_close;
}

}  // namespace detail
}  // namespace eio::socketio
