// A local stand-in for the Twilio REST endpoints the gateway calls (Twilio REST API, "Call resource"):
// "Update a Call resource", POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json, "Fetch a Call
// resource", GET of the same, and "Create a Call resource", POST .../Calls.json. It checks what Twilio checks (Basic auth with the account's SID and token,
// the path's account, a form body; for an update exactly one of Twiml or Url, Twiml at most 4000 characters;
// for a creation To and From as phone numbers, an absolute http(s) Url, known StatusCallbackEvents, a
// Timeout of 5..600 s, AsyncAmdStatusCallback with AsyncAmd, and the account's calls per second), answers as
// Twilio does (the call resource, or an error JSON with Twilio's code), and records each request for tests.
// HTTPS when given a certificate. Once told where the gateway is (dial_to), it dials each call it created
// (fake-twilio-api/dialler.hpp).
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fake-twilio-api/dialler.hpp"

namespace voicebridge::fake {

struct twilio_api_settings {
  std::string account_sid;
  std::string auth_token;
  std::string tls_certificate_chain;  // PEM files: https instead of http
  std::string tls_private_key;
  unsigned calls_per_second = 1;  // the account's limit on call creation (Twilio's default CPS is 1)
  std::uint16_t port = 0;         // 0: any free one
};

struct call_update {
  std::string call_sid;
  std::string twiml;
  unsigned answered = 0;  // the status the fake answered
};

struct call_creation_request {
  std::vector<std::pair<std::string, std::string>> form;  // as posted, in order
  std::string call_sid;   // the new call's, when accepted
  unsigned answered = 0;  // the status the fake answered
  int twilio_code = 0;    // the error code it answered with, if any
};

class fake_twilio_api {
 public:
  fake_twilio_api(boost::asio::io_context& io, twilio_api_settings settings);
  ~fake_twilio_api();
  std::uint16_t port() const;
  const std::vector<call_update>& updates() const;  // every update request, accepted or not
  const std::vector<call_creation_request>& creations() const;  // every Calls.json request
  std::size_t fetches() const;  // authenticated GETs of a call resource
  // From now on each call created is dialled: its URLs are delivered to the gateway on this loopback port.
  void dial_to(std::uint16_t gateway_port);
  dialler& phones();  // the scripts of the numbers it dials, and what happened on each call

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
