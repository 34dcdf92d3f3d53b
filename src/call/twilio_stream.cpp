// The Twilio side of a call, its I/O: a reader that parses every frame and hands events to the call's state, a
// single writer that owns all sends, the agent's own coroutine and a watchdog.
#include "call/twilio_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <random>
#include <variant>

#include "app/report_escape.hpp"
#include "call/limit_log.hpp"
#include "call/call_facts.hpp"
#include "call/call_transfer.hpp"
#include "call/machine_gate.hpp"
#include "call/machine_message.hpp"
#include "call/resumption.hpp"
#include "call/stream_reports.hpp"
#include "call/twilio_socket.hpp"
#include "records/call_streams.hpp"
#include "util/overloaded.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/message_queue.hpp"

namespace voicebridge::call {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

call_state_settings state_settings(const app::config& config, upgrade_auth auth) {
  call_state_settings s;
  s.stream_token_key = config.twilio_stream_token;
  s.auth = auth;
  s.max_calls = config.max_calls;
  s.write_timeout = config.write_timeout;
  s.idle_timeout = config.twilio_idle_timeout;
  s.retry_seed = std::random_device{}();
  return s;
}

// The I/O shell of a call: a reader, one writer (frames must not interleave), the agent's loop and a
// watchdog timer. What each of them does next is call_state's decision (call/call_state.hpp).
class twilio_call final : public caller_link, public std::enable_shared_from_this<twilio_call> {
 public:
  twilio_call(tcp::socket& socket, upgrade_auth auth, pending_streams::ticket pending, stream_services& services)
      : tcp_(socket),
        services_(services),
        config_(services.config),
        state_(state_settings(services.config, auth)),
        pending_(std::move(pending)),
        socket_(socket, state_, limits_, {config_.max_outbound_queue_bytes, config_.max_ws_message, config_.http_timeout}),
        starts_(socket.get_executor(), 1),
        began_(std::chrono::steady_clock::now()),
        reports_(services.presence) {}

  asio::awaitable<void> run() {
    socket_.start_watchdog(shared_from_this());
    // One group of three rather than nested `&&`s, whose every level is a coroutine frame more per call. As
    // with `&&`, an exception in one cancels the others and is rethrown.
    const auto executor = tcp_.get_executor();
    auto [order, e1, e2, e3] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(executor, read_loop(), asio::deferred),
                                                         asio::co_spawn(executor, socket_.write_loop(stream_sid_), asio::deferred),
                                                         asio::co_spawn(executor, agent_loop(), asio::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
    (void)order;
    socket_.stop();  // also when the writer was cancelled: the watchdog lets go of the call
    for (const auto& e : {e1, e2, e3})
      if (e) std::rethrow_exception(e);
    const std::string outcome = state_.outcome(facts_.record().outcome);
    if (served_by_gateway(outcome)) services_.completed.add(state_.call_sid());
    if (gate_) facts_.record().answered_by = gate_->answered_by();
    facts_.record().handed_off = reports_.on() && state_.closing_state() == records::stream_state::handed_off;
    reports_.over();
    // One count per call: a fresh stream after a lost or handed-off one is the same call, counted at the end
    // of its first stream (which cannot know that a fresh one will follow).
    if (facts_.record().reconnects == 0) {
      metrics().calls.inc(outcome);
      if (route_) metrics().route_calls.inc(route_->name, outcome);
    }
    if (state_.authenticated())  // only authenticated calls: nobody else can write records
      facts_.save(outcome, state_.end_reason(), services_.disk, services_.records);
    log(log_level::info, "call ended",
        {{"call_sid", state_.call_sid()}, {"route", route_ ? route_->name : ""}, {"stream_sid", stream_sid_},
         {"outcome", outcome}, {"frames_in", facts_.frames_in()},
         {"bytes_in", facts_.bytes_in()}, {"frames_out", facts_.frames_out()}, {"dropped_out", socket_.dropped()},
         {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began_).count()},
         {"end", state_.end_reason()}});
  }

