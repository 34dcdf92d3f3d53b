// The route a call was answered for, as the call sees it: its settings, its agents and what the caller hears
// when they cannot answer. The server owns the routes (server/routing.hpp); a call holds its route for as
// long as it runs, so that a reload of the routes never changes what a call in progress is served by.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call/agent.hpp"
#include "call/voicemail_agent.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::call {

struct call_route {
  std::string name;  // a record field, a log field and a metric label: from the routes file only
  const app::config& settings;  // the environment's configuration with the route's keys over it
  agent_factory& agents;
  const voicemail_settings& fallback;  // the fallback prompt, tone and message limits
  std::optional<std::size_t> max_calls;  // the route's share of MAX_CALLS
  bool voicemail_only = false;  // after hours: the route's voicemail, and no agent
  // What an answering machine is left on an outbound call (8 kHz mu-law); nullptr: it is hung up on.
  std::shared_ptr<const std::vector<std::uint8_t>> machine_message;
};

class route_finder {
 public:
  virtual ~route_finder() = default;
  // The route an authenticated `start` names (its token-bound route parameter; empty: the catch-all), as
  // the call's webhook chose it on this instance or else as configured now; nullptr if there is none.
  virtual std::shared_ptr<const call_route> find(const std::string& call_sid, std::string_view route) = 0;
};

}  // namespace voicebridge::call
