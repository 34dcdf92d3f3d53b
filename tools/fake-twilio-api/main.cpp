// fake-twilio-api: the local stand-in for Twilio's REST API, as a process (tools/outbound-demo). Run with --help.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "fake-twilio-api/fake_twilio_api.hpp"

namespace {

constexpr const char* usage = R"(usage: fake-twilio-api [options]
  --port N               listen on 127.0.0.1:N (default 8091)
  --account-sid AC...    the account (default: TWILIO_ACCOUNT_SID)
  --auth-token T         its auth token: checks Basic auth, signs what it sends (default: TWILIO_AUTH_TOKEN)
  --calls-per-second N   the account's limit on call creation (default 1, Twilio's default)
  --gateway-port N       dial each call created: its URLs go to 127.0.0.1:N (default: calls are not dialled)
  --callee NUMBER=KIND   how that number answers: human, machine, fax, busy, no-answer, failed (default
                         human); a human says a few words, listens for 8 s and hangs up; a machine plays
                         a greeting and a beep, records what follows, and Twilio's AMD says so
)";

[[noreturn]] void die(const std::string& message) {
  std::cerr << "fake-twilio-api: " << message << "\n";
  std::exit(2);
}

std::string env_or(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::uint16_t port_of(const std::string& text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) die("not a port: " + text);
  return static_cast<std::uint16_t>(value);
}

voicebridge::fake::callee_script callee(const std::string& kind) {
  using voicebridge::fake::callee_answers;
  voicebridge::fake::callee_script s;
  if (kind == "human") s.answers = callee_answers::human;
  else if (kind == "busy") s.answers = callee_answers::busy;
  else if (kind == "no-answer") s.answers = callee_answers::no_answer;
  else if (kind == "failed") s.answers = callee_answers::failed;
  else if (kind == "machine") s.answers = callee_answers::machine;
  else if (kind == "fax") s.answers = callee_answers::fax;
  else die("--callee: unknown kind " + kind + " (human, machine, fax, busy, no-answer, failed)");
  s.ring = std::chrono::milliseconds(1500);
  s.linger = std::chrono::seconds(8);
  if (s.answers == callee_answers::machine) {
    // Its greeting and beep, then it records until the gateway hangs up (at most 20 s).
    s.audio = voicebridge::fake::answering_machine_greeting(std::chrono::milliseconds(2400));
    s.linger = std::chrono::seconds(20);
    return s;
  }
  // Two seconds of a voice-like signal, then it listens (8 kHz mu-law).
  s.audio.resize(16000);
  for (std::size_t i = 0; i < s.audio.size(); ++i) s.audio[i] = static_cast<std::uint8_t>((i * 13 + 29) % 253);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace voicebridge;
  fake::twilio_api_settings settings{env_or("TWILIO_ACCOUNT_SID"), env_or("TWILIO_AUTH_TOKEN"), "", "", 1, 8091};
  std::uint16_t gateway_port = 0;
  std::vector<std::pair<std::string, fake::callee_script>> callees;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--port") {
      settings.port = port_of(value());
    } else if (arg == "--account-sid") {
      settings.account_sid = value();
    } else if (arg == "--auth-token") {
      settings.auth_token = value();
    } else if (arg == "--calls-per-second") {
      settings.calls_per_second = port_of(value());
    } else if (arg == "--gateway-port") {
      gateway_port = port_of(value());
    } else if (arg == "--callee") {
      const std::string spec = value();
      const auto eq = spec.find('=');
      if (eq == std::string::npos) die("--callee: expected NUMBER=KIND");
      callees.emplace_back(spec.substr(0, eq), callee(spec.substr(eq + 1)));
    } else {
      die("unknown option " + arg + " (see --help)");
    }
  }
  if (settings.account_sid.empty() || settings.auth_token.empty()) die("--account-sid and --auth-token are required");
  boost::asio::io_context io;
  fake::fake_twilio_api api(io, settings);
  api.phones().script_others(callee("human"));
  for (auto& [number, script] : callees) api.phones().script(number, std::move(script));
  if (gateway_port) api.dial_to(gateway_port);
  std::cerr << "fake-twilio-api: listening on 127.0.0.1:" << api.port()
            << (gateway_port ? ", dialling to 127.0.0.1:" + std::to_string(gateway_port) : std::string()) << "\n";
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](auto, int) { io.stop(); });
  io.run();
}
