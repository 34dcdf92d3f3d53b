// fake-llm: a local OpenAI-compatible Chat Completions stand-in (streamed answers, tool calls).
// Usage: fake-llm [--port N] [--answer TEXT]... [--token-delay-ms N] [--api-key KEY]
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <iostream>

#include "fake-llm/fake_llm.hpp"

int main(int argc, char** argv) {
  using namespace voicebridge;
  fake::llm_script script;
  std::vector<std::string> answers;
  std::uint16_t port = 8091;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (arg == "--answer") answers.emplace_back(argv[i + 1]);  // one per request, in order; the last repeats
    else if (arg == "--token-delay-ms") script.token_delay_ms = std::atoi(argv[i + 1]);
    else if (arg == "--api-key") script.api_key = argv[i + 1];
    else {
      std::cerr << "usage: fake-llm [--port N] [--answer TEXT]... [--token-delay-ms N] [--api-key KEY]\n";
      return 2;
    }
  }
  if (!answers.empty()) script.answers = answers;
  boost::asio::io_context io;
  fake::fake_llm_server server(io, script, port);
  std::cout << "fake-llm listening on http://127.0.0.1:" << server.port() << "/v1 (say \"goodbye\" to end the call)"
            << std::endl;
  io.run();
}
