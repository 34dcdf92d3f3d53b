// The simulator's report of a call: a text for people, and JSON for scripts (tools/bench, the load tests).
#include <boost/json.hpp>
#include <sstream>

#include "twilio-sim/simulator.hpp"

namespace voicebridge::sim {

std::string format_summary(const call_summary& s) {
  std::ostringstream out;
  out << "twilio-sim call " << s.call_sid << "\n"
      << "  webhook              HTTP " << s.webhook_status << "\n"
      << "  stream upgrade       HTTP " << s.upgrade_status << " " << s.stream_url << "\n"
      << "  caller frames sent   " << s.frames_sent << " (" << s.bytes_sent << " bytes), dtmf " << s.dtmf_sent << "\n"
      << "  agent frames heard   " << s.frames_received << " (" << s.bytes_received << " bytes, "
      << s.played_audio.size() << " played)\n"
      << "  time to first audio  "
      << (s.time_to_first_audio ? std::to_string(s.time_to_first_audio->count()) + " ms" : std::string("none")) << "\n"
      << "  marks                " << s.marks_received.size() << " received, " << s.marks_echoed << " echoed\n"
      << "  clears               " << s.clears << "\n"
      << "  ended                "
      << (s.server_closed ? "by gateway" + (s.close_code ? " (close " + std::to_string(*s.close_code) + " " + s.close_reason + ")" : " (" + s.close_reason + ")")
                          : std::string("by caller hang-up"))
      << " after " << s.duration.count() << " ms\n";
  for (std::size_t i = 0; i < s.action_answers.size(); ++i)
    out << "  connect action       " << s.action_answers[i]
        << (i < s.reconnect_gaps.size() ? ": agent heard again " + std::to_string(s.reconnect_gaps[i].count()) + " ms after the loss"
                                         : std::string())
        << "\n";
  for (const auto& e : s.protocol_errors) out << "  PROTOCOL ERROR       " << e << "\n";
  if (!s.error.empty()) out << "  ERROR                " << s.error << "\n";
  return out.str();
}

std::string summary_json(const call_summary& s) {
  boost::json::object o{{"call_sid", s.call_sid},
                        {"webhook_status", s.webhook_status},
                        {"upgrade_status", s.upgrade_status},
                        {"frames_sent", s.frames_sent},
                        {"bytes_sent", s.bytes_sent},
                        {"frames_received", s.frames_received},
                        {"bytes_received", s.bytes_received},
                        {"bytes_played", s.played_audio.size()},
                        {"marks_received", s.marks_received.size()},
                        {"marks_echoed", s.marks_echoed},
                        {"clears", s.clears},
                        {"server_closed", s.server_closed},
                        {"duration_ms", s.duration.count()},
                        {"error", s.error}};
  if (s.time_to_first_audio) o["time_to_first_audio_ms"] = s.time_to_first_audio->count();
  if (s.setup_time) o["setup_ms"] = s.setup_time->count();
  if (s.close_code) o["close_code"] = *s.close_code;
  o["fresh_streams"] = s.fresh_streams;
  boost::json::array answers, gaps;
  for (const auto& a : s.action_answers) answers.emplace_back(a);
  for (const auto& g : s.reconnect_gaps) gaps.emplace_back(g.count());
  o["action_answers"] = std::move(answers);
  o["reconnect_gaps_ms"] = std::move(gaps);
  boost::json::array errors;
  for (const auto& e : s.protocol_errors) errors.emplace_back(e);
  o["protocol_errors"] = std::move(errors);
  return boost::json::serialize(o);
}

}  // namespace voicebridge::sim
