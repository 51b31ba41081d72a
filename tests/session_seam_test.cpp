// The seam the Socket.IO layer builds on, in the core with a fake clock:
// session_ref as a hash key, the user-data slot, the handshake request kept
// for the session's life, send_batch, the encode-once broadcast, the
// backpressure the application sees (buffered_bytes, watermarks, volatile
// sends), the trace events behind their option, and the direct path's views.
#include <eio/server.hpp>

#include <gtest/gtest.h>

#include "server_harness.hpp"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace eio {
namespace {

using test::opened;
using test::output_path;
using test::owned_packet;
using test::server_harness;

constexpr auto v4 = protocol_version::v4;
constexpr auto v3 = protocol_version::v3;

std::vector<owned_packet> body_of(const std::optional<http_response>& r, protocol_version version) {
  if (!r) return {};
  return test::decode_body(*r, version).value_or(std::vector<owned_packet>{});
}

TEST(session_seam, session_ref_is_a_hash_key) {
  server_harness h;
  std::unordered_set<session_ref> refs;
  std::unordered_map<session_ref, std::string> sids;
  for (int i = 0; i < 50; ++i) {
    const opened o = h.handshake();
    refs.insert(o.ref);
    sids[o.ref] = o.sid;
  }
  EXPECT_EQ(refs.size(), 50u);
  EXPECT_EQ(sids.size(), 50u);
  // A slot reused by a later session is another key.
  const opened first = h.handshake();
  h.close(first.ref, close_mode::discard);
  h.poll(first);
  const opened again = h.handshake();
  EXPECT_EQ(again.ref.slot, first.ref.slot);
  EXPECT_NE(std::hash<session_ref>()(again.ref), std::hash<session_ref>()(first.ref));
}

TEST(session_seam, user_data_lives_until_close_and_comes_back_in_the_close_event) {
  server_harness h;
  const opened o = h.handshake();
  int mine = 42;
  EXPECT_EQ(h.srv().user_data(o.ref), nullptr);
  h.srv().set_user_data(o.ref, &mine);
  EXPECT_EQ(h.srv().user_data(o.ref), &mine);
  h.upgrade(o);  // survives the move to WebSocket
  EXPECT_EQ(h.srv().user_data(o.ref), &mine);
  h.take();
  h.close(o.ref);
  const auto out = h.take();
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.close()->user_data, &mine);
  EXPECT_EQ(h.srv().user_data(o.ref), nullptr);  // cleared with the session
  h.srv().set_user_data(o.ref, &mine);            // a session gone: no-op
  EXPECT_EQ(h.srv().user_data(o.ref), nullptr);
  // A later session in the same slot starts empty.
  const opened next = h.handshake();
  EXPECT_EQ(next.ref.slot, o.ref.slot);
  EXPECT_EQ(h.srv().user_data(next.ref), nullptr);
}

TEST(session_seam, handshake_request_is_kept_without_its_body_after_the_upgrade) {
  server_harness h;
  const opened o = h.handshake(v4, "token=abc&x=%20y", {{"User-Agent", "seam-test"}, {"Cookie", "a=1"}});
  const auto from_event = test::first_of_kind<connection_event>(o.out.events);
  ASSERT_TRUE(from_event);
  ASSERT_TRUE(from_event->handshake);
  const connection_id ws = h.upgrade(o);
  h.post_body(o, "4while upgrading is over");  // transport mismatch now: refused
  const auto record = h.srv().handshake(o.ref);
  ASSERT_TRUE(record);
  EXPECT_EQ(record.get(), from_event->handshake.get());
  EXPECT_EQ(record->method(), "GET");
  EXPECT_EQ(record->path(), "/engine.io/");
  EXPECT_EQ(record->query_param("token"), "abc");
  EXPECT_EQ(record->query_param("x"), " y");
  EXPECT_EQ(record->header_value("user-agent"), "seam-test");
  EXPECT_EQ(record->header_value("cookie"), "a=1");
  EXPECT_EQ(record->remote_address(), "127.0.0.1");
  EXPECT_EQ(record->time(), millis(1000));  // the harness's clock at the handshake
  // Every header, in order, and the request rebuilt without a body.
  const http_request again = record->request();
  ASSERT_EQ(again.headers.size(), record->header_count());
  EXPECT_EQ(again.headers.front().name, "User-Agent");
  EXPECT_EQ(record->header_name(1), "Cookie");
  EXPECT_EQ(again.query, "EIO=4&transport=polling&token=abc&x=%20y");
  EXPECT_TRUE(again.body.empty());
  h.ws_closed(ws);
  EXPECT_EQ(h.srv().handshake(o.ref), nullptr);
  EXPECT_NE(from_event->handshake, nullptr) << "the event's copy outlives the session";
}