  // caller_link
  void send_audio(std::string_view payload) override {
    facts_.agent_audio(payload, !state_.closing());
    if (state_.closing()) return;
    std::string chunk = util::recycled_text();  // in a string a writer gave back
    chunk.assign(payload);
    socket_.send_audio(std::move(chunk));
  }
  void send_mark(std::string name) override { socket_.send_text(twilio::serialize_mark(stream_sid_, name)); }
  void clear_audio() override {
    if (state_.closing()) return;
    socket_.clear();
    facts_.agent_cleared();
    socket_.send_text(twilio::serialize_clear(stream_sid_));
  }
  void hang_up() override { socket_.send_close(state_.close(close_code::normal, "call ended")); }

  void transfer(const std::string& number) override {
    if (!state_.can_transfer()) return;
    if (config_.twilio_account_sid.empty() || !twilio::is_e164(number)) {
      log(log_level::error, "transfer refused: set TWILIO_ACCOUNT_SID, and dial an E.164 number",
          {{"call_sid", state_.call_sid()}, {"number", number}});
      return;
    }
    state_.begin_transfer();
    asio::co_spawn(tcp_.get_executor(), redirect_to(shared_from_this(), number), app::report_escape("transfer"));
  }

  static asio::awaitable<void> redirect_to(std::shared_ptr<twilio_call> self, std::string number) {
    const bool ok = co_await transfer_call(self->services_.rest, self->state_.call_sid(), number, self->facts_.record());
    self->state_.transfer_done(ok);
  }

  // The drain deadline passed (`total`): end the call as a hang-up would (agent socket closed with 1000). Still
  // here after that (`terminal`): drop the socket, which ends the reader, the writer and then the agent.
  void end_for_drain(asio::cancellation_type how) {
    if (how == asio::cancellation_type::terminal) {
      limits_.hit("drain_terminal", state_.call_sid());
      return socket_.close_socket();
    }
    socket_.send_close(state_.close(close_code::going_away, "gateway shutting down"));
  }

  // The console's End button: the call ends as if the caller hung up, and its record says who ended it.
  void end_by_operator() { socket_.send_close(state_.close(close_code::normal, "ended by operator")); }

  // The call is over, however it ended (run() returned or threw): its places in the budgets are given back
  // now, not when the last handler holding it lets go, and the watchdog stops.
  void finish() {
    socket_.stop();
    if (gate_) gate_->stop();
    registration_.reset();
    pending_.release();
  }

 private:
  // Carries out a step decided on an event from Twilio (the agent's part is the caller's).
  void carry_out(call_step step, std::string_view detail = {}) {
    if (step.refused) {
      const refusal why = *step.refused;
      if (auto limit = limit_of(why)) limits_.hit(*limit, state_.call_sid());
      metrics().rejected_streams.inc(label(why));
      log(log_level::warn, "twilio stream refused",
          {{"call_sid", state_.call_sid()}, {"reason", step.close ? step.close->reason : std::string()}, {"detail", detail},
           {"close_code", step.close ? step.close->code : 0}});
    }
    socket_.send_close(std::move(step.close));
  }

  asio::awaitable<void> read_loop() {
    std::vector<net::ws_message> messages;
    for (;;) {
      const auto end = socket_.parse(messages);
      for (auto& m : messages) {
        if (m.oversized)
          carry_out(state_.on_oversized_message());
        else if (m.what != net::ws_message::kind::text)
          carry_out(state_.on_binary_frame());
        else if (!state_.closing())
          on_message(m.payload);
        socket_.reuse(std::move(m.payload));
      }
      if (end) {
        if (const auto& failure = socket_.read_failure()) carry_out(state_.on_bad_frame(failure->close_code), failure->reason);
        note_read_end(*end);
        break;
      }
      auto [ec, n] = co_await socket_.read_more();
      if (ec) {
        note_read_end(ec);
        break;
      }
      socket_.received(n);
    }
    // The socket is gone: nothing more will come from the caller.
    starts_.close();
    if (agent_) agent_->on_caller_hangup();
    socket_.no_more_writes();
  }

  void note_read_end(const beast::error_code& ec) {
    using how = call_state::read_end;
    const bool was_closing = state_.closing();
    if (ec == websocket::error::closed) {
      state_.on_read_end(how::closed_by_twilio);
      // Twilio ended the stream (the caller hung up): no <Connect action> request follows.
      if (!was_closing) reports_.ended_by_twilio();
      return;
    }
    const auto why = state_.on_read_end(ec == beast::error::timeout ? how::timed_out : how::error);
    log(was_closing ? log_level::debug : log_level::warn, "twilio stream read ended",
        {{"call_sid", state_.call_sid()}, {"reason", why}, {"error", ec.message()}});
  }

