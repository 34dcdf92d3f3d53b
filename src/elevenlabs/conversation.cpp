#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>

#include "elevenlabs/agent_conversation.hpp"
#include "call/precall_answers.hpp"
#include "elevenlabs/signed_url.hpp"
#include "util/recycled_text.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::elevenlabs {
namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using namespace asio::experimental::awaitable_operators;
using app::log;
using app::log_level;
using app::metrics;
using std::chrono::steady_clock;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view goodbye_mark = "agent-goodbye";
}  // namespace

conversation::conversation(const asio::any_io_executor& executor, const agent_settings& settings, std::string call_sid,
                           dynamic_variables variables)
    : executor_(executor),
      settings_(settings),
      call_sid_(std::move(call_sid)),
      ws_(executor, settings.tls),
      out_(executor, settings.max_buffered_messages),
      goodbye_(executor),
      done_(executor, asio::steady_timer::time_point::max()),
      adopt_deadline_(executor),
      silence_(executor) {
  init_.dynamic_variables = std::move(variables);
  init_.config_override_json = settings.config_override_json;
  // A pong owed to the agent goes with the next message; when none is queued, an empty one wakes the writer
  // to send it alone (net::ws_client::write).
  ws_.on_control_owed([this] { out_.push(std::string{}); });
}

void conversation::close() {
  caller_gone_ = true;
  out_.close();
  goodbye_.cancel();
}

conversation_facts conversation::facts() const {
  conversation_facts f;
  f.connected = connected_;
  f.refusal = refusal_;
  f.caller_gone = caller_gone_;
  f.close_code = close_code_;
  f.caller_heard_agent = first_audio_ms_.has_value();
  f.quota_error = quota_error_;
  return f;
}

asio::awaitable<call::agent_end> conversation::run() {
  if (prewarmed_) {  // adopted: the conversation has been running since the webhook
    while (!ended_) {
      auto [ec] = co_await done_.async_wait(use_tuple);
      (void)ec;  // cancelled when it ended
    }
  } else {
    co_await serve(nullptr);
  }
  const auto end = end_of_conversation(facts());
  if (!end.play_goodbye) co_return end.end;
  // The agent said goodbye (end_call): let it finish playing, then end the Twilio leg.
  caller_->send_mark(std::string(goodbye_mark));
  goodbye_.expires_after(settings_.goodbye_cap);
  co_await goodbye_.async_wait(use_tuple);
  caller_->hang_up();
  co_return end.end;
}

void conversation::on_mark(std::string_view name) {
  if (name == goodbye_mark) goodbye_.cancel();
}

asio::awaitable<void> conversation::prewarm(std::function<void(bool)> on_result, std::function<bool()> expire,
                                            std::function<void()> on_end) {
  prewarmed_ = true;
  expire_unless_adopted(std::move(expire));
  co_await serve(&on_result);
  on_end();
  ended_ = true;
  done_.cancel();
  adopt_deadline_.cancel();
}

// Not adopted in time (the stream went to another instance, or never came): close with 1000. A plain
// handler rather than a coroutine beside this one, which would cost two frames and a parallel group.
void conversation::expire_unless_adopted(std::function<bool()> expire) {
  adopt_deadline_.expires_after(settings_.prewarm_timeout);
  adopt_deadline_.async_wait([alive = weak_from_this(), expire = std::move(expire)](const boost::system::error_code& ec) {
    auto self = alive.lock();
    if (ec || !self) return;
    auto& c = static_cast<conversation&>(*self);
    if (c.caller_ || c.ended_ || !expire()) return;
    metrics().prewarms.inc("expired");
    log(log_level::info, "pre-warmed agent expired: no stream came",
        {{"call_sid", c.call_sid_}, {"conversation_id", c.conversation_id_}});
    c.close();
  });
}

