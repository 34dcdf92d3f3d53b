// The routes file: every mistake refused with the route and key named, numbers to routes, the environment as
// the default under each route's keys, and opening hours in the route's own time zone.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "server/routes.hpp"

using namespace voicebridge;
using namespace voicebridge::app;
using namespace voicebridge::server;

namespace {

config base() {
  config c;
  c.elevenlabs_agent_id = "agent_env";
  c.fallback_text = "env fallback";
  c.max_calls = 100;
  return c;
}

env_lookup env_with(std::string name, std::string value) {
  return [name, value](const std::string& asked) -> std::optional<std::string> {
    if (asked == name) return value;
    return std::nullopt;
  };
}

const env_lookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };

std::string error_of(std::string_view text, const env_lookup& env = no_env) {
  auto table = route_table::parse(text, base(), env);
  return table ? std::string() : table.error().message;
}

// 2026-12-02 (a Wednesday) at 15:30 UTC.
const auto wednesday_1530_utc = std::chrono::sys_days(std::chrono::year(2026) / 12 / 2) + std::chrono::hours(15) +
                                std::chrono::minutes(30);

}  // namespace

BOOST_AUTO_TEST_SUITE(routes_file)

BOOST_AUTO_TEST_CASE(numbers_go_to_their_route_and_the_rest_to_the_catch_all) {
  const auto table = route_table::parse(R"(
[[route]]
name = "sales"
numbers = ["+15550001111", "+15550002222"]
agent_id = "agent_sales"
fallback_text = "Sales is closed."

[[route]]
name = "everyone-else"
numbers = ["*"]
)", base(), no_env);
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  BOOST_TEST(table->for_number("+15550002222")->name == "sales");
  BOOST_TEST(table->for_number("+15559999999")->name == "everyone-else");
  const auto& sales = *table->named("sales");
  BOOST_TEST(sales.settings.elevenlabs_agent_id == "agent_sales");
  BOOST_TEST(sales.settings.fallback_text == "Sales is closed.");
  BOOST_TEST(table->named("everyone-else")->settings.elevenlabs_agent_id == "agent_env");  // the environment's
  BOOST_TEST(table->named("everyone-else")->settings.fallback_text == "env fallback");
}

BOOST_AUTO_TEST_CASE(without_a_catch_all_an_unknown_number_has_no_route) {
  const auto table = route_table::parse("[[route]]\nname = \"a\"\nnumbers = [\"+15550001111\"]\n", base(), no_env);
  BOOST_REQUIRE(table.has_value());
  BOOST_TEST(table->for_number("+15550009999") == nullptr);
}

BOOST_AUTO_TEST_CASE(without_a_routes_file_the_environment_is_the_one_route) {
  const auto table = route_table::single(base());
  BOOST_TEST(table.for_number("+15551234567")->name == "default");
  BOOST_TEST(table.for_number("anything")->settings.elevenlabs_agent_id == "agent_env");
}