TEST(session_seam, handshake_record_keeps_empty_fields_and_every_header_in_order) {
  http_request request;
  request.method = "GET";
  request.path = "/engine.io/";
  request.remote_address = "::1";  // no query at all
  const session_handshake bare(request, millis(7));
  EXPECT_EQ(bare.method(), "GET");
  EXPECT_EQ(bare.path(), "/engine.io/");
  EXPECT_EQ(bare.query(), "");
  EXPECT_EQ(bare.remote_address(), "::1");
  EXPECT_EQ(bare.header_count(), 0u);
  EXPECT_FALSE(bare.header_value("host"));
  EXPECT_EQ(bare.time(), millis(7));

  for (int i = 0; i < 300; ++i) {
    request.headers.push_back({"X-" + std::to_string(i), i % 3 == 0 ? std::string() : std::string(static_cast<std::size_t>(i), 'v')});
  }
  request.query = "EIO=4&a=";
  const session_handshake many(request, millis(8));
  ASSERT_EQ(many.header_count(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(many.header_name(i), "X-" + std::to_string(i));
    EXPECT_EQ(many.header_value(i), request.headers[i].value);
  }
  EXPECT_EQ(many.header_value("x-299"), std::string(299, 'v'));
  EXPECT_EQ(many.header_value("X-0"), "");  // present and empty, not absent
  EXPECT_EQ(many.query_param("a"), "");
  EXPECT_EQ(many.remote_address(), "::1");
  const http_request again = many.request();
  ASSERT_EQ(again.headers.size(), 300u);
  EXPECT_EQ(again.headers[150].value, request.headers[150].value);
}

TEST(session_seam, a_batch_of_one_text_and_three_binary_leaves_in_one_poll_response) {
  for (const protocol_version version : {v4, v3}) {
    server_options options;
    options.allow_eio3 = true;
    server_harness h(options);
    const opened o = h.handshake(version);
    const std::string b1("\x00\x01", 2), b2("\xff", 1), b3;
    ASSERT_TRUE(h.send_batch(o.ref, {{"2[\"ev\",{\"_placeholder\":true,\"num\":0}]", frame_kind::text},
                                     {b1, frame_kind::binary},
                                     {b2, frame_kind::binary},
                                     {b3, frame_kind::binary}}));
    const connection_id g = h.poll(o);
    const auto out = h.take();
    const auto packets = body_of(out.response(g), version);
    ASSERT_EQ(packets.size(), 4u);
    EXPECT_EQ(packets[0].data, "2[\"ev\",{\"_placeholder\":true,\"num\":0}]");
    EXPECT_EQ(packets[1].data, b1);
    EXPECT_TRUE(packets[1].binary);
    EXPECT_EQ(packets[2].data, b2);
    EXPECT_EQ(packets[3].data, b3);
    // With a GET held, the batch answers it once, whole.
    const connection_id held = h.poll(o);
    h.take();
    ASSERT_TRUE(h.send_batch(o.ref, {{"a", frame_kind::text}, {b1, frame_kind::binary}}));
    const auto again = h.take();
    EXPECT_EQ(body_of(again.response(held), version).size(), 2u);
    EXPECT_EQ(h.problems(), "");
  }
}

TEST(session_seam, a_batch_is_all_or_nothing) {
  server_harness h;
  const opened o = h.handshake();
  const std::string bad_utf8("\xc3", 1);
  EXPECT_FALSE(h.send_batch(o.ref, {{"fine", frame_kind::text}, {bad_utf8, frame_kind::text}}));
  EXPECT_FALSE(h.send_batch(o.ref, {{"fine", frame_kind::text}, {"a\x1e" "b", frame_kind::text}}));  // v4 polling
  const connection_id g = h.poll(o);
  h.advance(millis(100));
  EXPECT_FALSE(h.take().response(g)) << "nothing of the refused batches was queued";
  EXPECT_TRUE(h.send_batch(o.ref, {}));  // an empty batch is fine and sends nothing
  EXPECT_FALSE(h.take().response(g));
}

TEST(session_seam, a_batch_over_websocket_goes_out_in_order_on_either_path) {
  for (const output_path path : {output_path::actions, output_path::direct}) {
    server_harness h({}, millis(1000), path);
    const opened o = h.websocket_handshake();
    ASSERT_TRUE(h.send_batch(o.ref, {{"t", frame_kind::text}, {"\x01", frame_kind::binary}, {"\x02", frame_kind::binary}}));
    const auto sends = h.take().sends(o.connection);
    ASSERT_EQ(sends.size(), 3u);
    EXPECT_EQ(test::message_of(sends[0]), "4t");
    EXPECT_EQ(sends[1].kind, frame_kind::binary);
    EXPECT_EQ(test::message_of(sends[2]), "\x02");
    EXPECT_EQ(h.problems(), "");
  }
}

TEST(session_seam, a_broadcast_refers_to_one_buffer_everywhere) {
  for (const output_path path : {output_path::actions, output_path::direct}) {
    server_options options;
    options.allow_eio3 = true;
    server_harness h(options, millis(1000), path);
    const opened ws4 = h.websocket_handshake(v4);
    const opened ws3 = h.websocket_handshake(v3);
    const opened polling = h.handshake(v4);
    const opened gone = h.handshake(v4);
    h.close(gone.ref, close_mode::discard);
    h.take();
    const shared_bytes data = std::make_shared<const std::string>("\x01\x02\x03", 3);
    EXPECT_EQ(h.broadcast({ws4.ref, ws3.ref, polling.ref, gone.ref}, data, frame_kind::binary), 3u);
    auto out = h.take();
    const auto s4 = out.sends(ws4.connection);
    const auto s3 = out.sends(ws3.connection);
    ASSERT_EQ(s4.size(), 1u);
    ASSERT_EQ(s3.size(), 1u);
    // The same bytes, not a copy: each frame's tail is the broadcast's buffer.
    EXPECT_EQ(s4[0].shared_tail, data);
    EXPECT_EQ(s3[0].shared_tail, data);
    EXPECT_EQ(s4[0].data, "");      // v4 binary frame: the bytes alone
    EXPECT_EQ(s3[0].data, "\x04");  // v3 binary frame: the type byte first
    // The polling session holds it queued until its next GET.
    const connection_id g = h.poll(polling);
    out = h.take();
    const auto packets = body_of(out.response(g), v4);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].data, *data);
    EXPECT_EQ(h.problems(), "");
  }
}

