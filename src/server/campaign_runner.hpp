// Runs the campaigns in the call store: one coroutine per gateway instance that, for each running campaign,
// claims the next number the campaign's plan allows (server/campaign_plan.hpp, decided under the campaign's
// row lock, so instances sharing PostgreSQL pace one campaign together), places its call (server/
// call_placement.hpp, keyed by campaign, row and attempt, so a number is never dialled twice for one
// attempt), and, when Twilio's final status for it comes, retries it or records its outcome. A restart loses
// nothing: the state is in the store, and the loop picks it up where it was.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "server/call_placement.hpp"
#include "server/campaign_request.hpp"

namespace voicebridge::server {


// What one look at a campaign decided: a row to dial (claimed: its state dialling, its attempt counted, the
// campaign's next slot moved on), or when to look again (0: only when something wakes the runner).
struct campaign_claim {
  bool dial = false;
  std::int64_t look_again_at = 0;
  records::stored_campaign campaign;
  records::stored_campaign_row row;  // `attempts` includes the one claimed
  campaign_request settings;
};

// Under the campaign's row lock: may it dial now (its plan), and which row? Rows opted out, or outside their
// window, are settled on the way. Blocks on the store: run it on the database thread.
// `check_after`: how long the claimed attempt may go without its call attached before Twilio is asked about it.
campaign_claim claim_next_dial(records::call_store& store, const std::string& campaign_id, std::int64_t now_ms,
                               const std::string& instance, std::chrono::milliseconds check_after = std::chrono::minutes(2));

// An attempt of `row` (locked in `t`, with its campaign) that ended with `outcome`: due again after its
// backoff (unless the campaign was cancelled meanwhile), or done. True when it is retried.
bool retry_or_finish(records::campaign_transaction& t, const records::stored_campaign& campaign,
                     const records::stored_campaign_row& row, const std::string& outcome, std::int64_t now_ms);

// The Idempotency-Key of one attempt of one row: placing it twice (after a crash) replays the first call.
std::string attempt_key(const std::string& campaign_id, std::int64_t row_no, unsigned attempt);

class campaign_runner : public std::enable_shared_from_this<campaign_runner> {
 public:
  // `instance`: this gateway's name in the rows it claims.
  campaign_runner(const boost::asio::any_io_executor& executor, outbound_services& services, std::string instance);

  // `owner` (the gateway) is held by the runner's coroutines: what they use lives as long as they run.
  void start(std::shared_ptr<void> owner);
  void stop();  // no more dials; calls in progress go on (their rows are finished by their status callbacks)
  void wake();  // something changed (a campaign created or resumed, a call ended): look again now. Thread-safe.
  void call_ended(campaign_call_end end, std::shared_ptr<void> owner);  // from the status callback's thread

  // How often the loop looks with nothing to wake it: what other instances did, retries that fell due.
  static constexpr std::chrono::milliseconds poll_interval{500};
  // How often rows left dialling are looked for (server/campaign_reconciler.cpp).
  static constexpr std::chrono::milliseconds status_check_interval{5000};

 private:
  boost::asio::awaitable<void> run(std::shared_ptr<void> owner);
  boost::asio::awaitable<void> dial(const campaign_claim& c);  // `c` lives as long as it runs
  boost::asio::awaitable<void> finish_attempt(const campaign_call_end& end);
  // Rows whose final status never came (server/campaign_reconciler.cpp): one pass at a time, at most every
  // status_check_interval.
  void check_statuses_soon(std::shared_ptr<void> owner);
  boost::asio::awaitable<void> check_unsettled_rows();
  boost::asio::awaitable<void> check_row(records::stored_campaign_row row);

  boost::asio::any_io_executor executor_;
  outbound_services& services_;
  std::string instance_;
  boost::asio::steady_timer wake_timer_;
  std::atomic<bool> stopped_ = false;
  std::atomic<bool> checking_ = false;  // a status check pass is under way
  std::chrono::steady_clock::time_point next_status_check_{};  // only the loop's coroutine reads and writes it
};

}  // namespace voicebridge::server
