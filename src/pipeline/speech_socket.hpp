// One of pipeline mode's ElevenLabs sockets (speech-to-text or text-to-speech) for one call: a bounded
// connect, one writer fed by a bounded queue, a reader handing each message on, and reconnection with
// backoff when the socket drops for a reason that may pass. Runs on the call's executor.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "call/limit_log.hpp"
#include "voicebridge/util/message_queue.hpp"
#include "net/ws_client.hpp"

namespace voicebridge::pipeline {

struct speech_socket_settings {
  std::string name;  // "stt" or "tts": logs and metrics
  net::service_address address;
  std::string target;          // path and query
  net::header_list headers;    // xi-api-key: never logged
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};  // net::ws_client pings at half of it; silence for all of it drops the socket
  std::size_t max_queued = 1000;                  // messages waiting to be sent (20 s of caller frames)
  int reconnect_attempts = 3;                     // per drop, with 200, 400, 800 ms between them
};

enum class socket_end {
  closed,       // close() was called (the call is over, or the agent ends it)
  failed,       // dropped, and reconnecting failed (or it was marked permanent)
};

class speech_socket {
 public:
  speech_socket(const boost::asio::any_io_executor& executor, speech_socket_settings settings, std::string call_sid,
                std::function<void(std::string_view)> on_message);

  // The first connection; an error code when it failed (net::error::timed_out past connect_timeout).
  // `refused`: it will not pass by retrying (a 4xx other than 429).
  boost::asio::awaitable<boost::system::error_code> connect(bool& refused);
  // What a failed connect() met, for a log line.
  std::string failure(const boost::system::error_code& ec) const;
  // The first connection was answered 429: worth trying again after a backoff.
  bool rate_limited() const { return rate_limited_; }
  // Reads and writes until closed or failed for good, reconnecting on the way; `on_reconnected` runs after
  // each successful reconnection (what was queued meanwhile is still queued: clear_queue() drops it).
  boost::asio::awaitable<socket_end> run(std::function<void()> on_reconnected);

  void send(std::string text);  // queued in order; a full queue drops it (counted as a limit)
  void close();                 // the writer closes the socket with 1000 after what is queued
  void clear_queue() { out_.clear(); }
  void fail_for_good() { permanent_ = true; }  // a non-retryable error: the next drop is final
  int close_code() const { return close_code_; }

 private:
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<bool> reconnect();

  boost::asio::any_io_executor executor_;
  speech_socket_settings settings_;
  std::string call_sid_;
  std::function<void(std::string_view)> on_message_;
  std::unique_ptr<net::ws_client> ws_;
  util::message_queue<std::string> out_;
  boost::asio::steady_timer lost_;     // expired when the reader ends: wakes the writer
  boost::asio::steady_timer backoff_;  // cancelled by close()
  call::limit_log limits_;
  int close_code_ = -1;
  bool closing_ = false;
  bool permanent_ = false;
  bool rate_limited_ = false;
};

}  // namespace voicebridge::pipeline