  void on_message(std::string_view text) {
    // Media, 50 times a second, is read in place; anything else, or media in another form, through the DOM.
    if (const auto media = twilio::read_media_in_place(text)) return on_media(media->payload);
    auto parsed = twilio::parse_inbound_dom(text);
    if (!parsed) return carry_out(state_.on_invalid_message(), parsed.error().message);
    std::visit(util::overloaded{
                   [&](twilio::connected_message& m) {
                     log(log_level::info, "connected", {{"protocol", m.protocol}, {"version", m.version}});
                   },
                   [&](twilio::start_message& m) { on_start(m); },
                   [&](twilio::media_message& m) { on_media(m.payload); },
                   [&](twilio::dtmf_message& m) { on_dtmf(m.digit[0]); },
                   [&](twilio::mark_message& m) {
                     if (state_.on_mark().what == call_step::kind::to_agent) agent_->on_mark(m.name);
                   },
                   [&](twilio::stop_message&) {
                     log(log_level::info, "stop", {{"call_sid", state_.call_sid()}, {"stream_sid", stream_sid_}});
                     auto step = state_.on_stop();
                     if (step.what == call_step::kind::to_agent) agent_->on_caller_hangup();
                     carry_out(std::move(step));
                   },
                   [&](twilio::unknown_message& m) {
                     log(log_level::debug, "unknown twilio event ignored", {{"call_sid", state_.call_sid()}, {"event", m.event}});
                   },
               },
               *parsed);
  }

  void on_dtmf(char digit) {
    auto step = state_.on_dtmf(digit);
    if (step.what == call_step::kind::close) return carry_out(std::move(step));
    facts_.dtmf(digit, route_->settings.opt_out_key);
    if (step.what == call_step::kind::transfer_to_operator) return transfer(route_->settings.operator_number);
    agent_->on_dtmf(digit);
  }

  void on_start(twilio::start_message& start) {
    if (state_.started()) {
      log(log_level::warn, "duplicate start ignored", {{"call_sid", state_.call_sid()}});
      return;
    }
    auto step = state_.on_start(start, std::chrono::system_clock::now());
    if (state_.authenticated()) facts_.started(start);  // its record is written however it goes on
    if (step.what == call_step::kind::check_room) step = state_.on_room(find_room(start.call_sid));
    if (step.what != call_step::kind::start_agent) return carry_out(std::move(step));
    stream_sid_ = start.stream_sid;
    start_ = start;
    register_call();
    facts_.record().route = route_->name;
    log(log_level::info, "start", {{"call_sid", state_.call_sid()}, {"route", route_->name}, {"stream_sid", stream_sid_}});
    if (route_->settings.record_calls) facts_.record_audio(config_, services_.disk, start.call_sid);
    const auto* amd = start.parameter(twilio::machine_detection_parameter);
    if (amd && *amd == "true") open_machine_gate();
    if (route_->voicemail_only) {
      agent_ = std::make_unique<voicemail_agent>(tcp_.get_executor(), agent_side(), route_->fallback, state_.call_sid());
    } else {
      agent_ = route_->agents.adopt(start, tcp_.get_executor(), agent_link());  // opened at the webhook?
      if (!agent_) agent_ = route_->agents.make(start_, tcp_.get_executor(), agent_side());
    }
    starts_.push(true);
  }

  // An outbound call placed with machine detection: until Twilio's verdict the agent hears the callee, but
  // what it says waits in the gate (call/machine_gate.hpp); a machine ends it for the route's message.
  void open_machine_gate() {
    gate_ = std::make_unique<machine_gate>(tcp_.get_executor(), *this, machine_detection_of(*route_), state_.call_sid(), [this] {
      if (agent_) agent_->on_caller_hangup();  // its run ends; agent_loop leaves the message
    });
    gate_->start(services_.machine_verdicts, std::shared_ptr<machine_gate>(shared_from_this(), gate_.get()));
  }
  // What the call's agents speak to: the gate, if there is one, else the stream itself.
  std::weak_ptr<caller_link> agent_link() {
    if (gate_) return std::shared_ptr<caller_link>(shared_from_this(), gate_.get());
    return weak_from_this();
  }
  caller_link& agent_side() { return gate_ ? static_cast<caller_link&>(*gate_) : *this; }
  bool machine_answered() const { return gate_ && gate_->machine(); }

