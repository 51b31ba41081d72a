// The Streams adapter's reader: XREVRANGE once for the start, then XREAD
// BLOCK in a loop, each reply handed on in order.
#include "stream_reader.hpp"

#include <algorithm>

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
  positions_.resize(options_.streams.size());
  // The client's thread may report the connection before the constructor
  // has stored client_: start() then runs from the periodic check instead.
  client_ = std::make_unique<redis_client>(
      options_.client, [](subscription_kind, std::string, std::string) {},
      [this](bool connected) {
        if (connected) return start();
        reading_ = false;  // the lost XREAD failed: the periodic check resumes
      },
      [this] { start(); }, std::chrono::milliseconds(200));
  ready_ = client_.get();
}

stream_reader::~stream_reader() { client_.reset(); }

const redis_client_stats& stream_reader::stats() const noexcept { return client_->stats(); }

void stream_reader::start() {
  redis_client* client = ready_.load();
  if (client == nullptr || !client->stats().connected || reading_) return;
  reading_ = true;
  // Where each stream not read yet ends now ("$" as the reference's first
  // XREAD), known as an id so that the node can tell which entries it has
  // applied.
  for (std::size_t i = 0; i < positions_.size(); ++i) {
    if (positions_[i]) continue;
    ++positions_asked_;
    client->command({"XREVRANGE", options_.streams[i], "+", "-", "COUNT", "1"},
                    [this, i](const std::optional<redis_reply>& r) {
                      --positions_asked_;
                      const auto entries = r ? parse_entries(*r) : std::nullopt;
                      if (entries) {
                        positions_[i] = entries->empty() ? stream_id{} : entries->front().id;
                        if (handlers_.started) handlers_.started(options_.streams[i], *positions_[i]);
                      }
                      if (positions_asked_ > 0) return;
                      for (const auto& p : positions_) {
                        if (!p) {
                          reading_ = false;  // the periodic check asks again
                          return;
                        }
                      }
                      read_next();
                    });
  }
  if (positions_asked_ == 0) read_next();
}

void stream_reader::read_next() {
  std::vector<std::string> argv = {"XREAD", "COUNT", std::to_string(options_.read_count), "BLOCK",
                                   std::to_string(options_.block_time.count()), "STREAMS"};
  for (const auto& name : options_.streams) argv.push_back(name);
  for (const auto& p : positions_) argv.push_back(to_string(*p));
  ready_.load()->command(std::move(argv), [this](const std::optional<redis_reply>& r) {
    // nullopt: the connection went (the periodic check resumes from the
    // positions); an error: the periodic check tries again.
    if (!r || r->type == redis_reply::kind::error) {
      reading_ = false;
      return;
    }
    // [[stream, [entries...]], ...], or nil when the block time passed.
    if (r->type == redis_reply::kind::array) {
      for (const redis_reply& per_stream : r->elements) {
        if (per_stream.elements.size() != 2) continue;
        const auto at = std::find(options_.streams.begin(), options_.streams.end(), per_stream.elements[0].str);
        if (at == options_.streams.end()) continue;
        auto entries = parse_entries(per_stream.elements[1]);
        if (!entries || entries->empty()) continue;
        positions_[static_cast<std::size_t>(at - options_.streams.begin())] = entries->back().id;
        if (handlers_.read) handlers_.read(*at, std::move(*entries));
      }
    }
    read_next();
  });
}

}  // namespace eio::socketio_redis
