// Campaigns in the call store, on SQLite and on a real PostgreSQL server the test starts: a campaign and its
// rows stored whole, claims that respect the pace and max_concurrent, attempts that end in a retry or an
// outcome, opt-outs, and (PostgreSQL) two instances claiming from one campaign at once on their own
// connections: no row claimed twice, the pace kept between them.
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/postgres_server.hpp"
#include "records/call_store.hpp"
#include "server/campaign_plan.hpp"
#include "server/campaign_runner.hpp"
#include "temp_dir.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;

namespace {

constexpr std::int64_t t0 = 1'796'225'400'000;

records::stored_campaign campaign(unsigned max_concurrent, double cps) {
  server::campaign_request settings;
  settings.max_concurrent = max_concurrent;
  settings.calls_per_second = cps;
  settings.retry.busy = 1;
  settings.retry.backoff = std::chrono::seconds(10);
  records::stored_campaign c;
  c.id = "CP" + std::string(32, 'a');
  c.name = "test";
  c.route = "reminders";
  c.from = "+15550001001";
  c.settings_json = server::settings_json(settings);
  c.created_at_ms = t0;
  return c;
}

std::vector<records::stored_campaign_row> rows(int n) {
  std::vector<records::stored_campaign_row> out;
  for (int i = 1; i <= n; ++i) {
    records::stored_campaign_row r;
    r.row_no = i + 1;  // CSV lines: the header is line 1
    r.to = "+1555760" + std::to_string(1000 + i);
    r.variables = {{"first_name", "Ada " + std::to_string(i)}};
    out.push_back(std::move(r));
  }
  return out;
}

void finish(records::call_store& store, const records::stored_campaign_row& row, const std::string& outcome) {
  auto t = store.begin_campaign_transaction();
  t->finish(row, outcome);
  t->commit();
}

void exercise(records::call_store& store) {
  store.migrate();
  const auto c = campaign(2, 2);
  store.create_campaign(c, rows(4));
  store.add_opt_out("+15557601003", "test", t0);
  BOOST_TEST(store.is_opted_out("+15557601003"));

  const auto first = server::claim_next_dial(store, c.id, t0, "gw-a");
  BOOST_TEST_REQUIRE(first.dial);
  BOOST_TEST(first.row.row_no == 2);
  BOOST_TEST(first.row.attempts == 1u);
  BOOST_TEST((first.row.variables == std::vector<std::pair<std::string, std::string>>{{"first_name", "Ada 1"}}));
  // 2 a second: the next slot is half a second (and the margin) away.
  const auto too_soon = server::claim_next_dial(store, c.id, t0 + 100, "gw-a");
  BOOST_TEST(!too_soon.dial);
  BOOST_TEST(too_soon.look_again_at == t0 + server::pace_interval(2));
  const auto second = server::claim_next_dial(store, c.id, t0 + 600, "gw-a");
  BOOST_TEST_REQUIRE(second.dial);
  BOOST_TEST(second.row.row_no == 3);
  // Two in flight: max_concurrent holds the third back until one ends.
  const auto full = server::claim_next_dial(store, c.id, t0 + 5000, "gw-a");
  BOOST_TEST(!full.dial);
  BOOST_TEST(full.look_again_at == 0);
  store.attach_row_call(c.id, first.row.row_no, 1, "CA" + std::string(32, '1'), t0 + 90'000);
  // Rows dialling with no final status are due for a check at Twilio: the attached call at its own time, the
  // row never attached at the claim's (two minutes by default).
  {
    auto t = store.begin_campaign_transaction();
    BOOST_TEST(t->unsettled_rows(t0 + 89'999, 10).empty());
    const auto due = t->unsettled_rows(t0 + 90'000, 10);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].call_sid == "CA" + std::string(32, '1'));
    BOOST_TEST(due[0].claimed_at_ms == t0);
    BOOST_TEST(t->unsettled_rows(t0 + 600 + 120'000, 10).size() == 2u);  // and the second claim's, never attached
    t->set_check_at(due[0], t0 + 200'000);  // leased: not due again before
    BOOST_TEST(t->unsettled_rows(t0 + 199'999, 10).size() == 1u);
    t->commit();
  }
  finish(store, first.row, "completed");
  // Row 4 is opted out: skipped (done), and row 5 is claimed instead.
  const auto third = server::claim_next_dial(store, c.id, t0 + 6000, "gw-a");
  BOOST_TEST_REQUIRE(third.dial);
  BOOST_TEST(third.row.row_no == 5);
  // A busy attempt goes back to the queue for its backoff.
  {
    auto t = store.begin_campaign_transaction();
    t->requeue(second.row, t0 + 16'600);
    t->commit();
  }
  BOOST_TEST(!server::claim_next_dial(store, c.id, t0 + 7000, "gw-a").dial);  // nothing due yet
  const auto retried = server::claim_next_dial(store, c.id, t0 + 16'600, "gw-a");
  BOOST_TEST_REQUIRE(retried.dial);
  BOOST_TEST(retried.row.row_no == 3);
  BOOST_TEST(retried.row.attempts == 2u);
  finish(store, retried.row, "busy");
  BOOST_TEST(store.find_campaign(c.id)->state == "running");
  finish(store, third.row, "no_answer");
  BOOST_TEST(store.find_campaign(c.id)->state == "done");  // the last row done ends it

  std::map<std::string, std::int64_t> outcomes;
  for (const auto& n : store.campaign_counts(c.id)) outcomes[n.outcome] += n.rows;
  BOOST_TEST(outcomes["completed"] == 1);
  BOOST_TEST(outcomes["opted_out"] == 1);
  BOOST_TEST(outcomes["busy"] == 1);
  BOOST_TEST(outcomes["no_answer"] == 1);
  BOOST_TEST((store.set_campaign_state(c.id, "paused") == records::campaign_change::ended));  // it has ended
  BOOST_TEST((store.set_campaign_state("CP" + std::string(32, 'b'), "paused") == records::campaign_change::no_such_campaign));
  BOOST_TEST(store.remove_opt_out("+15557601003"));
  BOOST_TEST(!store.remove_opt_out("+15557601003"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(campaign_store)

BOOST_AUTO_TEST_CASE(sqlite_keeps_campaigns_their_pace_and_their_outcomes) {
  temp_dir dir;
  records::call_store store(records::open_sqlite(dir.path / "calls.sqlite3"));
  exercise(store);
}

BOOST_AUTO_TEST_CASE(postgresql_keeps_campaigns_their_pace_and_their_outcomes) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  records::call_store store(records::open_postgres(pg.url()));
  exercise(store);
}

// Two gateway instances, each with its own connection, claim from one campaign as fast as they can: each
// row is claimed once, and consecutive claims (by either) are never closer than the pace.
BOOST_AUTO_TEST_CASE(postgresql_two_instances_never_claim_a_row_twice_and_share_the_pace) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  records::call_store a(records::open_postgres(pg.url())), b(records::open_postgres(pg.url()));
  a.migrate();
  const auto c = campaign(100, 50);  // 20 ms apart (and the margin), no concurrency bound in the way
  a.create_campaign(c, rows(40));
  std::mutex mutex;
  std::vector<std::pair<std::int64_t, std::int64_t>> claims;  // (time, row)
  std::int64_t clock = t0;  // a shared, advancing clock: the instances take turns asking at times of their own
  const auto instance = [&](records::call_store& store, const std::string& name) {
    for (int i = 0; i < 400; ++i) {
      std::int64_t now;
      {
        std::lock_guard lock(mutex);
        now = clock += 7;
      }
      const auto claimed = server::claim_next_dial(store, c.id, now, name);
      if (!claimed.dial) continue;
      std::lock_guard lock(mutex);
      claims.emplace_back(now, claimed.row.row_no);
    }
  };
  std::thread ta(instance, std::ref(a), "gw-a"), tb(instance, std::ref(b), "gw-b");
  ta.join();
  tb.join();
  std::set<std::int64_t> rows_claimed;
  for (const auto& [at, row] : claims) BOOST_TEST(rows_claimed.insert(row).second, "row " << row << " claimed twice");
  BOOST_TEST(rows_claimed.size() == 40u);
  std::sort(claims.begin(), claims.end());
  for (std::size_t i = 1; i < claims.size(); ++i)
    BOOST_TEST(claims[i].first - claims[i - 1].first >= server::pace_interval(50), "claims " << i - 1 << " and " << i << " too close");
}

BOOST_AUTO_TEST_SUITE_END()
