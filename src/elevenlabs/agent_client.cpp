#include "elevenlabs/agent_client.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <mutex>

#include "app/report_escape.hpp"
#include "call/executor_bridge.hpp"
#include "elevenlabs/conversation.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

namespace voicebridge::elevenlabs {
namespace asio = boost::asio;
using app::log;
using app::log_level;
using app::metrics;

namespace {

// A pre-warmed conversation adopted by a call: on the call's io thread, or on another (call/executor_bridge.hpp).
class adopted_agent final : public call::agent {
 public:
  adopted_agent(std::shared_ptr<session> session, asio::any_io_executor session_executor,
                const asio::any_io_executor& call_executor, std::weak_ptr<call::caller_link> caller)
      : bridge_(session, session_executor, session_executor == call_executor), session_(std::move(session)) {
    auto link = std::make_shared<call::caller_on_executor>(call_executor, std::move(caller), bridge_.direct());
    asio::dispatch(session_executor, [s = session_, link] { s->attach(*link, link); });
  }

  void on_caller_audio(std::string_view payload) override { bridge_.on_caller_audio(payload); }
  void on_dtmf(char digit) override { bridge_.on_dtmf(digit); }
  void on_mark(std::string_view name) override { bridge_.on_mark(name); }
  void on_caller_hangup() override { bridge_.on_caller_hangup(); }
  void on_context(const std::string& text) override { bridge_.on_context(text); }

  asio::awaitable<call::agent_end> run() override {
    // The conversation's run() on its own executor; this coroutine resumes on the call's. Once it returned,
    // the conversation does nothing more and may be read from here.
    // (On one io thread, as the stream's URL arranges: no hop, and no co_spawn frames.)
    call::agent_end end{};
    if (bridge_.direct()) {
      end = co_await session_->run();
    } else {
      auto there = run_session(session_);
      end = co_await asio::co_spawn(bridge_.executor(), std::move(there), asio::use_awaitable);
    }
    if (end == call::agent_end::unreachable && !session_->connected()) metrics().prewarms.inc("failed_after_adoption");
    co_return end;
  }
  void describe(records::call_record& record) const override { session_->describe(record); }

 private:
  static asio::awaitable<call::agent_end> run_session(std::shared_ptr<session> session) {
    const auto end = co_await session->run();
    co_return end;
  }

  call::agent_on_executor bridge_;
  std::shared_ptr<session> session_;
};

}  // namespace

dynamic_variables call_variables(const std::vector<std::pair<std::string, std::string>>& parameters,
                                 const agent_settings& settings) {
  dynamic_variables variables;
  for (const auto& [name, value] : parameters) {
    if (name == twilio::stream_token_parameter || name == twilio::route_parameter) continue;
    variables.emplace_back(name == "from" ? "caller_number" : name == "to" ? "called_number" : name, value);
  }
  for (const auto& [name, value] : settings.route_variables)
    if (std::none_of(variables.begin(), variables.end(), [&](const auto& v) { return v.first == name; }))
      variables.emplace_back(name, value);
  return variables;
}

std::unique_ptr<call::agent> make_agent(const asio::any_io_executor& executor, call::caller_link& caller,
                                        const agent_settings& settings, const twilio::start_message& start) {
  auto result = make_session(executor, settings, start.call_sid, call_variables(start.custom_parameters, settings));
  result->attach(caller, nullptr);
  return result;
}

struct prewarm_pool::impl {
  struct entry {
    std::shared_ptr<session> conversation;
    asio::any_io_executor executor;
  };
  const agent_settings& settings;
  mutable std::mutex mutex;
  std::map<std::string, entry> pending;

  explicit impl(const agent_settings& settings_) : settings(settings_) {}

  // Removes this call's entry if it still holds `conversation`; false when a call took it first.
  bool remove(const std::string& call_sid, const session* conversation) {
    std::lock_guard lock(mutex);
    auto it = pending.find(call_sid);
    if (it == pending.end() || it->second.conversation.get() != conversation) return false;
    pending.erase(it);
    return true;
  }
};

prewarm_pool::prewarm_pool(const agent_settings& settings) : impl_(std::make_shared<impl>(settings)) {}

prewarm_pool::~prewarm_pool() {
  std::map<std::string, impl::entry> left;
  {
    std::lock_guard lock(impl_->mutex);
    left.swap(impl_->pending);
  }
  for (auto& [sid, e] : left) asio::dispatch(e.executor, [c = e.conversation] { c->close(); });
}

void prewarm_pool::open(const std::string& call_sid, dynamic_variables variables,
                        const asio::any_io_executor& executor) {
  std::shared_ptr<session> conversation;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->pending.contains(call_sid)) {
      log(log_level::info, "webhook retried: pre-warmed agent reused", {{"call_sid", call_sid}});
      return;
    }
    conversation = make_session(executor, impl_->settings, call_sid, std::move(variables));
    impl_->pending.emplace(call_sid, impl::entry{conversation, executor});
  }
  metrics().prewarms.inc("opened");
  const session* key = conversation.get();
  std::weak_ptr<impl> pool = impl_;
  auto forget = [pool, call_sid, key] {
    auto p = pool.lock();
    return p && p->remove(call_sid, key);
  };
  std::function<void(bool)> on_result = [forget](bool connected) {
    // A failed pre-warm leaves nothing behind: the stream's `start` connects as usual.
    if (!connected && forget()) metrics().prewarms.inc("failed");
  };
  std::function<void()> on_end = [forget] { forget(); };
  // The completion handler holds the conversation until it ends.
  asio::co_spawn(executor, conversation->prewarm(std::move(on_result), forget, std::move(on_end)),
                 [conversation](std::exception_ptr e) { app::report_escape("prewarm")(e); });
}

std::unique_ptr<call::agent> prewarm_pool::adopt(const twilio::start_message& start,
                                                 const asio::any_io_executor& call_executor,
                                                 std::weak_ptr<call::caller_link> caller) {
  impl::entry found;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->pending.find(start.call_sid);
    if (it == impl_->pending.end()) {
      metrics().prewarms.inc("miss");
      return nullptr;
    }
    found = std::move(it->second);
    impl_->pending.erase(it);
  }
  metrics().prewarms.inc("hit");
  // The stream should have come to the io thread its URL named (net/call_contexts.hpp); each hop costs.
  if (found.executor != call_executor) metrics().prewarms.inc("adopted_across_threads");
  return std::make_unique<adopted_agent>(found.conversation, found.executor, call_executor, std::move(caller));
}

}  // namespace voicebridge::elevenlabs