// The whole conversation: connect, then read and write until either side ends it. False if it never
// connected. (A pointer, not a defaulted std::function. GCC 12: docs/gcc12-coroutines.md)
asio::awaitable<bool> conversation::serve(const std::function<void(bool)>* on_result) {
  const auto began = steady_clock::now();
  connected_ = co_await connect();
  if (on_result) (*on_result)(connected_);
  if (!connected_) co_return false;
  const auto connect_time = steady_clock::now() - began;
  metrics().agent_connect_seconds.observe(connect_time);
  log(log_level::info, "agent connected",
      {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"prewarm", prewarmed_ ? "true" : "false"},
       {"connect_ms", std::chrono::duration_cast<std::chrono::milliseconds>(connect_time).count()}});
  watch_silence();
  // The reader and the writer: as `&&` does (the first exception cancels the other and is rethrown), without
  // the frame `&&` adds.
  auto [order, read_error, write_error] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(executor_, reader(), asio::deferred),
                                                       asio::co_spawn(executor_, writer(), asio::deferred))
          .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  (void)order;
  silence_.cancel();
  if (read_error) std::rethrow_exception(read_error);
  if (write_error) std::rethrow_exception(write_error);
  metrics().agent_close_codes.inc(close_code_ < 0 ? "none" : std::to_string(close_code_));
  log(log_level::info, "agent conversation ended",
      {{"call_sid", call_sid_}, {"conversation_id", conversation_id_}, {"close_code", close_code_},
       {"close_reason", close_reason_}, {"barge_ins", barge_ins_}});
  co_return true;
}

// AGENT_IDLE_TIMEOUT_MS: nothing from the agent for that long (it pings every few seconds) drops its socket,
// and the reader says why. One timer per conversation, woken once per timeout, where Beast's idle timer is
// re-armed at every read and write. A plain handler: no coroutine frame of its own.
void conversation::watch_silence() {
  silence_.expires_at(last_received_ + settings_.idle_timeout);
  silence_.async_wait([alive = weak_from_this()](const boost::system::error_code& ec) {
    auto self = alive.lock();
    if (ec || !self) return;
    auto& c = static_cast<conversation&>(*self);
    if (steady_clock::now() - c.last_received_ >= c.settings_.idle_timeout) return c.ws_.drop();
    c.watch_silence();  // heard from since: look again at the new deadline
  });
}

bool conversation::fail(const std::string& reason) {
  log(log_level::error, "agent unavailable", {{"call_sid", call_sid_}, {"reason", reason}});
  return false;
}

// The signed URL (for a private agent), the WebSocket, the initiation data, then the metadata, all bounded
// by connect_timeout.
asio::awaitable<bool> conversation::connect() {
  asio::steady_timer deadline(executor_);
  deadline.expires_after(settings_.connect_timeout);
  auto result = co_await (open() || deadline.async_wait(use_tuple));
  if (result.index() == 1) {
    limits_.hit("agent_connect_timeout", call_sid_);
    co_return fail("connect timeout");
  }
  co_return std::get<0>(result);
}

// A public agent is reached directly, a private one through a signed URL.
asio::awaitable<bool> conversation::open() {
  const auto base = net::parse_service_url(settings_.base_url);
  if (!base) co_return fail("ELEVENLABS_BASE_URL is not a URL");
  if (settings_.api_key.empty()) {
    const std::string target = "/v1/convai/conversation?agent_id=" + settings_.agent_id;
    const bool ok = co_await handshake(*base, target);
    co_return ok;
  }
  const auto answer = co_await fetch_signed_url(executor_, settings_.tls, *base, settings_.agent_id, settings_.api_key);
  if (!answer.url) {
    refusal_ = answer.refusal;
    co_return fail(answer.error);
  }
  const bool ok = co_await handshake(*answer.url, answer.url->target);
  co_return ok;
}

