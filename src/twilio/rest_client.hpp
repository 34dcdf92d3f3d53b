// Twilio's REST API, the one request the gateway makes mid-call (Twilio REST API, "Call resource", "Update a Call resource": POST Calls/{Sid}.json with Twiml): update a live call with
// new TwiML (a transfer: <Dial>). HTTPS with the system trust store (or SSL_CERT_FILE), HTTP Basic auth
// with the Account SID and Auth Token, bounded by a timeout. The token never reaches a log or an error.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

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

}  // namespace voicebridge::twilio
