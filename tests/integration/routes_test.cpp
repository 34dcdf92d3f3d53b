// Routes (ROUTES_FILE) in a real gateway over loopback: three numbers served by three agents of their own
// (a private ElevenLabs stand-in reached through a signed URL with its own key, a public one on another base
// URL, the local voicemail), opening hours, per-route limits, and reloads during calls.
#include <cstdlib>
#include <fstream>

#include "call/playback.hpp"
#include "integration/gateway_fixture.hpp"
#include "voicebridge/app/metrics.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

const std::string sales_number = "+15550001001", support_number = "+15550001002", voicemail_number = "+15550001003",
                  night_number = "+15550001004", closed_number = "+15550001005", unrouted_number = "+15550009999";
const std::string sales_key = "xi-sales-route-key-0123456789";

// A weekday three days from today's (in UTC): "Mon".."Sun". Opening hours on it alone are closed now in
// any time zone (a zone's local date is at most a day from UTC's).
std::string closed_day() {
  static const char* names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  const auto days = std::chrono::duration_cast<std::chrono::days>(std::chrono::system_clock::now().time_since_epoch()).count();
  return names[(days + 4 + 3) % 7];  // 1970-01-01 was a Thursday
}

fake::agent_script agent_with_greeting(unsigned seed, std::string api_key = {}) {
  fake::agent_script s;
  s.greeting = speech(10, seed);
  s.api_key = std::move(api_key);
  return s;
}

