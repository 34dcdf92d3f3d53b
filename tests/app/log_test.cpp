#include <boost/test/unit_test.hpp>
#include <sstream>

#include "call/limit_log.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

using namespace voicebridge::app;

namespace {

struct captured_log {
  std::ostringstream out;
  explicit captured_log(log_format format) {
    set_log_sink(&out);
    configure_logging(log_level::debug, format);
  }
  ~captured_log() {
    set_log_sink(nullptr);
    configure_logging(log_level::info, log_format::text);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(log_redaction)

BOOST_AUTO_TEST_CASE(registered_secrets_never_appear) {
  captured_log capture(log_format::text);
  add_log_secret("registered-secret-value-1234");
  log(log_level::error, "oops", {{"detail", "the key was registered-secret-value-1234, really"}});
  BOOST_TEST(capture.out.str().find("registered-secret-value-1234") == std::string::npos);
  BOOST_TEST(capture.out.str().find("[redacted]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credentials_are_masked_by_name_in_text_lines) {
  captured_log capture(log_format::text);
  log(log_level::info, "url", {{"target", "/v1/convai/conversation?agent_id=a1&conversation_signature=SIGVALUE9"},
                               {"query", "/ws?token=TOKVALUE8"},
                               {"stream_token", "STREAMTOK7"},
                               {"x-twilio-signature", "HMACVALUE6="},
                               {"signature_present", "true"},
                               {"reason", "stream token expired"}});
  const auto line = capture.out.str();
  for (auto secret : {"SIGVALUE9", "TOKVALUE8", "STREAMTOK7", "HMACVALUE6"})
    BOOST_TEST(line.find(secret) == std::string::npos, secret << " leaked: " << line);
  BOOST_TEST(line.find("agent_id=a1") != std::string::npos);        // not a credential
  BOOST_TEST(line.find("signature_present=true") != std::string::npos);
  BOOST_TEST(line.find("reason=\"stream token expired\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credentials_are_masked_in_json_lines_and_nested_json) {
  captured_log capture(log_format::json);
  log(log_level::info, "msg", {{"signed_url", "wss://h/v1/x?agent_id=a&conversation_signature=SIGX1"},
                               {"body", R"({"token":"NESTED2","xi-api-key":"KEY3"})"},
                               {"call_sid", "CA0123"}});
  const auto line = capture.out.str();
  for (auto secret : {"SIGX1", "NESTED2", "KEY3", "wss://h"})
    BOOST_TEST(line.find(secret) == std::string::npos, secret << " leaked: " << line);
  BOOST_TEST(line.find("\"call_sid\":\"CA0123\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_limit_is_counted_every_time_and_logged_once_per_call_and_limit) {
  captured_log capture(log_format::text);
  const auto queue_before = metrics().limit_hits.value("outbound_queue");
  const auto idle_before = metrics().limit_hits.value("twilio_idle_timeout");
  voicebridge::call::limit_log call_a, call_b;
  for (int i = 0; i < 5; ++i) call_a.hit("outbound_queue", "CA_a");
  call_a.hit("twilio_idle_timeout", "CA_a");
  call_b.hit("outbound_queue", "CA_b");
  BOOST_TEST(metrics().limit_hits.value("outbound_queue") == queue_before + 6);
  BOOST_TEST(metrics().limit_hits.value("twilio_idle_timeout") == idle_before + 1);
  const auto text = capture.out.str();
  std::size_t lines = 0;
  for (auto p = text.find("limit reached"); p != std::string::npos; p = text.find("limit reached", p + 1)) ++lines;
  BOOST_TEST(lines == 3u);  // a/outbound_queue, a/twilio_idle_timeout, b/outbound_queue
  BOOST_TEST(text.find("call_sid=CA_b limit=outbound_queue") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
