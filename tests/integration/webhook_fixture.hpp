// The gateway with the business's receiver beside it (tools/webhook-receiver), and the fake agent when a
// test needs one: what the pre-call and post-call webhook tests share.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "integration/gateway_fixture.hpp"
#include "webhook-receiver/webhook_receiver.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::testing {

inline const std::string test_webhook_secret = "whsec_integration_0123456789";

struct webhook_gateway {
  std::unique_ptr<fake::webhook_receiver> receiver;  // on the gateway's loop; gone before it
  gateway gw;

  // `tweak` sees the receiver's URL in `url` and sets what the test wants (postcall/precall URLs, bounds).
  webhook_gateway(fake::receiver_script script, const std::function<void(app::config&, const std::string& url)>& tweak,
                  std::optional<fake::agent_script> agent = {}, app::config base = config())
      : gw(std::move(base), [&](asio::io_context& io, app::config& c) {
          script.secret = test_webhook_secret;  // the receiver checks every signature, as a real one should
          receiver = std::make_unique<fake::webhook_receiver>(io, script);
          c.webhook_secret = test_webhook_secret;
          if (agent) {
            gw.agent = std::make_unique<fake::fake_agent_server>(io, *agent);
            c.elevenlabs_agent_id = "agent_test";
            c.elevenlabs_base_url = "http://127.0.0.1:" + std::to_string(gw.agent->port());
          }
          tweak(c, receiver->url());
        }) {
    app::add_log_secret(test_webhook_secret);
  }
  ~webhook_gateway() { receiver.reset(); }

  static app::config config() {
    auto c = gateway_config();
    c.admin_token = test_admin_token;
    return c;
  }

  const fake::receiver_record& received() const { return receiver->record(); }

  // Twilio's final status for a call, signed as Twilio signs it.
  void completed(const std::string& call_sid) {
    twilio::form_params status;
    status.add("CallSid", call_sid);
    status.add("CallStatus", "completed");
    status.add("CallDuration", "4");
    const auto r = gw.run(signed_post(gw.port, gw.server->config(), std::string(app::status_callback_path), status));
    BOOST_TEST(r.status == 204u);
  }
};

inline http_result api_post(gateway& gw, std::string target, std::string token = test_admin_token) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return gw.run(http_call(gw.port, http::verb::post, std::move(target), {}, std::move(headers)));
}

// Checks a signature with Python's hmac module: an implementation of the receiver's side that shares
// nothing with the gateway's (the README shows the same lines).
inline bool python_verifies(const std::string& secret, const std::string& signature, const std::string& body) {
  char tmpl[] = "/tmp/voicebridge-webhook-XXXXXX";
  const int fd = mkstemp(tmpl);
  BOOST_TEST_REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(tmpl, std::ios::binary) << body;
  const std::string script =
      "import hmac, hashlib, sys, time\n"
      "secret, header, path = sys.argv[1:4]\n"
      "parts = dict(p.split('=', 1) for p in header.split(','))\n"
      "body = open(path, 'rb').read()\n"
      "expected = hmac.new(secret.encode(), parts['t'].encode() + b'.' + body, hashlib.sha256).hexdigest()\n"
      "fresh = abs(time.time() - int(parts['t'])) < 300\n"
      "sys.exit(0 if fresh and hmac.compare_digest(expected, parts['v1']) else 1)\n";
  const std::string command = "python3 -c \"$VB_SCRIPT\" '" + secret + "' '" + signature + "' '" + tmpl + "'";
  setenv("VB_SCRIPT", script.c_str(), 1);
  const int rc = std::system(command.c_str());
  unsetenv("VB_SCRIPT");
  std::remove(tmpl);
  return rc == 0;
}

}  // namespace voicebridge::testing
