// Calls whose stream state is shared in PostgreSQL (several instances): a stream whose link breaks mid-call
// is followed by Twilio's <Connect action> request, answered with a fresh stream whose agent is told what was
// said; a stream the gateway ended hangs up; the store's rows say so; a recording is served from the store
// when it is not on this instance's disk (simulator <-> voicebridge <-> fake-elevenlabs, real PostgreSQL).
#include <fstream>
#include <random>

#include "integration/gateway_fixture.hpp"
#include "integration/postgres_server.hpp"
#include "records/call_store.hpp"
#include "voicebridge/app/metrics.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

app::config shared_config(const postgres_server& pg, const std::string& instance) {
  auto c = gateway_config();
  c.database_url = pg.url();
  c.instance_id = instance;
  c.instance_id_configured = true;
  c.admin_token = test_admin_token;
  return c;
}

fake::agent_script talking_agent() {
  fake::agent_script script;
  script.greeting = speech(5, 1);
  script.transcripts = true;  // its greeting's text, and the caller's words after 10 frames
  return script;
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A GET of the read API with a Range header.
http_result ranged_get(gateway& gw, const std::string& target, const std::string& range) {
  return gw.run(http_call(gw.port, http::verb::get, target, {},
                          {{"Authorization", "Bearer " + test_admin_token}, {"Range", range}}));
}

bool told(const fake::agent_record& record, const std::string& text) {
  for (const auto& update : record.contextual_updates)
    if (update.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shared_streams)

BOOST_AUTO_TEST_CASE(a_stream_lost_mid_call_resumes_on_a_fresh_stream_whose_agent_is_told_what_was_said) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  const auto script = talking_agent();
  auto config = shared_config(pg, "vb1");
  config.prewarm = true;  // at the voice webhook, and again at the answer that sends the fresh stream
  config.record_calls = true;
  // The call's route is not the catch-all: the fresh stream (and its pre-warm) must find the call's own.
  const temp_dir files;
  config.routes_file = files.path / "routes.toml";
  std::ofstream(config.routes_file) << "[[route]]\nname = \"booking\"\nnumbers = [\"+15559870002\"]\n\n"
                                       "[[route]]\nname = \"other\"\nnumbers = [\"*\"]\nagent_mode = \"local\"\n"
                                       "local_agent = \"echo\"\n";
  gateway gw(config, script);
  const auto hits = app::metrics().prewarms.value("hit");
  const auto calls_counted = [] {
    std::uint64_t n = 0;
    for (const auto& [outcome, count] : app::metrics().calls.snapshot()) n += count;
    return n;
  };
  const auto calls_before = calls_counted();
  const auto audio = speech(100, 2);  // 2 s
  auto o = gw.caller(audio, 0);
  o.follow_connect_action = true;
  o.stream_delay = 300ms;  // the pre-warmed greeting and its agent_response arrive before the call adopts them
  o.break_link_after = 800ms;  // after the agent's greeting and the caller's first words
  o.linger = 1500ms;
  const auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST_REQUIRE(s.error == "", s.error << "\n" << gw.logs.str());
  BOOST_TEST(s.action_answers == std::vector<std::string>{"stream"}, gw.logs.str());
  BOOST_TEST(s.fresh_streams == 1u);
  BOOST_TEST(s.stream_url == "wss://gw.example.test/ws/twilio/stream/vb1");  // the instance's own key
  BOOST_TEST_REQUIRE(s.reconnect_gaps.size() == 1u);
  BOOST_TEST_MESSAGE("agent heard again " << s.reconnect_gaps[0].count() << " ms after the link broke");
  BOOST_TEST(gw.agent->record().conversations == 2);
  BOOST_TEST(app::metrics().prewarms.value("hit") == hits + 2);  // each stream took a conversation made ready for it
  BOOST_TEST(calls_counted() == calls_before + 1);  // one call on two streams: calls_total counts it once
  // The second conversation was told what the caller said in the first, and what its agent answered.
  BOOST_TEST(told(gw.agent->record(), "Caller: I would like to book a table."), gw.logs.str());
  BOOST_TEST(told(gw.agent->record(), "Agent: Hello, how can I help you today?"));

  const auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("reconnects").as_int64() == 1);
  // The fresh stream recorded a file of its own beside the first one's (which it must not overwrite).
  const std::string recording(record.at("recording_path").as_string());
  BOOST_TEST(recording.ends_with(s.call_sid + "-call-r1.wav"), recording);
  BOOST_TEST(file_text(recording).size() > 44u);
  BOOST_TEST(file_text(std::filesystem::path(recording).parent_path() / (s.call_sid + "-call.wav")).size() > 44u);
  BOOST_TEST(record.at("outcome").as_string() == "agent");
  BOOST_TEST(record.at("route").as_string() == "booking");
  // The record holds both streams' lines: the first's (from the store) before the second's.
  const auto& transcript = record.at("transcript").as_array();
  BOOST_TEST_REQUIRE(transcript.size() >= 3u, boost::json::serialize(record));
  BOOST_TEST(transcript[0].at("text").as_string() == "Hello, how can I help you today?");
  BOOST_TEST(transcript[1].at("text").as_string() == "I would like to book a table.");

  // The row: served by this instance, and the caller's hang-up ended it.
  records::call_store store(records::open_postgres(pg.url()));
  const auto row = store.find_stream(s.call_sid);
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(row->instance == "vb1");
  BOOST_TEST(row->reconnects == 1u);
  BOOST_TEST(row->state == records::stream_state::ended_by_twilio);
}

