// The campaign runner's second loop: rows left `dialling` whose final status never came (server/
// status_check.hpp says why that happens and what each answer means). Each due row is leased (its check
// time moved on, so another instance leaves it alone), its call found (the row's, or the one its attempt's
// Idempotency-Key placed before a crash could attach it), and Twilio asked for the call's status. A final
// status is handed to the status callback's own handler, as if Twilio's callback had come: the record gets
// its status and the row is retried or done by the same code as always.
#include <boost/asio/co_spawn.hpp>

#include "app/report_escape.hpp"
#include "server/campaign_runner.hpp"
#include "server/status_check.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/form.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
using app::log;
using app::log_level;
using app::metrics;

namespace {
constexpr std::size_t rows_per_pass = 20;  // the rest wait for the next pass (5 s on)
}  // namespace

void campaign_runner::check_statuses_soon(std::shared_ptr<void> owner) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_status_check_ || checking_.exchange(true)) return;
  next_status_check_ = now + status_check_interval;
  auto checks = [self = shared_from_this(), owner = std::move(owner)]() -> asio::awaitable<void> {
    co_await self->check_unsettled_rows();
  };
  asio::co_spawn(executor_, std::move(checks), [self = shared_from_this()](std::exception_ptr escaped) {
    self->checking_ = false;
    app::report_escape("campaign status checks")(escaped);
  });
}

asio::awaitable<void> campaign_runner::check_unsettled_rows() {
  std::vector<records::stored_campaign_row> due;
  const std::function<void(records::call_store&)> lease = [&](records::call_store& store) {
    const auto now = records::now_epoch_ms();
    auto t = store.begin_campaign_transaction();
    due = t->unsettled_rows(now, rows_per_pass);
    for (const auto& row : due) t->set_check_at(row, now + status_check_lease.count());
    t->commit();
  };
  if (!co_await on_database(services_, lease, "campaign status checks")) co_return;
  for (auto& row : due) {
    if (stopped_) co_return;
    co_await check_row(std::move(row));
  }
}

asio::awaitable<void> campaign_runner::check_row(records::stored_campaign_row row) {
  const std::string key = attempt_key(row.campaign_id, row.row_no, row.attempts);
  if (row.call_sid.empty()) {
    // Placed and not attached (a crash between Twilio's answer and the row's update)? Its key says.
    const std::function<void(records::call_store&)> find = [&](records::call_store& store) {
      if (const auto placed = store.find_outbound_by_key(key)) row.call_sid = placed->call_sid;
    };
    if (!co_await on_database(services_, find, "campaign status check")) co_return;
  }
  status_check next{status_check::step::unknown, 0};
  twilio::fetched_call fetched;
  if (!row.call_sid.empty()) {
    fetched = co_await twilio::fetch_call(services_.rest, row.call_sid);
    next = after_fetch(fetched, row.claimed_at_ms, records::now_epoch_ms());
  }
  if (next.what == status_check::step::settle) {
    // As Twilio's final status callback would have said it (its signed query names the row).
    twilio::form_params status;
    status.add("CallSid", row.call_sid);
    status.add("CallStatus", fetched.call_status);
    if (!fetched.duration_s.empty()) status.add("CallDuration", fetched.duration_s);
    status.add("Direction", "outbound-api");
    twilio::form_params query;
    query.add("campaign", row.campaign_id);
    query.add("row", std::to_string(row.row_no));
    metrics().campaign_rows.inc("status_recovered");
    log(log_level::warn, "campaign: final status recovered from Twilio (its callback never came)",
        {{"campaign", row.campaign_id}, {"row", row.row_no}, {"call_sid", row.call_sid}, {"status", fetched.call_status}});
    services_.webhooks.answer_status(status, std::string(app::status_callback_path) + "?" + twilio::encode_form(query));
    co_return;
  }
  if (next.what == status_check::step::look_again) {
    if (!fetched.ok())
      log(log_level::warn, "campaign: Twilio did not tell the call's status; asked again later",
          {{"campaign", row.campaign_id}, {"row", row.row_no}, {"call_sid", row.call_sid}, {"error", fetched.message}});
    const std::function<void(records::call_store&)> later = [&](records::call_store& store) {
      auto t = store.begin_campaign_transaction();
      t->set_check_at(row, next.at_ms);
      t->commit();
    };
    co_await on_database(services_, later, "campaign status check");
    co_return;
  }
  // No call to ask about, or one Twilio does not know: it may or may not have rung; never dialled again.
  log(log_level::warn, "campaign: no status to be had for the attempt; its outcome is unknown",
      {{"campaign", row.campaign_id}, {"row", row.row_no}, {"attempt", row.attempts}, {"call_sid", row.call_sid}});
  metrics().campaign_rows.inc("unknown");
  const std::function<void(records::call_store&)> settle = [&](records::call_store& store) {
    auto t = store.begin_campaign_transaction();
    const auto campaign = t->lock_campaign(row.campaign_id);
    const auto now = t->locked_row(row.campaign_id, row.row_no);
    if (!campaign || !now || now->state != records::row_state::dialling || now->attempts != row.attempts) return;
    retry_or_finish(*t, *campaign, *now, "unknown", records::now_epoch_ms());
    t->commit();
  };
  co_await on_database(services_, settle, "campaign status check");
  wake();
}

}  // namespace voicebridge::server
