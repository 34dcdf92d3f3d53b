#include "server/campaign_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/report_escape.hpp"
#include "server/campaign_plan.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
using app::log;
using app::log_level;
using app::metrics;

namespace {


// Twilio refused the call for its calls-per-second limit (Twilio REST API error 20429): the row waits its
// turn again, its attempt not counted.
bool too_many_requests(const twilio::created_call& answer) { return answer.status == 429 || answer.twilio_code == 20429; }

}  // namespace

bool retry_or_finish(records::campaign_transaction& t, const records::stored_campaign& campaign,
                     const records::stored_campaign_row& row, const std::string& outcome, millis_since_epoch now) {
  const auto settings = settings_from_json(campaign.settings_json);
  const auto retry = settings ? next_after(settings->retry, row.attempts, outcome, now) : after_attempt{};
  if (retry.retry && campaign.state != records::campaign_state::cancelled) {
    t.requeue(row, retry.retry_at);
    return true;
  }
  t.finish(row, outcome);
  return false;
}

std::string attempt_key(const std::string& campaign_id, std::int64_t row_no, unsigned attempt) {
  return "campaign:" + campaign_id + ":" + std::to_string(row_no) + ":" + std::to_string(attempt);
}

campaign_runner::campaign_runner(const asio::any_io_executor& executor, outbound_services& services, std::string instance)
    : executor_(executor), services_(services), instance_(std::move(instance)), wake_timer_(executor) {}

void campaign_runner::start(std::shared_ptr<void> owner) {
  asio::co_spawn(executor_, [self = shared_from_this(), owner = std::move(owner)] { return self->run(owner); },
                 app::report_escape("campaigns"));
}

void campaign_runner::stop() {
  stopped_ = true;
  wake();
}

void campaign_runner::wake() {
  asio::post(executor_, [self = shared_from_this()] { self->wake_timer_.cancel(); });
}

void campaign_runner::call_ended(campaign_call_end end, std::shared_ptr<void> owner) {
  auto finishing = [self = shared_from_this(), end = std::move(end), owner = std::move(owner)]() -> asio::awaitable<void> {
    co_await self->finish_attempt(end);
  };
  asio::co_spawn(executor_, std::move(finishing), app::report_escape("campaign call end"));
}

// Under the campaign's row lock: may it dial now, and which row? Rows opted out, or outside their window,
// are settled on the way (done, or put off to their window's opening). On the database thread.
campaign_claim claim_next_dial(records::call_store& store, const std::string& id, std::int64_t now,
                               const std::string& instance, std::chrono::milliseconds check_after) {
  campaign_claim c;
  auto t = store.begin_campaign_transaction();
  auto campaign = t->lock_campaign(id);
  if (!campaign || campaign->state != records::campaign_state::running) return c;
  auto settings = settings_from_json(campaign->settings_json);
  if (!settings) {
    log(log_level::error, "campaign: its stored settings cannot be read; it waits", {{"campaign", id}, {"error", settings.error().message}});
    return c;
  }
  const auto permission = may_dial({settings->max_concurrent, settings->calls_per_second}, t->in_flight(id),
                                   campaign->next_slot_at_ms, now);
  if (!permission.now) {
    if (permission.retry_at > 0) metrics().campaign_pacing_waits.inc("calls_per_second");
    else metrics().campaign_pacing_waits.inc("max_concurrent");
    c.look_again_at = permission.retry_at;  // 0: a call's end wakes it
    return c;
  }
  for (int looked = 0; looked < 100; ++looked) {
    auto row = t->next_due_row(id, now);
    if (!row) break;
    if (t->opted_out(row->to)) {
      t->finish(*row, "opted_out");
      metrics().campaign_rows.inc("opted_out");
      log(log_level::info, "campaign: number opted out, skipped", {{"campaign", id}, {"row", row->row_no}});
      continue;
    }
    const auto& zone = row->timezone.empty() ? settings->window_timezone : row->timezone;
    const auto when = dial_time(settings->window, zone, now);
    if (!when) {
      t->finish(*row, "outside_window");
      continue;
    }
    if (*when > now) {  // outside the recipient's window: due again when it opens
      t->requeue(*row, *when);
      continue;
    }
    t->start_attempt(*row, instance, now, now + check_after.count());
    t->set_next_slot(id, permission.next_slot_at);
    t->commit();
    c.dial = true;
    c.campaign = std::move(*campaign);
    c.row = std::move(*row);
    ++c.row.attempts;
    c.settings = std::move(*settings);
    return c;
  }
  t->commit();  // what was settled on the way
  return c;
}