  // The call's route (as its webhook chose it), and the room for it under MAX_CALLS and the route's share.
  room find_room(const std::string& call_sid) {
    room found;
    found.admitted_by_webhook = services_.admitted.stream_started(call_sid);
    route_ = services_.routes.find(call_sid, state_.route());
    found.route_known = route_ != nullptr;
    found.active_calls = services_.active.size();
    if (!route_) return found;
    found.route_active_calls = services_.active.size(route_->name);
    found.route_max_calls = route_->max_calls;
    if (!route_->settings.operator_number.empty()) found.operator_key = route_->settings.operator_key;
    return found;
  }

  // From its authenticated start the call counts as active (MAX_CALLS, the drain, the gauge), and no longer
  // as pending. The drain's closer runs on the call's executor, where it cannot race the call's own end.
  void register_call() {
    pending_.release();
    tell_presence();
    const auto on_call_thread = [weak = weak_from_this(), executor = tcp_.get_executor()](auto work) {
      asio::post(executor, [weak, work = std::move(work)] {
        if (auto c = weak.lock()) work(*c);
      });
    };
    auto live = facts_.go_live(
        route_->name, [on_call_thread] { on_call_thread([](twilio_call& c) { c.end_by_operator(); }); },
        [on_call_thread](std::string number) { on_call_thread([number](twilio_call& c) { c.transfer(number); }); });
    registration_.emplace(services_.active, [on_call_thread](asio::cancellation_type how) {
      on_call_thread([how](twilio_call& c) { c.end_for_drain(how); });
    }, route_->name, std::move(live));
  }

  // The other instances learn where the stream is served, what is said, and how the gateway ends it (before its
  // close frame leaves: Twilio's <Connect action> request may reach any of them). A fresh stream after a crash
  // gets the earlier transcript: the record and the agent continue from it.
  void tell_presence() {
    reports_.started(start_, route_->name);
    if (!reports_.on()) return;
    socket_.before_close([this] { return reports_.closing(state_.closing_state()); });
    if (facts_.record().reconnects > 0)
      reports_.earlier_transcript(tcp_.get_executor(), [weak = weak_from_this()](auto lines) {
        if (auto c = weak.lock()) c->resume(std::move(lines));
      });
  }
  void resume(std::vector<records::transcript_line> earlier) {
    log(log_level::info, "call resumed on a fresh stream",
        {{"call_sid", state_.call_sid()}, {"reconnects", facts_.record().reconnects}, {"earlier_lines", earlier.size()}});
    if (earlier.empty() || state_.closing()) return;
    if (agent_) agent_->on_context(resumption_context(earlier));
    auto& transcript = facts_.record().transcript;
    transcript.insert(transcript.begin(), std::make_move_iterator(earlier.begin()), std::make_move_iterator(earlier.end()));
  }
  void said(std::string_view role, std::string_view text) override { reports_.said(role, text); }

  void on_media(std::string_view payload) {
    if (auto step = state_.on_media(); step.what != call_step::kind::to_agent) return carry_out(std::move(step));
    facts_.caller_audio(payload, state_.call_sid());
    agent_->on_caller_audio(payload);
  }

