// Speech synthesis, WAV recording on disk and the call record's JSON, without a server.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "call/recording.hpp"
#include "records/call_record.hpp"
#include "temp_dir.hpp"
#include "voicebridge/audio/speech.hpp"
#include "voicebridge/audio/wav.hpp"

using namespace voicebridge;

namespace {
std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::vector<std::uint8_t> bytes(std::size_t n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 7 + seed * 31) % 251);
  return v;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(speech)

BOOST_AUTO_TEST_CASE(english_and_german_prompts_are_spoken_and_bad_languages_named) {
  auto en = audio::synthesize_mulaw("Please leave a message after the tone.", "en");
  auto de = audio::synthesize_mulaw("Bitte hinterlassen Sie eine Nachricht nach dem Signalton.", "de");
  BOOST_TEST_REQUIRE(en.has_value());
  BOOST_TEST_REQUIRE(de.has_value());
  BOOST_TEST(en->size() > 8000u);  // over a second of speech at 8 kHz
  BOOST_TEST(de->size() > 8000u);
  BOOST_TEST(en->front() != 0xFF);  // leading silence trimmed: the caller hears it at once
  auto bad = audio::synthesize_mulaw("hello", "xx-nonexistent");
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message.find("xx-nonexistent") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(recorder)

BOOST_AUTO_TEST_CASE(a_recording_is_a_valid_wav_after_every_second_even_without_finish) {
  testing::temp_dir dir;
  const auto path = dir.path / "CAx-call.wav";
  boost::asio::thread_pool disk(1);
  auto writer = call::wav_writer::create(disk, path, 1, "CAx");
  BOOST_TEST_REQUIRE(writer != nullptr);
  const auto audio = bytes(20000, 1);  // 2.5 s
  for (std::size_t i = 0; i < audio.size(); i += 160) writer->append(std::span(audio).subspan(i, 160));
  writer->wait_written();
  // A crash now: what is on disk is a valid WAV with all but the last (unflushed) second.
  auto on_disk = audio::parse_wav(read_all(path));
  BOOST_TEST_REQUIRE(on_disk.has_value(), on_disk.error().message);
  BOOST_TEST(on_disk->samples.size() >= 16000u);
  BOOST_TEST(on_disk->samples.size() <= audio.size());
  writer->finish();
  writer->wait_written();
  const auto file = read_all(path);
  BOOST_TEST_REQUIRE(audio::parse_wav(file).has_value());
  BOOST_TEST((std::vector<std::uint8_t>(file.begin() + 58, file.begin() + 58 + 20000) == audio));
  BOOST_TEST(call::wav_writer::create(disk, path, 1, "CAx") == nullptr);  // never overwrites a recording
}

BOOST_AUTO_TEST_CASE(agent_audio_is_placed_where_the_caller_heard_it_and_cleared_audio_dropped) {
  testing::temp_dir dir;
  boost::asio::thread_pool disk(1);
  auto writer = call::wav_writer::create(disk, dir.path / "CAy-call.wav", 2, "CAy");
  call::call_recorder rec(std::move(writer));
  const auto caller = bytes(160 * 4, 2);
  const auto agent = bytes(160 * 3, 3);
  rec.caller_audio(std::span(caller).subspan(0, 160));  // 20 ms of caller alone
  rec.agent_audio(agent);                                // 60 ms of agent, sent at once, plays from now
  rec.caller_audio(std::span(caller).subspan(160, 160));
  rec.agent_cleared();                                   // barge-in: the 40 ms not yet heard are dropped
  rec.caller_audio(std::span(caller).subspan(320, 320));
  rec.finish();
  rec.file().wait_written();
  const auto file = read_all(dir.path / "CAy-call.wav");
  BOOST_TEST_REQUIRE(audio::parse_wav(file).has_value());
  std::vector<std::uint8_t> left, right;
  for (std::size_t i = 58; i + 1 < file.size(); i += 2) {
    left.push_back(file[i]);
    right.push_back(file[i + 1]);
  }
  BOOST_TEST(left == caller);
  // Silence while the caller spoke first, the 20 ms of agent heard before the clear, silence again.
  std::vector<std::uint8_t> heard(160 * 4, 0xFF);
  std::copy(agent.begin(), agent.begin() + 160, heard.begin() + 160);
  BOOST_TEST(right == heard);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(call_record_json)

BOOST_AUTO_TEST_CASE(round_trips_and_applies_corrections) {
  records::call_record r;
  r.call_sid = "CA" + std::string(32, 'a');
  r.outcome = records::outcome::voicemail;
  r.started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  r.first_agent_audio_ms = 42;
  r.agent_close_codes = {1008};
  r.add_agent_text("Hello, how can I help you today?", 1);
  r.add_user_text("Book a \"table\"\nplease", 2);
  r.correct_agent_text(1, "Hello, how");
  r.voicemail_path = "/var/lib/voicebridge/recordings/x.wav";
  r.direction = "outbound";
  r.answered_by = "machine_end_beep";
  r.opted_out = true;
  auto back = records::record_from_json(records::to_json(r));
  BOOST_TEST_REQUIRE(back.has_value(), back.error().message);
  BOOST_TEST(back->call_sid == r.call_sid);
  BOOST_TEST(back->outcome == "voicemail");
  BOOST_TEST(records::epoch_ms(back->started) == 1'700'000'000'123);
  BOOST_TEST(back->first_agent_audio_ms.value_or(0) == 42);
  BOOST_TEST(back->agent_close_codes == std::vector<int>{1008});
  BOOST_TEST_REQUIRE(back->transcript.size() == 2u);
  BOOST_TEST(back->transcript[0].text == "Hello, how");
  BOOST_TEST(back->transcript[1].text == "Book a \"table\"\nplease");
  BOOST_TEST(!back->twilio_duration_s.has_value());
  BOOST_TEST(back->direction == "outbound");
  BOOST_TEST(back->answered_by == "machine_end_beep");
  BOOST_TEST(back->opted_out);
  // A record stored before outbound calls existed reads as inbound.
  const auto old = records::record_from_json(R"({"call_sid":"CA)" + std::string(32, 'b') + R"(","outcome":"agent"})");
  BOOST_TEST_REQUIRE(old.has_value());
  BOOST_TEST(old->direction == "inbound");
  BOOST_TEST(!old->opted_out);
  BOOST_TEST(!records::record_from_json("{\"outcome\":\"agent\"}").has_value());  // no call_sid
  BOOST_TEST(!records::record_from_json("not json").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