BOOST_AUTO_TEST_CASE(keys_come_from_the_environment_variable_a_route_names_never_from_the_file) {
  const auto table = route_table::parse(
      "[[route]]\nname = \"eu\"\nnumbers = [\"*\"]\napi_key_env = \"EU_XI_KEY\"\nelevenlabs_base_url = \"https://api.eu.residency.elevenlabs.io\"\n",
      base(), env_with("EU_XI_KEY", "xi-secret"));
  BOOST_REQUIRE(table.has_value());
  BOOST_TEST(table->named("eu")->settings.elevenlabs_api_key == "xi-secret");
  const auto error = error_of("[[route]]\nname = \"eu\"\nnumbers = [\"*\"]\napi_key_env = \"MISSING_KEY\"\n");
  BOOST_TEST(error.find("route eu: api_key_env: the environment variable MISSING_KEY is not set") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(inline_tables_become_the_override_json_and_the_dynamic_variables) {
  const auto table = route_table::parse(R"([[route]]
name = "de"
numbers = ["*"]
config_override = { agent = { language = "de" } }
dynamic_variables = { branch = "Berlin", floor = 3, vip = true }
)", base(), no_env);
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  const auto& r = *table->named("de");
  BOOST_TEST(r.settings.agent_config_override.find("\"language\"") != std::string::npos);
  BOOST_TEST(r.settings.agent_config_override.find("\"de\"") != std::string::npos);
  BOOST_REQUIRE_EQUAL(r.dynamic_variables.size(), 3u);
  BOOST_TEST(r.dynamic_variables[1].second == "3");
  BOOST_TEST(r.dynamic_variables[2].second == "true");
}

BOOST_AUTO_TEST_CASE(a_route_sets_what_its_outbound_calls_leave_on_answering_machines) {
  auto table = route_table::parse(
      "[[route]]\nname = \"reminders\"\nnumbers = [\"*\"]\nvoicemail_message_text = \"Call us back.\"\n"
      "amd_hold_greeting = false\namd_timeout_ms = 2500\nopt_out_key = \"*\"\nring_timeout_s = 45\n",
      base(), no_env);
  BOOST_TEST_REQUIRE(table.has_value(), table.error().message);
  const auto& s = table->routes().at(0).settings;
  BOOST_TEST(s.voicemail_message_text == "Call us back.");
  BOOST_TEST(!s.amd_hold_greeting);
  BOOST_TEST(s.amd_timeout.count() == 2500);
  BOOST_TEST((s.opt_out_key == std::optional<char>('*')));
  BOOST_TEST(s.ring_timeout.count() == 45);
  BOOST_TEST(route_table::single(base()).routes().at(0).settings.amd_hold_greeting);  // the default holds
}

BOOST_AUTO_TEST_CASE(every_mistake_names_the_route_and_the_key) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[[route]]\nname = \"a b\"\nnumbers = [\"*\"]\n", "route #1: name: expected letters"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"555-1234\"]\n", "route a: numbers: expected E.164"},
      {"[[route]]\nname = \"a\"\n", "route a: numbers: required"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\n[[route]]\nname = \"a\"\nnumbers = [\"+15550001111\"]\n",
       "route a: name: used by another route"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"+15550001111\"]\n[[route]]\nname = \"b\"\nnumbers = [\"+15550001111\"]\n",
       "route b: numbers: +15550001111 is already another route's"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\n[[route]]\nname = \"b\"\nnumbers = [\"*\"]\n",
       "route b: numbers: only one route may take"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nagent_mode = \"robot\"\n", "route a: agent_mode: expected local"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nmax_calls = 0\n", "route a: max_calls: expected a positive integer"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nmax_calls = 500\n", "route a: max_calls: above MAX_CALLS"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nagentid = \"x\"\n", "route a: unknown key agentid (line 4)"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nhours = \"Mon-Fri 08:00-18:00\"\n", "route a: timezone: required"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nhours = \"Mon-Fri 08:00-18:00\"\ntimezone = \"Mars/Olympus\"\n",
       "timezone: Mars/Olympus is not in the system's tz database"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nhours = \"Mon-Fri 18:00-08:00\"\ntimezone = \"UTC\"\n",
       "hours: expected HH:MM-HH:MM, earlier first"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nafter_hours = \"nowhere\"\n", "route a: after_hours: expected voicemail"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\ndtmf_mode = \"tones\"\n", "route a: dtmf_mode"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\noperator_key = \"00\"\n", "route a: operator_key"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nrecord_calls = \"yes\"\n", "route a: record_calls: expected true or false"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\ncaller_id = \"5551234\"\n", "route a: caller_id: expected an E.164 number"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\namd_timeout_ms = 0\n", "route a: amd_timeout_ms: expected a positive integer"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nring_timeout_s = 700\n", "route a: ring_timeout_s: expected seconds from 5 to 600"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\namd_hold_greeting = 1\n", "route a: amd_hold_greeting: expected true or false"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nvoicemail_message_wav = \"\"\n", "route a: voicemail_message_wav: expected a file path"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nllm_base_url = \"ftp://x\"\n", "route a: llm_base_url: expected an https:// URL"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nagent_mode = \"pipeline\"\n", "route a: voice_id: required with agent_mode pipeline"},
      {"[[route]]\nname = \"a\"\nnumbers = [\"*\"]\nlocal_agent = \"parrot\"\n", "route a: local_agent: expected echo or voicemail"},
      {"[route]\nname = \"a\"\n", "route entries must be [[route]] tables"},
      {"[[route]\nname = \"a\"\n", "ROUTES_FILE: line 1"},
      {"title = \"x\"\n", "unknown top-level key title"},
      {"", "no [[route]] tables"},
  };
  for (const auto& [text, expected] : cases) {
    const auto error = error_of(text);
    BOOST_TEST(error.find(expected) != std::string::npos, "'" << error << "' lacks '" << expected << "'");
  }
}

