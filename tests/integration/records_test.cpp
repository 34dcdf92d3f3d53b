// No call lost: fallback prompt and voicemail, recordings, call records (SQLite and a real PostgreSQL
// server), the read API and Twilio's status callback, on a real in-process gateway over loopback.
#include <sqlite3.h>

#include <boost/json.hpp>
#include <cmath>
#include <fstream>

#include "call/playback.hpp"
#include "integration/gateway_fixture.hpp"
#include "integration/postgres_server.hpp"
#include "integration/test_pki.hpp"
#include "fake-twilio-api/fake_twilio_api.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/audio/wav.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string& admin_token = test_admin_token;
constexpr std::size_t mulaw_wav_header_bytes = 58;  // RIFF + fmt (18) + fact + data headers

app::config records_config() {
  auto c = gateway_config();
  c.admin_token = admin_token;
  return c;
}

std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The audio bytes of a mu-law WAV the gateway wrote (checked to be a valid WAV of that shape first).
std::vector<std::uint8_t> wav_data(const std::string& path, unsigned channels) {
  const auto bytes = file_bytes(path);
  auto parsed = audio::parse_wav(bytes);
  BOOST_TEST_REQUIRE(parsed.has_value(), path << ": " << parsed.error().message);
  BOOST_TEST(parsed->sample_rate == 8000u);
  BOOST_TEST(parsed->channels == channels);
  const std::size_t size = parsed->samples.size();  // one byte per sample in mu-law
  BOOST_TEST_REQUIRE(bytes.size() >= mulaw_wav_header_bytes + size);
  return {bytes.begin() + mulaw_wav_header_bytes, bytes.begin() + static_cast<std::ptrdiff_t>(mulaw_wav_header_bytes + size)};
}

