// Campaigns end to end over real sockets: POST /api/campaigns, the runner pacing its dials through the
// Twilio stand-in (whose own log and calls-per-second limit are the judge), Twilio's status callbacks
// finishing or retrying each number, opt-outs, pause and resume, bad lists named by their lines, and a
// restart that resumes the campaign without dialling a number twice.
#include <map>
#include <set>

#include "outbound_fixture.hpp"
#include "temp_dir.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using namespace std::chrono_literals;

namespace {

std::string number(int i) { return "+1555760" + std::to_string(1000 + i); }

fake::callee_script quick_human() {
  fake::callee_script s;
  s.ring = 100ms;
  s.audio = speech(10, 3);  // 200 ms of words, then it hangs up
  s.linger = 200ms;
  return s;
}

http_result post(outbound_gateway& f, std::string target, std::string body, std::string type = "application/json") {
  return f.gw.run(http_call(f.gw.port, http::verb::post, std::move(target), std::move(body),
                            {{"Authorization", "Bearer " + test_admin_token}, {"Content-Type", std::move(type)}}));
}

std::string campaign_json(int numbers, std::string settings) {
  std::string rows;
  for (int i = 0; i < numbers; ++i) rows += (i ? "," : "") + std::string(R"({"to":")") + number(i) + R"(","n":)" + std::to_string(i) + "}";
  return R"({"from":"+15550001001",)" + settings + R"("rows":[)" + rows + "]}";
}

std::string id_of(const http_result& r) { return std::string(boost::json::parse(r.body).as_object().at("id").as_string()); }

boost::json::object progress(outbound_gateway& f, const std::string& id) {
  const auto r = api_get(f.gw, "/api/campaigns/" + id);
  BOOST_TEST_REQUIRE(r.status == 200u, r.body);
  return boost::json::parse(r.body).as_object();
}

// Runs the loop until the campaign is done (60 s at most).
boost::json::object wait_done(outbound_gateway& f, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto p = progress(f, id);
    if (p.at("state").as_string() == "done") return p;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "campaign not done in 60 s: " << boost::json::serialize(p));
    f.gw.io.run_for(100ms);
  }
}

std::int64_t outcome_count(const boost::json::object& p, std::string_view outcome) {
  const auto& outcomes = p.at("progress").as_object().at("outcomes").as_object();
  const auto* n = outcomes.if_contains(outcome);
  return n ? n->as_int64() : 0;
}

// The most calls the stand-in accepted within any one second.
std::size_t most_in_a_second(const std::deque<fake::dialled_call>& calls) {
  std::size_t most = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    std::size_t in_window = 0;
    for (const auto& other : calls)
      if (other.created >= calls[i].created && other.created - calls[i].created < 1s) ++in_window;
    most = std::max(most, in_window);
  }
  return most;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(campaigns)

BOOST_AUTO_TEST_CASE(thirty_numbers_are_paced_by_max_concurrent_and_calls_per_second_and_all_end) {
  outbound_gateway f({}, "", {}, 2);  // the stand-in account allows 2 calls a second, as the campaign asks
  f.phones().script_others(quick_human());
  const auto created = post(f, "/api/campaigns", campaign_json(30, R"("max_concurrent":5,"calls_per_second":2,)"));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const auto id = id_of(created);
  wait_done(f, id);
  f.wait_dialled(30);
  BOOST_TEST_REQUIRE(f.gw.server->wait_records_stored(20s));
  const auto done = progress(f, id);  // with every call's record stored: the outcomes are the records'

  const auto& calls = f.phones().calls();
  BOOST_TEST(calls.size() == 30u);
  std::set<std::string> dialled;
  for (const auto& c : calls) dialled.insert(c.to);
  BOOST_TEST(dialled.size() == 30u);  // each number once
  BOOST_TEST(f.phones().most_at_once() <= 5u);
  BOOST_TEST(most_in_a_second(calls) <= 2u);
  for (const auto& creation : f.gw.twilio_api->creations()) BOOST_TEST(creation.answered == 201u);  // never a 20429
  BOOST_TEST(done.at("progress").as_object().at("done").as_int64() == 30);
  BOOST_TEST(outcome_count(done, "agent") == 30);  // each call's record says the agent served it
  // Each call carried its row's variables and the campaign's id to the agent.
  BOOST_TEST_REQUIRE(f.gw.agent->record().initiations.size() == 30u);
  const auto first = boost::json::parse(f.gw.agent->record().initiations[0]).as_object().at("dynamic_variables").as_object();
  BOOST_TEST(first.at("campaign").as_string() == id);
  BOOST_TEST(first.contains("n"));
}

