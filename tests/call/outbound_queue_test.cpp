// What a call queues for Twilio, without a socket: the byte budget, the coalescing of agent audio that piled
// up, marks and clears keeping their place, and the close as the last write.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "call/outbound_queue.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/util/base64.hpp"

using namespace voicebridge;
using namespace voicebridge::call;

namespace {

constexpr std::string_view sid = "MZ0123456789abcdef0123456789abcdef";

std::string chunk(std::size_t bytes, std::uint8_t value) {
  return util::base64_encode(std::vector<std::uint8_t>(bytes, value));
}

// The audio a media message carries.
std::vector<std::uint8_t> audio_of(const std::string& text) {
  const auto message = boost::json::parse(text).as_object();
  BOOST_REQUIRE(message.at("event").as_string() == "media");
  BOOST_REQUIRE(message.at("streamSid").as_string() == sid);
  return util::base64_decode(std::string(message.at("media").at("payload").as_string())).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_queue_budget)

BOOST_AUTO_TEST_CASE(past_the_budget_a_push_is_refused_and_a_write_gives_the_room_back) {
  outbound_queue queue(1000);
  BOOST_TEST(queue.push_text(std::string(600, 'a')));
  BOOST_TEST(!queue.push_text(std::string(500, 'b')));  // would be 1100
  BOOST_TEST(queue.queued_bytes() == 600u);
  BOOST_TEST(queue.take(sid)->text.size() == 600u);
  BOOST_TEST(queue.queued_bytes() == 0u);
  BOOST_TEST(queue.push_text(std::string(500, 'b')));
}

BOOST_AUTO_TEST_CASE(a_chunk_alone_passes_through_as_it_came) {
  outbound_queue queue(1 << 20);
  const auto payload = chunk(160, 0x7f);
  queue.push_audio(payload);
  const auto write = queue.take(sid);
  BOOST_REQUIRE(write.has_value());
  BOOST_TEST(write->text == twilio::serialize_media(sid, payload));
  BOOST_TEST(write->merged_chunks == 0u);
  BOOST_TEST(!queue.take(sid).has_value());
}

BOOST_AUTO_TEST_CASE(queued_chunks_leave_in_one_message_of_at_most_a_second_in_order) {
  outbound_queue queue(1 << 20);
  for (int i = 0; i < 60; ++i) queue.push_audio(chunk(160, static_cast<std::uint8_t>(i)));  // 9600 bytes
  const auto first = queue.take(sid);
  BOOST_REQUIRE(first.has_value());
  const auto audio = audio_of(first->text);
  BOOST_TEST(audio.size() == max_coalesced_audio);
  BOOST_TEST(first->merged_chunks == 49u);
  for (std::size_t i = 0; i < audio.size(); ++i) BOOST_REQUIRE(audio[i] == i / 160);
  const auto second = queue.take(sid);
  BOOST_TEST(audio_of(second->text).size() == 1600u);
  BOOST_TEST(second->merged_chunks == 9u);
  BOOST_TEST(queue.queued_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_mark_ends_the_merge_so_it_still_follows_its_audio) {
  outbound_queue queue(1 << 20);
  queue.push_audio(chunk(160, 1));
  queue.push_audio(chunk(160, 2));
  queue.push_text(twilio::serialize_mark(sid, "turn-1"));
  queue.push_audio(chunk(160, 3));
  BOOST_TEST(audio_of(queue.take(sid)->text).size() == 320u);
  BOOST_TEST(queue.take(sid)->text == twilio::serialize_mark(sid, "turn-1"));
  BOOST_TEST(audio_of(queue.take(sid)->text) == std::vector<std::uint8_t>(160, 3));
}

BOOST_AUTO_TEST_CASE(a_clear_drops_everything_queued_and_the_close_comes_last_whatever_the_budget) {
  outbound_queue queue(400);
  queue.push_audio(chunk(160, 1));
  queue.push_text(twilio::serialize_mark(sid, "m"));
  queue.clear();
  BOOST_TEST(queue.empty());
  BOOST_TEST(queue.queued_bytes() == 0u);
  queue.push_audio(chunk(240, 1));  // 320 of the 400 bytes
  queue.push_close({close_code::normal, "call ended"});
  BOOST_TEST(queue.take(sid)->text.size() > 0u);
  const auto last = queue.take(sid);
  BOOST_REQUIRE(last.has_value());
  BOOST_REQUIRE(last->close.has_value());
  BOOST_TEST(last->close->reason == "call ended");
  BOOST_TEST(last->text.empty());
  BOOST_TEST(!queue.take(sid).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
