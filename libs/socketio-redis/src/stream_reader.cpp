// The Streams adapter's reader: XREVRANGE once for the start, then XREAD
// BLOCK in a loop, each reply handed on in order.
#include "stream_reader.hpp"

#include <algorithm>

namespace eio::socketio_redis {

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

stream_reader::~stream_reader() {
  stopping_ = true;
  client_.reset();
}

const redis_client_stats& stream_reader::stats() const noexcept { return client_->stats(); }

void stream_reader::start() {
  redis_client* client = ready_.load();
  if (client == nullptr || stopping_ || !client->stats().connected || reading_) return;
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
                      if (stopping_) return;
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
    // positions); an error (a key of another type...): logged, and the
    // periodic check tries again.
    reading_ = false;
    if (!r || stopping_) return;
    if (r->type == redis_reply::kind::error) {
      if (options_.client.log) options_.client.log("stream reader: XREAD refused: " + r->str);
      return;
    }
    on_read(*r);  // a handler that throws stops here; the periodic check goes on
    reading_ = true;
    read_next();
  });
}

void stream_reader::on_read(const redis_reply& reply) {
  // [[stream, [entries...]], ...], or nil when the block time passed.
  if (reply.type != redis_reply::kind::array) return;
  for (const redis_reply& per_stream : reply.elements) {
    if (per_stream.elements.size() != 2) continue;
    const auto at = std::find(options_.streams.begin(), options_.streams.end(), per_stream.elements[0].str);
    if (at == options_.streams.end()) continue;
    auto entries = parse_entries(per_stream.elements[1]);
    if (!entries || entries->empty()) continue;
    positions_[static_cast<std::size_t>(at - options_.streams.begin())] = entries->back().id;
    if (handlers_.read) handlers_.read(*at, std::move(*entries));
  }
}

}  // namespace eio::socketio_redis
