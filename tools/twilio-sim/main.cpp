// twilio-sim: one simulated Twilio call against a running voicebridge. Run with --help.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "twilio-sim/simulator.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/audio/wav.hpp"
#include <cmath>

namespace {

constexpr const char* usage = R"(usage: twilio-sim [options]
  --url URL            where voicebridge listens (default http://127.0.0.1:8080)
  --public-base-url U  the URL Twilio is configured with (default: PUBLIC_BASE_URL or --url)
  --auth-token T       Twilio auth token used to sign (default: TWILIO_AUTH_TOKEN)
  --from, --to NUMBER  the caller's and the called number (E.164; the called number picks the route)
  --wav FILE           caller audio (any WAV; converted to 8 kHz mu-law); default: a 300 Hz tone
  --seconds N          length of the default tone (default 3)
  --out FILE           write what the caller heard as a WAV
  --dtmf MS:KEY        press KEY MS milliseconds after start (repeatable)
  --linger-ms N        keep listening N ms after the caller audio ends (default 1500)
  --keep-streaming     while listening, keep sending silent frames as Twilio does for a quiet caller
  --follow-action      when the gateway closes (or loses) the stream, request <Connect action> and follow it
                       (a speech-to-text service then hears the caller stop talking)
  --stream-delay-ms N  wait N ms between the webhook answer and the stream upgrade, as Twilio does
                       while it sets up the call's media (default 0)
  --json               print the summary as JSON
)";

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

[[noreturn]] void die(const std::string& message) {
  std::cerr << "twilio-sim: " << message << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace voicebridge;
  sim::options opts;
  std::string url = "http://127.0.0.1:8080", out_path;
  opts.public_base_url = env_or("PUBLIC_BASE_URL", "");
  opts.auth_token = env_or("TWILIO_AUTH_TOKEN", "");
  opts.linger = std::chrono::milliseconds(1500);
  int tone_seconds = 3;
  bool json = false, have_wav = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--url") url = value();
    else if (arg == "--public-base-url") opts.public_base_url = value();
    else if (arg == "--auth-token") opts.auth_token = value();
    else if (arg == "--from") opts.from = value();
    else if (arg == "--to") opts.to = value();
    else if (arg == "--out") out_path = value();
    else if (arg == "--json") json = true;
    else if (arg == "--keep-streaming") opts.keep_streaming = true;
    else if (arg == "--follow-action") opts.follow_connect_action = true;
    else if (arg == "--seconds") tone_seconds = std::max(1, std::atoi(value().c_str()));
    else if (arg == "--linger-ms") opts.linger = std::chrono::milliseconds(std::atoi(value().c_str()));
    else if (arg == "--stream-delay-ms") opts.stream_delay = std::chrono::milliseconds(std::atoi(value().c_str()));
    else if (arg == "--wav") {
      auto wav = audio::read_wav_file(value());
      if (!wav) die(wav.error().message);
      opts.caller_audio = audio::to_mulaw_8k(*wav);
      have_wav = true;
    } else if (arg == "--dtmf") {
      const std::string v = value();
      const auto colon = v.find(':');
      if (colon == std::string::npos || colon + 2 != v.size()) die("--dtmf expects MS:KEY, e.g. 1500:5");
      opts.dtmf.emplace_back(std::chrono::milliseconds(std::atoi(v.substr(0, colon).c_str())), v[colon + 1]);
    } else {
      die("unknown option " + arg + "\n" + usage);
    }
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http") die("--url must be http://host:port");
  opts.host = std::string(parsed->host());
  opts.port = parsed->has_port() ? parsed->port_number() : 80;
  if (opts.public_base_url.empty()) opts.public_base_url = url;
  while (opts.public_base_url.ends_with('/')) opts.public_base_url.pop_back();
  if (opts.auth_token.empty()) die("no auth token: pass --auth-token or set TWILIO_AUTH_TOKEN");
  if (!have_wav) {
    std::vector<std::int16_t> tone(8000 * static_cast<std::size_t>(tone_seconds));
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<std::int16_t>(6000 * std::sin(2 * 3.14159265 * 300 * i / 8000.0));
    opts.caller_audio = audio::mulaw_encode(tone);
  }

  boost::asio::io_context io;
  sim::call_summary summary;
  boost::asio::co_spawn(io, sim::run_call(opts), [&](std::exception_ptr e, sim::call_summary s) {
    if (e) std::rethrow_exception(e);
    summary = std::move(s);
  });
  io.run();
  std::cout << (json ? sim::summary_json(summary) + "\n" : sim::format_summary(summary));
  if (!out_path.empty()) {
    if (auto w = audio::write_file(out_path, audio::serialize_mulaw_wav(summary.played_audio)); !w)
      die(w.error().message);
    if (!json) std::cout << "  wrote                " << out_path << " (" << summary.played_audio.size() / 8 << " ms)\n";
  }
  return summary.error.empty() && summary.protocol_errors.empty() ? 0 : 1;
}