std::string routes_text(std::uint16_t sales_port, std::uint16_t support_port, std::string sales_extra = {}) {
  const std::string day = closed_day();
  return "[[route]]\nname = \"sales\"\nnumbers = [\"" + sales_number + "\"]\nagent_mode = \"elevenlabs-agent\"\n"
         "agent_id = \"agent_sales\"\nelevenlabs_base_url = \"http://127.0.0.1:" + std::to_string(sales_port) + "\"\n"
         "api_key_env = \"VB_TEST_SALES_XI_KEY\"\ndynamic_variables = { team = \"sales\", tier = 2 }\n"
         "config_override = { agent = { language = \"en\" } }\n" + sales_extra +
         "\n[[route]]\nname = \"support\"\nnumbers = [\"" + support_number + "\"]\nagent_mode = \"elevenlabs-agent\"\n"
         "agent_id = \"agent_support\"\nelevenlabs_base_url = \"http://127.0.0.1:" + std::to_string(support_port) + "\"\n"
         "dynamic_variables = { team = \"support\" }\n"
         "\n[[route]]\nname = \"voice\"\nnumbers = [\"" + voicemail_number + "\"]\nagent_mode = \"local\"\nlocal_agent = \"voicemail\"\n"
         "\n[[route]]\nname = \"night\"\nnumbers = [\"" + night_number + "\"]\nhours = \"" + day + " 08:00-18:00\"\n"
         "timezone = \"Pacific/Auckland\"\nafter_hours = \"support\"\nagent_mode = \"local\"\nlocal_agent = \"echo\"\n"
         "\n[[route]]\nname = \"closed\"\nnumbers = [\"" + closed_number + "\"]\nhours = \"" + day + " 08:00-18:00\"\n"
         "timezone = \"America/New_York\"\nafter_hours = \"voicemail\"\nagent_mode = \"local\"\nlocal_agent = \"echo\"\n";
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

// A gateway with the five routes above; no catch-all, so a number none of them names is unrouted.
struct routed_gateway {
  temp_dir files;
  std::unique_ptr<fake::fake_agent_server> sales, support;
  std::filesystem::path routes_file = files.path / "routes.toml";
  gateway gw;

  explicit routed_gateway(app::config config = gateway_config())
      : gw(std::move(config), [&](asio::io_context& io, app::config& c) {
          ::setenv("VB_TEST_SALES_XI_KEY", sales_key.c_str(), 1);
          sales = std::make_unique<fake::fake_agent_server>(io, agent_with_greeting(31, sales_key));
          support = std::make_unique<fake::fake_agent_server>(io, agent_with_greeting(32));
          write_file(routes_file, routes_text(sales->port(), support->port()));
          c.routes_file = routes_file;
          c.admin_token = test_admin_token;
          c.local_greeting_text = "Leave a message.";  // the voice route's greeting: short
        }) {
    app::add_log_secret(sales_key);
  }
  ~routed_gateway() {  // the stand-ins go first: their acceptors belong to the gateway's loop
    sales.reset();
    support.reset();
  }

  sim::options caller_to(const std::string& number, std::vector<std::uint8_t> audio, std::size_t expected_bytes = 0) const {
    auto o = gw.caller(std::move(audio), expected_bytes);
    o.to = number;
    return o;
  }
};

// After `delay`, the sales number moves to the support agent's base URL (no key there) and the routes
// reload, while the test's calls run on the same loop.
asio::awaitable<sim::call_summary> move_sales_to_support_after(routed_gateway& r, std::chrono::milliseconds delay) {
  asio::steady_timer wait(co_await asio::this_coro::executor, delay);
  co_await wait.async_wait(asio::use_awaitable);
  std::string moved = routes_text(r.support->port(), r.support->port());
  const std::string key_line = "api_key_env = \"VB_TEST_SALES_XI_KEY\"\n";
  moved.erase(moved.find(key_line), key_line.size());
  write_file(r.routes_file, moved);
  BOOST_TEST(!r.gw.server->reload_routes().has_value());
  co_return sim::call_summary{};
}

boost::json::object initiation(const fake::fake_agent_server& agent, std::size_t i) {
  return boost::json::parse(agent.record().initiations.at(i)).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(routes)

BOOST_AUTO_TEST_CASE(each_number_reaches_its_own_agent_with_its_own_variables_and_override) {
  routed_gateway r;
  const auto caller_audio = speech(20, 41);
  std::vector<asio::awaitable<sim::call_summary>> calls;
  const auto sales_greeting = agent_with_greeting(31).greeting, support_greeting = agent_with_greeting(32).greeting;
  calls.push_back(sim::run_call(r.caller_to(sales_number, caller_audio, sales_greeting.size() + caller_audio.size())));
  calls.push_back(sim::run_call(r.caller_to(support_number, caller_audio, support_greeting.size() + caller_audio.size())));
  calls.push_back(sim::run_call(r.caller_to(voicemail_number, speech(200, 43))));  // 4 s: greeting, tone, message
  auto heard = r.gw.run_all(std::move(calls));
  r.gw.settle();
  BOOST_TEST((heard[0].received_audio == concat(sales_greeting, caller_audio)));
  BOOST_TEST((heard[1].received_audio == concat(support_greeting, caller_audio)));

  // The private agent through a signed URL with the route's own key; each agent got its own call only.
  BOOST_TEST(r.sales->record().signed_urls_issued >= 1);
  BOOST_TEST(r.sales->record().initiations.size() == 1u);
  BOOST_TEST(r.support->record().initiations.size() == 1u);
  const auto sales_init = initiation(*r.sales, 0), support_init = initiation(*r.support, 0);
  BOOST_TEST(sales_init.at("dynamic_variables").at("team") == "sales");
  BOOST_TEST(sales_init.at("dynamic_variables").at("tier") == "2");
  BOOST_TEST(sales_init.at("dynamic_variables").at("called_number") == sales_number.c_str());
  BOOST_TEST(sales_init.at("conversation_config_override").at("agent").at("language") == "en");
  BOOST_TEST(support_init.at("dynamic_variables").at("team") == "support");
  BOOST_TEST(!support_init.contains("conversation_config_override"));
  BOOST_TEST(r.gw.logs.str().find(sales_key) == std::string::npos);

  // The route is in each record, the log lines and the per-route metric; the read API filters by it.
  BOOST_TEST(call_record(r.gw, heard[0].call_sid).at("route") == "sales");
  BOOST_TEST(call_record(r.gw, heard[1].call_sid).at("route") == "support");
  BOOST_TEST(heard[2].received_audio.size() > call::make_voicemail_tone().size());  // the greeting, then the tone
  const auto voice = call_record(r.gw, heard[2].call_sid);
  BOOST_TEST(voice.at("route") == "voice");
  BOOST_TEST(voice.at("outcome") == "voicemail");
  BOOST_TEST(r.gw.logs.str().find("route=sales") != std::string::npos);
  BOOST_TEST(app::metrics().route_calls.value("sales", "agent") >= 1u);
  const auto listed = boost::json::parse(api_get(r.gw, "/api/calls?route=support").body).at("calls").as_array();
  BOOST_TEST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0].at("call_sid") == heard[1].call_sid.c_str());
}

