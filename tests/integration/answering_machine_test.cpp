// Outbound calls with answering-machine detection, end to end over real sockets: the Twilio stand-in dials,
// plays a human or a machine (its greeting and beep), and posts Twilio's asynchronous AnsweredBy, signed, to
// the gateway; the agent's first turn waits for it. A machine gets the route's message after its beep and
// never the agent; a human hears the agent's greeting, held, then byte-exact; a fax is hung up on; no verdict
// in time lets the agent speak, and a machine verdict after that still ends in the message.
#include "outbound_fixture.hpp"
#include "voicebridge/app/metrics.hpp"
#include "temp_dir.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/wav.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string callee_number = "+15557650001";
const std::string message_text = "Hello, this is your reminder from the clinic. Please call us back.";
const std::string place_with_amd =
    R"({"to":")" + callee_number + R"(","from":"+15550001001","machine_detection":true})";

// The route's message as a WAV file (espeak-ng's synthesis differs by a few samples from one run to the next:
// a file gives the bytes to compare with).
const std::filesystem::path& message_wav() {
  static const temp_dir dir;
  static const auto path = [] {
    auto file = dir.path / "message.wav";
    audio::pcm_audio pcm;
    pcm.samples = audio::mulaw_decode(speech(120, 9));
    BOOST_TEST_REQUIRE(audio::write_file(file, audio::serialize_wav(pcm)).has_value());
    return file;
  }();
  return path;
}

std::vector<std::uint8_t> message_audio() {
  auto wav = audio::read_wav_file(message_wav());
  BOOST_TEST_REQUIRE(wav.has_value());
  return audio::to_mulaw_8k(*wav);
}

enum class message_from { wav, text };

// The gateway leaves a message on machines (VOICEMAIL_MESSAGE_WAV, or VOICEMAIL_MESSAGE_TEXT spoken);
// AMD_TIMEOUT_MS as the test says.
outbound_gateway amd_gateway(fake::agent_script agent, std::chrono::milliseconds amd_timeout = 5000ms,
                             message_from message = message_from::wav) {
  return outbound_gateway(std::move(agent), "", [=](app::config& c) {
    if (message == message_from::wav) c.voicemail_message_wav = message_wav();
    else c.voicemail_message_text = message_text;
    c.amd_timeout = amd_timeout;
    c.ring_timeout = std::chrono::seconds(45);
  });
}

fake::agent_script greeting_agent(const std::vector<std::uint8_t>& greeting) {
  fake::agent_script agent;
  agent.greeting = greeting;  // sent the moment the conversation opens: it would greet the machine
  return agent;
}

fake::callee_script machine(std::chrono::milliseconds greeting_length) {
  fake::callee_script s;
  s.answers = fake::callee_answers::machine;
  s.audio = fake::answering_machine_greeting(greeting_length);
  s.amd_after = 300ms;
  s.linger = 20s;  // it records until the gateway hangs up
  return s;
}

std::string form_field(const fake::call_creation_request& created, std::string_view name) {
  for (const auto& [key, value] : created.form)
    if (key == name) return value;
  return "(absent)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(answering_machines)

BOOST_AUTO_TEST_CASE(a_machine_gets_the_routes_message_after_its_beep_and_never_hears_the_agent) {
  const auto greeting = speech(25, 3);
  auto f = amd_gateway(greeting_agent(greeting));
  const auto beeps_before = app::metrics().amd_results.value("machine_end_beep");
  const auto callee = machine(800ms);
  f.phones().script(callee_number, callee);
  const auto placed = f.place(place_with_amd);
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  f.wait_dialled(1);

  // Twilio was asked for asynchronous detection of the greeting's end, with the gateway's AMD callback.
  const auto& created = f.gw.twilio_api->creations().at(0);
  BOOST_TEST(form_field(created, "MachineDetection") == "DetectMessageEnd");
  BOOST_TEST(form_field(created, "AsyncAmd") == "true");
  BOOST_TEST(form_field(created, "Timeout") == "45");  // RING_TIMEOUT_S
  BOOST_TEST(form_field(created, "AsyncAmdStatusCallback") == f.gw.server->config().url_for("/api/twilio/voice/amd"));

  const auto& call = f.phones().calls().at(0);
  BOOST_TEST(call.media.error == "");
  BOOST_TEST(call.answered_by == "machine_end_beep");
  BOOST_TEST(call.amd_answer == 204u);
  // All the machine heard is the message, whole and byte for byte: the agent's greeting was held and dropped.
  const auto message = message_audio();
  BOOST_TEST(call.media.played_audio.size() == message.size());
  BOOST_TEST((call.media.played_audio == message));
  BOOST_TEST(call.media.clears == 0u);  // nothing of the agent ever reached the line to be cleared
  BOOST_TEST(call.media.server_closed);  // the gateway hung up once the message had played
  // The agent heard the machine's greeting meanwhile (the caller's audio flows while the verdict is pending).
  const auto& heard = f.gw.agent->record().caller_audio;
  BOOST_TEST(!heard.empty());
  BOOST_TEST(std::equal(heard.begin(), heard.begin() + static_cast<long>(std::min(heard.size(), callee.audio.size())),
                        callee.audio.begin()));

  const auto record = call_record(f.gw, call_sid_of(placed));
  BOOST_TEST(text(record, "outcome") == "voicemail_left");
  BOOST_TEST(text(record, "answered_by") == "machine_end_beep");
  BOOST_TEST(text(record, "direction") == "outbound");
  BOOST_TEST(app::metrics().amd_results.value("machine_end_beep") == beeps_before + 1);
}

BOOST_AUTO_TEST_CASE(a_human_hears_the_agents_greeting_only_after_the_verdict_and_byte_exact) {
  const auto greeting = speech(25, 4);
  auto f = amd_gateway(greeting_agent(greeting));
  const auto words = speech(40, 5);
  fake::callee_script person;
  person.audio = words;
  person.amd_after = 700ms;
  person.hang_up_after_bytes = greeting.size() + words.size();  // the greeting, then its own words echoed
  person.linger = 20s;
  f.phones().script(callee_number, person);
  const auto placed = f.place(place_with_amd);
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  f.wait_dialled(1);

  const auto& call = f.phones().calls().at(0);
  BOOST_TEST(call.answered_by == "human");
  std::vector<std::uint8_t> expected = greeting;
  expected.insert(expected.end(), words.begin(), words.end());
  // Held, then released in the agent's order (the callee hangs up once it has it all, before it has played).
  BOOST_TEST((call.media.received_audio == expected));
  BOOST_TEST((f.gw.agent->record().caller_audio == words));
  // The greeting waited for the verdict (700 ms after the answer; the stream starts a little after it).
  BOOST_TEST_REQUIRE(call.media.time_to_first_audio.has_value());
  BOOST_TEST(call.media.time_to_first_audio->count() >= 400);
  const auto record = call_record(f.gw, call_sid_of(placed));
  BOOST_TEST(text(record, "outcome") == "agent");
  BOOST_TEST(text(record, "answered_by") == "human");
}

BOOST_AUTO_TEST_CASE(a_fax_is_hung_up_on_without_the_message) {
  auto f = amd_gateway(greeting_agent(speech(25, 6)));
  fake::callee_script fax;
  fax.answers = fake::callee_answers::fax;
  fax.audio = speech(10, 7);
  fax.amd_after = 300ms;
  fax.linger = 20s;
  f.phones().script(callee_number, fax);
  const auto placed = f.place(place_with_amd);
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  f.wait_dialled(1);
  const auto& call = f.phones().calls().at(0);
  BOOST_TEST(call.answered_by == "fax");
  BOOST_TEST(call.media.played_audio.empty());
  BOOST_TEST(call.media.server_closed);
  BOOST_TEST(call.media.duration < 10s);  // hung up on, not left lingering
  const auto record = call_record(f.gw, call_sid_of(placed));
  BOOST_TEST(text(record, "outcome") == "machine_hung_up");
  BOOST_TEST(text(record, "answered_by") == "fax");
}

BOOST_AUTO_TEST_CASE(no_verdict_in_time_lets_the_agent_speak_and_a_later_machine_verdict_still_leaves_the_message) {
  const auto greeting = speech(25, 8);
  auto f = amd_gateway(greeting_agent(greeting), 200ms, message_from::text);
  const auto timeouts_before = app::metrics().amd_results.value("timeout");
  f.phones().script(callee_number, machine(1500ms));  // a long greeting: the verdict comes after AMD_TIMEOUT_MS
  const auto placed = f.place(place_with_amd);
  BOOST_TEST_REQUIRE(placed.status == 201u, placed.body);
  f.wait_dialled(1);
  const auto& call = f.phones().calls().at(0);
  BOOST_TEST(call.answered_by == "machine_end_beep");
  // The agent spoke after the timeout; the verdict cleared what was still queued, and the spoken message
  // (espeak-ng, some 4 s) followed and played to its end before the hang-up.
  BOOST_TEST_REQUIRE(call.media.clears == 1u);
  const auto after_clear = call.media.played_audio.size() - call.media.played_at_clears.at(0);
  BOOST_TEST(after_clear > 3 * 8000u);
  BOOST_TEST(call.media.server_closed);
  const auto record = call_record(f.gw, call_sid_of(placed));
  BOOST_TEST(text(record, "outcome") == "voicemail_left");
  BOOST_TEST(app::metrics().amd_results.value("timeout") == timeouts_before + 1);
}

BOOST_AUTO_TEST_CASE(the_amd_webhook_is_twilios_alone_and_refuses_what_twilio_never_sends) {
  auto f = amd_gateway({});
  const auto& config = f.gw.server->config();
  const auto post = [&](twilio::form_params form, bool sign) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (sign)
      headers.emplace_back("X-Twilio-Signature",
                           twilio::compute_signature(config.twilio_auth_token, config.url_for("/api/twilio/voice/amd"), form));
    return f.gw.run(http_call(f.gw.port, http::verb::post, "/api/twilio/voice/amd", twilio::encode_form(form), headers));
  };
  twilio::form_params form;
  form.add("CallSid", sim::random_sid("CA"));
  form.add("AccountSid", outbound_account_sid);
  form.add("AnsweredBy", "machine_end_beep");
  BOOST_TEST(post(form, false).status == 403u);
  BOOST_TEST(post(form, true).status == 204u);  // for a call not streaming here (yet): kept, not an error
  twilio::form_params odd;
  odd.add("CallSid", sim::random_sid("CA"));
  odd.add("AnsweredBy", "robot");
  const auto refused = post(odd, true);
  BOOST_TEST(refused.status == 400u);
  BOOST_TEST(refused.body.starts_with("AnsweredBy: expected human"));
  twilio::form_params no_sid;
  no_sid.add("AnsweredBy", "human");
  BOOST_TEST(post(no_sid, true).status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
