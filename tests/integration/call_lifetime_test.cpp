// A call that throws gives back everything it held: its place in the call registry and the active_calls
// gauge, and the escape is counted; a drain waiting for the calls wakes when the last one ends. Real sockets
// on loopback, the call served by serve_twilio_stream as the server serves it.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>
#include <map>

#include "app/report_escape.hpp"
#include "call/twilio_stream.hpp"
#include "records/call_store.hpp"
#include "records/record_writer.hpp"
#include "temp_dir.hpp"
#include "twilio_start.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/stream_token.hpp"

using namespace voicebridge;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A bug in the code that makes the agent: it throws inside the call, on the call's reader.
struct throwing_agents final : call::agent_factory {
  std::unique_ptr<call::agent> adopt(const twilio::start_message&, const asio::any_io_executor&,
                                     std::weak_ptr<call::caller_link>) override {
    return nullptr;
  }
  std::unique_ptr<call::agent> make(const twilio::start_message&, const asio::any_io_executor&, call::caller_link&) override {
    throw std::logic_error("agent factory bug");
  }
};

// Every call takes the one route, whose agents throw.
struct one_route final : call::route_finder {
  std::shared_ptr<const call::call_route> route;
  std::shared_ptr<const call::call_route> find(const std::string&, std::string_view) override { return route; }
};

struct call_services {
  testing::temp_dir state;
  app::config config;
  call::completed_calls completed;
  call::call_registry active;
  call::admission admitted;
  call::pending_streams pending{8, 8};
  throwing_agents agents;
  call::voicemail_settings fallback;
  one_route routes;
  asio::thread_pool disk{1};
  records::record_writer records;
  call::amd_results verdicts;
  call::stream_services services;

  call_services()
      : config(app::load_config([this](const std::string& name) -> std::optional<std::string> {
          const std::map<std::string, std::string> env{{"TWILIO_AUTH_TOKEN", "auth-token"},
                                                       {"TWILIO_STREAM_TOKEN", "stream-token-key"},
                                                       {"PUBLIC_BASE_URL", "http://127.0.0.1:1"},
                                                       {"STATE_DIR", state.path.string()}};
          auto it = env.find(name);
          return it == env.end() ? std::nullopt : std::optional(it->second);
        })),
        records(std::make_shared<records::call_store>(records::open_sqlite(state.path / "calls.sqlite3")),
                state.path / "records.spool"),
        services{config, completed, active, admitted, routes, records, disk, {}, verdicts} {
    routes.route = std::make_shared<call::call_route>(call::call_route{"default", config, agents, fallback, std::nullopt, false, nullptr});
    records.store().migrate();
  }
  ~call_services() { disk.join(); }
};

// Serves one stream on `acceptor` as the server does: the upgrade request read, then the call spawned with
// the completion handler every call gets.
asio::awaitable<void> serve_one(tcp::acceptor& acceptor, call_services& s) {
  beast::tcp_stream stream(co_await acceptor.async_accept(asio::use_awaitable));
  beast::flat_buffer buffer;
  beast::http::request<beast::http::string_body> upgrade;
  co_await beast::http::async_read(stream, buffer, upgrade, asio::use_awaitable);
  std::string_view refused_by;
  auto ticket = s.pending.try_enter("127.0.0.1", refused_by);
  asio::co_spawn(stream.get_executor(),
                 call::serve_twilio_stream(std::move(stream), std::move(upgrade), call::upgrade_auth::none, std::move(ticket),
                                           s.services),
                 app::report_escape("call"));
}

// Twilio's side: connected, an authenticated start, then whatever the gateway sends until it closes.
asio::awaitable<void> caller(tcp::endpoint gateway, std::string token) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  co_await ws.next_layer().async_connect(gateway, asio::use_awaitable);
  co_await ws.async_handshake("127.0.0.1", "/ws/twilio/stream", asio::use_awaitable);
  const std::string connected = twilio::serialize_connected();
  co_await ws.async_write(asio::buffer(connected), asio::use_awaitable);
  const auto start = testing::mulaw_start(std::move(token));
  const std::string start_text = twilio::serialize_start(start);
  co_await ws.async_write(asio::buffer(start_text), asio::use_awaitable);
  beast::flat_buffer buffer;
  for (;;) {
    ws.next_layer().expires_after(5s);
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) break;
    buffer.consume(n);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(call_lifetime)

BOOST_AUTO_TEST_CASE(a_call_that_throws_gives_back_its_registry_place_and_gauge_and_the_escape_is_counted) {
  call_services s;
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto active_before = app::metrics().active_calls.value();
  const auto escaped_before = app::metrics().escaped_exceptions.value("call");
  const auto token =
      twilio::mint_stream_token("stream-token-key", testing::test_call_sid, "", std::chrono::system_clock::now() + 60s);
  asio::co_spawn(io, serve_one(acceptor, s), app::report_escape("test"));
  auto done = asio::co_spawn(io, caller(acceptor.local_endpoint(), token), asio::use_future);
  io.run_for(10s);
  BOOST_REQUIRE((done.wait_for(0s) == std::future_status::ready));
  BOOST_TEST(app::metrics().escaped_exceptions.value("call") == escaped_before + 1);
  BOOST_TEST(s.active.size() == 0u);
  BOOST_TEST(app::metrics().active_calls.value() == active_before);
  BOOST_TEST(s.pending.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_drain_wakes_when_the_last_call_ends_and_not_before) {
  call::call_registry registry;
  int woken = 0;
  registry.when_empty([&] { ++woken; });
  BOOST_TEST(woken == 1);  // no call: at once
  std::vector<asio::cancellation_type> asked;
  const auto first = registry.add([&](asio::cancellation_type how) { asked.push_back(how); });
  const auto second = registry.add([&](asio::cancellation_type how) { asked.push_back(how); });
  registry.when_empty([&] { ++woken; });
  registry.close_all(asio::cancellation_type::total);
  BOOST_TEST(asked.size() == 2u);
  BOOST_TEST((asked[0] == asio::cancellation_type::total));
  registry.remove(first);
  BOOST_TEST(woken == 1);
  registry.remove(second);
  BOOST_TEST(woken == 2);
}

BOOST_AUTO_TEST_SUITE_END()