// `sox --i` reads the file as any audio tool would (skipped where sox is not installed).
void check_with_sox(const std::string& path, const std::string& channels) {
  if (std::system("command -v sox >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("sox not installed: sox --i check skipped");
    return;
  }
  std::string out;
  if (FILE* p = ::popen(("sox --i '" + path + "' 2>&1").c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    BOOST_TEST(::pclose(p) == 0, out);
  }
  BOOST_TEST(out.find("Channels       : " + channels) != std::string::npos, out);
  BOOST_TEST(out.find("Sample Rate    : 8000") != std::string::npos, out);
  BOOST_TEST(out.find("u-law") != std::string::npos, out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(voicemail)

BOOST_AUTO_TEST_CASE(agent_down_prompt_within_2_s_then_the_callers_exact_message_and_a_record) {
  fake::agent_script script;
  gateway gw(records_config(), script);
  gw.agent.reset();  // the agent is down
  const auto& prompt = gw.server->fallback_prompt();
  const auto tone = call::make_voicemail_tone();
  const std::size_t greeting_frames = (prompt.size() + tone.size()) / 160 + 2;
  const auto caller = speech(greeting_frames + 150, 21);  // then 3 s of message
  auto s = gw.run(sim::run_call(gw.caller(caller)));
  gw.settle();
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.time_to_first_audio.value_or(1h).count() < 2000);
  BOOST_TEST(s.received_audio == concat(prompt, tone));  // all of the prompt, then the tone

  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "voicemail");
  BOOST_TEST(record.at("from").as_string() == "+15551230001");
  BOOST_TEST(record.at("stream_sid").as_string() == s.stream_sid.c_str());
  BOOST_TEST(record.at("voicemail_url").as_string() == ("/api/calls/" + s.call_sid + "/voicemail").c_str());
  const std::string path(record.at("voicemail_path").as_string());
  // The message is the caller's audio from the tone on, bit-exact and complete to the hang-up.
  const auto message = wav_data(path, 1);
  BOOST_TEST(message.size() >= 120u * 160);  // most of the 3 s (the rest arrived while the tone played)
  BOOST_TEST_REQUIRE(message.size() <= caller.size());
  BOOST_TEST((message == std::vector<std::uint8_t>(caller.end() - static_cast<std::ptrdiff_t>(message.size()), caller.end())));
  check_with_sox(path, "1");
  // The read API streams the same file.
  auto download = api_get(gw, "/api/calls/" + s.call_sid + "/voicemail");
  BOOST_TEST(download.status == 200u);
  BOOST_TEST((std::vector<std::uint8_t>(download.body.begin(), download.body.end()) == file_bytes(path)));
  // Twilio's <Connect action> request: the caller was answered, so it just hangs up.
  twilio::form_params f;
  f.add("CallSid", s.call_sid);
  auto ended = gw.run(signed_post(gw.port, gw.server->config(), std::string(app::stream_ended_path), f));
  BOOST_TEST(ended.body.find("<Say") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(agent_failing_mid_call_hands_over_to_voicemail_and_keeps_the_transcript) {
  fake::agent_script script;
  script.greeting = speech(10, 98);
  script.transcripts = true;
  script.close_1008_after_frames = 30;  // after the greeting was heard and a user transcript came
  gateway gw(records_config(), script);
  const auto failed_before = app::metrics().fallbacks.value("failed_mid_call");
  const std::size_t greeting_frames = (gw.server->fallback_prompt().size() + call::make_voicemail_tone().size()) / 160;
  auto s = gw.run(sim::run_call(gw.caller(speech(30 + greeting_frames + 60, 22))));
  gw.settle();
  BOOST_TEST(heard_fallback(s, *gw.server));
  BOOST_TEST(app::metrics().fallbacks.value("failed_mid_call") == failed_before + 1);
  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "voicemail");
  BOOST_TEST(record.at("conversation_id").as_string().starts_with("conv_fake_"));
  BOOST_TEST(record.at("agent_close_codes").as_array().size() == 1u);
  BOOST_TEST(record.at("agent_close_codes").as_array()[0].as_int64() == 1008);
  BOOST_TEST(!record.at("first_agent_audio_ms").is_null());
  const auto& transcript = record.at("transcript").as_array();
  BOOST_TEST_REQUIRE(transcript.size() == 2u, boost::json::serialize(transcript));
  BOOST_TEST(transcript[0].at("role").as_string() == "agent");
  BOOST_TEST(transcript[0].at("text").as_string() == "Hello, how can I");  // the correction: what was heard
  BOOST_TEST(transcript[1].at("role").as_string() == "user");
  BOOST_TEST(transcript[1].at("text").as_string() == "I would like to book a table.");
  BOOST_TEST(!record.at("voicemail_path").as_string().empty());
}

BOOST_AUTO_TEST_CASE(a_fallback_prompt_wav_of_any_rate_is_converted_at_start_up) {
  temp_dir dir;
  audio::pcm_audio wav{16000, 1, {}};
  for (int i = 0; i < 16000; ++i) wav.samples.push_back(static_cast<std::int16_t>(8000 * std::sin(i * 0.05)));
  const auto path = dir.path / "prompt.wav";
  BOOST_TEST_REQUIRE(audio::write_file(path, audio::serialize_wav(wav)).has_value());
  auto config = records_config();
  config.fallback_prompt_wav = path;
  gateway gw(config, fake::agent_script{});
  gw.agent.reset();
  BOOST_TEST((gw.server->fallback_prompt() == audio::to_mulaw_8k(wav)));
  BOOST_TEST(gw.server->fallback_prompt().size() == 8000u);  // 1 s at 8 kHz
  auto s = gw.run(sim::run_call(gw.caller(speech(10, 29))));
  BOOST_TEST(heard_fallback(s, *gw.server));
}

BOOST_AUTO_TEST_CASE(local_demo_agent_greets_and_takes_a_message) {
  auto config = records_config();
  config.local_agent = app::local_agent_kind::voicemail;
  config.local_greeting_text = "Hello, please leave a message.";
  gateway gw(config);
  const auto caller = speech(200, 23);
  auto s = gw.run(sim::run_call(gw.caller(caller)));
  gw.settle();
  BOOST_TEST(s.received_audio.size() > 8000u);  // the spoken greeting and the tone
  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "voicemail");
  const auto message = wav_data(std::string(record.at("voicemail_path").as_string()), 1);
  BOOST_TEST(message.size() > 0u);
  BOOST_TEST((message == std::vector<std::uint8_t>(caller.end() - static_cast<std::ptrdiff_t>(message.size()), caller.end())));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(recording)

BOOST_AUTO_TEST_CASE(record_calls_writes_both_sides_as_a_valid_two_channel_wav) {
  fake::agent_script script;
  script.greeting = speech(12, 97);
  auto config = records_config();
  config.record_calls = true;
  gateway gw(config, script);
  const auto caller = speech(60, 24);
  auto s = gw.run(sim::run_call(gw.caller(caller, script.greeting.size() + caller.size())));
  gw.settle();
  BOOST_TEST(s.received_audio == concat(script.greeting, caller));
  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "agent");
  const std::string path(record.at("recording_path").as_string());
  BOOST_TEST_REQUIRE(!path.empty());
  const auto data = wav_data(path, 2);
  std::vector<std::uint8_t> left, right;
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
    left.push_back(data[i]);
    right.push_back(data[i + 1]);
  }
  // Left: everything the caller said, bit-exact. Right: what the caller heard, the greeting first.
  BOOST_TEST((std::vector<std::uint8_t>(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(caller.size())) == caller));
  BOOST_TEST((std::search(right.begin(), right.end(), script.greeting.begin(), script.greeting.end()) != right.end()));
  check_with_sox(path, "2");
  auto download = api_get(gw, "/api/calls/" + s.call_sid + "/recording");
  BOOST_TEST(download.status == 200u);
  BOOST_TEST(download.body.size() == file_bytes(path).size());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(read_api)

BOOST_AUTO_TEST_CASE(needs_the_bearer_token_and_serves_records_completed_by_the_status_callback) {
  gateway gw(records_config());
  auto s = gw.run(sim::run_call(gw.caller(speech(10, 25))));
  gw.settle();
  BOOST_TEST_REQUIRE(gw.server->wait_records_stored(20s));
  BOOST_TEST(api_get(gw, "/api/calls", "").status == 401u);
  BOOST_TEST(api_get(gw, "/api/calls", "wrong-token-000000000000000").status == 401u);
  BOOST_TEST(api_get(gw, "/api/calls/" + s.call_sid, "").status == 401u);
  BOOST_TEST(api_get(gw, "/api/calls/" + s.call_sid + "/recording", "").status == 401u);
  BOOST_TEST(api_get(gw, "/api/calls?limit=0").status == 400u);
  BOOST_TEST(api_get(gw, "/api/calls?limit=x").status == 400u);
  BOOST_TEST(api_get(gw, "/api/calls/CA" + std::string(32, '0')).status == 404u);
  BOOST_TEST(api_get(gw, "/api/calls/../../etc/passwd").status == 404u);
  BOOST_TEST(api_get(gw, "/api/calls/" + s.call_sid + "/recording").status == 404u);  // not recorded
  auto list = api_get(gw, "/api/calls?limit=10");
  BOOST_TEST_REQUIRE(list.status == 200u);
  const auto calls = boost::json::parse(list.body).at("calls").as_array();
  BOOST_TEST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].at("call_sid").as_string() == s.call_sid.c_str());
  BOOST_TEST(calls[0].at("twilio_status").as_string() == "");

  // Twilio's call status callback, signed, completes the record; an unsigned one is refused.
  twilio::form_params status;
  status.add("CallSid", s.call_sid);
  status.add("CallStatus", "completed");
  status.add("CallDuration", "7");
  auto unsigned_post = gw.run(http_call(gw.port, http::verb::post, std::string(app::status_callback_path),
                                        twilio::encode_form(status), {{"Content-Type", "application/x-www-form-urlencoded"}}));
  BOOST_TEST(unsigned_post.status == 403u);
  auto ok = gw.run(signed_post(gw.port, gw.server->config(), std::string(app::status_callback_path), status));
  BOOST_TEST(ok.status == 204u);
  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("twilio_status").as_string() == "completed");
  BOOST_TEST(record.at("twilio_duration_s").as_int64() == 7);
  BOOST_TEST(record.at("outcome").as_string() == "agent");  // the status did not replace the record
}

