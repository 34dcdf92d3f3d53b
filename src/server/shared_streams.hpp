// Several instances on one PostgreSQL: each call's stream, where it is served and how it ended, kept in the
// shared call store (records/call_streams.hpp), and the answer to Twilio's <Connect action> request read from
// it on whichever instance the request lands: the hang-up, the apology, or a fresh stream to this instance
// for a call whose stream was lost with its instance (kill -9, a broken link) or handed off by a draining one.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "call/stream_presence.hpp"
#include "records/call_store.hpp"
#include "server/stream_end.hpp"
#include "voicebridge/app/config.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/webhook.hpp"

namespace voicebridge::net {
class call_contexts;
}

namespace voicebridge::server {

class shared_streams final : public call::stream_presence {
 public:
  // Its own connection (the record writer's batches never delay a call's close) and its own thread.
  shared_streams(const app::config& config, std::unique_ptr<records::sql_connection> connection);
  ~shared_streams() override;

  void started(const std::string& call_sid, const std::string& route,
               std::vector<std::pair<std::string, std::string>> parameters) override;
  boost::asio::awaitable<void> closing(std::string call_sid, std::string_view state) override;
  void ended_by_twilio(const std::string& call_sid) override;
  void stream_over(const std::string& call_sid) override;
  void said(const std::string& call_sid, const std::string& stream_sid, unsigned line_no,
            records::transcript_line line) override;
  void earlier_transcript(const std::string& call_sid,
                          std::function<void(std::vector<records::transcript_line>)> then) override;

  // Twilio's <Connect action> request (signed; `params` its form), answered from the store: the row says how
  // the stream ended, wherever it was served (this instance's own list would take a link that broke under a
  // call it served for a normal end). A store that cannot answer leaves that list: `served_here` hangs up.
  // A draining instance names no instance in the fresh stream's URL: the load balancer picks a live one.
  boost::asio::awaitable<twilio::http_answer> answer_stream_ended(twilio::form_params params, bool served_here,
                                                                  bool draining);
  // A fresh stream to this instance was just answered (on the request's executor): the gateway pre-warms
  // the route's agent while Twilio opens it. Set before start().
  std::function<void(const std::string& call_sid, const fresh_stream& stream)> on_fresh_stream;
  // Where calls run: a fresh stream's URL names the io thread that its pre-warm takes. Set before start().
  net::call_contexts* call_contexts = nullptr;

  // Beats every `beat` (instances table) and, each time, counts the live streams of the other instances per
  // route: what the voice webhook's admission adds to its own (MAX_CALLS and a route's max_calls hold across
  // instances, to within one beat). An instance silent for `alive_within` counts nowhere.
  void start();
  // No more beats; what was posted to the store runs first. Afterwards nothing posted runs. Idempotent.
  void stop();
  std::size_t streams_elsewhere() const;
  std::size_t streams_elsewhere(std::string_view route) const;
  static constexpr std::chrono::milliseconds beat{1000};
  static constexpr std::chrono::milliseconds alive_within{3000};

  // How long the closing write may hold the close frame back.
  static constexpr std::chrono::milliseconds closing_write_limit{1000};
  // Rows are kept this long after their last change (Twilio ends a call after 4 hours at most), and looked
  // for that often.
  static constexpr std::chrono::hours rows_kept{24};
  static constexpr std::chrono::hours prune_every{1};
  // Reports waiting for the store at most (a few per call: its start, its lines, its end).
  static constexpr std::size_t max_queued = 50'000;

 private:
  void post(std::string what, std::function<void(records::call_store&)> work);
  // `fresh`: set to what the fresh stream carries when the answer is one.
  twilio::http_answer decide(const std::string& call_sid, bool draining, std::optional<fresh_stream>& fresh);
  void prune_now_and_then();
  boost::asio::awaitable<void> beat_loop();
  void take_counts(std::vector<std::pair<std::string, std::size_t>> counts);

  const app::config& config_;
  records::call_store store_;
  std::atomic<std::int64_t> next_prune_ms_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> queue_full_logged_{false};
  mutable std::mutex counts_mutex_;
  std::map<std::string, std::size_t, std::less<>> elsewhere_;  // live streams on the other instances, by route
  std::size_t elsewhere_total_ = 0;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<boost::asio::steady_timer> beat_timer_;
  boost::asio::thread_pool thread_{1};  // last: joined first, while the store is still there
};

}  // namespace voicebridge::server
