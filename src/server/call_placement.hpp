// Placing one outbound call, for POST /api/calls and for campaigns alike: the request held in the call store
// (under its Idempotency-Key) before Twilio is asked, Twilio's Calls.json (Twilio REST API, "Call resource",
// "Create a Call resource"), and the call's first record. What the caller makes of the result (an HTTP
// answer, a campaign row's next state) is its own.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "call/call_registry.hpp"
#include "records/call_store.hpp"
#include "records/record_writer.hpp"
#include "server/routing.hpp"
#include "server/twilio_webhooks.hpp"
#include "twilio/call_creation.hpp"
#include "twilio/rest_client.hpp"
#include "voicebridge/app/config.hpp"

namespace voicebridge::server {

struct outbound_services {
  const app::config& config;
  routing& routes;
  call::call_registry& active;
  records::record_writer& records;
  boost::asio::thread_pool& database_pool;  // the call store's statements may block: never on an io thread
  twilio_webhooks& webhooks;
  twilio::rest_settings rest;
};

struct placement {
  enum class result {
    created,            // Twilio accepted it: `call_sid`
    replayed,           // the Idempotency-Key's first request placed `call_sid` already
    key_reused,         // the key holds a different request
    in_progress,        // the key's first request is under way, or its outcome unknown
    store_unavailable,  // nothing was dialled
    refused,            // Twilio refused it (`twilio`: its status, code and message): nothing was placed
    unreachable,        // no answer from Twilio: the call may or may not have been placed (the key stays held)
  };
  result what = result::store_unavailable;
  std::string call_sid;
  twilio::created_call twilio;
  std::chrono::seconds ring_timeout{30};  // the route's: how long the call may ring (Twilio's Timeout)
};

// `row`: id, route, numbers, variables, machine detection and key set by the caller. `status_query`: added
// to the status callback's URL (Twilio signs it with the rest), to tell whose call a status is.
boost::asio::awaitable<placement> place_call(records::outbound_call row, outbound_services& s,
                                             std::string status_query = {});

// Runs `work` on the database thread (the store's calls may block); false (logged with `what`) when the store
// is unavailable.
boost::asio::awaitable<bool> on_database(boost::asio::thread_pool& pool, records::call_store& store,
                                         std::function<void(records::call_store&)> work, const char* what);
boost::asio::awaitable<bool> on_database(outbound_services& s, std::function<void(records::call_store&)> work,
                                         const char* what);

}  // namespace voicebridge::server
