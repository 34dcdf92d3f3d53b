// The console's pages about what is going on now: live calls, campaigns, routes, failed webhooks and health,
// rendered from plain data (sans-I/O). Campaigns and webhooks come as the API shows them (its JSON): the
// console is one more client of the API, not a second copy of its queries.
#pragma once
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/routes.hpp"

namespace voicebridge::server::console {

struct live_row {
  std::string call_sid, from, to, route, direction, speaking;
  std::int64_t started_ms = 0;
};
std::string live_page(const std::vector<live_row>& calls, std::string_view csrf, std::int64_t now_ms);
// One Server-Sent Events message with every live call (the live page's script redraws its table from it).
std::string live_event(const std::vector<live_row>& calls, std::int64_t now_ms);

struct campaign_row {
  boost::json::object shown;  // GET /api/campaigns/{id}
  std::int64_t created_at_ms = 0;
};
std::string campaigns_page(const std::vector<campaign_row>& campaigns, std::string_view csrf);

struct route_row {
  const route* r = nullptr;
  std::string open_now;  // "open", "closed", or why it cannot be told
  std::size_t active_calls = 0;
};
std::string routes_page(const std::vector<route_row>& routes, std::string_view csrf);

std::string webhooks_page(const boost::json::array& failed, std::string_view csrf);  // GET /api/webhooks/failed

struct health_facts {
  bool draining = false;
  std::size_t active_calls = 0, pending_streams = 0;
  std::string instance;
  std::int64_t up_since_ms = 0;
  std::vector<std::pair<std::string, std::string>> figures;  // label, value: the main metrics
};
std::string health_page(const health_facts& health, std::string_view csrf);

}  // namespace voicebridge::server::console
