// The gateway with the Twilio REST stand-in dialling what it creates and the fake ElevenLabs agent: what the
// outbound call tests share (placing calls with POST /api/calls, waiting for the dialled calls to end).
#pragma once
#include "fake-twilio-api/fake_twilio_api.hpp"
#include "gateway_fixture.hpp"

namespace voicebridge::testing {

inline const std::string outbound_account_sid = "AC" + std::string(32, '7');

struct outbound_gateway {
  gateway gw;

  // `fake_token`: the auth token the Twilio stand-in holds (the gateway's own unless a test says otherwise);
  // `tweak`: the test's own settings over outbound_gateway::config().
  // `twilio_cps`: the stand-in account's calls per second (20429 beyond it).
  // `with_io`: stand-ins of the test's own started on the gateway's loop (a webhook receiver, say).
  explicit outbound_gateway(fake::agent_script agent = {}, std::string fake_token = "",
                            const std::function<void(app::config&)>& tweak = {}, unsigned twilio_cps = 10,
                            const std::function<void(asio::io_context&, app::config&)>& with_io = {})
      : gw(config(), [&](asio::io_context& io, app::config& c) {
          if (tweak) tweak(c);
          if (with_io) with_io(io, c);
          gw.agent = std::make_unique<fake::fake_agent_server>(io, agent);
          c.elevenlabs_agent_id = "agent_test";
          c.elevenlabs_base_url = "http://127.0.0.1:" + std::to_string(gw.agent->port());
          fake::twilio_api_settings api{outbound_account_sid, fake_token.empty() ? c.twilio_auth_token : fake_token, "", "",
                                        twilio_cps};
          gw.twilio_api = std::make_unique<fake::fake_twilio_api>(io, api);
          c.twilio_api_base = "http://127.0.0.1:" + std::to_string(gw.twilio_api->port());
        }) {
    gw.twilio_api->dial_to(gw.port);  // the stand-in delivers the calls' URLs to this gateway
  }

  static app::config config() {
    auto c = gateway_config();
    c.admin_token = test_admin_token;
    c.twilio_account_sid = outbound_account_sid;
    return c;
  }

  fake::dialler& phones() { return gw.twilio_api->phones(); }

  http_result place(std::string body, std::string key = "", std::string token = test_admin_token) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return gw.run(http_call(gw.port, http::verb::post, "/api/calls", std::move(body), std::move(headers)));
  }

  // Until every dialled call has ended and its status callbacks were answered.
  void wait_dialled(std::size_t calls) {
    gw.run_until([&] {
      std::size_t done = 0;
      for (const auto& c : phones().calls()) done += c.done ? 1 : 0;
      return done == calls;
    });
    gw.settle();
  }
};

inline std::string call_sid_of(const http_result& r) {
  return std::string(boost::json::parse(r.body).as_object().at("call_sid").as_string());
}

// A string field of a JSON object, "(absent)" when it is not there.
inline std::string text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "(absent)";
}

}  // namespace voicebridge::testing