asio::awaitable<void> campaign_runner::run(std::shared_ptr<void> owner) {
  while (!stopped_) {
    check_statuses_soon(owner);
    millis_since_epoch look_again_at = records::now_epoch_ms() + poll_interval.count();
    std::vector<records::stored_campaign> running;
    const std::function<void(records::call_store&)> list = [&](records::call_store& store) { running = store.running_campaigns(); };
    if (co_await on_database(services_, list, "campaigns")) {
      for (const auto& campaign : running) {
        for (int dials = 0; dials < 50 && !stopped_; ++dials) {  // bounded: the other campaigns get their turn
          // At MAX_CALLS the answered call would hear the busy message: the campaign waits for room instead.
          if (services_.active.size() >= services_.config.max_calls) {
            metrics().campaign_pacing_waits.inc("max_calls");
            break;
          }
          campaign_claim c;
          // Its placement attaches the call within Twilio's REST timeout; with no call by then (a crash), Twilio is asked.
          const auto unplaced_check = services_.rest.timeout + services_.config.campaign_status_check;
          const std::function<void(records::call_store&)> look = [&](records::call_store& store) {
            c = claim_next_dial(store, campaign.id, records::now_epoch_ms(), instance_, unplaced_check);
          };
          if (!co_await on_database(services_, look, "campaign claim")) break;
          if (!c.dial) {
            if (c.look_again_at > 0) look_again_at = std::min(look_again_at, c.look_again_at);
            break;
          }
          auto dialling = [self = shared_from_this(), owner, c = std::move(c)]() -> asio::awaitable<void> {
            co_await self->dial(c);
          };
          asio::co_spawn(executor_, std::move(dialling), app::report_escape("campaign dial"));
        }
      }
    }
    if (stopped_) break;
    wake_timer_.expires_after(std::chrono::milliseconds(std::max<millis_since_epoch>(1, look_again_at - records::now_epoch_ms())));
    co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Places the claimed row's call. Its key (campaign, row, attempt) makes a second placement of one attempt
// (after a crash between Twilio's answer and the store) a replay, never a second call.
asio::awaitable<void> campaign_runner::dial(const campaign_claim& c) {
  records::outbound_call call;
  call.id = "OB" + util::random_hex(16);
  call.idempotency_key = attempt_key(c.campaign.id, c.row.row_no, c.row.attempts);
  call.route = c.campaign.route;
  call.to = c.row.to;
  call.from = c.campaign.from;
  call.variables = c.row.variables;
  call.variables.emplace_back("campaign", c.campaign.id);
  call.machine_detection = c.settings.machine_detection;
  call.created_at_ms = records::now_epoch_ms();
  twilio::form_params query;
  query.add("campaign", c.campaign.id);
  query.add("row", std::to_string(c.row.row_no));
  log(log_level::info, "campaign: dialling", {{"campaign", c.campaign.id}, {"row", c.row.row_no}, {"attempt", c.row.attempts}});
  auto placing = place_call(std::move(call), services_, twilio::encode_form(query));  // named (GCC 12)
  const auto placed = co_await std::move(placing);
  using result = placement::result;
  const auto row = c.row;
  std::function<void(records::call_store&)> settle;
  if (placed.what == result::created || placed.what == result::replayed) {
    metrics().campaign_rows.inc("dialled");
    const auto call_sid = placed.call_sid;
    // Should its final status never come (the instance it is posted to died), Twilio is asked once the call
    // could have rung out and the status had time to come.
    const auto check_at = records::now_epoch_ms() +
                          std::chrono::milliseconds(placed.ring_timeout + services_.config.campaign_status_check).count();
    settle = [row, call_sid, check_at](records::call_store& store) {
      store.attach_row_call(row.campaign_id, row.row_no, row.attempts, call_sid, check_at);
    };
  } else if (placed.what == result::store_unavailable || (placed.what == result::refused && too_many_requests(placed.twilio))) {
    // Nothing was dialled: the row waits its turn again (a second later), its attempt not counted.
    metrics().campaign_pacing_waits.inc(placed.what == result::refused ? "twilio_429" : "store_unavailable");
    const auto at = records::now_epoch_ms() + 1000;
    settle = [row, at](records::call_store& store) {
      auto t = store.begin_campaign_transaction();
      t->requeue(row, at, true);
      t->commit();
    };
  } else {
    // Refused for good (a bad number, the account), or no answer from Twilio (it may have placed the call:
    // it is not dialled again).
    const std::string outcome = placed.what == result::refused ? records::outcome::failed : "unknown";
    settle = [row, outcome](records::call_store& store) {
      auto t = store.begin_campaign_transaction();
      if (const auto campaign = t->lock_campaign(row.campaign_id)) retry_or_finish(*t, *campaign, row, outcome, records::now_epoch_ms());
      t->commit();
    };
    metrics().campaign_rows.inc(outcome);
  }
  co_await on_database(services_, settle, "campaign dial");
  wake();
}

// Twilio's final status for one of the campaign's calls: a retry after the backoff, or the row's outcome.
asio::awaitable<void> campaign_runner::finish_attempt(const campaign_call_end& end) {
  const auto now = records::now_epoch_ms();
  const std::function<void(records::call_store&)> settle = [&](records::call_store& store) {
    auto t = store.begin_campaign_transaction();
    auto campaign = t->lock_campaign(end.campaign_id);
    auto row = t->locked_row(end.campaign_id, end.row_no);
    // A status of a call already settled, of an earlier attempt, or of no row at all: nothing to do.
    if (!campaign || !row || row->state != records::row_state::dialling) return;
    if (!row->call_sid.empty() && row->call_sid != end.call_sid) return;
    if (row->call_sid.empty()) t->set_call(*row, end.call_sid);  // its status came before its attach
    const bool retried = retry_or_finish(*t, *campaign, *row, end.outcome, now);
    metrics().campaign_rows.inc(retried ? "retry" : "done");
    t->commit();
    log(log_level::info, "campaign: attempt ended",
        {{"campaign", end.campaign_id}, {"row", end.row_no}, {"outcome", end.outcome}, {"retry", retried ? "true" : "false"}});
  };
  co_await on_database(services_, settle, "campaign call end");
  wake();
}

}  // namespace voicebridge::server