BOOST_AUTO_TEST_CASE(busy_and_unanswered_numbers_are_retried_after_the_backoff_then_keep_their_outcome) {
  outbound_gateway f;
  fake::callee_script busy;
  busy.answers = fake::callee_answers::busy;
  busy.ring = 50ms;
  fake::callee_script nobody;
  nobody.answers = fake::callee_answers::no_answer;
  nobody.ring = 50ms;
  f.phones().script(number(0), busy);
  f.phones().script(number(1), nobody);
  f.phones().script_others(quick_human());
  const auto created = post(f, "/api/campaigns",
                            campaign_json(3, R"("max_concurrent":3,"calls_per_second":5,"retry":{"busy":2,"no_answer":1,"backoff_s":1},)"));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  wait_done(f, id_of(created));
  BOOST_TEST_REQUIRE(f.gw.server->wait_records_stored(20s));
  const auto done = progress(f, id_of(created));
  std::map<std::string, int> attempts;
  for (const auto& c : f.phones().calls()) ++attempts[c.to];
  BOOST_TEST(attempts[number(0)] == 3);  // busy: the first attempt and two retries
  BOOST_TEST(attempts[number(1)] == 2);  // no answer: one retry
  BOOST_TEST(attempts[number(2)] == 1);  // answered: never again
  BOOST_TEST(outcome_count(done, "busy") == 1);
  BOOST_TEST(outcome_count(done, "no_answer") == 1);
  BOOST_TEST(outcome_count(done, "agent") == 1);
  // The retries waited for the backoff: 1 s, then 2 s.
  std::vector<std::chrono::steady_clock::time_point> busy_at;
  for (const auto& c : f.phones().calls())
    if (c.to == number(0)) busy_at.push_back(c.created);
  BOOST_TEST_REQUIRE(busy_at.size() == 3u);
  BOOST_TEST((busy_at[1] - busy_at[0] >= 1s));
  BOOST_TEST((busy_at[2] - busy_at[1] >= 2s));
}