// A binary event and its attachments to many sessions: each part encoded
// once, every session takes all of them or none, and over polling they
// leave in one response.
TEST(session_seam, a_broadcast_batch_is_all_or_nothing_per_session) {
  server_harness h({}, millis(1000), output_path::direct);
  const opened ws = h.websocket_handshake(v4);
  const opened polling = h.handshake(v4);
  const connection_id g = h.poll(polling);
  h.take();
  const shared_message parts[] = {{std::make_shared<const std::string>("51-[\"e\",{\"_placeholder\":true,\"num\":0}]"), frame_kind::text},
                                  {std::make_shared<const std::string>("\x07"), frame_kind::binary}};
  const std::vector<session_ref> both{ws.ref, polling.ref};
  EXPECT_EQ(h.srv().broadcast_batch(both.data(), both.size(), parts, 2, h.now()), 2u);
  h.sync();
  const auto out = h.take();
  const auto sends = out.sends(ws.connection);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].shared_tail, parts[0].data);
  EXPECT_EQ(sends[1].shared_tail, parts[1].data);
  EXPECT_EQ(body_of(out.response(g), v4).size(), 2u) << "one poll response carries the text and its attachment";
  // A part the polling session cannot carry ('\x1e' in v4 polling text):
  // that session takes none of them, the WebSocket one takes both.
  const shared_message bad[] = {{std::make_shared<const std::string>("a\x1e" "b"), frame_kind::text},
                                {std::make_shared<const std::string>("\x08"), frame_kind::binary}};
  EXPECT_EQ(h.srv().broadcast_batch(both.data(), both.size(), bad, 2, h.now()), 1u);
  h.sync();
  EXPECT_EQ(h.take().sends(ws.connection).size(), 2u);
  const connection_id g2 = h.poll(polling);
  h.advance(millis(100));
  EXPECT_FALSE(h.take().response(g2)) << "nothing queued for the polling session";
}