BOOST_AUTO_TEST_CASE(opening_hours_are_ranges_per_day_with_wrapping_day_spans) {
  const auto hours = opening_hours::parse("Mon-Fri 08:00-18:00, Sat 09:00-12:00, Fri-Mon 20:00-24:00");
  BOOST_REQUIRE(hours.has_value());
  BOOST_TEST(hours->open_at(1, 8 * 60));          // Monday 08:00
  BOOST_TEST(!hours->open_at(1, 18 * 60));        // Monday 18:00: closed (the end is not included)
  BOOST_TEST(hours->open_at(6, 10 * 60));         // Saturday 10:00
  BOOST_TEST(!hours->open_at(6, 13 * 60));        // Saturday 13:00
  BOOST_TEST(hours->open_at(0, 23 * 60 + 59));    // Sunday 23:59 (Fri-Mon wraps)
  BOOST_TEST(!hours->open_at(3, 21 * 60));        // Wednesday 21:00
  for (const char* bad : {"Mon-Fri", "Moon 08:00-09:00", "Mon 8:00-9:00", "Mon 08:00-25:00", "Mon 09:00-09:00"})
    BOOST_TEST(!opening_hours::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(a_route_is_open_in_its_own_time_zone) {
  const auto table = route_table::parse(R"([[route]]
name = "berlin"
numbers = ["+4930000000"]
hours = "Mon-Fri 09:00-17:00"
timezone = "Europe/Berlin"

[[route]]
name = "new-york"
numbers = ["+12120000000"]
hours = "Mon-Fri 09:00-17:00"
timezone = "America/New_York"
after_hours = "berlin"
)", base(), no_env);
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  // 15:30 UTC in December is 16:30 in Berlin (open) and 10:30 in New York (open); at 17:30 UTC Berlin closed.
  BOOST_TEST(*is_open(*table->named("berlin"), wednesday_1530_utc));
  BOOST_TEST(*is_open(*table->named("new-york"), wednesday_1530_utc));
  BOOST_TEST(!*is_open(*table->named("berlin"), wednesday_1530_utc + std::chrono::hours(2)));
  BOOST_TEST(*is_open(*table->named("new-york"), wednesday_1530_utc + std::chrono::hours(2)));
  BOOST_TEST(table->named("berlin")->after_hours == "voicemail");  // the default with hours
  BOOST_TEST(table->named("new-york")->after_hours == "berlin");
}

// The example the README shows (packaging/routes.example.toml) is a valid file, so that it never rots.
BOOST_AUTO_TEST_CASE(the_shipped_example_file_loads) {
  const auto file = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "packaging" / "routes.example.toml";
  std::ifstream in(file);
  BOOST_TEST_REQUIRE(in.good(), file.string());
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto table = route_table::parse(text, base(), no_env);
  BOOST_REQUIRE_MESSAGE(table.has_value(), (table.has_value() ? std::string() : table.error().message));
  BOOST_TEST(table->routes().size() == 2u);
  BOOST_TEST(table->for_number("+15559870002")->name == "echo-line");
  BOOST_TEST(table->for_number("+15550000000")->name == "front-desk");
  BOOST_TEST(table->named("echo-line")->max_calls.value_or(0) == 20u);
  BOOST_TEST(*is_open(*table->named("echo-line"), wednesday_1530_utc));  // 10:30 in New York
}

BOOST_AUTO_TEST_CASE(a_routes_webhooks_need_a_secret_from_the_environment) {
  const std::string route = "[[route]]\nname = \"crm\"\nnumbers = [\"*\"]\n";
  const auto table = route_table::parse(route + "postcall_webhook_url = \"https://crm.example.com/hooks/calls\"\n"
                                                "precall_webhook_url = \"https://crm.example.com/hooks/who\"\n"
                                                "webhook_secret_env = \"CRM_SECRET\"\n",
                                        base(), env_with("CRM_SECRET", "crm-secret-0123456789"));
  BOOST_REQUIRE(table);
  const auto& s = table->routes().at(0).settings;
  BOOST_TEST(s.postcall_webhook_url == "https://crm.example.com/hooks/calls");
  BOOST_TEST(s.precall_webhook_url == "https://crm.example.com/hooks/who");
  BOOST_TEST(s.webhook_secret == "crm-secret-0123456789");
  auto error = error_of(route + "postcall_webhook_url = \"https://crm.example.com/x\"\n");
  BOOST_TEST(error.find("route crm: webhook_secret_env: required with a webhook URL") != std::string::npos, error);
  error = error_of(route + "postcall_webhook_url = \"ftp://crm.example.com/x\"\nwebhook_secret_env = \"S\"\n");
  BOOST_TEST(error.find("postcall_webhook_url: expected an https:// URL") != std::string::npos, error);
  error = error_of(route + "webhook_secret_env = \"CRM_SECRET\"\n", env_with("CRM_SECRET", "short"));
  BOOST_TEST(error.find("must be at least 16 characters") != std::string::npos, error);
  BOOST_TEST(error.find("short") == std::string::npos, error);
}

BOOST_AUTO_TEST_SUITE_END()
