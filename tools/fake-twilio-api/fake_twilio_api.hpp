// A local stand-in for the one Twilio REST endpoint the gateway calls (Twilio REST API, "Call resource", "Update a Call resource"): update a call,
// POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json. It checks what Twilio checks (Basic auth
// with the account's SID and token, the path's account, a form body with exactly one of Twiml or Url,
// Twiml at most 4000 characters), answers as Twilio does (the call resource, or an error JSON), and
// records each request for tests. HTTPS when given a certificate.
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace voicebridge::fake {

struct twilio_api_settings {
  std::string account_sid;
  std::string auth_token;
  std::string tls_certificate_chain;  // PEM files: https instead of http
  std::string tls_private_key;
};

struct call_update {
  std::string call_sid;
  std::string twiml;
  unsigned answered = 0;  // the status the fake answered
};

class fake_twilio_api {
 public:
  fake_twilio_api(boost::asio::io_context& io, twilio_api_settings settings);
  ~fake_twilio_api();
  std::uint16_t port() const;
  const std::vector<call_update>& updates() const;  // every request, accepted or not

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
