#include "server/shared_streams.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/report_escape.hpp"
#include "net/call_contexts.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
using app::log;
using app::log_level;

shared_streams::shared_streams(const app::config& config, std::unique_ptr<records::sql_connection> connection)
    : config_(config), store_(std::move(connection)) {}

// What was posted (a call's last state) is written before the process goes: join, not stop. The beat ends
// first (its timer cancelled on its own thread), or the join would wait for it.
shared_streams::~shared_streams() {
  stop();
  beat_timer_.reset();  // while its thread pool is still there (ASan: a timer outliving its executor's scheduler)
}

void shared_streams::stop() {
  stopping_ = true;
  if (beat_timer_) asio::post(thread_, [timer = beat_timer_] { timer->cancel(); });
  thread_.join();  // once the beat loop has ended and what was posted has run
}

void shared_streams::start() {
  beat_timer_ = std::make_shared<asio::steady_timer>(thread_.get_executor());
  asio::co_spawn(thread_, beat_loop(), app::report_escape("shared state beat"));
}

asio::awaitable<void> shared_streams::beat_loop() {
  while (!stopping_) {
    const auto now = records::now_epoch_ms();
    try {
      store_.heartbeat(config_.instance_id, now);
      take_counts(store_.streams_elsewhere(config_.instance_id, now - alive_within.count()));
    } catch (const records::store_error& e) {
      // Nothing known of the others: their streams count nowhere until the store answers again.
      take_counts({});
      log(log_level::warn, "shared call state: heartbeat failed", {{"error", e.what()}});
    }
    beat_timer_->expires_after(beat);
    co_await beat_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void shared_streams::take_counts(std::vector<std::pair<std::string, std::size_t>> counts) {
  std::lock_guard lock(counts_mutex_);
  elsewhere_.clear();
  elsewhere_total_ = 0;
  for (auto& [route, n] : counts) {
    elsewhere_total_ += n;
    elsewhere_[std::move(route)] = n;
  }
}

std::size_t shared_streams::streams_elsewhere() const {
  std::lock_guard lock(counts_mutex_);
  return elsewhere_total_;
}

std::size_t shared_streams::streams_elsewhere(std::string_view route) const {
  std::lock_guard lock(counts_mutex_);
  const auto it = elsewhere_.find(route);
  return it == elsewhere_.end() ? 0 : it->second;
}

void shared_streams::post(std::string what, std::function<void(records::call_store&)> work) {
  // A database that hangs must not let the queue grow without end: past the bound, reports are dropped
  // (counted; a call's close then waits out closing_write_limit, and its action request finds it streaming).
  if (queued_.fetch_add(1) >= max_queued) {
    queued_.fetch_sub(1);
    app::metrics().limit_hits.inc("shared_state_queue");
    if (!queue_full_logged_.exchange(true)) log(log_level::error, "shared call state: queue full, reports dropped", {{"what", what}});
    return;
  }
  asio::post(thread_, [this, what = std::move(what), work = std::move(work)] {
    try {
      work(store_);
    } catch (const records::store_error& e) {
      log(log_level::error, "shared call state: the store failed", {{"what", what}, {"error", e.what()}});
    }
    queued_.fetch_sub(1);
  });
}

void shared_streams::started(const std::string& call_sid, const std::string& route,
                             std::vector<std::pair<std::string, std::string>> parameters) {
  records::call_stream row;
  row.call_sid = call_sid;
  row.instance = config_.instance_id;
  row.route = route;
  row.parameters = std::move(parameters);
  row.updated_at_ms = records::now_epoch_ms();
  post("stream started", [row = std::move(row)](records::call_store& store) { store.stream_started(row); });
  prune_now_and_then();
}

// Every instance prunes at most once an hour, as its calls start: no timer to own, and an idle instance has
// nothing to add to the table anyway.
void shared_streams::prune_now_and_then() {
  const auto now = records::now_epoch_ms();
  auto due = next_prune_ms_.load();
  if (now < due || !next_prune_ms_.compare_exchange_strong(due, now + std::chrono::milliseconds(prune_every).count())) return;
  post("prune streams", [now](records::call_store& store) {
    const auto removed = store.prune_streams(now - std::chrono::milliseconds(rows_kept).count());
    if (removed > 0) log(log_level::info, "shared call state: old stream rows removed", {{"rows", removed}});
  });
}

asio::awaitable<void> shared_streams::closing(std::string call_sid, std::string_view state) {
  // The write runs on the store's thread; the call waits on a timer that the write cancels when it is done,
  // or that expires first (a hung database must not keep the caller on a stream that is over).
  const auto executor = co_await asio::this_coro::executor;
  auto written = std::make_shared<asio::steady_timer>(executor, closing_write_limit);
  post("stream closing", [written, executor, call_sid, state = std::string(state), instance = config_.instance_id](
                             records::call_store& store) {
    struct wake_on_exit {  // also when the store throws
      std::shared_ptr<asio::steady_timer> timer;
      asio::any_io_executor executor;
      ~wake_on_exit() {
        asio::post(executor, [timer = timer] { timer->cancel(); });
      }
    } wake{written, executor};
    store.stream_ended(call_sid, instance, state, records::now_epoch_ms());
  });
  auto [ec] = co_await written->async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    app::metrics().limit_hits.inc("shared_state_write");
    log(log_level::warn, "shared call state: the stream's end was not stored in time; closing anyway",
        {{"call_sid", call_sid}, {"state", state}, {"limit_ms", closing_write_limit.count()}});
  }
}

void shared_streams::ended_by_twilio(const std::string& call_sid) {
  post("stream ended by twilio", [call_sid, instance = config_.instance_id](records::call_store& store) {
    store.stream_ended(call_sid, instance, records::stream_state::ended_by_twilio, records::now_epoch_ms());
  });
}

void shared_streams::stream_over(const std::string& call_sid) {
  post("stream over", [call_sid, instance = config_.instance_id](records::call_store& store) {
    store.stream_dropped(call_sid, instance, records::now_epoch_ms());
  });
}

void shared_streams::said(const std::string& call_sid, const std::string& stream_sid, unsigned line_no,
                          records::transcript_line line) {
  post("transcript line", [call_sid, stream_sid, line_no, line = std::move(line)](records::call_store& store) {
    store.add_transcript_line(call_sid, stream_sid, line_no, line, records::now_epoch_ms());
  });
}

void shared_streams::earlier_transcript(const std::string& call_sid,
                                        std::function<void(std::vector<records::transcript_line>)> then) {
  asio::post(thread_, [this, call_sid, then = std::move(then)] {
    std::vector<records::transcript_line> lines;
    try {
      lines = store_.transcript_so_far(call_sid);
    } catch (const records::store_error& e) {
      log(log_level::error, "shared call state: the earlier transcript could not be read",
          {{"call_sid", call_sid}, {"error", e.what()}});
    }
    then(std::move(lines));
  });
}

asio::awaitable<twilio::http_answer> shared_streams::answer_stream_ended(twilio::form_params params, bool served_here,
                                                                        bool draining) {
  const std::string call_sid(params.get_or("CallSid", ""));
  if (!twilio::is_valid_sid(call_sid)) co_return twilio::answer_stream_ended(false, config_);
  std::optional<fresh_stream> fresh;
  auto task = [this, &call_sid, draining, &fresh]() -> asio::awaitable<twilio::http_answer> {
    co_return decide(call_sid, draining, fresh);
  };
  try {
    auto answer = co_await asio::co_spawn(thread_, task, asio::use_awaitable);
    if (fresh && !draining && on_fresh_stream) on_fresh_stream(call_sid, *fresh);
    co_return answer;
  } catch (const records::store_error& e) {
    log(log_level::error, "stream ended callback: shared call state unavailable, answering from this instance",
        {{"call_sid", call_sid}, {"error", e.what()}});
  }
  co_return twilio::answer_stream_ended(served_here, config_);
}

twilio::http_answer shared_streams::decide(const std::string& call_sid, bool draining,
                                           std::optional<fresh_stream>& fresh) {
  using kind = stream_end_decision::kind;
  std::optional<records::call_stream> stream;
  stream_end_decision decision;
  // Two reads at most: a second request for the same end (Twilio's retry) may claim the fresh stream between
  // this one's read and its claim; then the row is read again and decided on as it stands.
  for (int look = 0; look < 2; ++look) {
    stream = store_.find_stream(call_sid);
    decision = decide_stream_end(stream, config_.max_reconnects);
    if (decision.what != kind::reconnect) break;
    stream = store_.claim_reconnect(call_sid, decision.claim_from, records::now_epoch_ms());
    if (stream) break;
    decision = {kind::apologise, "claimed_elsewhere", {}};
  }
  app::metrics().stream_ends.inc(decision.reason);
  log(decision.what == kind::reconnect ? log_level::warn : log_level::info, "stream ended callback",
      {{"call_sid", call_sid}, {"answer", decision.what == kind::hang_up     ? "hang_up"
                                          : decision.what == kind::reconnect ? "fresh_stream"
                                                                             : "apology"},
       {"reason", decision.reason}, {"instance", stream ? stream->instance : std::string()},
       {"reconnects", stream ? stream->reconnects : 0u}});
  if (decision.what == kind::hang_up) return twilio::answer_stream_ended(true, config_);
  if (decision.what == kind::apologise) return twilio::answer_stream_ended(false, config_);
  // The same route and parameters as the lost stream's, and the count: the new stream's record shows it.
  fresh = fresh_stream_for(*stream);
  if (!draining && call_contexts) fresh->call_context = call_contexts->next_to_name();
  auto stream_url = draining ? config_.stream_url_for(app::stream_path) : config_.stream_url(fresh->call_context);
  return twilio::answer_connect_stream(call_sid, fresh->grant, fresh->parameters, std::move(stream_url), config_,
                                       std::chrono::system_clock::now());
}

}  // namespace voicebridge::server
