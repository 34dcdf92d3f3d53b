// What a call session needs from whatever answers the caller (the local agent, an ElevenLabs agent, a
// pipeline), and what it offers that agent toward the caller. Both run on the call's executor.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "records/call_record.hpp"

namespace voicebridge::twilio {
struct start_message;
}

namespace voicebridge::call {

// The caller's side of the call, as an agent sees it. All calls return at once: audio is queued.
class caller_link {
 public:
  virtual ~caller_link() = default;
  virtual void send_audio(std::string_view payload_base64) = 0;  // 8 kHz mu-law, base64; copied if kept
  virtual void send_mark(std::string name) = 0;
  virtual void clear_audio() = 0;  // drop queued audio and flush Twilio's playback buffer
  virtual void hang_up() = 0;      // end the stream once queued audio is sent
  // Hand the caller to a human at `number` (E.164) through Twilio's REST API; the stream ends when Twilio
  // redirects the call. A failure (no Twilio account configured, REST error) is logged, and the call goes on.
  virtual void transfer(const std::string& number) = 0;
  // A line of the conversation as it is said ("user" or "agent"), kept as the call goes: a fresh stream after
  // a crash tells its agent what was said. Agents that keep no transcript never call it.
  virtual void said(std::string_view /*role*/, std::string_view /*text*/) {}
};

// How an agent's run ended. The call falls back to the prompt and voicemail on anything but `served`; an
// `unreachable` or `rate_limited` agent may be tried again first (call/agent_retry.hpp).
enum class agent_end {
  served,                 // the conversation ran until either side ended it
  unreachable,            // never got going for a reason that may pass (connect, TLS, 5xx, early close)
  rate_limited,           // never got going: the service answered 429 (busy or at its concurrency limit)
  refused,                // never got going and never will by retrying (1008, quota, bad credentials)
  failed_mid_call,        // failed after the caller had heard it
};

class agent {
 public:
  virtual ~agent() = default;
  // Events from the caller, delivered as they arrive; they must not block. The views are valid only during the
  // call (they point into the message just read): copy what is kept.
  virtual void on_caller_audio(std::string_view payload_base64) = 0;  // 8 kHz mu-law, base64, validated
  virtual void on_dtmf(char digit) = 0;
  virtual void on_mark(std::string_view name) = 0;
  virtual void on_caller_hangup() = 0;
  // What the agent should know that the caller did not say now (a call resumed after a crash: what was said
  // before). Agents without a conversation ignore it.
  virtual void on_context(const std::string& /*text*/) {}
  // Runs the conversation; returns when it is over.
  virtual boost::asio::awaitable<agent_end> run() = 0;
  // After run(): what the agent knows for the call record (conversation id, transcript, voicemail, ...).
  virtual void describe(records::call_record&) const {}
};

// Makes the agent that answers a call: given to the call by the server, which knows the configured kind
// (local, ElevenLabs agent, pipeline), so that the call depends on none of their implementations.
class agent_factory {
 public:
  virtual ~agent_factory() = default;
  // The conversation opened for this call at its webhook (pre-warm), if one is waiting for it; nullptr if not.
  virtual std::unique_ptr<agent> adopt(const twilio::start_message& start, const boost::asio::any_io_executor& executor,
                                       std::weak_ptr<caller_link> caller) = 0;
  // A fresh agent for the call, connecting now (also for a second attempt: a fresh connection and signed URL).
  virtual std::unique_ptr<agent> make(const twilio::start_message& start, const boost::asio::any_io_executor& executor,
                                      caller_link& caller) = 0;
};

}  // namespace voicebridge::call
