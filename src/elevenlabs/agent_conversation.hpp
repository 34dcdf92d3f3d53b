// The conversation behind elevenlabs::session, over net::ws_client: its I/O (connect, reader, writer, the
// pre-warm's wait) in conversation.cpp, what it does with each message in conversation_messages.cpp.
// Private to elevenlabs/.
#pragma once
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "call/limit_log.hpp"
#include "elevenlabs/conversation.hpp"
#include "elevenlabs/conversation_end.hpp"
#include "elevenlabs/transcoder.hpp"
#include "net/ws_client.hpp"
#include "voicebridge/elevenlabs/agent_messages.hpp"
#include "voicebridge/util/message_queue.hpp"

namespace voicebridge::elevenlabs {

class conversation final : public session {
 public:
  conversation(const boost::asio::any_io_executor& executor, const agent_settings& settings, std::string call_sid,
               dynamic_variables variables);

  // session
  void attach(call::caller_link& caller, std::shared_ptr<call::caller_link> keepalive) override;
  bool connected() const override { return connected_; }
  void close() override;
  boost::asio::awaitable<void> prewarm(std::function<void(bool)> on_result, std::function<bool()> expire,
                                       std::function<void()> on_end) override;
  // call::agent
  void on_caller_audio(std::string_view payload) override;
  void on_dtmf(char digit) override;
  void on_mark(std::string_view name) override;
  void on_caller_hangup() override { close(); }  // the writer then closes the agent socket with 1000
  void on_context(const std::string& text) override;
  boost::asio::awaitable<call::agent_end> run() override;
  void describe(records::call_record& record) const override;

 private:
  // conversation.cpp: the I/O
  boost::asio::awaitable<bool> serve(const std::function<void(bool)>* on_result);
  boost::asio::awaitable<bool> connect();
  boost::asio::awaitable<bool> open();
  boost::asio::awaitable<bool> handshake(const net::service_address& address, const std::string& target);
  boost::asio::awaitable<void> await_precall_answer();  // the business's variables, within the request's deadline
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  void expire_unless_adopted(std::function<bool()> expire);
  void watch_silence();
  bool fail(const std::string& reason);
  conversation_facts facts() const;

  // conversation_messages.cpp: what each message does
  bool take_metadata(std::string_view text);  // the first message; false: not a usable metadata
  void on_message(std::string_view text);
  void on_audio(std::string_view audio_base64, std::int64_t event_id);
  void on_interruption(std::int64_t event_id);
  void on_tool_call(const client_tool_call& t);
  void deliver_audio(std::string_view audio_base64, std::int64_t event_id);
  void forward_caller_audio(std::string_view payload);
  void report_line(std::string_view role, const std::string& text);

  boost::asio::any_io_executor executor_;
  call::caller_link* caller_ = nullptr;  // null until attached (a pre-warmed conversation waiting for its call)
  std::shared_ptr<call::caller_link> caller_keepalive_;
  const agent_settings& settings_;
  std::string call_sid_, conversation_id_, close_reason_;
  net::ws_client ws_;
  util::message_queue<std::string> out_;
  boost::asio::steady_timer goodbye_;
  boost::asio::steady_timer done_;            // wakes run() when a pre-warmed conversation ends
  boost::asio::steady_timer adopt_deadline_;  // a pre-warmed conversation's wait for its call
  boost::asio::steady_timer silence_;         // AGENT_IDLE_TIMEOUT_MS: one timer per conversation, not per read
  // Vectors, not deques: both are drained once and then stay empty, and an empty std::deque holds 576 bytes.
  std::vector<std::pair<std::string, std::int64_t>> early_audio_;  // agent audio before the call adopted us
  std::string early_transfer_;  // a number the agent asked to transfer to before the call adopted us
  // Lines said before the call adopted us (a pre-warmed greeting's agent_response), as said: the call reports
  // them to the other instances when it adopts us, or a fresh stream after a crash would not hear of them.
  std::vector<std::pair<std::string, std::string>> early_lines_;
  initiation_client_data init_;
  interruption_filter filter_;
  std::unique_ptr<transcoder> transcoder_;  // only when the agent is not set to ulaw_8000 (not inline: most calls have none)
  std::vector<std::string> pending_;      // caller audio before the agent is ready
  bool ready_ = false;
  int close_code_ = -1;
  std::uint64_t barge_ins_ = 0;
  call::limit_log limits_;
  bool caller_gone_ = false;
  bool prewarmed_ = false, connected_ = false, ended_ = false;
  connect_refusal refusal_ = connect_refusal::none;  // why connecting failed, for a retry
  bool quota_error_ = false;  // an error event about quota arrived
  records::call_record facts_;  // transcript lines, for the call record
  std::optional<std::int64_t> first_audio_ms_;
  std::optional<std::int64_t> last_marked_turn_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point attached_at_ = created_;
  std::chrono::steady_clock::time_point last_received_ = created_;  // the agent's last message
};

}  // namespace voicebridge::elevenlabs
