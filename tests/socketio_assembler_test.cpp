// eio::socketio::assembler: a binary packet and its attachments, one call at
// a time; the errors of the reference (binary with nothing pending, text
// while pending) and our limits (bytes, completion timeout) at the limit and
// one past it.
#include <eio/socketio/assembler.hpp>

#include <gtest/gtest.h>

#include <string>

namespace eio::socketio {
namespace {

using namespace std::chrono_literals;

std::string name_of(const decode_error& e) { return std::string(errc_name(e.code)); }

// A decoder and an assembler, as a server keeps them for one connection.
struct connection {
  explicit connection(decode_options options = {}) : decoder_(options), assembler_(options) {}

  feed_result text(const std::string& t, millis now) {
    packet p;
    payload_info info;
    const decode_error e = decoder_.decode(t, p, info);
    EXPECT_FALSE(e) << t << ": " << name_of(e);
    return assembler_.on_packet(p, info, now, out);
  }
  feed_result binary(const std::string& bytes, millis now) { return assembler_.on_binary(bytes, now, out); }

  decoder decoder_;
  assembler assembler_;
  message out;
};

std::string placeholders(std::size_t n) {
  std::string t = "5" + std::to_string(n) + "-[\"up\"";
  for (std::size_t i = 0; i < n; ++i) t += ",{\"_placeholder\":true,\"num\":" + std::to_string(i) + "}";
  return t + "]";
}

TEST(socketio_assembler, packets_that_are_not_binary_pass_through_uncopied) {
  connection c;
  const std::string text = R"(2/chat,5["message","hi"])";
  packet p;
  payload_info info;
  ASSERT_FALSE(c.decoder_.decode(text, p, info));
  c.out.attachments.push_back({9});
  const feed_result r = c.assembler_.on_packet(p, info, 0ms, c.out);
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(c.out.header, p);
  EXPECT_EQ(c.out.header.data.data(), text.data() + 8);  // a view into the text
  EXPECT_EQ(c.out.info.name, "message");
  EXPECT_TRUE(c.out.attachments.empty());
  EXPECT_FALSE(c.assembler_.pending());
  EXPECT_FALSE(c.assembler_.next_deadline());
}

TEST(socketio_assembler, attachments_arrive_one_call_at_a_time) {
  connection c;
  {
    // The text's buffer dies right after the call: the assembler copied it.
    std::string text = R"(52-/admin,456["project:\u0064elete",{"_placeholder":true,"num":0},{"num":1,"_placeholder":true}])";
    const feed_result r = c.text(text, 1000ms);
    text.assign(text.size(), '#');
    ASSERT_FALSE(r.error);
    EXPECT_FALSE(r.complete);
  }
  EXPECT_TRUE(c.assembler_.pending());
  EXPECT_EQ(c.assembler_.next_deadline(), 61'000ms);
  feed_result r = c.binary(std::string("\x01\x02", 2), 1001ms);
  ASSERT_FALSE(r.error);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(c.assembler_.pending_bytes(), 2u);
  r = c.binary(std::string("\x00\xff\x10", 3), 1002ms);
  ASSERT_FALSE(r.error);
  ASSERT_TRUE(r.complete);
  EXPECT_FALSE(c.assembler_.pending());
  EXPECT_FALSE(c.assembler_.next_deadline());
  EXPECT_EQ(c.out.header.type, packet_type::binary_event);
  EXPECT_EQ(c.out.header.nsp, "/admin");
  EXPECT_EQ(c.out.header.id, 456u);
  EXPECT_EQ(c.out.header.attachments, 2u);
  EXPECT_EQ(c.out.info.name, "project:delete");
  EXPECT_EQ(c.out.info.arg_count, 2u);
  EXPECT_EQ(c.out.info.args(c.out.header.data), R"({"_placeholder":true,"num":0},{"num":1,"_placeholder":true})");
  ASSERT_EQ(c.out.attachments.size(), 2u);
  EXPECT_EQ(c.out.attachments[0], (attachment{1, 2}));
  EXPECT_EQ(c.out.attachments[1], (attachment{0, 0xff, 0x10}));

  // The next packet starts afresh; an empty attachment is an attachment.
  ASSERT_FALSE(c.text(R"(61-[{"_placeholder":true,"num":0}])", 2000ms).error);
  r = c.binary("", 2000ms);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(c.out.header.type, packet_type::binary_ack);
  ASSERT_EQ(c.out.attachments.size(), 1u);
  EXPECT_TRUE(c.out.attachments[0].empty());
}

TEST(socketio_assembler, binary_with_no_pending_packet_is_an_error) {
  connection c;
  const feed_result r = c.binary("abc", 0ms);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(name_of(r.error), "unexpected_binary");
  EXPECT_EQ(r.error.offset, 0u);
  // Also right after a complete packet.
  ASSERT_TRUE(c.text(R"(2["a"])", 0ms).complete);
  EXPECT_EQ(name_of(c.binary("abc", 0ms).error), "unexpected_binary");
  ASSERT_FALSE(c.text(placeholders(1), 0ms).error);
  ASSERT_TRUE(c.binary("1", 0ms).complete);
  EXPECT_EQ(name_of(c.binary("2", 0ms).error), "unexpected_binary");
}

TEST(socketio_assembler, text_while_attachments_are_pending_is_an_error) {
  connection c;
  ASSERT_FALSE(c.text(placeholders(2), 0ms).error);
  ASSERT_FALSE(c.binary("a", 0ms).error);
  const feed_result r = c.text(R"(2["a"])", 0ms);
  EXPECT_EQ(name_of(r.error), "unexpected_text");
  EXPECT_FALSE(r.complete);
  // The error dropped the pending packet: a binary now has nothing to join.
  EXPECT_FALSE(c.assembler_.pending());
  EXPECT_EQ(c.assembler_.pending_bytes(), 0u);
  EXPECT_EQ(name_of(c.binary("b", 0ms).error), "unexpected_binary");
  // A second binary packet while one is pending is text too.
  ASSERT_FALSE(c.text(placeholders(1), 0ms).error);
  EXPECT_EQ(name_of(c.text(placeholders(1), 0ms).error), "unexpected_text");
}

TEST(socketio_assembler, completion_timeout_at_the_deadline_and_before_it) {
  decode_options options;
  options.attachment_timeout = 500ms;
  connection c(options);
  ASSERT_FALSE(c.text(placeholders(2), 1000ms).error);
  EXPECT_EQ(c.assembler_.next_deadline(), 1500ms);
  EXPECT_FALSE(c.assembler_.on_timeout(1499ms));  // one before: nothing
  EXPECT_TRUE(c.assembler_.pending());
  ASSERT_FALSE(c.binary("a", 1499ms).error);
  const decode_error e = c.assembler_.on_timeout(1500ms);
  EXPECT_EQ(name_of(e), "attachment_timeout");
  EXPECT_FALSE(c.assembler_.pending());
  EXPECT_FALSE(c.assembler_.next_deadline());
  EXPECT_FALSE(c.assembler_.on_timeout(10'000ms));  // nothing pending: nothing to time out

  // A late attachment is refused even when on_timeout() was not called.
  ASSERT_FALSE(c.text(placeholders(1), 2000ms).error);
  const feed_result late = c.binary("a", 2500ms);
  EXPECT_EQ(name_of(late.error), "attachment_timeout");
  EXPECT_FALSE(late.complete);
  // One millisecond earlier it completes.
  ASSERT_FALSE(c.text(placeholders(1), 3000ms).error);
  EXPECT_TRUE(c.binary("a", 3499ms).complete);
  // A late text packet reports the timeout, not the text.
  ASSERT_FALSE(c.text(placeholders(1), 4000ms).error);
  EXPECT_EQ(name_of(c.text(R"(2["a"])", 4500ms).error), "attachment_timeout");
  EXPECT_EQ(decode_options{}.attachment_timeout, 60'000ms);
}

TEST(socketio_assembler, attachment_bytes_at_the_limit_and_past_it) {
  decode_options options;
  options.max_attachment_bytes = 10;
  connection c(options);
  ASSERT_FALSE(c.text(placeholders(3), 0ms).error);
  ASSERT_FALSE(c.binary("1234", 0ms).error);
  ASSERT_FALSE(c.binary("12345", 0ms).error);
  const feed_result at = c.binary("1", 0ms);  // 10 bytes: at the limit
  ASSERT_FALSE(at.error);
  EXPECT_TRUE(at.complete);

  ASSERT_FALSE(c.text(placeholders(3), 0ms).error);
  ASSERT_FALSE(c.binary("1234", 0ms).error);
  ASSERT_FALSE(c.binary("12345", 0ms).error);
  const feed_result past = c.binary("12", 0ms);  // 11 bytes: one past
  EXPECT_EQ(name_of(past.error), "attachments_too_large");
  EXPECT_EQ(past.error.offset, 1u);  // the first byte past the limit in this message
  EXPECT_FALSE(c.assembler_.pending());

  // A single attachment larger than the limit, and the default.
  ASSERT_FALSE(c.text(placeholders(1), 0ms).error);
  EXPECT_EQ(name_of(c.binary(std::string(1000, 'x'), 0ms).error), "attachments_too_large");
  EXPECT_EQ(decode_options{}.max_attachment_bytes, 10'000'000u);
  connection defaults;
  ASSERT_FALSE(defaults.text(placeholders(2), 0ms).error);
  ASSERT_FALSE(defaults.binary(std::string(5'000'000, 'x'), 0ms).error);
  ASSERT_TRUE(defaults.binary(std::string(5'000'000, 'y'), 0ms).complete);
  ASSERT_FALSE(defaults.text(placeholders(2), 0ms).error);
  ASSERT_FALSE(defaults.binary(std::string(5'000'000, 'x'), 0ms).error);
  EXPECT_EQ(name_of(defaults.binary(std::string(5'000'001, 'y'), 0ms).error), "attachments_too_large");
}

TEST(socketio_assembler, the_most_attachments_the_decoder_allows) {
  decode_options options;
  options.max_attachments = 1000;
  connection c(options);
  ASSERT_FALSE(c.text(placeholders(1000), 0ms).error);
  for (int i = 0; i < 999; ++i) ASSERT_FALSE(c.binary(std::to_string(i), 0ms).complete);
  ASSERT_TRUE(c.binary("last", 0ms).complete);
  ASSERT_EQ(c.out.attachments.size(), 1000u);
  EXPECT_EQ(std::string(c.out.attachments[998].begin(), c.out.attachments[998].end()), "998");
}

TEST(socketio_assembler, reset_drops_the_pending_packet) {
  connection c;
  ASSERT_FALSE(c.text(placeholders(1), 0ms).error);
  c.assembler_.reset();
  EXPECT_FALSE(c.assembler_.pending());
  EXPECT_EQ(name_of(c.binary("a", 0ms).error), "unexpected_binary");
}

}  // namespace
}  // namespace eio::socketio
