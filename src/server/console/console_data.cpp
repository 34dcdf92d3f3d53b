#include "server/console/console_data.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "server/call_placement.hpp"
#include "server/campaign_api.hpp"
#include "server/console/call_pages.hpp"
#include "server/console/html.hpp"
#include "server/routing.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::server::console {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using app::log;
using app::log_level;

namespace {

http_response store_down(const http_request& req, std::string_view title, const std::string& csrf) {
  return page(req, 503, message_page(title, "The call store is unavailable right now; try again in a moment.", csrf));
}

// The API's JSON for a GET, or nullopt (its status logged).
asio::awaitable<std::optional<json::value>> api_get(console_context& c, std::string target) {
  auto api = admin_api_request(http::verb::get, target, c.config);
  const auto answer = co_await c.api(std::move(api));
  boost::system::error_code ec;
  auto value = json::parse(answer.body(), ec);
  if (answer.result_int() != 200 || ec) {
    log(log_level::warn, "console: the API did not answer", {{"target", target.substr(0, target.find('?'))}, {"status", answer.result_int()}});
    co_return std::nullopt;
  }
  co_return value;
}

std::string figure(double value) { return std::to_string(static_cast<std::int64_t>(value)); }

}  // namespace

http_request admin_api_request(boost::beast::http::verb verb, std::string target, const app::config& config) {
  http_request api{verb, std::move(target), 11};
  api.set(http::field::authorization, "Bearer " + config.admin_token);
  api.prepare_payload();
  return api;
}

twilio::form_params query_of(const http_request& req) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  auto form = twilio::parse_form(target.substr(q + 1));
  return form ? std::move(*form) : twilio::form_params();
}

std::vector<live_row> live_rows(const call::call_registry& active, std::int64_t now_ms) {
  std::vector<live_row> rows;
  for (const auto& call : active.live_calls())
    rows.push_back({call->call_sid, call->from, call->to, call->route, call->direction, call->speaking(now_ms), call->started_ms});
  return rows;
}

asio::awaitable<http_response> calls_view(const http_request& req, console_context& c, const twilio::form_params& fields,
                                          bool from_form, const std::string& csrf) {
  auto form = read_calls_form(fields, from_form);
  if (!form) co_return page(req, 400, message_page("Calls", form.error().message, csrf));
  calls_listing listing{std::move(*form), {}, {}};
  for (const auto& r : c.routes.table()->routes()) listing.routes.push_back(r.name);
  const std::function<void(records::call_store&)> search = [&](records::call_store& db) {
    listing.calls = db.search(listing.form.filter);
  };
  if (!co_await on_database(c.database_pool, c.store, search, "calls")) co_return store_down(req, "Calls", csrf);
  co_return page(req, 200, calls_page(listing, csrf));
}

asio::awaitable<http_response> call_view(const http_request& req, console_context& c, std::string_view call_sid,
                                         const std::string& csrf) {
  if (!twilio::is_valid_sid(call_sid)) co_return page(req, 404, message_page("Call", "There is no such call.", csrf));
  std::optional<records::call_record> record;
  call_variables variables;
  const std::string sid(call_sid);
  const std::function<void(records::call_store&)> find = [&](records::call_store& db) {
    record = db.find(sid);
    if (record && record->direction == "outbound")
      if (auto placed = db.find_outbound_by_call_sid(sid)) variables = std::move(placed->variables);
  };
  if (!co_await on_database(c.database_pool, c.store, find, "call")) co_return store_down(req, "Call", csrf);
  if (!record) co_return page(req, 404, message_page("Call", "There is no such call.", csrf));
  const call_audio_links audio{!record->recording_path.empty(), !record->voicemail_path.empty()};
  co_return page(req, 200, call_page(*record, audio, variables, csrf));
}

asio::awaitable<http_response> campaigns_view(const http_request& req, console_context& c, const std::string& csrf) {
  // The newest 50, each as GET /api/campaigns/{id} shows it, in one turn on the database thread.
  std::vector<campaign_row> rows;
  const std::function<void(records::call_store&)> list = [&](records::call_store& db) {
    for (const auto& campaign : db.recent_campaigns(50))
      rows.push_back({campaign_view(campaign, db.campaign_counts(campaign.id)), campaign.created_at_ms});
  };
  if (!co_await on_database(c.database_pool, c.store, list, "campaigns")) co_return store_down(req, "Campaigns", csrf);
  co_return page(req, 200, campaigns_page(rows, csrf));
}

asio::awaitable<http_response> webhooks_view(const http_request& req, console_context& c, const std::string& csrf) {
  const std::string target = "/api/webhooks/failed?limit=200";
  auto failed = co_await api_get(c, target);
  const json::value* list = failed && failed->is_object() ? failed->as_object().if_contains("webhooks") : nullptr;
  if (!list || !list->is_array()) co_return store_down(req, "Failed webhooks", csrf);
  co_return page(req, 200, webhooks_page(list->as_array(), csrf));
}

std::string routes_view(console_context& c, const std::string& csrf) {
  const auto table = c.routes.table();  // held while the page is drawn: a reload meanwhile changes nothing here
  const auto now = std::chrono::system_clock::now();
  std::vector<route_row> rows;
  for (const auto& r : table->routes()) {
    const auto open = is_open(r, now);
    rows.push_back({&r, open ? (*open ? "open" : "closed") : "unknown: " + open.error().message, c.active.size(r.name)});
  }
  return routes_page(rows, csrf);
}

std::string health_view(console_context& c, const std::string& csrf) {
  const auto& m = app::metrics();
  health_facts h{c.draining, c.active.size(), c.pending_streams(), c.config.instance_id, c.up_since_ms, {}};
  std::uint64_t calls = 0;
  for (const auto& [outcome, n] : m.calls.snapshot()) {
    calls += n;
    h.figures.emplace_back("Calls ended: " + outcome, std::to_string(n));
  }
  h.figures.insert(h.figures.begin(), {"Calls ended since the start", std::to_string(calls)});
  h.figures.emplace_back("Post-call webhooks queued", figure(m.webhook_queue_depth.value()));
  h.figures.emplace_back("Oldest queued webhook (s)", figure(m.webhook_queue_age_seconds.value()));
  h.figures.emplace_back("Webhooks parked as failed", figure(m.webhooks_parked.value()));
  for (const auto& [limit, n] : m.limit_hits.snapshot()) h.figures.emplace_back("Limit reached: " + limit, std::to_string(n));
  for (const auto& [task, n] : m.escaped_exceptions.snapshot()) h.figures.emplace_back("Escaped exceptions: " + task, std::to_string(n));
  return health_page(h, csrf);
}

}  // namespace voicebridge::server::console