BOOST_AUTO_TEST_CASE(a_stream_the_gateway_ended_is_stored_as_served_before_its_close_and_hangs_up) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  auto script = talking_agent();
  script.end_call_after_frames = 20;  // the agent ends the conversation: the gateway closes the stream
  gateway gw(shared_config(pg, "vb2"), script);
  auto o = gw.caller(speech(100, 3), 0);
  o.follow_connect_action = true;
  o.linger = 3s;
  const auto s = gw.run(sim::run_call(o));
  gw.settle();
  BOOST_TEST_REQUIRE(s.error == "", s.error);
  BOOST_TEST(s.server_closed);
  BOOST_TEST(s.close_code.value_or(0) == 1000);
  BOOST_TEST(s.action_answers == std::vector<std::string>{"hangup"}, gw.logs.str());
  BOOST_TEST(s.fresh_streams == 0u);
  records::call_store store(records::open_postgres(pg.url()));
  const auto row = store.find_stream(s.call_sid);
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(row->state == records::stream_state::served);
  BOOST_TEST(row->instance == "vb2");
  BOOST_TEST(row->reconnects == 0u);
  // The parameters a fresh stream would carry again: the call's, without the stream token.
  bool has_from = false;
  for (const auto& [name, value] : row->parameters) {
    BOOST_TEST(name != "stream_token");
    if (name == "from") has_from = value == "+15551230001";
  }
  BOOST_TEST(has_from);
}