  // The agent, its retries and the fallback, as call_state decides after each attempt.
  asio::awaitable<void> agent_loop() {
    asio::steady_timer deadline(tcp_.get_executor());
    deadline.expires_after(config_.stream_auth_timeout);
    auto first = co_await (starts_.pop() || deadline.async_wait(use_tuple));
    if (first.index() == 1) {
      carry_out(state_.on_start_deadline());
      co_return;
    }
    if (!std::get<0>(first)) co_return;  // the socket closed before `start`
    const auto first_attempt = std::chrono::steady_clock::now();
    auto end = co_await agent_->run();
    for (;;) {
      if (machine_answered()) co_return co_await leave_message();
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - first_attempt);
      auto step = state_.on_agent_end(end, elapsed);
      if (step.what == agent_step::kind::retry) {
        // A fresh connection (and a fresh signed URL), made now so that the caller's audio queues for it.
        agent_->describe(facts_.record());
        const bool busy = end == agent_end::rate_limited;
        metrics().agent_retries.inc(busy ? "rate_limited" : "unreachable");
        log(log_level::warn, busy ? "agent busy (429): trying again after a backoff" : "agent unreachable: trying once more",
            {{"call_sid", state_.call_sid()}, {"wait_ms", step.wait.count()}});
        agent_ = route_->agents.make(start_, tcp_.get_executor(), agent_side());
        if (step.wait.count() > 0) {
          asio::steady_timer backoff(tcp_.get_executor(), step.wait);
          co_await backoff.async_wait(use_tuple);
        }
        step = state_.on_backoff_done(end);
        if (step.what == agent_step::kind::run) {
          if (!machine_answered()) end = co_await agent_->run();
          continue;
        }
      } else if (step.what == agent_step::kind::fallback) {
        agent_->describe(facts_.record());
        metrics().fallbacks.inc(step.fallback_reason);
        log(log_level::warn, "agent failed the caller: fallback prompt and voicemail",
            {{"call_sid", state_.call_sid()}, {"reason", step.fallback_reason}});
        clear_audio();  // a failed agent's queued audio would delay the prompt
        agent_ = std::make_unique<voicemail_agent>(tcp_.get_executor(), agent_side(), route_->fallback,
                                                   state_.call_sid());
        step = state_.on_fallback_end(co_await agent_->run());
        if (machine_answered()) co_return co_await leave_message();
      }
      facts_.record().outcome = state_.agent_served() ? records::outcome::agent : records::outcome::agent_failed;
      agent_->describe(facts_.record());
      socket_.send_close(std::move(step.close));
      co_return;
    }
  }

  // A machine answered: what the agent had of the call goes to the record, then the machine gets the route's
  // message (or, for a fax or a route without one, the hang-up).
  asio::awaitable<void> leave_message() {
    agent_->describe(facts_.record());
    auto message = gate_->leaves_message() ? route_->machine_message : nullptr;
    agent_ = std::make_unique<machine_message_agent>(tcp_.get_executor(), *this, std::move(message));
    co_await agent_->run();
    agent_->describe(facts_.record());
  }

  tcp::socket& tcp_;  // the call's socket to Twilio, under socket_
  stream_services& services_;
  const app::config& config_;
  call_state state_;
  pending_streams::ticket pending_;                // until `start` authenticates
  std::optional<call_registration> registration_;  // from then on
  limit_log limits_;
  twilio_socket socket_;  // the writer and the watchdog
  util::message_queue<bool> starts_;
  std::unique_ptr<machine_gate> gate_;  // outbound with machine detection; before agent_, which may speak to it
  std::unique_ptr<agent> agent_;
  twilio::start_message start_;  // for a second connection attempt
  std::shared_ptr<const call_route> route_;  // from the authenticated start on: kept across a reload
  call_facts facts_;  // its record, recording and counters
  std::chrono::steady_clock::time_point began_;
  std::string stream_sid_;
  stream_reports reports_;  // to the other instances
};

}  // namespace

asio::awaitable<void> serve_twilio_stream(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                                          upgrade_auth auth, pending_streams::ticket pending, stream_services& services) {
  const auto& config = services.config;
  tcp::socket socket = beast::tcp_stream(std::move(stream)).release_socket();
  const bool accepted = co_await accept_twilio_socket(socket, upgrade, config.http_timeout);
  upgrade = {};  // this frame lives as long as the call
  if (!accepted) co_return;
  log(log_level::debug, "twilio stream accepted", {{"auth", auth == upgrade_auth::twilio_signature ? "signature" : "pending"}});
  auto call = std::make_shared<twilio_call>(socket, auth, std::move(pending), services);
  struct finish_on_exit {  // also when run() throws
    twilio_call& call;
    ~finish_on_exit() { call.finish(); }
  } guard{*call};
  co_await call->run();
}

}  // namespace voicebridge::call