asio::awaitable<bool> conversation::handshake(const net::service_address& address, const std::string& target) {
  // The target of a signed URL carries its signature: the log's redaction masks it by name.
  log(log_level::debug, "agent handshake",
      {{"call_sid", call_sid_}, {"host", address.host}, {"port", address.port}, {"target", target}});
  const net::header_list no_headers;
  const std::chrono::milliseconds own_clock{0};  // the idle bound is watch_silence()'s
  if (auto ec = co_await ws_.connect(address, target, no_headers, own_clock)) {
    refusal_ = refusal_of_upgrade(ws_.upgrade_status());
    co_return fail(ws_.failure(ec));
  }
  co_await await_precall_answer();
  const std::string initiation = serialize_initiation(init_);
  const std::string_view initiation_text = initiation;  // a named view (GCC 12: docs/gcc12-coroutines.md)
  if (auto [ec, bytes] = co_await ws_.write(initiation_text); ec) co_return fail("send initiation: " + ec.message());
  std::string metadata;
  if (auto ec = co_await ws_.read(metadata)) {
    if (ec != websocket::error::closed) co_return fail("read metadata: " + ec.message());
    const auto& reason = ws_.peer_close();
    if (is_permanent_close(reason.code, reason.reason)) refusal_ = connect_refusal::refused;
    co_return fail("closed before metadata: " + std::to_string(reason.code) + " " + reason.reason);
  }
  last_received_ = steady_clock::now();
  co_return take_metadata(metadata);
}

// The pre-call webhook runs beside the connection (server/precall.cpp): by now it has often answered; if
// not, the initiation waits for it until its deadline (PRECALL_TIMEOUT_MS after the voice webhook), then
// goes with the route's defaults. Woken from the answering thread through a timer on this executor.
asio::awaitable<void> conversation::await_precall_answer() {
  if (!settings_.precalls) co_return;
  auto wake = std::make_shared<asio::steady_timer>(executor_);
  const auto look = settings_.precalls->watch(call_sid_, [wake, executor = executor_] {
    asio::post(executor, [wake] { wake->cancel(); });
  });
  if (!look.expected) co_return;
  if (!look.done) {
    wake->expires_at(look.deadline);
    co_await wake->async_wait(use_tuple);
  }
  auto answer = settings_.precalls->take(call_sid_);
  if (answer) merge_precall(init_, answer->dynamic_variables, answer->config_override_json);
  log(log_level::debug, "pre-call answer taken", {{"call_sid", call_sid_}, {"used", answer ? "true" : "false"}});
}

// Every message one read of the socket brought, in order (net::ws_client's parse / read_more / received: no
// coroutine frame per message).
asio::awaitable<void> conversation::reader() {
  std::vector<net::ws_message> messages;
  std::optional<boost::system::error_code> end;
  for (;;) {
    end = ws_.parse(messages);
    for (auto& m : messages) {
      last_received_ = steady_clock::now();
      on_message(m.payload);
      ws_.reuse(std::move(m.payload));
    }
    if (end) break;
    auto [ec, n] = co_await ws_.read_more();
    ws_.received(ec, n);
    if (ec) {
      end = ec;
      break;
    }
  }
  if (caller_gone_) {
    close_reason_ = "caller hung up";
    close_code_ = net::ws_normal_closure;
  } else if (*end == websocket::error::closed) {
    close_code_ = ws_.peer_close().code;
    close_reason_ = ws_.peer_close().reason;
  } else if (*end == net::error::ws_protocol_error) {
    close_code_ = -1;
    close_reason_ = "agent broke the WebSocket protocol: " + ws_.protocol_failure()->reason;
  } else {
    close_code_ = -1;
    // watch_silence() dropped the socket, or it failed: the clock says which.
    const bool silent = steady_clock::now() - last_received_ >= settings_.idle_timeout;
    if (silent) limits_.hit("agent_idle_timeout", call_sid_);
    close_reason_ = silent ? "agent silent past AGENT_IDLE_TIMEOUT_MS" : end->message();
  }
  out_.close();
}

asio::awaitable<void> conversation::writer() {
  while (auto text = co_await out_.pop()) {
    const std::string_view message = *text;  // a named view (GCC 12: docs/gcc12-coroutines.md)
    if (auto [ec, bytes] = co_await ws_.write(message); ec) break;
    util::recycle_text(std::move(*text));
  }
  co_await ws_.close(net::ws_normal_closure);
}

std::unique_ptr<session> make_session(const asio::any_io_executor& executor, const agent_settings& settings,
                                      std::string call_sid, dynamic_variables variables) {
  return std::make_unique<conversation>(executor, settings, std::move(call_sid), std::move(variables));
}

}  // namespace voicebridge::elevenlabs
