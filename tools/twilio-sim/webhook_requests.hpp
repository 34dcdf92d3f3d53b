// The simulator's side of Twilio's HTTP requests to the gateway (Twilio, "Webhooks" and "Security": each a
// form POST signed with X-Twilio-Signature over the public URL): the voice webhook, the <Connect> action
// request, and the TwiML they answer.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "twilio-sim/simulator.hpp"

namespace voicebridge::sim {

// Reads <Response><Connect action><Stream url><Parameter/>... from s.twiml into `s`; false when it is not one.
bool parse_twiml(call_summary& s);

// The call's voice webhook: its status and TwiML into `s` (or an error in s.error).
boost::asio::awaitable<void> post_webhook(const options& o, call_summary& s);

// <Connect> ended while the call is up (the gateway closed the stream, or it broke): Twilio requests the
// action URL for what comes next (TwiML <Connect>, "action"), and the call goes on with its answer. True when
// the answer is a fresh stream (its TwiML then in s.twiml); each answer is noted in s.action_answers.
boost::asio::awaitable<bool> post_connect_action(const options& o, call_summary& s);

}  // namespace voicebridge::sim