BOOST_AUTO_TEST_CASE(is_off_without_an_admin_token) {
  gateway gw;
  BOOST_TEST(api_get(gw, "/api/calls").status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(call_records)

BOOST_AUTO_TEST_CASE(sqlite_is_the_default_in_wal_mode_with_the_schema_migrated) {
  gateway gw(records_config());
  auto s = gw.run(sim::run_call(gw.caller(speech(5, 26))));
  gw.settle();
  BOOST_TEST_REQUIRE(gw.server->wait_records_stored(20s));
  const auto file = gw.server->config().state_dir / "calls.sqlite3";
  sqlite3* db = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  BOOST_TEST(scalar("PRAGMA journal_mode") == "wal");
  BOOST_TEST(scalar("SELECT MAX(version) FROM schema_version") == "8");
  BOOST_TEST(scalar(("SELECT outcome FROM calls WHERE call_sid = '" + s.call_sid + "'").c_str()) == "agent");
  BOOST_TEST(scalar(("SELECT route FROM calls WHERE call_sid = '" + s.call_sid + "'").c_str()) == "default");
  sqlite3_close(db);
}

BOOST_AUTO_TEST_CASE(postgresql_outage_during_calls_loses_nothing) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  auto config = records_config();
  config.database_url = pg.url();
  gateway gw(config);
  auto calls = [&](unsigned seed) {
    std::vector<boost::asio::awaitable<sim::call_summary>> batch;
    for (unsigned i = 0; i < 3; ++i) batch.push_back(sim::run_call(gw.caller(speech(5, seed + i))));
    auto results = gw.run_all(std::move(batch));
    gw.settle();
    std::vector<std::string> sids;
    for (auto& r : results) sids.push_back(r.call_sid);
    return sids;
  };
  auto before = calls(30);
  BOOST_TEST_REQUIRE(gw.server->wait_records_stored(20s));
  BOOST_TEST_REQUIRE(pg.stop(), pg.log());
  const auto spooled_before = app::metrics().record_writes.value("spooled");
  auto during = calls(40);  // the calls themselves are unaffected
  BOOST_TEST(!gw.server->wait_records_stored(1500ms));
  BOOST_TEST(app::metrics().record_writes.value("spooled") >= spooled_before + 3);
  BOOST_TEST(api_get(gw, "/api/calls").status == 503u);
  BOOST_TEST(gw.logs.str().find("spooling to disk") != std::string::npos);
  BOOST_TEST_REQUIRE(pg.start(), pg.log());
  BOOST_TEST_REQUIRE(gw.server->wait_records_stored(30s));
  auto all = before;
  all.insert(all.end(), during.begin(), during.end());
  for (const auto& sid : all) {
    auto record = call_record(gw, sid);
    BOOST_TEST(record.at("outcome").as_string() == "agent", sid);
  }
  auto list = api_get(gw, "/api/calls?limit=100");
  BOOST_TEST(boost::json::parse(list.body).at("calls").as_array().size() == 6u);
}

BOOST_AUTO_TEST_CASE(records_spooled_while_postgresql_was_down_survive_a_restart) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  temp_dir state;  // kept across the two gateways (each would remove a state directory of its own)
  auto config = records_config();
  remove_temp_dir(config.state_dir);
  config.state_dir = state.path / "state";
  config.database_url = pg.url();
  std::string call_sid;
  {
    gateway gw(config);
    BOOST_TEST_REQUIRE(gw.server->wait_records_stored(20s));  // the schema is there
    BOOST_TEST_REQUIRE(pg.stop(), pg.log());
    auto s = gw.run(sim::run_call(gw.caller(speech(5, 50))));
    gw.settle();
    call_sid = s.call_sid;
    BOOST_TEST(!gw.server->wait_records_stored(500ms));
  }  // the gateway stops with the record in its spool
  BOOST_TEST(std::filesystem::file_size(config.state_dir / "records.spool") > 0u);
  BOOST_TEST_REQUIRE(pg.start(), pg.log());
  gateway restarted(config);
  BOOST_TEST(call_record(restarted, call_sid).at("outcome").as_string() == "agent");
  BOOST_TEST(std::filesystem::file_size(config.state_dir / "records.spool") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(transfer)

namespace {
// The fake Twilio REST API over HTTPS (a test CA), on a loop of its own: the gateway must know its port
// before it starts. Its records are read once its thread has stopped.
struct twilio_api_fixture {
  test_pki pki;
  trusted_ca trust{pki.dir + "/ca.pem"};
  boost::asio::io_context io;
  fake::fake_twilio_api api;
  std::thread thread;
  twilio_api_fixture(const std::string& account_sid, const std::string& token)
      : api(io, {account_sid, token, pki.dir + "/server.pem", pki.dir + "/server.key"}), thread([this] { io.run(); }) {}
  ~twilio_api_fixture() { stop(); }
  void stop() {
    io.stop();
    if (thread.joinable()) thread.join();
  }
  std::string base() const { return "https://localhost:" + std::to_string(api.port()); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(agent_tool_and_operator_key_update_the_live_call_over_twilio_rest) {
  auto config = records_config();
  config.twilio_account_sid = "AC" + std::string(32, '1');
  config.operator_number = "+15550002222";
  twilio_api_fixture twilio(config.twilio_account_sid, config.twilio_auth_token);
  config.twilio_api_base = twilio.base();
  fake::agent_script script;
  script.greeting = speech(5, 96);
  script.tool_call_after_greeting = "transfer_to_number";
  script.tool_parameters_json = R"({"phone_number":"+15550001111"})";
  gateway gw(config, script);
  auto o = gw.caller(speech(100, 27));
  o.dtmf = {{1000ms, '0'}};  // "0 for an operator"
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  twilio.stop();
  const auto& updates = twilio.api.updates();
  BOOST_TEST_REQUIRE(updates.size() == 2u);
  for (const auto& u : updates) {
    BOOST_TEST(u.answered == 200u);  // Basic auth, account, form fields all as Twilio wants them
    BOOST_TEST(u.call_sid == s.call_sid);
  }
  BOOST_TEST(updates[0].twiml.find("<Dial>+15550001111</Dial>") != std::string::npos, updates[0].twiml);
  BOOST_TEST(updates[1].twiml.find("<Dial>+15550002222</Dial>") != std::string::npos, updates[1].twiml);
  BOOST_TEST_REQUIRE(gw.agent->record().tool_results.size() == 1u);
  BOOST_TEST(gw.agent->record().tool_results[0].find("\"is_error\":false") != std::string::npos);
  BOOST_TEST(gw.agent->record().contextual_updates.empty());  // the operator key went to Twilio, not the agent
  auto record = call_record(gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "transferred");
  BOOST_TEST(record.at("transferred_to").as_string() == "+15550002222");
  BOOST_TEST(record.at("dtmf").as_string() == "0");
}

BOOST_AUTO_TEST_CASE(a_refused_transfer_is_logged_and_the_call_goes_on) {
  auto config = records_config();
  config.twilio_account_sid = "AC" + std::string(32, '2');
  twilio_api_fixture twilio(config.twilio_account_sid, "not-the-gateways-token");
  config.twilio_api_base = twilio.base();
  fake::agent_script script;
  script.tool_call_after_greeting = "transfer_to_number";
  script.tool_parameters_json = R"({"phone_number":"+15550003333"})";
  gateway gw(config, script);
  const auto caller = speech(40, 28);
  // Twilio takes its time to open the stream: the pre-warmed agent greets and asks for the transfer before
  // the call adopts it, and the transfer waits for the call.
  auto o = gw.caller(caller, caller.size());
  o.stream_delay = std::chrono::milliseconds(300);
  auto s = gw.run(sim::run_call(o));
  gw.settle();
  // The transfer runs beside the call, which may end first (the caller hangs up once it heard its echo): the
  // fake stops only once the gateway has Twilio's answer, or its requests could be cut off on a busy machine.
  gw.run_until([&] { return gw.logs.str().find("transfer failed: the call goes on") != std::string::npos; });
  twilio.stop();
  BOOST_TEST_REQUIRE(twilio.api.updates().size() == 1u);
  BOOST_TEST(twilio.api.updates()[0].answered == 401u);
  BOOST_TEST(s.received_audio == caller);  // the echo carried on
  BOOST_TEST(gw.logs.str().find("transfer failed: the call goes on") != std::string::npos);
  BOOST_TEST(gw.logs.str().find("HTTP 401") != std::string::npos);
  BOOST_TEST(call_record(gw, s.call_sid).at("outcome").as_string() == "agent");
}

BOOST_AUTO_TEST_SUITE_END()
