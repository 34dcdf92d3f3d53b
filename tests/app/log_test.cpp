#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <algorithm>
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

BOOST_AUTO_TEST_SUITE(log_escaping)

// No byte from the network reaches the sink raw if a terminal or journald could act on it: C0, DEL, the C1
// controls, and bytes that are not UTF-8. Every byte value, alone and between letters, in both formats.
bool is_control_or_not_text(const std::string& line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == '\n' && i + 1 == line.size()) continue;  // the line's own end
    if (c < 0x20 || c == 0x7F) return true;
    if (c >= 0x80) return true;  // every value below is ASCII but for the byte under test
  }
  return false;
}

BOOST_AUTO_TEST_CASE(every_byte_value_is_escaped_in_text_and_json_lines) {
  for (auto format : {log_format::text, log_format::json}) {
    for (int b = 0; b < 256; ++b) {
      captured_log capture(format);
      const char byte = static_cast<char>(b);
      const std::string value = std::string("a") + byte + "z";
      log(log_level::info, "connected", {{"protocol", value}, {"alone", std::string(1, byte)}});
      const std::string line = capture.out.str();
      BOOST_TEST(!is_control_or_not_text(line), "byte " << b << " reached the log raw: " << line);
      BOOST_TEST(std::count(line.begin(), line.end(), '\n') == 1, "byte " << b << " split the line");
      if (format == log_format::json) {
        boost::json::error_code ec;
        auto parsed = boost::json::parse(line, ec);
        BOOST_TEST_REQUIRE(!ec, "byte " << b << ": not JSON: " << line);
        const std::string logged(parsed.as_object().at("protocol").as_string());
        // What JSON can carry is carried exactly; a byte that is not UTF-8 on its own becomes U+FFFD.
        BOOST_TEST(logged == (b < 0x80 ? value : std::string("a\xEF\xBF\xBDz")), "byte " << b);
      } else if (b > 0x20 && b < 0x7F && b != '"' && b != '=' && b != '\\') {
        BOOST_TEST(line.find("protocol=" + value + " ") != std::string::npos, line);  // plain values stay plain
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(utf8_text_is_kept_and_c1_controls_and_broken_sequences_are_escaped) {
  captured_log capture(log_format::text);
  log(log_level::info, "m", {{"name", "Zoë 日本 🎧"}, {"csi", "\xC2\x9B" "31m"}, {"esc", "\x1b[2J"},
                             {"cr", "a\rb"}, {"nul", std::string("a\0b", 3)}, {"cut", "\xE6\x97"},
                             {"surrogate", "\xED\xA0\x80"}, {"overlong", "\xC0\xAF"}});
  const std::string line = capture.out.str();
  BOOST_TEST(line.find("name=\"Zoë 日本 🎧\"") != std::string::npos, line);
  BOOST_TEST(line.find(R"(csi="\u009b31m")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(esc="\u001b[2J")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(cr="a\rb")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(nul="a\u0000b")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(cut="\ufffd\ufffd")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(surrogate="\ufffd\ufffd\ufffd")") != std::string::npos, line);
  BOOST_TEST(line.find(R"(overlong="\ufffd\ufffd")") != std::string::npos, line);
}

BOOST_AUTO_TEST_SUITE_END()