TEST(session_seam, a_text_broadcast_follows_sends_rules_per_session) {
  server_harness h;
  const opened polling = h.handshake(v4);
  const opened ws = h.websocket_handshake(v4);
  // '\x1e' cannot travel in a v4 polling payload, but can in a WebSocket frame.
  EXPECT_EQ(h.broadcast({polling.ref, ws.ref}, std::make_shared<const std::string>("a\x1e" "b"), frame_kind::text), 1u);
  EXPECT_EQ(h.broadcast({polling.ref, ws.ref}, std::make_shared<const std::string>("\xc3", 1), frame_kind::text), 0u);
  EXPECT_EQ(h.broadcast({polling.ref}, nullptr, frame_kind::text), 0u);
}

// A WebSocket session whose peer does not read: the adapter's unsent bytes
// grow (recording_output's count, lowered by written()).
TEST(session_seam, watermarks_and_volatile_sends_follow_what_the_peer_reads) {
  server_options options;
  options.high_watermark = 100;
  options.low_watermark = 40;
  server_harness h(options, millis(1000), output_path::direct);
  const opened o = h.websocket_handshake();
  h.output().unsent[o.connection] = 0;  // the open packet was read
  h.take();
  const std::string chunk(30, 'x');
  send_options lossy;
  lossy.is_volatile = true;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.send(o.ref, chunk));  // 3 x 31 = 93 bytes unsent
  EXPECT_EQ(h.srv().buffered_bytes(o.ref), 93u);
  EXPECT_EQ(h.take().count<high_watermark_event>(), 0u);
  EXPECT_TRUE(h.send(o.ref, chunk, frame_kind::text, lossy)) << "below the high mark a volatile message goes";
  const auto over = h.take();
  const auto high = test::first_of_kind<high_watermark_event>(over.events);
  ASSERT_TRUE(high);
  EXPECT_EQ(high->session, o.ref);
  EXPECT_EQ(high->buffered, 124u);
  // Above the high mark: volatile messages are dropped and counted;
  // reliable ones still go (max_buffered_bytes is the last resort).
  EXPECT_FALSE(h.send(o.ref, chunk, frame_kind::text, lossy));
  EXPECT_FALSE(h.send(o.ref, chunk, frame_kind::text, lossy));
  EXPECT_EQ(h.srv().volatile_dropped(o.ref), 2u);
  EXPECT_EQ(h.srv().volatile_dropped(), 2u);
  EXPECT_TRUE(h.send(o.ref, chunk));
  auto out = h.take();
  EXPECT_EQ(out.sends(o.connection).size(), 1u);
  EXPECT_EQ(out.count<high_watermark_event>(), 0u) << "once per crossing";
  // The peer reads: nothing until the low mark, then one event.
  h.written(o.connection, 60);  // 155 -> 95
  EXPECT_EQ(h.take().count<low_watermark_event>(), 0u);
  h.written(o.connection, 55);  // -> 40
  out = h.take();
  const auto low = test::first_of_kind<low_watermark_event>(out.events);
  ASSERT_TRUE(low);
  EXPECT_EQ(low->buffered, 40u);
  EXPECT_TRUE(h.send(o.ref, chunk, frame_kind::text, lossy));
  EXPECT_EQ(h.srv().volatile_dropped(o.ref), 2u);
  EXPECT_EQ(h.problems(), "");
}

TEST(session_seam, max_buffered_bytes_counts_what_the_adapter_has_not_written) {
  server_options options;
  options.max_buffered_bytes = 1000;
  server_harness h(options, millis(1000), output_path::direct);
  const opened o = h.websocket_handshake();
  h.take();
  const std::string chunk(400, 'x');
  EXPECT_TRUE(h.send(o.ref, chunk));
  EXPECT_TRUE(h.send(o.ref, chunk));
  EXPECT_FALSE(h.take().close());
  h.send(o.ref, chunk);  // past 1000 bytes the peer has not taken
  const auto out = h.take();
  ASSERT_TRUE(out.close());
  EXPECT_EQ(out.close()->reason, close_reason::write_buffer_full);
  EXPECT_EQ(h.problems(), "");
}

