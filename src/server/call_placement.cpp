#include "server/call_placement.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "voicebridge/app/log.hpp"
#include "voicebridge/twilio/form.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
using app::log;
using app::log_level;

namespace {

bool same_request(const records::outbound_call& a, const records::outbound_call& b) {
  return a.to == b.to && a.from == b.from && a.route == b.route && a.variables == b.variables &&
         a.machine_detection == b.machine_detection;
}

// `config`: the route's settings (the environment's with the route's keys over it: URLs and ring timeout).
twilio::call_creation creation_for(const records::outbound_call& row, const app::config& config,
                                   const std::string& status_query) {
  twilio::form_params query;
  query.add("route", row.route);
  query.add("request", row.id);
  // In the URL Twilio signs, so that the stream knows to wait for the verdict even with the call store down.
  if (row.machine_detection) query.add("amd", "1");
  twilio::call_creation c;
  c.to = row.to;
  c.from = row.from;
  c.twiml_url = config.url_for(std::string(app::outbound_twiml_path) + "?" + twilio::encode_form(query));
  c.status_callback = config.url_for(app::status_callback_path);
  if (!status_query.empty()) c.status_callback += "?" + status_query;
  c.ring_timeout = config.ring_timeout;
  c.machine_detection = row.machine_detection;
  if (row.machine_detection) c.amd_callback = config.url_for(app::amd_callback_path);
  return c;
}

// The call's record from the moment Twilio accepted it: a call that is never answered still has one
// (its outcome comes with Twilio's final status), and the read API finds it at once.
records::call_record placed_record(const records::outbound_call& row, const std::string& call_sid) {
  records::call_record r;
  r.call_sid = call_sid;
  r.from = row.from;
  r.to = row.to;
  r.route = row.route;
  r.direction = "outbound";
  r.started = r.ended = std::chrono::system_clock::now();
  return r;
}

}  // namespace

asio::awaitable<bool> on_database(asio::thread_pool& pool, records::call_store& store,
                                  std::function<void(records::call_store&)> work, const char* what) {
  auto task = [&]() -> asio::awaitable<void> {
    work(store);
    co_return;
  };
  try {
    co_await asio::co_spawn(pool, task, asio::use_awaitable);
    co_return true;
  } catch (const records::store_error& e) {
    log(log_level::error, "call store unavailable", {{"step", what}, {"error", e.what()}});
    co_return false;
  }
}

asio::awaitable<bool> on_database(outbound_services& s, std::function<void(records::call_store&)> work, const char* what) {
  co_return co_await on_database(s.database_pool, s.records.store(), std::move(work), what);
}

asio::awaitable<placement> place_call(records::outbound_call row, outbound_services& s, std::string status_query) {
  placement out;
  const auto table = s.routes.table();
  const auto* route = table->named(row.route);  // checked when the request was taken; gone after a reload: the process's
  const auto& settings = route ? route->settings : s.config;
  out.ring_timeout = settings.ring_timeout;
  records::call_store::reservation reserved;
  const std::function<void(records::call_store&)> reserve = [&](records::call_store& store) {
    reserved = store.reserve_outbound(row);
  };
  if (!co_await on_database(s, reserve, "reserve")) co_return out;  // store_unavailable
  if (!reserved.fresh) {
    if (!same_request(reserved.row, row)) out.what = placement::result::key_reused;
    else if (reserved.row.call_sid.empty()) out.what = placement::result::in_progress;
    else out.what = placement::result::replayed;
    out.call_sid = reserved.row.call_sid;
    if (out.what == placement::result::replayed)
      log(log_level::info, "outbound call: idempotent replay", {{"call_sid", out.call_sid}, {"route", row.route}});
    co_return out;
  }

  const auto creation = creation_for(row, settings, status_query);
  out.twilio = co_await twilio::create_call(s.rest, creation);
  if (!out.twilio.ok()) {
    // No answer at all (status 0) may still have placed the call: its key stays held, so that a retry cannot
    // dial a second time. A refusal placed nothing: the key is free for a corrected request.
    out.what = out.twilio.status == 0 ? placement::result::unreachable : placement::result::refused;
    const std::function<void(records::call_store&)> release = [&](records::call_store& store) {
      store.release_outbound(row.id);
    };
    if (out.what == placement::result::refused) co_await on_database(s, release, "release");
    log(log_level::warn, "outbound call: Twilio did not create it",
        {{"route", row.route}, {"to", row.to}, {"twilio_status", out.twilio.status},
         {"twilio_code", out.twilio.twilio_code}, {"message", out.twilio.message}});
    co_return out;
  }
  // Placed: whatever happens to the store now, the answer is the call (the record is spooled if need be).
  out.what = placement::result::created;
  out.call_sid = out.twilio.call_sid;
  const std::function<void(records::call_store&)> attach = [&](records::call_store& store) {
    store.attach_call_sid(row.id, out.call_sid);
  };
  if (!co_await on_database(s, attach, "attach"))
    log(log_level::error, "outbound call: placed, but its request could not be tied to it", {{"call_sid", out.call_sid}});
  s.records.submit(placed_record(row, out.call_sid));
  log(log_level::info, "outbound call placed",
      {{"call_sid", out.call_sid}, {"route", row.route}, {"to", row.to}, {"from", row.from},
       {"machine_detection", row.machine_detection ? "true" : "false"}, {"variables", row.variables.size()}});
  co_return out;
}

}  // namespace voicebridge::server
