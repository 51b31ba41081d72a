// The Streams adapter's reader: XREVRANGE once for the start, then XREAD
// BLOCK in a loop, each reply handed on in order.
#include "stream_reader.hpp"

namespace eio::socketio_redis {

std::optional<std::vector<stream_entry>> parse_entries(const redis_reply& entries) {
  if (entries.type != redis_reply::kind::array) return std::nullopt;
  std::vector<stream_entry> out;
  out.reserve(entries.elements.size());
  for (const redis_reply& e : entries.elements) {
    // [id, [field, value, field, value, ...]]
    if (e.type != redis_reply::kind::array || e.elements.size() != 2) return std::nullopt;
    const auto id = parse_stream_id(e.elements[0].str);
    const redis_reply& flat = e.elements[1];
    if (!id || flat.type != redis_reply::kind::array || flat.elements.size() % 2 != 0) return std::nullopt;
    stream_fields fields;
    fields.reserve(flat.elements.size() / 2);
    for (std::size_t i = 0; i < flat.elements.size(); i += 2) {
      fields.emplace_back(flat.elements[i].str, flat.elements[i + 1].str);
    }
    out.push_back(stream_entry{*id, from_stream_fields(fields)});
  }
  return out;
}

stream_reader::stream_reader(options opts, handlers h) : options_(std::move(opts)), handlers_(std::move(h)) {
  // The client's thread may report the connection before the constructor
  // has stored client_: start() then runs from the periodic check instead.
  client_ = std::make_unique<redis_client>(
      options_.client, [](subscription_kind, std::string, std::string) {},
      [this](bool connected) {
        if (connected) return start();
        reading_ = false;
        if (handlers_.down) handlers_.down();
      },
      [this] { start(); },
      std::chrono::milliseconds(200));
  ready_ = client_.get();
}

stream_reader::~stream_reader() { client_.reset(); }

const redis_client_stats& stream_reader::stats() const noexcept { return client_->stats(); }

void stream_reader::start() {
  redis_client* client = ready_.load();
  if (client == nullptr || !client->stats().connected || reading_) return;
  reading_ = true;
  if (position_) return read_next();
  // Where the stream ends now ("$" as the reference's first XREAD), known
  // as an id so that the node can tell which entries it has applied.
  client->command({"XREVRANGE", options_.stream, "+", "-", "COUNT", "1"},
                   [this](const std::optional<redis_reply>& r) {
                     const auto entries = r ? parse_entries(*r) : std::nullopt;
                     if (!entries) {
                       reading_ = false;  // the periodic check tries again
                       return;
                     }
                     position_ = entries->empty() ? stream_id{} : entries->front().id;
                     if (handlers_.started) handlers_.started(*position_);
                     read_next();
                   });
}

void stream_reader::read_next() {
  ready_.load()->command({"XREAD", "COUNT", std::to_string(options_.read_count), "BLOCK",
                    std::to_string(options_.block_time.count()), "STREAMS", options_.stream, to_string(*position_)},
                   [this](const std::optional<redis_reply>& r) {
                     // nullopt: the connection went (down() follows, and the
                     // periodic check resumes from position_); an error: the
                     // periodic check tries again.
                     if (!r || r->type == redis_reply::kind::error) {
                       reading_ = false;
                       return;
                     }
                     // [[stream, [entries...]]], or nil when the block time passed.
                     if (r->type == redis_reply::kind::array && !r->elements.empty() &&
                         r->elements[0].elements.size() == 2) {
                       auto entries = parse_entries(r->elements[0].elements[1]);
                       if (entries && !entries->empty()) {
                         position_ = entries->back().id;
                         if (handlers_.read) handlers_.read(std::move(*entries));
                       }
                     }
                     read_next();
                   });
}

}  // namespace eio::socketio_redis
