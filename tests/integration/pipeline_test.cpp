// Pipeline mode through real sockets: the Twilio simulator calls the gateway, which runs each call through
// the speech-to-text, LLM and text-to-speech stand-ins.
#include <boost/json.hpp>
#include <cmath>

#include "fake-elevenlabs/fake_speech.hpp"
#include "fake-llm/fake_llm.hpp"
#include "gateway_fixture.hpp"
#include "postgres_server.hpp"
#include "test_pki.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/audio/g711.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
namespace json = boost::json;

namespace {

constexpr std::size_t bytes_per_char = 40 * 8;  // the fake TTS: 40 ms of 8 kHz mu-law per character
const std::string llm_key = "llm-test-key-0123456789";
const std::string speech_key = "xi-test-speech-key-0123456789";
const std::string greeting = "Hello, how can I help you today?";

// What the fake STT hears as speech (a loud tone) and as silence.
std::vector<std::uint8_t> talk(int ms) {
  std::vector<std::int16_t> pcm(static_cast<std::size_t>(ms) * 8);
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 300 * i / 8000.0));
  return audio::mulaw_encode(pcm);
}
std::vector<std::uint8_t> quiet(int ms) { return std::vector<std::uint8_t>(static_cast<std::size_t>(ms) * 8, 0xFF); }

// After the greeting (1.3 s of audio) the caller says one thing and waits for the answer.
std::vector<std::uint8_t> one_question(int wait_ms = 5000) { return concat(concat(quiet(1600), talk(800)), quiet(wait_ms)); }

app::config pipeline_config() {
  auto c = gateway_config();
  c.agent_mode_setting = app::agent_mode::pipeline;
  c.voice_id = "voice_test";
  c.llm_model = "fake-model";
  c.llm_api_key = llm_key;
  c.elevenlabs_api_key = speech_key;
  c.admin_token = test_admin_token;
  c.fallback_text = "Please leave a message.";
  return c;
}

// The gateway in pipeline mode with its three stand-ins, all on one loop.
struct pipeline_gateway {
  std::unique_ptr<fake::fake_speech_server> speech;
  std::unique_ptr<fake::fake_llm_server> llm;
  gateway gw;

  // `speech_base`/`llm_base`: the scheme and host the gateway is pointed at (https://localhost: for TLS).
  explicit pipeline_gateway(fake::speech_script speech_script = {}, fake::llm_script llm_script = {},
                            app::config config = pipeline_config(), std::string speech_base = "http://127.0.0.1:",
                            std::string llm_base = "http://127.0.0.1:")
      : gw(std::move(config), [&](asio::io_context& io, app::config& c) {
          speech_script.api_key = speech_key;
          llm_script.api_key = llm_key;
          speech = std::make_unique<fake::fake_speech_server>(io, speech_script);
          llm = std::make_unique<fake::fake_llm_server>(io, llm_script);
          c.elevenlabs_base_url = speech_base + std::to_string(speech->port());
          c.llm_base_url = llm_base + std::to_string(llm->port()) + "/v1";
        }) {}

  // The stand-ins go first: their acceptors belong to the gateway's loop.
  ~pipeline_gateway() {
    speech.reset();
    llm.reset();
  }

  sim::call_summary call(std::vector<std::uint8_t> caller_audio) {
    auto s = gw.run(sim::run_call(gw.caller(std::move(caller_audio))));
    gw.settle();
    return s;
  }

  void no_violations() {
    BOOST_TEST(speech->record().violations.empty(), "speech: " << (speech->record().violations.empty() ? "" : speech->record().violations.front()));
    BOOST_TEST(llm->record().violations.empty(), "llm: " << (llm->record().violations.empty() ? "" : llm->record().violations.front()));
    BOOST_TEST(llm->record().unauthorized == 0);
  }
};

json::array request_messages(const std::string& body) { return json::parse(body).at("messages").as_array(); }

