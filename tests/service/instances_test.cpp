// Several instances behind a real HAProxy, one real PostgreSQL: calls spread over the instances and served
// byte-exact, each stream on the instance that answered its webhook, Twilio's <Connect action> request
// answered alike by every instance, and an instance killed with calls in progress costing its callers a
// few seconds, not their calls; a campaign that all three dial together, no number twice.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "call/playback.hpp"
#include "fake-twilio-api/fake_twilio_api.hpp"
#include "service/cluster_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

// The instance (1-3) whose key the stream URL of the call's TwiML names.
int keyed_instance(const sim::call_summary& s) {
  const auto at = s.stream_url.rfind("/vb");
  return at == std::string::npos ? 0 : std::atoi(s.stream_url.c_str() + at + 3);
}

// Two heartbeats and then some: every instance has counted the others' streams again.
constexpr auto shared_beat_wait = 2500ms;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

twilio::form_params action_form(const std::string& call_sid) {
  twilio::form_params form;
  form.add("AccountSid", "AC" + std::string(32, '0'));
  form.add("CallSid", call_sid);
  form.add("CallStatus", "in-progress");
  return form;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_instances)

BOOST_AUTO_TEST_CASE(calls_spread_over_three_instances_are_served_byte_exact_and_any_instance_answers_the_action) {
  temp_dir files;
  const auto routes = files.path / "routes.toml";
  // Echo for every number, and a voicemail line whose gateway ends the call (after the caller's silence):
  // its <Connect action> request must hang up whichever instance it reaches.
  std::ofstream(routes) << "[[route]]\nname = \"voicemail\"\nnumbers = [\"+15550000009\"]\nagent_mode = \"local\"\n"
                           "local_agent = \"voicemail\"\nvoicemail_silence_ms = 400\n\n"
                           "[[route]]\nname = \"echo\"\nnumbers = [\"*\"]\nagent_mode = \"local\"\nlocal_agent = \"echo\"\n";
  cluster c({{"ROUTES_FILE", routes.string()}, {"LOCAL_GREETING_TEXT", "Hello."}, {"RECORD_CALLS", "1"}});
  if (!c.ready()) return;
  client_loop client;

  constexpr unsigned echo_calls = 54, voicemail_calls = 6;
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<std::future<sim::call_summary>> calls;
  for (unsigned i = 0; i < echo_calls + voicemail_calls; ++i) {
    audio.push_back(speech(40, i + 1));  // 0.8 s each
    auto o = cluster_caller(c, audio.back());
    if (i < echo_calls) {
      o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.back().size();
      o.linger = 10s;
    } else {
      o.to = "+15550000009";
      o.keep_streaming = true;  // a quiet caller still streams: the voicemail line hears the silence, ends it
      o.linger = 20s;
    }
    calls.push_back(client.spawn(sim::run_call(o)));
  }
  std::set<int> webhook_instances;
  std::vector<std::string> echo_sids, voicemail_sids;
  for (unsigned i = 0; i < calls.size(); ++i) {
    const auto s = ready(calls[i], 90s);
    BOOST_TEST_REQUIRE(s.error == "", s.error << "\n" << c.logs());
    const int keyed = keyed_instance(s);
    webhook_instances.insert(keyed);
    // The stream reached the instance that answered its webhook (HAProxy routes on the path's key).
    BOOST_TEST(c.instance_that_logged("info start call_sid=" + s.call_sid) == keyed, s.stream_url);
    if (i < echo_calls) {
      BOOST_TEST(!s.server_closed);
      BOOST_TEST(s.received_audio == concat(call::make_greeting_tone(), audio[i]));  // both ways, byte-exact
      BOOST_TEST(s.action_answers.empty());
      echo_sids.push_back(s.call_sid);
    } else {
      BOOST_TEST(s.server_closed);  // the voicemail line ended it
      BOOST_TEST(s.action_answers == std::vector<std::string>{"hangup"});
      voicemail_sids.push_back(s.call_sid);
    }
  }
  BOOST_TEST(webhook_instances == (std::set<int>{1, 2, 3}));
  // Every instance gives the same answer for a stream one of them served to its end: the hang-up.
  for (const auto& sid : voicemail_sids)
    for (int n = 1; n <= 3; ++n) {
      const auto r = client.get(signed_post(c.instance_port(n), client_view(), std::string(app::stream_ended_path), action_form(sid)));
      BOOST_TEST(r.status == 200u);
      BOOST_TEST(r.body.find("<Hangup/>") != std::string::npos, "vb" << n << ": " << r.body);
      BOOST_TEST(r.body.find("<Say") == std::string::npos, "vb" << n << ": " << r.body);
    }
  // Each call's recording, and each voicemail, is served alike by all three: the instance that recorded it
  // from its disk, the others from the copy in PostgreSQL (records/call_audio.hpp).
  const auto audio_everywhere = [&](const std::string& sid, const char* kind) {
    const auto record = stored_record(client, c.port(), sid);
    const std::string path(record.at(std::string(kind) + "_path").as_string());
    BOOST_TEST_REQUIRE(!path.empty(), sid << " has no " << kind << ": " << boost::json::serialize(record));
    std::ifstream in(path, std::ios::binary);
    const std::string on_disk{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    BOOST_TEST_REQUIRE(on_disk.size() > 44u);
    for (int n = 1; n <= 3; ++n) {
      const auto r = client.get(http_call(c.instance_port(n), http::verb::get, "/api/calls/" + sid + "/" + kind, {},
                                          {{"Authorization", "Bearer " + cluster_admin_token}}));
      BOOST_TEST(r.status == 200u, "vb" << n << " " << kind << " of " << sid << ": " << r.body);
      BOOST_TEST((r.body == on_disk), "vb" << n << " " << kind << " of " << sid);
    }
  };
  for (std::size_t i = 0; i < echo_sids.size(); i += 9) audio_everywhere(echo_sids[i], "recording");
  for (const auto& sid : voicemail_sids) audio_everywhere(sid, "voicemail");
  // A call no instance ever served gets the apology, from any of them.
  const auto never = client.get(signed_post(c.port(), client_view(), std::string(app::stream_ended_path),
                                            action_form("CA" + std::string(32, 'e'))));
  BOOST_TEST(never.body.find("<Say") != std::string::npos, never.body);
}

BOOST_AUTO_TEST_CASE(a_routes_max_calls_holds_across_the_three_instances) {
  temp_dir files;
  const auto routes = files.path / "routes.toml";
  std::ofstream(routes) << "[[route]]\nname = \"limited\"\nnumbers = [\"+15550000007\"]\nagent_mode = \"local\"\n"
                           "local_agent = \"echo\"\nmax_calls = 2\n\n"
                           "[[route]]\nname = \"echo\"\nnumbers = [\"*\"]\nagent_mode = \"local\"\nlocal_agent = \"echo\"\n";
  cluster c(std::map<std::string, std::string>{{"ROUTES_FILE", routes.string()}});
  if (!c.ready()) return;
  client_loop client;
  const auto webhook = [&](int instance, const std::string& call_sid, const std::string& to = "+15550000007") {
    twilio::form_params form;
    form.add("CallSid", call_sid);
    form.add("From", "+15551230001");
    form.add("To", to);
    return client.get(signed_post(c.instance_port(instance), client_view(), std::string(app::voice_webhook_path), form));
  };
  // Two calls on the route, on two different instances.
  std::vector<std::future<sim::call_summary>> calls;
  for (int n = 1; n <= 2; ++n) {
    auto o = caller(c.instance_port(n), speech(250, 50 + static_cast<unsigned>(n)));  // 5 s
    o.to = "+15550000007";
    o.linger = 500ms;
    calls.push_back(client.spawn(sim::run_call(o)));
  }
  for (int i = 0; i < 100 && count(c.logs(), "info start call_sid=") < 2; ++i) std::this_thread::sleep_for(50ms);
  BOOST_TEST_REQUIRE(count(c.logs(), "info start call_sid=") == 2u, c.logs());
  std::this_thread::sleep_for(shared_beat_wait);
  // A third call on the route is busy whichever instance takes its webhook, the third one included.
  for (int n = 1; n <= 3; ++n) {
    const auto r = webhook(n, "CA" + std::string(31, 'b') + std::to_string(n));
    BOOST_TEST(r.body.find("busy") != std::string::npos, "vb" << n << ": " << r.body);
    BOOST_TEST(r.body.find("<Connect") == std::string::npos);
  }
  const auto other = webhook(3, "CA" + std::string(32, 'c'), "+15550000001");  // another route has room
  BOOST_TEST(other.body.find("<Connect") != std::string::npos, other.body);
  for (auto& f : calls) BOOST_TEST(ready(f).error == "");
  std::this_thread::sleep_for(shared_beat_wait);
  const auto after = webhook(3, "CA" + std::string(32, 'd'));  // the calls ended: room again
  BOOST_TEST(after.body.find("<Connect") != std::string::npos, after.body);
}

BOOST_AUTO_TEST_CASE(a_stream_keyed_to_one_instance_that_lands_on_another_is_served_there) {
  cluster c;
  if (!c.ready()) return;
  client_loop client;
  // The webhook answered by vb1 (its TwiML names vb1), the stream sent to vb2, as when vb1 is down.
  const auto audio = speech(40, 7);
  auto o = caller(c.instance_port(1), audio);
  o.stream_port = c.instance_port(2);
  o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.size();
  o.linger = 10s;
  const auto s = client.get(sim::run_call(o));
  BOOST_TEST_REQUIRE(s.error == "", s.error << "\n" << c.logs());
  BOOST_TEST(keyed_instance(s) == 1);
  BOOST_TEST(c.instance_that_logged("info start call_sid=" + s.call_sid) == 2);
  BOOST_TEST(s.received_audio == concat(call::make_greeting_tone(), audio));
  const auto record = stored_record(client, c.port(), s.call_sid);
  BOOST_TEST(record.at("outcome").as_string() == "agent");
}

BOOST_AUTO_TEST_CASE(an_instance_killed_with_calls_in_progress_costs_its_callers_seconds_not_their_calls) {
  cluster c;
  if (!c.ready()) return;
  client_loop client;
  constexpr unsigned n_calls = 30;  // round robin over three: about 10 in progress on the instance that dies
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<std::future<sim::call_summary>> calls;
  for (unsigned i = 0; i < n_calls; ++i) {
    audio.push_back(speech(500, 100 + i));  // 10 s: the crash lands in the middle of every call
    auto o = cluster_caller(c, audio.back());
    o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.back().size();
    o.linger = 15s;
    calls.push_back(client.spawn(sim::run_call(o)));
  }
  // Every call is streaming; then the instance with the most of them dies at once.
  const auto started_everywhere = [&] {
    std::size_t started = 0;
    for (int n = 1; n <= 3; ++n) started += count(c.instance(n).log(), "info start call_sid=");
    return started;
  };
  for (int i = 0; i < 200 && started_everywhere() < n_calls; ++i) std::this_thread::sleep_for(50ms);
  BOOST_TEST_REQUIRE(started_everywhere() == n_calls, c.logs());
  std::this_thread::sleep_for(1s);
  int victim = 1;
  for (int n = 2; n <= 3; ++n)
    if (count(c.instance(n).log(), "info start call_sid=") > count(c.instance(victim).log(), "info start call_sid=")) victim = n;
  const std::string victim_log = c.instance(victim).log();
  c.instance(victim).signal(SIGKILL);
  const auto victim_calls = count(victim_log, "info start call_sid=");
  BOOST_TEST_MESSAGE("killed vb" << victim << " with " << victim_calls << " calls");
  BOOST_TEST(victim_calls >= 10u);

  unsigned reconnected = 0;
  for (unsigned i = 0; i < n_calls; ++i) {
    const auto s = ready(calls[i], 90s);
    BOOST_TEST_REQUIRE(s.error == "", s.error << "\n" << c.logs());
    const bool on_victim = victim_log.find("info start call_sid=" + s.call_sid) != std::string::npos;
    if (!on_victim) {
      BOOST_TEST(s.fresh_streams == 0u);
      BOOST_TEST(s.received_audio == concat(call::make_greeting_tone(), audio[i]));
      continue;
    }
    ++reconnected;
    // Twilio's action request reached a live instance, which answered with a fresh stream to itself.
    BOOST_TEST(s.action_answers == std::vector<std::string>{"stream"}, s.call_sid << "\n" << c.logs());
    BOOST_TEST_REQUIRE(s.fresh_streams == 1u);
    BOOST_TEST_REQUIRE(s.reconnect_gaps.size() == 1u);
    BOOST_TEST_MESSAGE("caller heard the agent again " << s.reconnect_gaps[0].count() << " ms after the crash");
    BOOST_TEST(s.reconnect_gaps[0] < 3000ms);
    BOOST_TEST(keyed_instance(s) != victim);
    const auto record = stored_record(client, c.port(), s.call_sid);
    BOOST_TEST(record.at("reconnects").as_int64() == 1);
    BOOST_TEST(record.at("outcome").as_string() == "agent");
  }
  BOOST_TEST(reconnected == victim_calls);  // every call of the dead instance came back
}

BOOST_AUTO_TEST_CASE(a_rolling_restart_of_all_three_during_calls_loses_no_call) {
  // A short drain: the calls outlive it, and are handed to a live instance on a fresh stream.
  cluster c(std::map<std::string, std::string>{{"DRAIN_TIMEOUT_S", "3"}});
  if (!c.ready()) return;
  client_loop client;
  const auto long_call = [&](unsigned seed) {
    auto o = cluster_caller(c, speech(1400, seed));  // 28 s: through all three restarts
    o.linger = 3s;
    return client.spawn(sim::run_call(o));
  };
  std::vector<std::future<sim::call_summary>> calls;
  for (unsigned i = 0; i < 6; ++i) calls.push_back(long_call(200 + i));
  std::vector<std::future<sim::call_summary>> short_calls;  // new calls while an instance drains
  std::this_thread::sleep_for(1500ms);
  for (int n = 1; n <= 3; ++n) {
    c.instance(n).signal(SIGTERM);
    for (unsigned i = 0; i < 3; ++i) {
      auto o = cluster_caller(c, speech(25, 300 + 10 * n + i));
      o.hang_up_after_bytes = call::make_greeting_tone().size() + o.caller_audio.size();
      o.linger = 10s;
      short_calls.push_back(client.spawn(sim::run_call(o)));
      std::this_thread::sleep_for(300ms);
    }
    BOOST_TEST_REQUIRE(c.instance(n).wait_exit(20s).value_or(-1) == 0, c.logs());
    c.start_instance(n);
    c.instance(n).port();
    std::this_thread::sleep_for(2500ms);  // HAProxy's checks see it up again (rise 2, inter 1 s)
  }
  unsigned handed_off = 0;
  for (auto& f : calls) {
    const auto s = ready(f, 120s);
    BOOST_TEST_REQUIRE(s.error == "", s.error << "\n" << c.logs());
    BOOST_TEST(!s.server_closed);  // the caller hung up: the call was never lost
    for (const auto& answer : s.action_answers) BOOST_TEST(answer == "stream");
    BOOST_TEST(s.fresh_streams == s.action_answers.size());
    for (const auto gap : s.reconnect_gaps) BOOST_TEST(gap < 3000ms);  // the agent again within 3 s of each hand-off
    handed_off += s.fresh_streams;
    const auto record = stored_record(client, c.port(), s.call_sid);
    BOOST_TEST(record.at("reconnects").as_int64() == static_cast<std::int64_t>(s.fresh_streams));
    BOOST_TEST(record.at("outcome").as_string() == "agent");
  }
  BOOST_TEST_MESSAGE("long calls handed to another instance " << handed_off << " times in all");
  BOOST_TEST(handed_off >= 3u);  // each restart found calls on its instance
  for (auto& f : short_calls) {
    const auto s = ready(f, 60s);
    BOOST_TEST(s.error == "", s.error);
    BOOST_TEST(s.webhook_status == 200u);
    BOOST_TEST(s.received_audio.size() == call::make_greeting_tone().size() + s.bytes_sent);  // served in full
  }
}

// The three instances run one campaign together (each claims its next number under the campaign's row lock,
// server/campaign_runner.hpp): every number is dialled once, by one of them, and the campaign ends.
BOOST_AUTO_TEST_CASE(a_campaign_run_by_all_three_dials_no_number_twice) {
  client_loop client;
  const std::string account = "AC" + std::string(32, '7');
  std::unique_ptr<fake::fake_twilio_api> twilio;
  client.on_loop([&] {
    twilio = std::make_unique<fake::fake_twilio_api>(client.io, fake::twilio_api_settings{account, auth_token, "", "", 50});
    fake::callee_script human;
    human.ring = 100ms;
    human.audio = speech(10, 3);  // 200 ms of words, then it hangs up
    human.linger = 200ms;
    twilio->phones().script_others(human);
  });
  cluster c({{"TWILIO_ACCOUNT_SID", account}, {"TWILIO_API_BASE", "http://127.0.0.1:" + std::to_string(twilio->port())}});
  if (!c.ready()) return;
  client.on_loop([&] { twilio->dial_to(c.port()); });  // the calls' TwiML, streams and callbacks go through HAProxy
  constexpr int numbers = 24;
  std::string rows;
  for (int i = 0; i < numbers; ++i) rows += (i ? "," : "") + std::string(R"({"to":"+1555760)") + std::to_string(1000 + i) + R"("})";
  const auto created = client.get(http_call(c.port(), http::verb::post, "/api/campaigns",
                                            R"({"from":"+15550001001","max_concurrent":6,"calls_per_second":4,"rows":[)" + rows + "]}",
                                            {{"Authorization", "Bearer " + cluster_admin_token}, {"Content-Type", "application/json"}}));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const std::string id(boost::json::parse(created.body).as_object().at("id").as_string());
  boost::json::object progress;
  for (int i = 0; i < 600; ++i) {
    const auto r = client.get(http_call(c.port(), http::verb::get, "/api/campaigns/" + id, {},
                                        {{"Authorization", "Bearer " + cluster_admin_token}}));
    if (r.status == 200) progress = boost::json::parse(r.body).as_object();
    if (progress.contains("state") && progress.at("state").as_string() == "done") break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST_REQUIRE(progress.at("state").as_string() == "done", boost::json::serialize(progress) << "\n" << c.logs());
  BOOST_TEST(progress.at("progress").as_object().at("done").as_int64() == numbers);
  const auto dialled = client.on_loop([&] {
    std::vector<std::string> to;
    for (const auto& call : twilio->phones().calls()) to.push_back(call.to);
    return to;
  });
  BOOST_TEST(dialled.size() == static_cast<std::size_t>(numbers));
  BOOST_TEST(std::set<std::string>(dialled.begin(), dialled.end()).size() == static_cast<std::size_t>(numbers));  // each once
  std::size_t dials = 0;
  for (int n = 1; n <= 3; ++n) {
    const auto by_this = count(c.instance(n).log(), "info campaign: dialling campaign=" + id);
    BOOST_TEST_MESSAGE("vb" << n << " dialled " << by_this);
    BOOST_TEST(by_this >= 1u, "vb" << n << " dialled none");
    dials += by_this;
  }
  BOOST_TEST(dials == static_cast<std::size_t>(numbers));
  client.on_loop([&] { twilio.reset(); });
}

BOOST_AUTO_TEST_SUITE_END()
