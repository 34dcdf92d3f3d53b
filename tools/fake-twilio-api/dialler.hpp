// The Twilio stand-in's part after it created a call: it "dials" the number as Twilio would (Twilio REST API,
// "Call resource", "Create a Call resource" and its StatusCallback parameters; "TwiML for Programmable Voice",
// the request Twilio makes to the call's Url; "Answering Machine Detection", asynchronous AMD). The phone
// at the other end follows a script per number: it rings, then answers as a human or a machine (the media
// stream is played as twilio-sim plays a call), or is busy, or never answers. Every request it makes to the
// gateway is signed with the account's auth token over the URL the call was created with.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "twilio-sim/simulator.hpp"

namespace voicebridge::fake {

enum class callee_answers { human, machine, fax, busy, no_answer, failed };

struct callee_script {
  callee_answers answers = callee_answers::human;
  std::chrono::milliseconds ring{150};
  std::vector<std::uint8_t> audio;  // 8 kHz mu-law: what the human says, or the machine's greeting and beep
  std::uint64_t hang_up_after_bytes = 0;     // > 0: hangs up once it heard this much (linger is the cap)
  std::chrono::milliseconds linger{600};     // after its audio, before it hangs up
  std::vector<std::pair<std::chrono::milliseconds, char>> dtmf;  // keys it presses (time after the stream's start)
  // The AMD verdict: for a human or a fax this long after the answer; for a machine this long after its audio
  // (greeting and beep) has played, as Twilio's DetectMessageEnd waits for the end of the greeting.
  std::chrono::milliseconds amd_after{400};
  // The final status callback is lost (as when the gateway instance it goes to has died): the gateway learns
  // the call's end only by fetching the call resource.
  bool final_callback_lost = false;
};

// An answering machine's greeting: `speech` of voice-like tones, a pause, then a 1 kHz beep of 500 ms (8 kHz
// mu-law). What it records is what it hears after that.
std::vector<std::uint8_t> answering_machine_greeting(std::chrono::milliseconds speech = std::chrono::milliseconds(1200));

// One call as the stand-in dialled it.
struct dialled_call {
  std::string call_sid, from, to;
  std::chrono::steady_clock::time_point created{}, answered{}, ended{};
  std::string final_status;  // Twilio's: completed, busy, no-answer, failed
  std::vector<std::pair<std::string, unsigned>> callbacks;  // status posted, and what the gateway answered
  std::string answered_by;   // the AMD result posted, if any
  unsigned amd_answer = 0;
  sim::call_summary media;   // an answered call's TwiML and stream
  bool done = false;
};

struct dialler_settings {
  std::string account_sid, auth_token;
  std::string gateway_host = "127.0.0.1";  // where the call's URLs are delivered (what a TLS proxy would forward to)
  std::uint16_t gateway_port = 0;          // 0: calls are created, never dialled
  callee_script default_callee;            // for numbers without a script of their own
  std::map<std::string, callee_script> callees;  // by E.164 number
};

class dialler {
 public:
  dialler(boost::asio::io_context& io, dialler_settings settings);
  ~dialler();
  // Dials one created call; `form` is its Calls.json form, as posted.
  void dial(const std::string& call_sid, const std::vector<std::pair<std::string, std::string>>& form);
  void script(const std::string& number, callee_script script);
  void script_others(callee_script script);  // for every number without a script of its own
  void deliver_to(std::uint16_t gateway_port);
  const std::deque<dialled_call>& calls() const;  // in the order they were created
  const dialled_call* find(const std::string& call_sid) const;
  std::size_t most_at_once() const;  // the most calls in progress (created, not ended) at one time

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
