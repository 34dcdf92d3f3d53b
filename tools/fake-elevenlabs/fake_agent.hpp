// A local stand-in for the ElevenLabs Agents WebSocket (ElevenLabs Agents Platform API reference, "WebSocket"), for tests, demos and benchmarks:
// metadata first, pings, greeting audio, echo of the caller's audio, and scripted barge-in, end_call and
// error closes. It records what the gateway sent so tests can check it.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace voicebridge::fake {

struct agent_script {
  std::string output_format = "ulaw_8000";
  std::string input_format = "ulaw_8000";
  std::vector<std::uint8_t> greeting;          // mu-law, sent in 100 ms audio events right after the metadata
  bool echo = true;                            // send each caller chunk back as agent audio
  int interrupt_after_frames = 0;              // > 0: barge-in after that many caller frames
  std::string tool_call_after_greeting;        // a client tool name to call once the greeting is sent
  std::string tool_parameters_json = R"({"reason":"test"})";  // and its parameters
  int close_1008_after_frames = 0;             // > 0: error event + close 1008 (e.g. a rejected override)
  int end_call_after_frames = 0;               // > 0: say a goodbye (the greeting again) and close 1000
  int quota_error_after_metadata = false;      // flat quota error + close 1002 right after the metadata
  unsigned refuse_upgrade_status = 0;          // e.g. 429: refuse the WebSocket upgrade
  int metadata_delay_ms = 0;                   // a slow agent: caller audio arrives before it is ready
  int connect_delay_ms = 0;                    // held before the upgrade is answered (TLS + handshake latency)
  int refuse_first_upgrades = 0;               // the first N conversation upgrades get refuse_first_status
  unsigned refuse_first_status = 503;          // e.g. 429: the service busy for the first N attempts
  int ping_interval_ms = 2000;                 // the agent pings its client periodically (0: only once)
  bool silent_after_metadata = false;          // a hung agent: after the metadata nothing at all, not even a
                                               // ping, while the socket stays open
  bool transcripts = false;                    // agent_response (+ a correction) after the greeting, and a
                                               // user_transcript after 10 caller frames
  std::string user_transcript = "I would like to book a table.";  // what that user_transcript says
  std::string api_key;                         // set: a private agent; get-signed-url checks xi-api-key and the
                                               // socket requires a conversation_signature it issued
  std::string tls_certificate_chain;           // PEM files: serve https/wss instead of http/ws
  std::string tls_private_key;
};

struct agent_record {  // what the gateway sent, over every conversation
  std::vector<std::string> initiations;        // conversation_initiation_client_data messages
  std::vector<std::int64_t> pongs;
  std::vector<std::uint8_t> caller_audio;      // decoded user_audio_chunk bytes, in order
  std::vector<std::string> contextual_updates;
  std::vector<std::string> user_messages;
  std::vector<std::string> tool_results;       // client_tool_result messages
  std::vector<std::string> other_messages;
  int conversations = 0;
  std::vector<int> gateway_close_codes;        // close codes of conversations the gateway closed
  int signed_urls_issued = 0;
  int refused_upgrades = 0;
  std::vector<std::chrono::steady_clock::time_point> upgrade_attempts;  // conversation upgrades, refused or not
  int interruptions_sent = 0;
};

class fake_agent_server {
 public:
  fake_agent_server(boost::asio::io_context& io, agent_script script, std::uint16_t port = 0);
  ~fake_agent_server();
  std::uint16_t port() const;
  const agent_record& record() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
