// The call store's part in outbound calls, on both databases it runs on (SQLite, and a real PostgreSQL
// server the test starts): an Idempotency-Key held by one request only, the row found again by the TwiML
// fetch, a refused call's key freed, and an outcome from Twilio's final status that a later record without
// one does not blank (a status callback can reach the store before the record the 201 wrote).
#include <boost/test/unit_test.hpp>

#include "integration/postgres_server.hpp"
#include "records/call_store.hpp"
#include "temp_dir.hpp"

using namespace voicebridge;
using namespace voicebridge::testing;

namespace {

records::outbound_call request(std::string id, std::string key) {
  records::outbound_call r;
  r.id = std::move(id);
  r.idempotency_key = std::move(key);
  r.route = "reminders";
  r.to = "+15557654321";
  r.from = "+15550001001";
  r.variables = {{"first_name", "Zoë & \"Ada\""}, {"visits", "3"}};
  r.machine_detection = true;
  r.created_at_ms = 1764700000000;
  return r;
}

void exercise(records::call_store& store) {
  store.migrate();
  // The first request holds the key; a second with the same key gets the first one's row.
  const auto first = store.reserve_outbound(request("OB1", "key-1"));
  BOOST_TEST(first.fresh);
  const auto second = store.reserve_outbound(request("OB2", "key-1"));
  BOOST_TEST(!second.fresh);
  BOOST_TEST(second.row.id == "OB1");
  BOOST_TEST(second.row.call_sid == "");  // under way: not dialled yet
  store.attach_call_sid("OB1", "CA" + std::string(32, '1'));
  const auto third = store.reserve_outbound(request("OB3", "key-1"));
  BOOST_TEST(third.row.call_sid == "CA" + std::string(32, '1'));
  // Requests without a key never collide.
  BOOST_TEST(store.reserve_outbound(request("OB4", "")).fresh);
  BOOST_TEST(store.reserve_outbound(request("OB5", "")).fresh);

  const auto found = store.find_outbound("OB1");
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST((found->variables == request("", "").variables));  // read back exactly, quotes and all
  BOOST_TEST(found->machine_detection);
  BOOST_TEST(found->to == "+15557654321");
  BOOST_TEST(found->created_at_ms == 1764700000000);
  BOOST_TEST(!store.find_outbound("OB-none").has_value());

  // A refusal frees the key; a placed call's row is never deleted by it.
  BOOST_TEST(store.reserve_outbound(request("OB6", "key-2")).fresh);
  store.release_outbound("OB6");
  BOOST_TEST(store.reserve_outbound(request("OB7", "key-2")).fresh);
  store.release_outbound("OB1");
  BOOST_TEST(store.find_outbound("OB1").has_value());

  // Busy before the record: the status sets the outcome, the record (no outcome of its own) keeps it.
  const std::string busy_sid = "CA" + std::string(32, '2');
  store.save_status({busy_sid, "busy", 0, std::string("busy")});
  records::call_record placed;
  placed.call_sid = busy_sid;
  placed.direction = "outbound";
  placed.to = "+15557654321";
  store.save(placed);
  auto busy = store.find(busy_sid);
  BOOST_TEST_REQUIRE(busy.has_value());
  BOOST_TEST(busy->outcome == "busy");
  BOOST_TEST(busy->twilio_status == "busy");
  BOOST_TEST(busy->direction == "outbound");
  // A stream's record has its own outcome, and a later status does not replace it.
  const std::string served_sid = "CA" + std::string(32, '3');
  placed.call_sid = served_sid;
  store.save(placed);
  placed.outcome = "agent";
  store.save(placed);
  store.save_status({served_sid, "completed", 42, std::nullopt});
  store.save_status({served_sid, "canceled", std::nullopt, std::string("canceled")});
  BOOST_TEST(store.find(served_sid)->outcome == "agent");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbound_store)

BOOST_AUTO_TEST_CASE(sqlite_holds_idempotency_keys_and_outcomes) {
  temp_dir dir;
  records::call_store store(records::open_sqlite(dir.path / "calls.sqlite3"));
  exercise(store);
}

BOOST_AUTO_TEST_CASE(postgresql_holds_idempotency_keys_and_outcomes) {
  postgres_server pg;
  if (!start_or_skip(pg)) return;
  records::call_store store(records::open_postgres(pg.url()));
  exercise(store);
}

BOOST_AUTO_TEST_SUITE_END()
