// An outbound call as Twilio's REST API creates it (Twilio REST API, "Call resource", "Create a Call
// resource": POST /2010-04-01/Accounts/{AccountSid}/Calls.json), sans-I/O: the form the gateway posts, and
// what Twilio's answer says (the new call's SID, or Twilio's error code and message).
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "voicebridge/twilio/form.hpp"

namespace voicebridge::twilio {

struct call_creation {
  std::string to, from;           // E.164
  std::string twiml_url;          // fetched (POST, signed) when the callee answers
  std::string status_callback;    // initiated, ringing, answered and completed are posted here
  std::chrono::seconds ring_timeout{30};  // Twilio's `Timeout`: how long it lets the phone ring
  bool machine_detection = false;
  std::string amd_callback;       // with machine detection: where the asynchronous AnsweredBy is posted
};

form_params call_creation_form(const call_creation& call);

struct created_call {
  unsigned status = 0;      // HTTP status; 0 when no answer came
  std::string call_sid;     // on 201
  long twilio_code = 0;     // on a refusal: Twilio's error code (21211: invalid To, 20429: too many requests, ...)
  std::string message;      // Twilio's message, or why no answer came
  bool ok() const { return status == 201 && !call_sid.empty(); }
};

// Twilio's answer to a Calls.json POST: 201 with the call resource, or an error resource with `code` and
// `message` (a body that is neither is reported as such, never taken for success).
created_call read_call_creation_answer(unsigned status, std::string_view body);

// A call as Twilio tells it later (Twilio REST API, "Call resource", "Fetch a Call resource": GET
// Calls/{CallSid}.json): its `status` (queued, ringing, in-progress, canceled, completed, failed, busy,
// no-answer) and `duration` in seconds once it ended.
struct fetched_call {
  unsigned status = 0;      // HTTP status; 0 when no answer came
  std::string call_status;  // Twilio's, on 200
  std::string duration_s;   // on 200, once the call ended ("" before)
  std::string message;      // why there is no call status
  bool ok() const { return status == 200 && !call_status.empty(); }
};
fetched_call read_call_fetch_answer(unsigned status, std::string_view body);

}  // namespace voicebridge::twilio