// The final status callbacks are lost, as when they went to an instance that has died: the rows would stay
// dialling for ever. The runner asks Twilio for each call once it could have rung out, and settles the row
// (and the call's record) with what Twilio says.
BOOST_AUTO_TEST_CASE(calls_whose_final_status_never_came_are_settled_from_twilios_call_resource) {
  outbound_gateway f({}, "", [](app::config& c) {
    c.ring_timeout = 5s;
    c.campaign_status_check = 1s;
  });
  fake::callee_script busy;
  busy.answers = fake::callee_answers::busy;
  busy.ring = 50ms;
  busy.final_callback_lost = true;
  auto human = quick_human();
  human.final_callback_lost = true;
  f.phones().script(number(0), busy);
  f.phones().script(number(1), human);
  const auto created = post(f, "/api/campaigns", campaign_json(2, R"("max_concurrent":2,"calls_per_second":5,)"));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  f.wait_dialled(2);
  BOOST_TEST(f.gw.twilio_api->fetches() == 0u);  // not before the ring timeout and the grace
  BOOST_TEST(progress(f, id_of(created)).at("state").as_string() == "running");
  const auto done = wait_done(f, id_of(created));
  BOOST_TEST(f.gw.twilio_api->fetches() >= 2u);
  BOOST_TEST(f.phones().calls().size() == 2u);  // settled, not dialled again
  BOOST_TEST(outcome_count(done, "busy") == 1);
  BOOST_TEST(outcome_count(done, "agent") == 1);
  BOOST_TEST_REQUIRE(f.gw.server->wait_records_stored(20s));
  for (const auto& c : f.phones().calls()) {
    BOOST_TEST(c.callbacks.back().second == 0u);  // the stand-in never posted it
    BOOST_TEST(call_record(f.gw, c.call_sid).at("twilio_status").as_string() == c.final_status);
  }
  BOOST_TEST(f.gw.logs.str().find("final status recovered from Twilio") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_opted_out_number_is_never_dialled) {
  outbound_gateway f;
  f.phones().script_others(quick_human());
  const auto opt_out = post(f, "/api/opt-outs", R"({"number":")" + number(1) + R"("})");
  BOOST_TEST_REQUIRE(opt_out.status == 201u, opt_out.body);
  BOOST_TEST(api_get(f.gw, "/api/opt-outs/" + number(1)).status == 200u);
  BOOST_TEST(api_get(f.gw, "/api/opt-outs/" + number(2)).status == 404u);
  const auto created = post(f, "/api/campaigns", campaign_json(3, R"("max_concurrent":3,"calls_per_second":5,)"));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const auto done = wait_done(f, id_of(created));
  for (const auto& c : f.phones().calls()) BOOST_TEST(c.to != number(1));
  BOOST_TEST(f.phones().calls().size() == 2u);
  BOOST_TEST(outcome_count(done, "opted_out") == 1);
}

BOOST_AUTO_TEST_CASE(a_callee_who_presses_the_opt_out_key_is_never_dialled_again) {
  outbound_gateway f({}, "", [](app::config& c) { c.opt_out_key = '9'; });
  auto pressing = quick_human();
  pressing.dtmf = {{100ms, '9'}};
  f.phones().script(number(0), pressing);
  f.phones().script_others(quick_human());
  const auto first = post(f, "/api/campaigns", campaign_json(1, R"("max_concurrent":1,"calls_per_second":5,)"));
  BOOST_TEST_REQUIRE(first.status == 201u, first.body);
  wait_done(f, id_of(first));
  BOOST_TEST_REQUIRE(f.gw.server->wait_records_stored(20s));
  BOOST_TEST(api_get(f.gw, "/api/opt-outs/" + number(0)).status == 200u);  // with the call's record
  const auto again = post(f, "/api/campaigns", campaign_json(2, R"("max_concurrent":1,"calls_per_second":5,)"));
  BOOST_TEST_REQUIRE(again.status == 201u, again.body);
  const auto done = wait_done(f, id_of(again));
  std::size_t to_first = 0;
  for (const auto& c : f.phones().calls()) to_first += c.to == number(0) ? 1 : 0;
  BOOST_TEST(to_first == 1u);  // the first campaign's call only
  BOOST_TEST(outcome_count(done, "opted_out") == 1);
}

BOOST_AUTO_TEST_CASE(a_paused_campaign_dials_nothing_until_resumed_and_a_cancelled_one_nothing_more) {
  outbound_gateway f;
  f.phones().script_others(quick_human());
  const auto created = post(f, "/api/campaigns", campaign_json(4, R"("max_concurrent":1,"calls_per_second":1,)"));
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  const auto id = id_of(created);
  BOOST_TEST(post(f, "/api/campaigns/" + id + "/pause", "").status == 200u);
  f.gw.io.run_for(1500ms);
  const auto dialled_while_paused = f.phones().calls().size();
  BOOST_TEST(dialled_while_paused <= 1u);  // at most the one dialled before the pause
  BOOST_TEST(progress(f, id).at("state").as_string() == "paused");
  BOOST_TEST(post(f, "/api/campaigns/" + id + "/resume", "").status == 200u);
  f.gw.run_until([&] { return f.phones().calls().size() >= dialled_while_paused + 1; });
  BOOST_TEST(post(f, "/api/campaigns/" + id + "/cancel", "").status == 200u);
  const auto dialled_by_cancel = f.phones().calls().size();
  f.gw.io.run_for(2500ms);
  BOOST_TEST(f.phones().calls().size() == dialled_by_cancel);  // nothing more after the cancel
  const auto p = progress(f, id);
  BOOST_TEST(p.at("state").as_string() == "cancelled");
  BOOST_TEST(outcome_count(p, "cancelled") == static_cast<std::int64_t>(4 - dialled_by_cancel));
  BOOST_TEST(post(f, "/api/campaigns/" + id + "/resume", "").status == 409u);  // it has ended
  BOOST_TEST(post(f, "/api/campaigns/CP" + std::string(32, '0') + "/pause", "").status == 404u);
  f.wait_dialled(dialled_by_cancel);
}

// A list longer than MAX_HTTP_BODY_BYTES (64 kB) is taken with the admin token (MAX_CAMPAIGN_BODY_BYTES);
// without it the same body is refused as any other large request.
BOOST_AUTO_TEST_CASE(a_long_list_is_taken_with_the_admin_token_and_refused_as_too_large_without) {
  outbound_gateway f;
  f.phones().script_others(quick_human());
  std::string csv = "to,name\n";
  for (int i = 0; i < 3000; ++i) csv += number(i) + ",Customer number " + std::to_string(i) + "\n";
  BOOST_TEST_REQUIRE(csv.size() > 64u * 1024);
  const std::string target = "/api/campaigns?from=%2B15550001001&max_concurrent=1&calls_per_second=1";
  const auto anonymous = f.gw.run(http_call(f.gw.port, http::verb::post, target, csv, {{"Content-Type", "text/csv"}}));
  BOOST_TEST(anonymous.status == 413u);
  const auto created = post(f, target, csv, "text/csv");
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  BOOST_TEST(boost::json::parse(created.body).as_object().at("rows").as_int64() == 3000);
  BOOST_TEST(post(f, "/api/campaigns/" + id_of(created) + "/cancel", "").status == 200u);
  f.gw.io.run_for(300ms);
  f.wait_dialled(f.phones().calls().size());
  BOOST_TEST(outcome_count(progress(f, id_of(created)), "cancelled") >= 2998);
}

BOOST_AUTO_TEST_CASE(bad_lists_get_400_naming_every_bad_line_and_nothing_is_stored) {
  outbound_gateway f;
  const auto bad_csv = post(f, "/api/campaigns?from=%2B15550001001&max_concurrent=2",
                            "to,first_name\n+15557601001,Ada\nnot-a-number,Bob\n+15557601001,Again\n", "text/csv");
  BOOST_TEST(bad_csv.status == 400u);
  BOOST_TEST(bad_csv.body == "csv: line 3: to: expected an E.164 number (+15551234567), got 'not-a-number'\n"
                             "csv: line 4: to: +15557601001 is listed twice\n");
  const auto unknown_route = post(f, "/api/campaigns", R"({"route":"nope","rows":[{"to":"+15557601001"}]})");
  BOOST_TEST(unknown_route.status == 400u);
  BOOST_TEST(unknown_route.body == "route: no route is named 'nope'\n");
  const auto good_csv = post(f, "/api/campaigns?from=%2B15550001001&max_concurrent=2&calls_per_second=5",
                             "to,first_name\r\n+15557601001,Ada\r\n", "text/csv");
  BOOST_TEST(good_csv.status == 201u, good_csv.body);
  BOOST_TEST(f.gw.run(http_call(f.gw.port, http::verb::post, "/api/campaigns", "{}", {})).status == 401u);
  BOOST_TEST(api_get(f.gw, "/api/campaigns/CP" + std::string(32, '0')).status == 404u);
  f.phones().script_others(quick_human());
  wait_done(f, id_of(good_csv));
}

BOOST_AUTO_TEST_CASE(a_restarted_gateway_resumes_the_campaign_and_dials_no_number_twice) {
  const temp_dir state;
  const auto same_state = [&](app::config& c) { c.state_dir = state.path; };
  std::set<std::string> dialled;
  std::string id;
  {
    outbound_gateway first({}, "", same_state);
    first.gw.keep_state_dir = true;
    first.phones().script_others(quick_human());
    const auto created = post(first, "/api/campaigns", campaign_json(12, R"("max_concurrent":2,"calls_per_second":4,)"));
    BOOST_TEST_REQUIRE(created.status == 201u, created.body);
    id = id_of(created);
    first.gw.run_until([&] { return first.phones().calls().size() >= 4; });
    first.gw.server->begin_drain();  // the restart: nothing more is dialled; the calls placed end
    const auto placed = first.phones().calls().size();
    first.wait_dialled(placed);
    first.gw.io.run_for(300ms);  // their final statuses reach the runner
    for (const auto& c : first.phones().calls()) BOOST_TEST(dialled.insert(c.to).second, c.to);
    BOOST_TEST(placed < 12u);
  }
  outbound_gateway second({}, "", same_state);
  second.phones().script_others(quick_human());
  const auto done = wait_done(second, id);
  for (const auto& c : second.phones().calls()) BOOST_TEST(dialled.insert(c.to).second, c.to + " dialled twice");
  BOOST_TEST(dialled.size() == 12u);
  BOOST_TEST(done.at("progress").as_object().at("done").as_int64() == 12);
}

BOOST_AUTO_TEST_SUITE_END()