// What another instance sees: the file is not on its disk (here: removed), so the read API serves the copy the
// record writer put in the store, byte for byte, a chunk at a time.
BOOST_AUTO_TEST_CASE(a_recording_not_on_this_instances_disk_is_served_from_the_store) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  auto config = shared_config(pg, "vb3");
  config.record_calls = true;
  const auto script = talking_agent();
  gateway gw(config, script);
  const auto audio = speech(60, 4);
  const auto s = gw.run(sim::run_call(gw.caller(audio, script.greeting.size() + audio.size())));
  gw.settle();
  BOOST_TEST_REQUIRE(s.error == "", s.error);
  const auto record = call_record(gw, s.call_sid);
  const std::string path(record.at("recording_path").as_string());
  BOOST_TEST_REQUIRE(!path.empty());
  const auto recorded = file_text(path);
  BOOST_TEST_REQUIRE(recorded.size() > 44u);
  BOOST_TEST(gw.logs.str().find("info call audio stored for every instance call_sid=" + s.call_sid) != std::string::npos, gw.logs.str());
  const auto from_disk = ranged_get(gw, "/api/calls/" + s.call_sid + "/recording", "bytes=40-99");
  BOOST_TEST(from_disk.status == 206u);
  BOOST_TEST(from_disk.content_range == "bytes 40-99/" + std::to_string(recorded.size()));
  BOOST_TEST((from_disk.body == recorded.substr(40, 60)));
  std::filesystem::remove(path);
  const auto from_store = api_get(gw, "/api/calls/" + s.call_sid + "/recording");
  BOOST_TEST(from_store.status == 200u, from_store.body);
  BOOST_TEST((from_store.body == recorded));

  // A file of several chunks (700,000 bytes: 256 KiB, 256 KiB and the rest), stored as the writer stores it.
  records::call_store store(records::open_postgres(pg.url()));
  const temp_dir dir;
  const auto file = dir.path / "long.wav";
  std::string bytes(700000, '\0');
  std::mt19937 random(7);
  for (auto& b : bytes) b = static_cast<char>(random());
  std::ofstream(file, std::ios::binary) << bytes;
  records::call_record long_call;
  long_call.call_sid = "CA" + std::string(32, 'd');
  long_call.route = "default";
  long_call.started = std::chrono::system_clock::now();
  long_call.outcome = "agent";
  long_call.recording_path = (dir.path / "elsewhere.wav").string();  // another instance's disk
  BOOST_TEST(store.share_audio(long_call.call_sid, records::audio_kind::recording, file, 1).value_or(0) == 700000);
  store.save(long_call);
  const auto stored = store.find_audio(long_call.call_sid, records::audio_kind::recording);
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->chunks == 3);
  BOOST_TEST(stored->bytes == 700000);
  BOOST_TEST(!store.find_audio(long_call.call_sid, records::audio_kind::voicemail).has_value());
  const auto download = api_get(gw, "/api/calls/" + long_call.call_sid + "/recording");
  BOOST_TEST(download.status == 200u);
  BOOST_TEST(download.body.size() == bytes.size());
  BOOST_TEST((download.body == bytes));
  // A player seeking: one range, across the first chunk's end (262,144), the last bytes, and past the end.
  const std::string long_audio = "/api/calls/" + long_call.call_sid + "/recording";
  const auto across = ranged_get(gw, long_audio, "bytes=262000-262299");
  BOOST_TEST(across.status == 206u);
  BOOST_TEST(across.content_range == "bytes 262000-262299/700000");
  BOOST_TEST((across.body == bytes.substr(262000, 300)));
  const auto tail = ranged_get(gw, long_audio, "bytes=-10");
  BOOST_TEST(tail.content_range == "bytes 699990-699999/700000");
  BOOST_TEST((tail.body == bytes.substr(699990)));
  const auto past = ranged_get(gw, long_audio, "bytes=700000-");
  BOOST_TEST(past.status == 416u);
  BOOST_TEST(past.content_range == "bytes */700000");
  // Stored again (a spooled record replayed) after the file shrank: the chunks past its new end are gone.
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes.substr(0, 300000);
  BOOST_TEST(store.share_audio(long_call.call_sid, records::audio_kind::recording, file, 2).value_or(0) == 300000);
  BOOST_TEST(store.find_audio(long_call.call_sid, records::audio_kind::recording)->chunks == 2);
  BOOST_TEST((api_get(gw, "/api/calls/" + long_call.call_sid + "/recording").body == bytes.substr(0, 300000)));
  BOOST_TEST(!store.share_audio(long_call.call_sid, records::audio_kind::recording, dir.path / "missing.wav", 3).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
