#include "server/campaign_api.hpp"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <map>

#include "server/calls_api.hpp"
#include "server/outbound_api.hpp"
#include "server/webhook_api.hpp"
#include "voicebridge/app/metrics.hpp"
#include "server/campaign_request.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/twilio/twiml.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using app::log;
using app::log_level;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

namespace {

constexpr std::string_view campaigns_path = "/api/campaigns";
constexpr std::string_view opt_outs_path = "/api/opt-outs";

std::string path_of(const request& req) { return std::string(req.target().substr(0, req.target().find('?'))); }

json::object progress_of(const std::vector<records::campaign_count>& counts) {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_state{{"queued", 0}, {"dialling", 0}, {"done", 0}};
  json::object outcomes;
  for (const auto& c : counts) {
    total += c.rows;
    by_state[c.state] += c.rows;
    if (c.state == records::row_state::done) outcomes[c.outcome].emplace_int64() += c.rows;
  }
  json::object p{{"total", total}, {"outcomes", std::move(outcomes)}};
  for (const auto& [state, n] : by_state) p[state] = n;
  return p;
}

asio::awaitable<response> create_campaign(const request& req, outbound_services& s, campaign_runner& runner) {
  campaign_limits limits;
  limits.max_concurrent = s.config.max_calls;
  const auto table = s.routes.table();
  const std::string_view type = req[http::field::content_type];
  const std::string_view target = req.target();
  const auto q = target.find('?');
  util::result<campaign_request> parsed = util::fail("");
  if (type.starts_with("text/csv")) {
    auto query = twilio::parse_form(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
    if (!query) co_return api_reply(req, 400, "query: " + query.error().message, false);
    parsed = parse_campaign_csv(req.body(), *query, *table, limits);
  } else {
    parsed = parse_campaign_json(req.body(), *table, limits);
  }
  if (!parsed) co_return api_reply(req, 400, parsed.error().message, false);
  records::stored_campaign campaign;
  campaign.id = "CP" + util::random_hex(16);
  campaign.name = parsed->name;
  campaign.route = parsed->route;
  campaign.from = parsed->from;
  campaign.settings_json = settings_json(*parsed);
  campaign.created_at_ms = records::now_epoch_ms();
  std::vector<records::stored_campaign_row> rows;
  rows.reserve(parsed->rows.size());
  for (auto& r : parsed->rows) {
    records::stored_campaign_row row;
    row.row_no = static_cast<std::int64_t>(r.line);
    row.to = std::move(r.to);
    row.timezone = std::move(r.timezone);
    row.variables = std::move(r.variables);
    rows.push_back(std::move(row));
  }
  const std::function<void(records::call_store&)> store = [&](records::call_store& db) { db.create_campaign(campaign, rows); };
  if (!co_await on_database(s, store, "campaign create"))
    co_return api_reply(req, 503, "the call store is unavailable right now: the campaign was not taken", false);
  log(log_level::info, "campaign created", {{"campaign", campaign.id}, {"route", campaign.route}, {"rows", rows.size()}});
  runner.wake();
  json::object body{{"id", campaign.id}, {"url", std::string(campaigns_path) + "/" + campaign.id}, {"rows", rows.size()}};
  co_return api_reply(req, 201, json::serialize(body), true);
}

asio::awaitable<response> show_campaign(const request& req, outbound_services& s, const std::string& id) {
  std::optional<records::stored_campaign> campaign;
  std::vector<records::campaign_count> counts;
  const std::function<void(records::call_store&)> find = [&](records::call_store& db) {
    campaign = db.find_campaign(id);
    if (campaign) counts = db.campaign_counts(id);
  };
  if (!co_await on_database(s, find, "campaign show")) co_return api_reply(req, 503, "the call store is unavailable", false);
  if (!campaign) co_return api_reply(req, 404, "no such campaign", false);
  co_return api_reply(req, 200, json::serialize(campaign_view(*campaign, counts)), true);
}

asio::awaitable<response> change_campaign(const request& req, outbound_services& s, campaign_runner& runner,
                                          const std::string& id, std::string_view action) {
  const char* state = action == "pause"    ? records::campaign_state::paused
                      : action == "resume" ? records::campaign_state::running
                      : action == "cancel" ? records::campaign_state::cancelled
                                           : nullptr;
  if (!state) co_return api_reply(req, 404, "not found", false);
  auto result = records::campaign_change::no_such_campaign;
  const std::function<void(records::call_store&)> change = [&](records::call_store& db) { result = db.set_campaign_state(id, state); };
  if (!co_await on_database(s, change, "campaign change")) co_return api_reply(req, 503, "the call store is unavailable", false);
  if (result == records::campaign_change::no_such_campaign) co_return api_reply(req, 404, "no such campaign", false);
  if (result == records::campaign_change::ended) co_return api_reply(req, 409, "the campaign has ended", false);
  log(log_level::info, "campaign changed", {{"campaign", id}, {"state", state}});
  runner.wake();
  co_return api_reply(req, 200, json::serialize(json::object{{"id", id}, {"state", state}}), true);
}

asio::awaitable<response> opt_outs(const request& req, outbound_services& s, const std::string& in_path) {
  std::string number = in_path;
  if (req.method() == http::verb::post) {
    boost::system::error_code ec;
    const auto body = json::parse(req.body(), ec);
    const auto* n = !ec && body.is_object() ? body.get_object().if_contains("number") : nullptr;
    if (!n || !n->is_string() || !twilio::is_e164(n->get_string()))
      co_return api_reply(req, 400, "number: expected an E.164 number (+15551234567)", false);
    number = std::string(n->get_string());
  } else if (!twilio::is_e164(number)) {
    co_return api_reply(req, 404, "not found", false);
  }
  bool there = false;
  const std::function<void(records::call_store&)> work = [&](records::call_store& db) {
    if (req.method() == http::verb::post) db.add_opt_out(number, "api", records::now_epoch_ms());
    else if (req.method() == http::verb::delete_) there = db.remove_opt_out(number);
    else there = db.is_opted_out(number);
  };
  if (!co_await on_database(s, work, "opt-out")) co_return api_reply(req, 503, "the call store is unavailable", false);
  if (req.method() == http::verb::post) {
    log(log_level::info, "opt-out added", {{"number", number}, {"source", "api"}});
    co_return api_reply(req, 201, json::serialize(json::object{{"number", number}, {"opted_out", true}}), true);
  }
  if (!there) co_return api_reply(req, 404, "not on the opt-out list", false);
  if (req.method() == http::verb::delete_) co_return api_reply(req, 204, "", false);
  co_return api_reply(req, 200, json::serialize(json::object{{"number", number}, {"opted_out", true}}), true);
}

bool is_outbound_request(const request& req) {
  return req.method() == http::verb::post && path_of(req) == app::calls_api_path;
}

}  // namespace

json::object campaign_view(const records::stored_campaign& campaign, const std::vector<records::campaign_count>& counts) {
  boost::system::error_code ec;
  json::value settings = json::parse(campaign.settings_json, ec);
  return {{"id", campaign.id},     {"name", campaign.name},   {"route", campaign.route},
          {"from", campaign.from}, {"state", campaign.state}, {"settings", ec ? json::value() : settings},
          {"progress", progress_of(counts)}};
}

std::size_t body_limit_for(const request& header, const app::config& config) {
  const bool campaign_list = header.method() == http::verb::post && path_of(header) == "/api/campaigns";
  return campaign_list && admin_authorized(header, config) ? largest_body_limit(config) : config.max_http_body;
}

bool is_outbound_api(const request& req) {
  return is_outbound_request(req) || path_of(req) == app::outbound_twiml_path || is_campaign_api(req.target()) ||
         is_webhook_api(req.target());
}

asio::awaitable<response> serve_outbound_api(const request& req, bool draining, outbound_services& s, campaign_runner& runner,
                                             webhook_sender& sender) {
  if (is_outbound_request(req)) co_return co_await place_outbound_call(req, s);
  if (is_campaign_api(req.target())) co_return co_await serve_campaign_api(req, s, runner);
  if (is_webhook_api(req.target())) co_return co_await serve_webhook_api(req, s, sender);
  auto res = co_await answer_outbound_twiml(req, draining, s);
  app::metrics().webhook_responses.inc(std::to_string(res.result_int()));
  co_return res;
}

bool is_campaign_api(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == campaigns_path || path.starts_with(std::string(campaigns_path) + "/") || path == opt_outs_path ||
         path.starts_with(std::string(opt_outs_path) + "/");
}

asio::awaitable<response> serve_campaign_api(const request& req, outbound_services& s, campaign_runner& runner) {
  if (s.config.admin_token.empty()) co_return api_reply(req, 404, "the API is off: set ADMIN_TOKEN", false);
  if (!admin_authorized(req, s.config)) co_return api_reply(req, 401, "a bearer token is required", false);
  const auto path = path_of(req);
  const auto method = req.method();
  if (path.starts_with(opt_outs_path)) {
    const std::string rest = path.size() > opt_outs_path.size() ? path.substr(opt_outs_path.size() + 1) : "";
    const bool allowed = rest.empty() ? method == http::verb::post : (method == http::verb::get || method == http::verb::delete_);
    if (!allowed) co_return api_reply(req, 405, "method not allowed", false);
    co_return co_await opt_outs(req, s, rest);
  }
  if (path == campaigns_path) {
    if (method != http::verb::post) co_return api_reply(req, 405, "method not allowed", false);
    co_return co_await create_campaign(req, s, runner);
  }
  // /api/campaigns/{id} or /api/campaigns/{id}/{action}
  const std::string rest = path.substr(campaigns_path.size() + 1);
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  if (id.size() != 34 || !id.starts_with("CP")) co_return api_reply(req, 404, "no such campaign", false);
  if (slash == std::string::npos) {
    if (method != http::verb::get) co_return api_reply(req, 405, "method not allowed", false);
    co_return co_await show_campaign(req, s, id);
  }
  if (method != http::verb::post) co_return api_reply(req, 405, "method not allowed", false);
  co_return co_await change_campaign(req, s, runner, id, std::string_view(rest).substr(slash + 1));
}

}  // namespace voicebridge::server