TEST(session_seam, volatile_messages_need_a_writable_transport) {
  server_harness h;
  const opened o = h.handshake();
  send_options lossy;
  lossy.is_volatile = true;
  EXPECT_FALSE(h.send(o.ref, "no GET held", frame_kind::text, lossy));
  const connection_id g = h.poll(o);
  EXPECT_TRUE(h.send(o.ref, "a GET is held", frame_kind::text, lossy));
  const auto answered = body_of(h.take().response(g), v4);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].data, "a GET is held");
  // During the upgrade the transport is paused: dropped.
  const connection_id probe = h.upgrade_request(o);
  h.message(probe, "2probe");
  EXPECT_FALSE(h.send(o.ref, "paused", frame_kind::text, lossy));
  h.message(probe, "5");
  EXPECT_TRUE(h.send(o.ref, "upgraded", frame_kind::text, lossy));
  EXPECT_EQ(h.srv().volatile_dropped(o.ref), 2u);
}

TEST(session_seam, trace_events_only_when_asked) {
  for (const bool traced : {false, true}) {
    server_options options;
    options.trace_events = traced;
    server_harness h(options);
    const opened o = h.handshake();
    h.post_packets(o, {owned_packet{packet_type::message, false, "in"}});
    h.send(o.ref, "out");
    h.poll(o);
    const std::size_t expected = traced ? 1u : 0u;
    const auto& all = h.all_events();
    std::size_t packets = 0, creates = 0, flushes = 0;
    for (const auto& e : all) {
      packets += std::holds_alternative<packet_event>(e);
      creates += std::holds_alternative<packet_create_event>(e);
      flushes += std::holds_alternative<flush_event>(e);
    }
    EXPECT_EQ(packets, expected);
    EXPECT_EQ(creates, 2 * expected);  // the open packet and "out"
    EXPECT_EQ(flushes, 2 * expected);  // the handshake answer and the poll
  }
}

// The direct path's input side: a message event views the bytes the adapter
// passed in, without a copy, until the next next_event(); bytes the core
// decoded itself (base64) it keeps as long.
TEST(session_seam, a_websocket_message_is_a_view_of_the_adapters_buffer) {
  server_options options;
  options.allow_eio3 = true;
  server srv(options);
  srv.handle_websocket(1, test::websocket("EIO=4&transport=websocket"), millis(0));
  while (srv.next_action()) {
  }
  while (srv.next_event()) {
  }
  const std::string buffer = "4hello";
  srv.websocket_message(1, frame_kind::text, buffer, millis(1));
  auto e = srv.next_event();
  ASSERT_TRUE(e);
  const auto* m = std::get_if<message_event>(&*e);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "hello");
  EXPECT_EQ(m->data.data(), buffer.data() + 1) << "a view, not a copy";

  // A base64 message: decoded into the core's storage, kept until the event
  // after it is asked for.
  const std::string b64 = "bAQID";  // 01 02 03
  srv.websocket_message(1, frame_kind::text, b64, millis(2));
  srv.websocket_message(1, frame_kind::text, "bBAUG", millis(3));  // 04 05 06: overwrites the scratch
  e = srv.next_event();
  ASSERT_TRUE(e);
  m = std::get_if<message_event>(&*e);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, frame_kind::binary);
  EXPECT_EQ(m->data, std::string("\x01\x02\x03", 3));
  e = srv.next_event();
  m = std::get_if<message_event>(&*e);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::string("\x04\x05\x06", 3));

  // Handed over (websocket_message_owned): the caller's string is gone, the
  // view holds.
  {
    std::string owned = "4moved";
    srv.websocket_message_owned(1, frame_kind::text, std::move(owned), millis(4));
  }
  e = srv.next_event();
  m = std::get_if<message_event>(&*e);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "moved");
}

// Through a POST: the messages view the body the core keeps, every one of
// them valid until the next next_event() after it.
TEST(session_seam, polling_messages_stay_valid_until_the_next_event_is_asked_for) {
  server srv;
  srv.handle_request(1, test::get("EIO=4&transport=polling"), millis(0));
  std::string sid;
  while (auto a = srv.next_action()) {
    if (const auto* r = std::get_if<http_response>(&*a)) sid = test::json_field(r->body.substr(1), "sid").value_or("");
  }
  while (srv.next_event()) {
  }
  ASSERT_FALSE(sid.empty());
  srv.handle_request(2, test::post("EIO=4&transport=polling&sid=" + sid, "4one\x1e" "4two\x1e" "bAAE="), millis(1));
  std::vector<std::string> seen;
  while (auto e = srv.next_event()) {
    if (const auto* m = std::get_if<message_event>(&*e)) seen.emplace_back(m->data);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"one", "two", std::string("\x00\x01", 2)}));
}

}  // namespace
}  // namespace eio