std::string content_of(const json::value& message) { return std::string(message.at("content").as_string()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline)

BOOST_AUTO_TEST_CASE(caller_speech_is_answered_with_the_streamed_answer) {
  pipeline_gateway p;
  const auto turn_audio_before = app::metrics().turn_first_audio_seconds.count();
  const auto caller = one_question();
  auto s = p.call(caller);
  BOOST_TEST(s.error == "");
  BOOST_TEST(s.protocol_errors.empty());
  p.no_violations();

  // Speech to text: Twilio's mu-law reached it untouched, and one turn was committed.
  BOOST_TEST(p.speech->record().stt_audio == caller);
  BOOST_TEST(p.speech->record().stt_targets.front().find("audio_format=ulaw_8000") != std::string::npos);
  BOOST_TEST(p.speech->record().committed == std::vector<std::string>{"I would like to book a table for two."});

  // The LLM got the system prompt, the greeting and the caller's words, with the gateway's tools.
  BOOST_TEST_REQUIRE(p.llm->record().requests.size() == 1u);
  const auto request = json::parse(p.llm->record().requests.front()).as_object();
  BOOST_TEST(request.at("model").as_string() == "fake-model");
  BOOST_TEST(request.at("tools").as_array().size() == 2u);
  const auto messages = request.at("messages").as_array();
  BOOST_TEST_REQUIRE(messages.size() == 3u);
  BOOST_TEST(messages[0].at("role").as_string() == "system");
  BOOST_TEST(content_of(messages[1]) == greeting);
  BOOST_TEST(content_of(messages[2]) == "I would like to book a table for two.");

  // Text to speech: the greeting and the answer, each in a context of its own, phrase by phrase.
  const std::string answer = "You said: I would like to book a table for two. How else can I help?";
  BOOST_TEST(p.speech->record().context_text.at("turn-1") == greeting + " ");
  BOOST_TEST(p.speech->record().context_text.at("turn-2") == answer + " ");
  BOOST_TEST(p.speech->record().closed_contexts == (std::vector<std::string>{"turn-1", "turn-2"}));

  // The caller heard all of both, and Twilio played every mark back.
  BOOST_TEST(s.played_audio.size() == (greeting.size() + 1 + answer.size() + 1) * bytes_per_char);
  BOOST_TEST(s.clears == 0u);
  BOOST_TEST(s.marks_echoed == s.marks_received.size());
  BOOST_TEST(app::metrics().turn_first_audio_seconds.count() == turn_audio_before + 1);
  BOOST_TEST(p.gw.logs.str().find("answer started") != std::string::npos);

  const auto record = call_record(p.gw, s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "agent");
  BOOST_TEST(record.at("agent_close_codes") == json::array({1000, 1000}));  // both sockets closed by us, normally
  const auto& transcript = record.at("transcript").as_array();
  BOOST_TEST_REQUIRE(transcript.size() == 3u);
  BOOST_TEST(transcript[1].at("text").as_string() == "I would like to book a table for two.");
  BOOST_TEST(transcript[2].at("text").as_string() == answer);
}

BOOST_AUTO_TEST_SUITE_END()

// The caller speaks over the agent.
BOOST_AUTO_TEST_SUITE(pipeline_barge_in)

BOOST_AUTO_TEST_CASE(barge_in_stops_the_answer_and_keeps_only_what_was_heard) {
  fake::speech_script speech;
  speech.transcripts = {"Do you have a table tonight?", "Seven, please."};
  fake::llm_script llm;
  llm.token_delay_ms = 100;  // about 4 s to write: the caller interrupts while it is being written
  const std::string long_answer =
      "Certainly, I can help you with a reservation tonight. We have tables at six, seven and eight in the evening, "
      "and on weekends we also serve lunch from noon until three, so please tell me which time suits you best.";
  llm.answers = {long_answer, "Seven it is."};
  pipeline_gateway p(speech, llm);
  const auto cancelled_before = app::metrics().llm_requests.value("cancelled");
  // The question, 2 s of the answer, then the caller talks over it, and waits for the next answer.
  auto s = p.call(concat(concat(concat(quiet(1600), talk(800)), concat(quiet(2000), talk(800))), quiet(3000)));
  BOOST_TEST(s.error == "");
  p.no_violations();

  // Twilio was told to drop the queued audio, the context was closed, and the LLM request was cancelled.
  BOOST_TEST_REQUIRE(s.clears == 1u);
  BOOST_TEST(p.llm->record().abandoned == 1);
  BOOST_TEST(app::metrics().llm_requests.value("cancelled") == cancelled_before + 1);
  const auto& closed = p.speech->record().closed_contexts;
  BOOST_TEST((std::find(closed.begin(), closed.end(), "turn-2") != closed.end()));
  BOOST_TEST(p.speech->record().context_text.at("turn-2").size() < long_answer.size());  // not all of it was written

  // The next request's history holds what the caller heard of the answer, and no more.
  BOOST_TEST_REQUIRE(p.llm->record().requests.size() == 2u);
  const auto messages = request_messages(p.llm->record().requests[1]);
  BOOST_TEST_REQUIRE(messages.size() == 5u);  // system, greeting, question, heard answer, the interruption
  BOOST_TEST(messages[3].at("role").as_string() == "assistant");
  const std::string heard = content_of(messages[3]);
  BOOST_TEST(!heard.empty());
  BOOST_TEST(long_answer.starts_with(heard));
  BOOST_TEST(heard.size() < long_answer.size());
  BOOST_TEST(content_of(messages[4]) == "Seven, please.");
  // Against the simulator's playout: the heard characters had played when the clear came, at most one
  // chunk (5 characters) more and a few frames in flight besides.
  const auto played_answer = s.played_at_clears.front() - (greeting.size() + 1) * bytes_per_char;
  BOOST_TEST(played_answer >= heard.size() * bytes_per_char);
  BOOST_TEST(played_answer <= (heard.size() + 1 + 5) * bytes_per_char + 1600);

  const auto record = call_record(p.gw, s.call_sid);
  BOOST_TEST(record.at("barge_ins").as_int64() == 1);
  const auto& transcript = record.at("transcript").as_array();
  BOOST_TEST_REQUIRE(transcript.size() >= 3u);
  BOOST_TEST(transcript[2].at("text").as_string() == heard);  // the agent line of the interrupted turn
}

BOOST_AUTO_TEST_SUITE_END()

// The LLM's tools: hang up, transfer.
BOOST_AUTO_TEST_SUITE(pipeline_tools)

BOOST_AUTO_TEST_CASE(llm_end_call_hangs_up_after_the_goodbye) {
  fake::speech_script speech;
  speech.transcripts = {"That is all, goodbye."};
  fake::llm_script llm;
  llm.answers = {"Thank you for calling, goodbye!"};  // then end_call ("goodbye" was said)
  pipeline_gateway p(speech, llm);
  auto s = p.call(one_question(8000));
  p.no_violations();
  BOOST_TEST(s.server_closed);
  BOOST_TEST(s.close_code.value_or(0) == 1000);
  // The goodbye played to its end before the hang-up, well before the caller's audio ran out.
  BOOST_TEST(s.played_audio.size() == (greeting.size() + 1 + std::string("Thank you for calling, goodbye!").size() + 1) * bytes_per_char);
  BOOST_TEST(s.duration < std::chrono::milliseconds(9000));
  BOOST_TEST(p.llm->record().requests.size() == 1u);
  BOOST_TEST(call_record(p.gw, s.call_sid).at("outcome").as_string() == "agent");
}

BOOST_AUTO_TEST_CASE(llm_transfer_call_redirects_the_call) {
  fake::speech_script speech;
  speech.transcripts = {"Let me talk to a human please."};
  fake::llm_script llm;
  llm.answers = {"Of course, one moment."};
  llm.tool_trigger = "human";
  llm.tool_name = "transfer_to_number";
  llm.tool_arguments = R"({"phone_number":"+15550001111"})";
  pipeline_gateway p(speech, llm);  // no TWILIO_ACCOUNT_SID: the transfer is refused and logged, the call goes on
  auto s = p.call(one_question(2500));
  p.no_violations();
  BOOST_TEST(p.gw.logs.str().find("LLM tool call") != std::string::npos);
  BOOST_TEST(p.gw.logs.str().find("transfer refused") != std::string::npos);
  BOOST_TEST(!s.server_closed);  // the call went on with the agent
}

// Each service failing in turn: the caller hears the fallback prompt, never dead air.
BOOST_AUTO_TEST_SUITE_END()

// Each service failing in turn: the caller hears the fallback prompt, never dead air.
BOOST_AUTO_TEST_SUITE(pipeline_failures)

BOOST_AUTO_TEST_CASE(each_service_failing_falls_back_to_the_prompt) {
  const auto fallbacks_before = app::metrics().fallbacks.value("refused") + app::metrics().fallbacks.value("unreachable") +
                                app::metrics().fallbacks.value("failed_mid_call");
  int variants = 0;
  for (const std::string variant : {"stt refused", "tts refused", "stt quota", "llm down"}) {
    fake::speech_script speech;
    fake::llm_script llm;
    if (variant == "stt refused") speech.stt_refuse_status = 401;
    if (variant == "tts refused") speech.tts_refuse_status = 503;
    if (variant == "stt quota") speech.stt_error = "quota_exceeded";
    if (variant == "llm down") llm.fail_status = 500;
    pipeline_gateway p(speech, llm);
    auto s = p.call(one_question(3000));
    ++variants;
    BOOST_TEST(s.error == "", variant);
    BOOST_TEST(heard_fallback(s, *p.gw.server), variant);
    if (variant == "tts refused") BOOST_TEST(p.speech->record().refused_upgrades == 2, variant);  // one retry
    if (variant == "llm down") {
      BOOST_TEST(p.llm->record().requests.size() == 2u, variant);  // one retry of a 5xx
      BOOST_TEST(s.received_audio.size() > p.gw.server->fallback_prompt().size(), variant);  // the greeting came first
    }
  }
  const auto fallbacks_after = app::metrics().fallbacks.value("refused") + app::metrics().fallbacks.value("unreachable") +
                               app::metrics().fallbacks.value("failed_mid_call");
  BOOST_TEST(fallbacks_after == fallbacks_before + variants);
}

BOOST_AUTO_TEST_SUITE_END()

// TLS, reconnection, keep-alive.
BOOST_AUTO_TEST_SUITE(pipeline_transport)

BOOST_AUTO_TEST_CASE(speech_sockets_and_llm_over_verified_tls) {
  test_pki pki;
  trusted_ca trust(pki.dir + "/ca.pem");
  fake::speech_script speech;
  speech.tls_certificate_chain = pki.dir + "/server.pem";
  speech.tls_private_key = pki.dir + "/server.key";
  fake::llm_script llm;
  llm.tls_certificate_chain = speech.tls_certificate_chain;
  llm.tls_private_key = speech.tls_private_key;
  pipeline_gateway p(speech, llm, pipeline_config(), "https://localhost:", "https://localhost:");
  auto s = p.call(one_question(4000));
  BOOST_TEST(s.error == "");
  p.no_violations();
  BOOST_TEST(p.speech->record().committed.size() == 1u);
  BOOST_TEST(p.llm->record().completed == 1);
  BOOST_TEST(!heard_fallback(s, *p.gw.server));
  BOOST_TEST(s.played_audio.size() > (greeting.size() + 1) * bytes_per_char);  // the answer came over wss too
}

BOOST_AUTO_TEST_CASE(untrusted_llm_certificate_is_refused) {
  test_pki pki;
  fake::llm_script llm;
  llm.tls_certificate_chain = pki.dir + "/server.pem";
  llm.tls_private_key = pki.dir + "/server.key";
  pipeline_gateway p({}, llm, pipeline_config(), "http://127.0.0.1:", "https://localhost:");  // the system store only
  auto s = p.call(one_question(3000));
  BOOST_TEST(p.llm->record().requests.empty());  // nothing was sent over the unverified connection
  BOOST_TEST(p.gw.logs.str().find("TLS handshake") != std::string::npos);
  BOOST_TEST(heard_fallback(s, *p.gw.server));
}

BOOST_AUTO_TEST_CASE(dropped_stt_socket_reconnects_and_the_call_goes_on) {
  fake::speech_script speech;
  speech.transcripts = {"First question.", "Second question."};
  speech.stt_drop_after_commits = 1;
  pipeline_gateway p(speech);
  const auto reconnects_before = app::metrics().speech_reconnects.value("stt");
  auto s = p.call(concat(one_question(2500), concat(talk(800), quiet(3000))));
  p.no_violations();
  BOOST_TEST(p.speech->record().stt_sessions == 2);
  BOOST_TEST(app::metrics().speech_reconnects.value("stt") == reconnects_before + 1);
  BOOST_TEST(p.llm->record().requests.size() == 2u);  // both questions answered
  BOOST_TEST(!heard_fallback(s, *p.gw.server));
}

BOOST_AUTO_TEST_CASE(dropped_tts_socket_resumes_the_turn_in_a_new_context) {
  fake::speech_script speech;
  speech.tts_drop_after_texts = 2;  // the greeting, then the answer's first phrase: then the socket fails
  fake::llm_script llm;
  llm.answers = {"First part. Second part. Third part."};
  pipeline_gateway p(speech, llm);
  const auto reconnects_before = app::metrics().speech_reconnects.value("tts");
  auto s = p.call(one_question(4000));
  p.no_violations();
  BOOST_TEST(p.speech->record().tts_sessions == 2);
  BOOST_TEST(app::metrics().speech_reconnects.value("tts") == reconnects_before + 1);
  // The phrases whose audio had not come back are said in a new context on the new socket.
  const auto& texts = p.speech->record().context_text;
  BOOST_TEST_REQUIRE(texts.count("turn-2-r1") == 1u);
  BOOST_TEST(texts.at("turn-2") + texts.at("turn-2-r1") == "First part. Second part. Third part. ");
  BOOST_TEST(!heard_fallback(s, *p.gw.server));
  // The caller heard the whole answer once.
  BOOST_TEST(s.played_audio.size() == (greeting.size() + 1 + std::string("First part. Second part. Third part. ").size()) * bytes_per_char);
}

BOOST_AUTO_TEST_CASE(quiet_speech_sockets_are_kept_alive) {
  fake::speech_script speech;
  speech.tts_inactivity_ms = 1500;  // the service's 20 s, shortened
  auto config = pipeline_config();
  config.speech_keepalive = std::chrono::milliseconds(300);
  pipeline_gateway p(speech, {}, config);
  // The greeting, then 2.7 s with nothing to say; then the simulator stops streaming for its last 600 ms.
  auto s = p.call(quiet(4000));
  p.no_violations();
  BOOST_TEST(p.speech->record().tts_sessions == 1);  // never timed out, never reconnected
  BOOST_TEST(p.speech->record().tts_keepalives >= 2);
  BOOST_TEST(p.speech->record().stt_keepalives >= 1);  // a silent chunk once the caller's frames stopped
  BOOST_TEST(!heard_fallback(s, *p.gw.server));
}

BOOST_AUTO_TEST_SUITE_END()

// Several instances (PostgreSQL): the pipeline's lines are stored as they are said, so the conversation of a
// fresh stream (its link broke) is told them, in the system prompt of its LLM requests.
BOOST_AUTO_TEST_SUITE(pipeline_resumed)

BOOST_AUTO_TEST_CASE(a_resumed_pipeline_call_tells_its_llm_what_was_said_before) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  auto config = pipeline_config();
  config.database_url = pg.url();
  config.instance_id = "vb1";
  config.instance_id_configured = true;
  pipeline_gateway p({}, {}, config);
  // A question and its answer on the first stream; the link breaks; a second question on the fresh stream.
  auto o = p.gw.caller(concat(concat(one_question(5000), quiet(2000)), concat(talk(800), quiet(5000))));
  o.follow_connect_action = true;
  o.break_link_after = std::chrono::milliseconds(6500);
  const auto s = p.gw.run(sim::run_call(o));
  p.gw.settle();
  BOOST_TEST_REQUIRE(s.error == "", s.error);
  BOOST_TEST(s.action_answers == std::vector<std::string>{"stream"}, p.gw.logs.str());
  BOOST_TEST(s.fresh_streams == 1u);
  // The last LLM request is the second conversation's: its system prompt holds the first one's lines.
  BOOST_TEST_REQUIRE(p.llm->record().requests.size() >= 2u, p.gw.logs.str());
  const auto system = content_of(request_messages(p.llm->record().requests.back()).at(0));
  BOOST_TEST(system.find("Caller: I would like to book a table for two.") != std::string::npos, system);
  BOOST_TEST(system.find("Agent: You said: I would like to book a table for two.") != std::string::npos, system);
  const auto first_system = content_of(request_messages(p.llm->record().requests.front()).at(0));
  BOOST_TEST(first_system.find("Caller:") == std::string::npos);  // the first conversation had nothing to be told
  BOOST_TEST(call_record(p.gw, s.call_sid).at("reconnects").as_int64() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
