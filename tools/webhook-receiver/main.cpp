// webhook-receiver: a local stand-in for the business's system, printing each webhook voicebridge sends
// and whether its signature verifies. Usage: webhook-receiver [--port N] [--secret S] [--status N]...
//   [--answer JSON] (the body of 2xx answers: a pre-call answer, say)
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "webhook-receiver/webhook_receiver.hpp"

int main(int argc, char** argv) {
  using namespace voicebridge;
  fake::receiver_script script;
  std::vector<unsigned> statuses;
  std::uint16_t port = 8093;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port") port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (arg == "--secret") script.secret = argv[i + 1];
    else if (arg == "--status") statuses.push_back(static_cast<unsigned>(std::atoi(argv[i + 1])));
    else if (arg == "--answer") script.answer_body = argv[i + 1];
    else {
      std::cerr << "usage: webhook-receiver [--port N] [--secret S] [--status N]... [--answer JSON]\n";
      return 2;
    }
  }
  if (!statuses.empty()) script.statuses = statuses;
  boost::asio::io_context io;
  fake::webhook_receiver receiver(io, script, port);
  std::cout << "webhook-receiver listening on " << receiver.url() << std::endl;
  // Prints what arrived, once a second.
  std::size_t shown = 0;
  boost::asio::steady_timer tick(io);
  std::function<void()> show = [&] {
    const auto& requests = receiver.record().requests;
    for (; shown < requests.size(); ++shown)
      std::cout << "POST " << requests[shown].target << " -> " << requests[shown].answered << " (Idempotency-Key "
                << requests[shown].idempotency_key << ")\n" << requests[shown].body << std::endl;
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](const boost::system::error_code& ec) { if (!ec) show(); });
  };
  show();
  io.run();
}
