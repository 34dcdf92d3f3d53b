#include "server/webhook_api.hpp"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "server/calls_api.hpp"
#include "server/webhook_sender.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/twilio/form.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

namespace {

constexpr std::string_view webhooks_path = "/api/webhooks";

json::object delivery_json(const records::webhook_delivery& d) {
  json::object o{{"id", d.id},
                 {"kind", d.kind},
                 {"call_sid", d.call_sid},
                 {"state", d.state},
                 {"attempts", d.attempts},
                 {"last_error", d.last_error},
                 {"created_at_ms", d.created_at_ms}};
  if (d.state == records::delivery_state::pending) o["due_at_ms"] = d.due_at_ms;
  else o[d.state == records::delivery_state::failed ? "failed_at_ms" : "delivered_at_ms"] = d.finished_at_ms;
  return o;
}

// "WH" and 32 hex digits (records/webhook_deliveries.hpp): nothing else is looked up.
bool valid_delivery_id(std::string_view id) {
  return id.size() == 34 && id.starts_with("WH") &&
         id.substr(2).find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

asio::awaitable<response> list_failed(const request& req, outbound_services& s) {
  std::size_t limit = 100;
  const std::string_view target = req.target();
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    const auto form = twilio::parse_form(target.substr(q + 1));
    if (!form) co_return api_reply(req, 400, "malformed query", false);
    if (const auto text = form->get("limit")) {
      const auto asked = list_limit(*text);
      if (!asked) co_return api_reply(req, 400, "limit must be an integer from 1 to 1000", false);
      limit = *asked;
    }
  }
  std::vector<records::webhook_delivery> failed;
  const std::function<void(records::call_store&)> list = [&](records::call_store& db) { failed = db.failed_deliveries(limit); };
  if (!co_await on_database(s, list, "webhooks failed")) co_return api_reply(req, 503, "the call store is unavailable", false);
  json::array out;
  for (const auto& d : failed) out.push_back(delivery_json(d));
  co_return api_reply(req, 200, json::serialize(json::object{{"webhooks", std::move(out)}}), true);
}

asio::awaitable<response> show(const request& req, outbound_services& s, const std::string& id) {
  std::optional<records::webhook_delivery> found;
  const std::function<void(records::call_store&)> find = [&](records::call_store& db) { found = db.find_delivery(id); };
  if (!co_await on_database(s, find, "webhook show")) co_return api_reply(req, 503, "the call store is unavailable", false);
  if (!found) co_return api_reply(req, 404, "no such webhook delivery", false);
  co_return api_reply(req, 200, json::serialize(delivery_json(*found)), true);
}

asio::awaitable<response> retry(const request& req, outbound_services& s, webhook_sender& sender, const std::string& id) {
  bool queued = false;
  std::optional<records::webhook_delivery> found;
  const std::function<void(records::call_store&)> work = [&](records::call_store& db) {
    queued = db.retry_delivery(id, records::now_epoch_ms());
    if (!queued) found = db.find_delivery(id);
  };
  if (!co_await on_database(s, work, "webhook retry")) co_return api_reply(req, 503, "the call store is unavailable", false);
  if (!queued && !found) co_return api_reply(req, 404, "no such webhook delivery", false);
  if (!queued) co_return api_reply(req, 409, "delivered already", false);
  app::log(app::log_level::info, "post-call webhook queued again by hand", {{"delivery", id}});
  sender.wake();
  co_return api_reply(req, 202, json::serialize(json::object{{"id", id}, {"state", records::delivery_state::pending}}), true);
}

}  // namespace

bool is_webhook_api(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path.starts_with(std::string(webhooks_path) + "/");
}

asio::awaitable<response> serve_webhook_api(const request& req, outbound_services& s, webhook_sender& sender) {
  if (s.config.admin_token.empty()) co_return api_reply(req, 404, "the API is off: set ADMIN_TOKEN", false);
  if (!admin_authorized(req, s.config)) co_return api_reply(req, 401, "a bearer token is required", false);
  const std::string_view target = req.target();
  const std::string path(target.substr(0, target.find('?')));
  const std::string rest = path.substr(webhooks_path.size() + 1);
  const bool get = req.method() == http::verb::get;
  if (rest == "failed") {
    if (!get) co_return api_reply(req, 405, "method not allowed", false);
    co_return co_await list_failed(req, s);
  }
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  if (!valid_delivery_id(id)) co_return api_reply(req, 404, "not found", false);
  if (slash == std::string::npos) {
    if (!get) co_return api_reply(req, 405, "method not allowed", false);
    co_return co_await show(req, s, id);
  }
  if (rest.substr(slash + 1) != "retry") co_return api_reply(req, 404, "not found", false);
  if (req.method() != http::verb::post) co_return api_reply(req, 405, "method not allowed", false);
  co_return co_await retry(req, s, sender, id);
}

}  // namespace voicebridge::server
