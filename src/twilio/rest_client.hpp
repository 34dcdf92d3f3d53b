// Twilio's REST API (Twilio REST API, "Call resource"): update a live call with new TwiML ("Update a Call
// resource": POST Calls/{Sid}.json with Twiml, a transfer's <Dial>), create an outbound call ("Create a
// Call resource": POST Calls.json), and read a call's status ("Fetch a Call resource": GET Calls/{Sid}.json).
// HTTPS with the system trust store (or SSL_CERT_FILE), HTTP Basic auth with the Account SID and Auth Token,
// bounded by a timeout. The token never reaches a log or an error.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "twilio/call_creation.hpp"

namespace boost::asio::ssl {
class context;
}

namespace voicebridge::twilio {

struct rest_settings {
  std::string api_base;  // https://api.twilio.com (http://host:port only for local stand-ins)
  std::string account_sid;
  std::string auth_token;
  std::shared_ptr<boost::asio::ssl::context> tls;  // for https
  std::chrono::milliseconds timeout{10000};
};

struct rest_result {
  unsigned status = 0;  // HTTP status; 0 when no answer came
  std::string error;    // why, when not 2xx: the failed step, or the status and Twilio's error JSON
  bool ok() const { return status >= 200 && status < 300; }
};

// POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json with Twiml=...
boost::asio::awaitable<rest_result> update_call_twiml(const rest_settings& settings, const std::string& call_sid,
                                                      const std::string& twiml);

// POST /2010-04-01/Accounts/{AccountSid}/Calls.json with the call's form.
boost::asio::awaitable<created_call> create_call(const rest_settings& settings, const call_creation& call);

// GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json: the call's status now.
boost::asio::awaitable<fetched_call> fetch_call(const rest_settings& settings, const std::string& call_sid);

}  // namespace voicebridge::twilio