BOOST_AUTO_TEST_CASE(a_number_no_route_takes_and_a_webhook_without_to_hear_the_apology) {
  routed_gateway r;
  const auto unrouted_before = app::metrics().unrouted_calls.value();
  const auto& c = r.gw.server->config();
  auto form = voice_form("CA" + std::string(32, '7'));
  auto answer = r.gw.run(signed_post(r.gw.port, c, std::string(app::voice_webhook_path), form));
  twilio::form_params no_to;
  no_to.add("CallSid", "CA" + std::string(32, '8'));
  auto without_to = r.gw.run(signed_post(r.gw.port, c, std::string(app::voice_webhook_path), no_to));
  for (const auto& a : {answer, without_to}) {
    BOOST_TEST(a.status == 200u);
    BOOST_TEST(a.body.find("<Connect") == std::string::npos);
    BOOST_TEST(a.body.find(c.unavailable_message) != std::string::npos);
    BOOST_TEST(a.body.find("<Hangup/>") != std::string::npos);
  }
  BOOST_TEST(app::metrics().unrouted_calls.value() == unrouted_before + 2);
  BOOST_TEST(r.gw.logs.str().find("no route takes the called number") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(after_hours_a_call_goes_to_the_named_route_or_to_voicemail) {
  routed_gateway r;
  const auto caller_audio = speech(10, 44);
  std::vector<asio::awaitable<sim::call_summary>> calls;
  const auto support_greeting = agent_with_greeting(32).greeting;
  calls.push_back(sim::run_call(r.caller_to(night_number, caller_audio, support_greeting.size() + caller_audio.size())));
  // The prompt and the tone, then a second of message.
  const auto prompt_frames = (r.gw.server->fallback_prompt("closed").size() + call::make_voicemail_tone().size()) / 160;
  calls.push_back(sim::run_call(r.caller_to(closed_number, speech(prompt_frames + 2 + 50, 45))));
  auto heard = r.gw.run_all(std::move(calls));
  r.gw.settle();
  // The night route is closed in Auckland: its calls are the support route's (agent, greeting, record).
  BOOST_TEST((heard[0].received_audio == concat(support_greeting, caller_audio)));
  BOOST_TEST(r.support->record().initiations.size() == 1u);
  BOOST_TEST(call_record(r.gw, heard[0].call_sid).at("route") == "support");
  // The closed route's own voicemail: its fallback prompt, then the caller's message.
  BOOST_TEST(heard_fallback(heard[1], *r.gw.server, "closed"));
  const auto closed_record = call_record(r.gw, heard[1].call_sid);
  BOOST_TEST(closed_record.at("route") == "closed");
  BOOST_TEST(closed_record.at("outcome") == "voicemail");
  BOOST_TEST(r.sales->record().initiations.empty());
}

BOOST_AUTO_TEST_CASE(a_routes_max_calls_answers_busy_while_other_routes_take_calls) {
  auto config = gateway_config();
  config.max_calls = 10;
  routed_gateway r(config);
  write_file(r.routes_file, routes_text(r.sales->port(), r.support->port(), "max_calls = 1\n"));
  BOOST_TEST_REQUIRE(!r.gw.server->reload_routes().has_value());
  const auto& c = r.gw.server->config();
  const auto webhook = [&](const std::string& call_sid, const std::string& to) {
    twilio::form_params form;
    form.add("CallSid", call_sid);
    form.add("From", "+15551230001");
    form.add("To", to);
    return r.gw.run(signed_post(r.gw.port, c, std::string(app::voice_webhook_path), form));
  };
  const auto hits_before = app::metrics().limit_hits.value("route_max_calls");
  const auto first = webhook("CA" + std::string(32, '1'), sales_number);
  const auto second = webhook("CA" + std::string(32, '2'), sales_number);
  const auto other = webhook("CA" + std::string(32, '3'), support_number);
  BOOST_TEST(first.body.find("<Connect") != std::string::npos);
  BOOST_TEST(second.body.find("<Connect") == std::string::npos);
  BOOST_TEST(second.body.find(c.busy_message) != std::string::npos);
  BOOST_TEST(other.body.find("<Connect") != std::string::npos);
  BOOST_TEST(app::metrics().limit_hits.value("route_max_calls") == hits_before + 1);
  BOOST_TEST(r.gw.logs.str().find("at the route's max_calls, answering busy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_reload_changes_new_calls_only_and_a_bad_file_changes_nothing) {
  routed_gateway r;
  const auto caller_audio = speech(100, 46);  // two seconds: the reload lands mid-call
  const auto sales_greeting = agent_with_greeting(31).greeting, support_greeting = agent_with_greeting(32).greeting;

  std::vector<asio::awaitable<sim::call_summary>> tasks;
  tasks.push_back(sim::run_call(r.caller_to(sales_number, caller_audio, sales_greeting.size() + caller_audio.size())));
  tasks.push_back(move_sales_to_support_after(r, 800ms));
  auto heard = r.gw.run_all(std::move(tasks));
  r.gw.settle();
  // The call in progress kept its route: the sales agent heard and echoed all of it.
  BOOST_TEST((heard[0].received_audio == concat(sales_greeting, caller_audio)));
  BOOST_TEST(r.sales->record().caller_audio.size() == caller_audio.size());
  BOOST_TEST(r.gw.logs.str().find("routes reloaded") != std::string::npos);

  // A new call to the same number gets the new route.
  const auto short_audio = speech(10, 47);
  auto after = r.gw.run(sim::run_call(r.caller_to(sales_number, short_audio, support_greeting.size() + short_audio.size())));
  r.gw.settle();
  BOOST_TEST((after.received_audio == concat(support_greeting, short_audio)));

  // A file that fails its checks is refused with the file, the route and the key named; the routes stay.
  write_file(r.routes_file, "[[route]]\nname = \"sales\"\nnumbers = [\"" + sales_number + "\"]\nagnet_id = \"x\"\n");
  const auto refused = r.gw.server->reload_routes();
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->find("unknown key agnet_id (line 4)") != std::string::npos, *refused);
  BOOST_TEST(refused->find(r.routes_file.string()) != std::string::npos, *refused);
  BOOST_TEST(r.gw.logs.str().find("routes reload refused") != std::string::npos);
  auto still = r.gw.run(sim::run_call(r.caller_to(support_number, short_audio, support_greeting.size() + short_audio.size())));
  BOOST_TEST((still.received_audio == concat(support_greeting, short_audio)));
  r.gw.settle();
}

BOOST_AUTO_TEST_CASE(a_call_whose_webhook_came_before_a_reload_keeps_its_route_and_its_prewarmed_agent) {
  routed_gateway r;
  const auto caller_audio = speech(10, 48);
  const auto sales_greeting = agent_with_greeting(31).greeting;
  auto o = r.caller_to(sales_number, caller_audio, sales_greeting.size() + caller_audio.size());
  o.stream_delay = 1500ms;  // Twilio's call set-up: the reload lands between the webhook and the stream
  std::vector<asio::awaitable<sim::call_summary>> tasks;
  tasks.push_back(sim::run_call(o));
  tasks.push_back(move_sales_to_support_after(r, 300ms));
  auto heard = r.gw.run_all(std::move(tasks));
  r.gw.settle();
  // Served by the conversation opened at its webhook, on the route as it was then.
  BOOST_TEST((heard[0].received_audio == concat(sales_greeting, caller_audio)));
  BOOST_TEST(r.sales->record().conversations == 1);
  BOOST_TEST(r.support->record().conversations == 0);
  BOOST_TEST(app::metrics().prewarms.value("hit") >= 1u);
  BOOST_TEST(call_record(r.gw, heard[0].call_sid).at("route") == "sales");
}

BOOST_AUTO_TEST_CASE(a_bad_routes_file_stops_the_start_with_one_line_naming_the_file_and_the_key) {
  temp_dir files;
  const auto file = files.path / "routes.toml";
  auto config = gateway_config();
  config.routes_file = file;
  const auto start_error = [&](std::optional<std::string> text) -> std::string {
    if (text) write_file(file, *text);
    asio::io_context io;
    try {
      server::gateway gw(io, config);
    } catch (const app::config_error& e) {
      return e.what();
    }
    return "(started)";
  };
  ::unsetenv("VB_TEST_UNSET_KEY");
  const auto unset = start_error("[[route]]\nname = \"a\"\nnumbers = [\"*\"]\napi_key_env = \"VB_TEST_UNSET_KEY\"\n");
  BOOST_TEST(unset.find("route a: api_key_env: the environment variable VB_TEST_UNSET_KEY is not set (line 4)") !=
                 std::string::npos, unset);
  BOOST_TEST(unset.find(file.string()) != std::string::npos, unset);
  const auto twice = start_error("[[route]]\nname = \"a\"\nnumbers = [\"+15550001001\"]\n"
                                 "[[route]]\nname = \"b\"\nnumbers = [\"+15550001001\"]\n");
  BOOST_TEST(twice.find("+15550001001 is already another route's") != std::string::npos, twice);
  const auto url = start_error("[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nelevenlabs_base_url = \"ftp://x\"\n");
  BOOST_TEST(url.find("elevenlabs_base_url: expected an https:// URL") != std::string::npos, url);
  const auto missing = start_error("");
  BOOST_TEST(missing.find("no [[route]] tables") != std::string::npos, missing);
  std::filesystem::remove(file);
  const auto unreadable = start_error(std::nullopt);
  BOOST_TEST(unreadable.find("ROUTES_FILE: cannot read " + file.string()) != std::string::npos, unreadable);
}

BOOST_AUTO_TEST_SUITE_END()
