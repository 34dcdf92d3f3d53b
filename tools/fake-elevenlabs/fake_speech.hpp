// Local stand-ins for ElevenLabs realtime speech-to-text (ElevenLabs API reference, "Realtime speech to text") and multi-context
// text-to-speech (§2.2), on one port as on the real host. The STT detects speech in the caller's mu-law by
// its level and answers with scripted transcripts (partials while speech goes on, a commit after the VAD
// silence); the TTS answers each context with a tone of its own, as long as its text, with alignment. Both
// enforce the protocol's rules (first message of a context, five contexts, inactivity) and record what the
// gateway sent.
#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace voicebridge::fake {

struct speech_script {
  std::string api_key;  // set: both sockets need xi-api-key
  // Speech to text
  std::vector<std::string> transcripts{"I would like to book a table for two."};  // one per user turn; the last repeats
  int speech_level = 300;     // mean |linear sample| above it: speech
  int min_speech_ms = 100;    // this much speech starts a turn (the first partial)
  int vad_silence_ms = 400;   // this much silence after speech commits it
  std::string stt_error;      // e.g. "quota_exceeded": sent after session_started, then the socket closes
  unsigned stt_refuse_status = 0;  // refuse the STT upgrade with this HTTP status
  int stt_drop_after_commits = 0;  // > 0: drop the socket (close 1011) after that many commits, once
  // Text to speech
  int ms_per_char = 40;       // the audio's length for its text
  int chunk_ms = 200;         // audio per message
  std::string espeak_voice;   // set (e.g. "en"): real speech from espeak-ng instead of tones, for people to listen to
  unsigned tts_refuse_status = 0;
  int tts_drop_after_texts = 0;   // > 0: drop the TTS socket (close 1011) after that many texts, once
  int tts_inactivity_ms = 20000;  // no input this long: input_timeout_exceeded, close 1008 (as the service)
  std::string tls_certificate_chain;  // PEM files: serve wss instead of ws
  std::string tls_private_key;
};

struct speech_record {
  int stt_sessions = 0, tts_sessions = 0, refused_upgrades = 0;
  std::vector<std::string> stt_targets, tts_targets;
  std::vector<std::uint8_t> stt_audio;       // decoded caller audio, over every session
  int stt_keepalives = 0;                    // chunks after more than 250 ms without audio (keep-alives)
  std::vector<std::string> committed;        // transcripts sent as committed_transcript
  int partials = 0;
  std::map<std::string, std::string> context_text;  // the text each context received
  std::vector<std::string> closed_contexts;  // close_context, in order
  std::vector<std::string> finals;           // contexts isFinal was sent for
  int tts_keepalives = 0;
  std::vector<std::string> violations;       // protocol rules the gateway broke (tests require none)
  std::vector<int> gateway_close_codes;      // how the gateway closed the sockets
};

// A context's audio is a tone of this frequency, so tests can tell contexts apart.
unsigned tone_hz(std::string_view context_id);

class fake_speech_server {
 public:
  fake_speech_server(boost::asio::io_context& io, speech_script script, std::uint16_t port = 0);
  ~fake_speech_server();
  std::uint16_t port() const;
  const speech_record& record() const;
  speech_script& script();  // tests may change it between calls

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace voicebridge::fake
