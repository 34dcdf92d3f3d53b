// fake-elevenlabs: the local ElevenLabs agent stand-in.
// Usage: fake-elevenlabs [--port N] [--greeting-wav F] [--connect-delay-ms N] [--transcripts 1]
//                        [--close-1008-after-frames N] [--speech-port N] [--transcript TEXT]... [--tts-voice V]
//                        [--tls-cert CHAIN.pem --tls-key KEY.pem]
// With --tls-cert and --tls-key the agent serves https and wss (the benchmark's TLS figures).
// With --speech-port it also serves realtime speech-to-text and multi-context text-to-speech (pipeline mode).
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "fake-elevenlabs/fake_agent.hpp"
#include "fake-elevenlabs/fake_speech.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/wav.hpp"

int main(int argc, char** argv) {
  using namespace voicebridge;
  fake::agent_script script;
  std::uint16_t port = 8090;
  std::optional<std::uint16_t> speech_port;
  fake::speech_script speech;
  speech.espeak_voice = "en";  // people listen to the demo: real words
  std::vector<std::string> transcripts;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (arg == "--greeting-wav") {
      auto wav = audio::read_wav_file(argv[i + 1]);
      if (!wav) {
        std::cerr << "fake-elevenlabs: " << wav.error().message << "\n";
        return 2;
      }
      script.greeting = audio::to_mulaw_8k(*wav);
    } else if (arg == "--connect-delay-ms") {
      script.connect_delay_ms = std::atoi(argv[i + 1]);  // as a far-away agent's TLS + handshake would take
    } else if (arg == "--transcripts") {
      script.transcripts = std::atoi(argv[i + 1]) != 0;  // agent_response (+ correction), user_transcript
    } else if (arg == "--close-1008-after-frames") {
      script.close_1008_after_frames = std::atoi(argv[i + 1]);  // an agent failing mid-call (the fallback demo)
    } else if (arg == "--speech-port") {
      speech_port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    } else if (arg == "--tts-voice") {
      speech.espeak_voice = argv[i + 1];  // "tone": test tones; otherwise an espeak-ng voice (default en)
    } else if (arg == "--tls-cert") {
      script.tls_certificate_chain = argv[i + 1];
    } else if (arg == "--tls-key") {
      script.tls_private_key = argv[i + 1];
    } else if (arg == "--transcript") {
      transcripts.emplace_back(argv[i + 1]);  // what the caller "said" in each turn, in order; the last repeats
    } else {
      std::cerr << "usage: fake-elevenlabs [--port N] [--greeting-wav FILE] [--connect-delay-ms N] [--transcripts 1]\n"
                   "                       [--close-1008-after-frames N] [--speech-port N] [--transcript TEXT]...\n"
                   "                       [--tts-voice VOICE|tone] [--tls-cert CHAIN.pem --tls-key KEY.pem]\n";
      return 2;
    }
  }
  if (script.greeting.empty()) {
    std::vector<std::int16_t> tone(8000);  // one second of a 523 Hz tone
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<std::int16_t>(7000 * std::sin(2 * M_PI * 523 * i / 8000.0));
    script.greeting = audio::mulaw_encode(tone);
  }
  if (script.tls_certificate_chain.empty() != script.tls_private_key.empty()) {
    std::cerr << "fake-elevenlabs: --tls-cert and --tls-key go together\n";
    return 2;
  }
  boost::asio::io_context io;
  fake::fake_agent_server server(io, script, port);
  std::cout << "fake-elevenlabs listening on " << (script.tls_certificate_chain.empty() ? "http" : "https")
            << "://127.0.0.1:" << server.port() << std::endl;
  if (!transcripts.empty()) speech.transcripts = transcripts;
  if (speech.espeak_voice == "tone") speech.espeak_voice.clear();
  std::optional<fake::fake_speech_server> speech_server;
  if (speech_port) {
    speech_server.emplace(io, speech, *speech_port);
    std::cout << "fake-elevenlabs speech-to-text and text-to-speech on http://127.0.0.1:" << speech_server->port() << std::endl;
  }
  io.run();
}
