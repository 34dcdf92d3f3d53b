// The post-call webhook queue in the call store, on SQLite and on a real PostgreSQL server the test starts:
// one delivery per call however often it is queued, due once Twilio's final status is in (or after the
// wait), leased to one instance at a time, settled only by the instance that holds it, parked and retried;
// and (PostgreSQL) two instances leasing at once on their own connections never take one delivery twice.
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <set>
#include <thread>

#include "integration/postgres_server.hpp"
#include "records/call_store.hpp"
#include "temp_dir.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;
using kind = records::delivery_result::kind;

namespace {

// An hour ahead of the wall clock: save_status makes a delivery due at the real "now", which is then before t0.
const std::int64_t t0 = records::epoch_ms(std::chrono::system_clock::now()) + 3'600'000;
constexpr std::int64_t wait = 30'000;

std::string sid(int n) {
  std::string digits = std::to_string(n);
  return "CA" + std::string(32 - digits.size(), '0') + digits;
}

void stream_record(records::call_store& store, const std::string& call_sid) {
  records::call_record r;
  r.call_sid = call_sid;
  r.route = "sales";
  r.outcome = records::outcome::agent;
  store.save(r);
}

void exercise(records::call_store& store) {
  store.migrate();
  // A stream's record, queued twice (a replayed spool): one delivery, waiting for the final status.
  stream_record(store, sid(1));
  store.enqueue_delivery(sid(1), t0, wait);
  store.enqueue_delivery(sid(1), t0 + 5, wait);
  BOOST_TEST(store.lease_deliveries("a", t0 + 10, t0 + 60'000, 10).empty());
  auto queued = store.find_delivery(records::delivery_id_for(sid(1)));
  BOOST_REQUIRE(queued);
  BOOST_TEST(queued->id == "WH" + sid(1).substr(2));
  BOOST_TEST(queued->due_at_ms == t0 + wait);
  BOOST_TEST((store.route_of(sid(1)) == std::optional<std::string>("sales")));
  BOOST_TEST(!store.route_of(sid(99)));
  // The status callback makes it due now; a status that is not final does not.
  store.save_status({sid(1), "in-progress", std::nullopt, std::nullopt});
  BOOST_TEST(store.find_delivery(queued->id)->due_at_ms == t0 + wait);
  store.save_status({sid(1), "completed", 12, std::nullopt});
  const auto due_at = store.find_delivery(queued->id)->due_at_ms;
  BOOST_TEST(due_at < t0 + wait);
  // A record whose final status came first is due at once.
  stream_record(store, sid(2));
  store.save_status({sid(2), "completed", 3, std::nullopt});
  store.enqueue_delivery(sid(2), t0 + 20, wait);
  BOOST_TEST(store.find_delivery(records::delivery_id_for(sid(2)))->due_at_ms == t0 + 20);

  const auto now = std::max(due_at, t0 + 20) + 1;
  auto leased = store.lease_deliveries("a", now, now + 60'000, 10);
  BOOST_REQUIRE(leased.size() == 2u);
  BOOST_TEST(store.lease_deliveries("b", now + 1, now + 60'000, 10).empty());  // held by a
  // b cannot settle what a holds; a's lease runs out and b takes it; a's late answer is then refused.
  BOOST_TEST(!store.finish_delivery(leased[0].id, "b", {kind::delivered, now, {}}));
  const auto b_leased = store.lease_deliveries("b", now + 60'001, now + 120'000, 10);
  BOOST_TEST(b_leased.size() == 2u);
  BOOST_TEST(!store.finish_delivery(leased[0].id, "a", {kind::delivered, now, {}}));
  BOOST_TEST(store.finish_delivery(b_leased[0].id, "b", {kind::retry, now + 70'000, "HTTP 503"}));
  BOOST_TEST(store.finish_delivery(b_leased[1].id, "b", {kind::delivered, now + 60'002, {}}));
  auto retried = *store.find_delivery(b_leased[0].id);
  BOOST_TEST(retried.attempts == 1u);
  BOOST_TEST(retried.last_error == "HTTP 503");
  BOOST_TEST(retried.state == records::delivery_state::pending);
  BOOST_TEST(store.lease_deliveries("a", now + 69'999, now + 130'000, 10).empty());  // not due yet
  auto again = store.lease_deliveries("a", now + 70'000, now + 130'000, 10);
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(store.finish_delivery(again[0].id, "a", {kind::park, now + 70'001, "HTTP 500: retry window ended"}));
  const auto stats = store.delivery_stats();
  BOOST_TEST(stats.pending == 0);
  BOOST_TEST(stats.failed == 1);
  const auto failed = store.failed_deliveries(10);
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].attempts == 2u);
  BOOST_TEST(failed[0].finished_at_ms == now + 70'001);
  // A retry by hand: due now, its window from now; a delivered one is not sent again.
  BOOST_TEST(store.retry_delivery(failed[0].id, now + 80'000));
  BOOST_TEST(!store.retry_delivery(b_leased[1].id, now + 80'000));
  BOOST_TEST(!store.retry_delivery("WH" + std::string(32, 'f'), now + 80'000));
  const auto pending = *store.find_delivery(failed[0].id);
  BOOST_TEST(pending.state == records::delivery_state::pending);
  BOOST_TEST(pending.window_from_ms == now + 80'000);
  BOOST_TEST(store.delivery_stats().pending == 1);
  BOOST_TEST(*store.delivery_stats().oldest_created_at_ms == t0);
  BOOST_TEST(store.lease_deliveries("a", now + 80'000, now + 140'000, 10).size() == 1u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_store)

BOOST_AUTO_TEST_CASE(sqlite_queues_one_delivery_per_call_and_leases_it_to_one_instance) {
  temp_dir dir;
  records::call_store store(records::open_sqlite(dir.path / "calls.sqlite3"));
  exercise(store);
}

BOOST_AUTO_TEST_CASE(postgresql_queues_one_delivery_per_call_and_leases_it_to_one_instance) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  records::call_store store(records::open_postgres(pg.url()));
  exercise(store);
}

// Two instances lease 200 due deliveries as fast as they can, each on its own connection: each is taken once.
BOOST_AUTO_TEST_CASE(postgresql_two_instances_never_lease_one_delivery_at_once) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  records::call_store a(records::open_postgres(pg.url())), b(records::open_postgres(pg.url()));
  a.migrate();
  b.migrate();
  for (int i = 1; i <= 200; ++i) {
    stream_record(a, sid(i));
    a.enqueue_delivery(sid(i), t0, 0);
  }
  std::vector<std::string> taken[2];
  std::atomic<int> unsettled = 0;  // Boost.Test's checks are not for threads: counted here, checked after
  auto lease = [&](records::call_store& store, const std::string& instance, std::vector<std::string>& out) {
    for (;;) {
      const auto got = store.lease_deliveries(instance, t0 + 1, t0 + 3'600'000, 7);
      if (got.empty()) return;
      for (const auto& d : got) {
        out.push_back(d.id);
        if (!store.finish_delivery(d.id, instance, {kind::delivered, t0 + 2, {}})) ++unsettled;
      }
    }
  };
  std::thread first([&] { lease(a, "a", taken[0]); });
  std::thread second([&] { lease(b, "b", taken[1]); });
  first.join();
  second.join();
  BOOST_TEST(unsettled == 0);  // each instance settled what it leased
  std::set<std::string> all(taken[0].begin(), taken[0].end());
  for (const auto& id : taken[1]) BOOST_TEST(all.insert(id).second, id << " leased twice");
  BOOST_TEST(all.size() == 200u);
  BOOST_TEST_MESSAGE("instance a took " << taken[0].size() << ", b " << taken[1].size());
}

BOOST_AUTO_TEST_SUITE_END()
