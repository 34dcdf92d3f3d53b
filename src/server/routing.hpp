// The routes in force: the route table (server/routes.hpp) and, per route, its agents (prompts, pre-warm
// pool), built together as one generation at start and at each reload. The voice webhook chooses a route
// for the called number and the hour; the call's stream finds the same route again by its token-bound
// name. A call holds its generation for as long as it runs, and so does a call between its webhook and its
// stream, so that a reload changes only what new calls get.
#pragma once
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "call/call_route.hpp"
#include "server/configured_agents.hpp"
#include "server/routes.hpp"

namespace voicebridge::call {
class precall_answers;
}

namespace voicebridge::server {

class route_generation;

// What the voice webhook decided for a call.
struct route_choice {
  std::shared_ptr<const call::call_route> route;
  std::string grant;  // the route <Parameter> its stream token is bound to: "name", or "name/voicemail"
  configured_agents* agents = nullptr;  // to pre-warm the conversation
};

class routing final : public call::route_finder {
 public:
  // The routes file (ROUTES_FILE), or the environment as the one route; throws app::config_error with one
  // line naming the file, the route and the key.
  // `precalls`: where the pre-call webhook's answers wait for the agents (nullptr: nowhere).
  routing(const app::config& base, boost::asio::thread_pool& disk, call::precall_answers* precalls = nullptr);
  ~routing() override;

  // Reads and checks the routes file again: new calls get the new routes. On an error the routes in force
  // stay, and the error (one line, as at start) is returned.
  std::optional<std::string> reload();

  // The voice webhook: the route for the called number at `now` (after hours, the route's voicemail or the
  // route it names); nullopt when no route takes the number.
  std::optional<route_choice> choose(std::string_view to, std::chrono::system_clock::time_point now);
  // An outbound call: the route it was placed for, by name, whatever the hour (whoever placed the call chose
  // the time); nullopt when the routes in force have no such route any more.
  std::optional<route_choice> choose_named(std::string_view name);
  // The route table in force, kept alive for as long as the caller holds it (POST /api/calls checks with it).
  std::shared_ptr<const route_table> table();
  // Keeps the chosen route for the call's stream on this instance, for `hold` (the webhook's admission).
  void hold_for_stream(const std::string& call_sid, std::shared_ptr<const call::call_route> route);

  std::shared_ptr<const call::call_route> find(const std::string& call_sid, std::string_view grant) override;
  // The route a stream's route <Parameter> grants ("name", "name/voicemail", "": the catch-all) in the routes
  // in force: what a fresh stream of the call will find.
  std::optional<route_choice> choose_granted(std::string_view grant);

 private:
  std::shared_ptr<route_generation> load() const;
  static std::optional<route_choice> granted(const std::shared_ptr<route_generation>& generation, std::string_view grant);

  const app::config& base_;
  boost::asio::thread_pool& disk_;
  call::precall_answers* precalls_;
  std::mutex mutex_;
  std::shared_ptr<route_generation> current_;
  struct held {
    std::shared_ptr<const call::call_route> route;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, held> held_;  // by call SID
};

}  // namespace voicebridge::server
