// TwiML answers, built with tinyxml2; every attribute and text is escaped, tab, LF and CR as character
// references, so each value reads back exactly as given (TwiML is XML: Twilio, "TwiML for Programmable Voice").
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace voicebridge::twilio {

// Twilio's limit on one <Parameter>: name and value together must stay under 500 characters.
inline constexpr std::size_t max_parameter_chars = 499;

struct connect_stream_twiml {
  std::string stream_url;     // wss://host/path, no query string
  std::string connect_action;  // optional: URL Twilio requests when <Connect> ends
  std::vector<std::pair<std::string, std::string>> parameters;  // <Parameter name value>
};

// <Response><Connect [action]><Stream url><Parameter .../>...</Stream></Connect></Response>
std::string render_connect_stream(const connect_stream_twiml& twiml);
// <Response><Say language>text</Say><Hangup/></Response>: busy line, unavailable service, apology.
std::string render_say_hangup(const std::string& text, const std::string& language);
// <Response><Hangup/></Response>
std::string render_hangup();
// <Dial>number</Dial>: a transfer to a human (the call's TwiML is replaced through the REST API).
std::string render_dial(const std::string& number);
// +, then 8 to 15 digits (E.164): what a transfer may dial.
bool is_e164(std::string_view number);

}  // namespace voicebridge::twilio
