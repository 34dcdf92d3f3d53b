// SIGHUP (systemctl reload, the unit's ExecReload=) on the real binary: ROUTES_FILE is read again, new calls
// get the new routes, the call in progress keeps its own, and a file that fails its checks changes nothing.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "call/playback.hpp"
#include "service/gateway_process.hpp"
#include "service/service_fixture.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

void write_routes(const std::filesystem::path& file, const std::string& catch_all_route) {
  std::ofstream(file, std::ios::trunc) << "[[route]]\nname = \"" << catch_all_route
                                       << "\"\nnumbers = [\"*\"]\nagent_mode = \"local\"\nlocal_agent = \"echo\"\n";
}

// The route the voice webhook chose, as its TwiML carries it.
std::string routed_to(client_loop& client, std::uint16_t port, const std::string& call_sid) {
  twilio::form_params form;
  form.add("CallSid", call_sid);
  form.add("To", "+15550001001");
  const auto answer = client.get(signed_post(port, client_view(), std::string(app::voice_webhook_path), form));
  const std::string marker = "name=\"route\" value=\"";
  const auto at = answer.body.find(marker);
  if (at == std::string::npos) return "(none) " + answer.body;
  return answer.body.substr(at + marker.size(), answer.body.find('"', at + marker.size()) - at - marker.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_reload)

BOOST_AUTO_TEST_CASE(sighup_reloads_the_routes_for_new_calls_and_keeps_the_call_in_progress) {
  temp_dir files;
  const auto routes = files.path / "routes.toml";
  write_routes(routes, "before");
  gateway_process gw(service_env({{"ROUTES_FILE", routes.string()}}));
  const auto port = gw.port();
  client_loop client;
  BOOST_TEST(routed_to(client, port, "CA" + std::string(32, '1')) == "before");

  const auto audio = speech(150, 5);  // 3 s: the reload lands during the call
  auto o = caller(port, audio);
  o.hang_up_after_bytes = call::make_greeting_tone().size() + audio.size();
  o.linger = 20s;
  auto call = client.spawn(sim::run_call(o));
  BOOST_TEST_REQUIRE(gw.wait_for_log("info start call_sid="));
  write_routes(routes, "after");
  gw.signal(SIGHUP);
  BOOST_TEST_REQUIRE(gw.wait_for_log("info routes reloaded"), gw.log());
  BOOST_TEST(routed_to(client, port, "CA" + std::string(32, '2')) == "after");

  const auto s = ready(call);
  BOOST_TEST(s.error == "");
  BOOST_TEST(!s.server_closed);
  BOOST_TEST(s.received_audio == concat(call::make_greeting_tone(), audio));  // served to its end, byte-exact
  BOOST_TEST(gw.wait_for_log("route=before stream_sid="), gw.log());  // its end logged under its own route

  // A file that fails its checks: refused with the reason, the routes in force stay, the process serves on.
  std::ofstream(routes, std::ios::trunc) << "[[route]]\nname = \"broken\"\nnumbers = [\"*\"]\nagent_mod = \"local\"\n";
  gw.signal(SIGHUP);
  BOOST_TEST_REQUIRE(gw.wait_for_log("routes reload refused"), gw.log());
  BOOST_TEST(gw.log().find("unknown key agent_mod (line 4)") != std::string::npos, gw.log());
  BOOST_TEST(routed_to(client, port, "CA" + std::string(32, '3')) == "after");
  gw.signal(SIGTERM);
  BOOST_TEST(gw.wait_exit(15s).value_or(-1) == 0, gw.log());
}

BOOST_AUTO_TEST_SUITE_END()
