// A real voicebridge server on a loopback port, in-process, plus helpers to drive it over real sockets.
#pragma once
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <sstream>

#include "fake-elevenlabs/fake_agent.hpp"
#include "fake-twilio-api/fake_twilio_api.hpp"
#include "temp_dir.hpp"
#include "twilio-sim/simulator.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/server/gateway.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/signature.hpp"

namespace voicebridge::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// Caller audio that differs per seed, so byte-exact checks tell calls apart.
inline std::vector<std::uint8_t> speech(std::size_t frames, unsigned seed) {
  std::vector<std::uint8_t> audio(frames * 160);
  for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<std::uint8_t>((i * 13 + seed * 29) % 253);
  return audio;
}

inline std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The voice webhook's form as Twilio posts it (the parameters the gateway reads).
inline twilio::form_params voice_form(const std::string& call_sid) {
  twilio::form_params f;
  f.add("CallSid", call_sid);
  f.add("From", "+15551230001");
  f.add("To", "+15559870002");
  return f;
}

inline app::config gateway_config() {
  app::config c;
  c.bind_address = "127.0.0.1";
  c.port = 0;
  c.public_base_url = "https://gw.example.test";  // as behind a TLS-terminating proxy
  c.twilio_auth_token = "integration-auth-token";
  c.twilio_stream_token = "integration-stream-token-key";
  c.stream_auth_timeout = std::chrono::milliseconds(500);
  c.threads = 1;  // the test thread runs the loop: calls on the io_context itself, as with THREADS=1
  c.log_level_ = app::log_level::debug;
  c.local_agent = app::local_agent_kind::echo;
  c.fallback_text = "Please leave a message.";  // short: the fallback tests hear all of it  // byte-exact checks; the voicemail demo has its own tests
  c.state_dir = make_temp_dir();                // removed with the gateway
  return c;
}

struct gateway {
  asio::io_context io;
  std::ostringstream logs;
  std::unique_ptr<fake::fake_agent_server> agent;  // the ElevenLabs stand-in, when the test uses one
  std::unique_ptr<fake::fake_twilio_api> twilio_api;  // the Twilio REST stand-in, when the test uses one
  std::unique_ptr<server::gateway> server;
  std::uint16_t port = 0;
  bool keep_state_dir = false;  // a restart test hands the state directory to the next gateway

  // With an agent script, the fake agent runs on this loop and the gateway is pointed at `agent_base` + its port.
  explicit gateway(app::config config = gateway_config(), std::optional<fake::agent_script> agent_script = {},
                   const std::string& agent_base = "http://127.0.0.1:") {
    if (agent_script) {
      agent = std::make_unique<fake::fake_agent_server>(io, *agent_script);
      config.elevenlabs_agent_id = "agent_test";
      config.elevenlabs_base_url = agent_base + std::to_string(agent->port());
    }
    start(std::move(config));
  }
  // Stand-ins that must listen before the gateway is configured: `prepare` starts them on this loop and
  // points the config at them.
  gateway(app::config config, const std::function<void(asio::io_context&, app::config&)>& prepare) {
    prepare(io, config);
    start(std::move(config));
  }
  void start(app::config config) {
    app::set_log_sink(&logs);
    app::configure_logging(config.log_level_, app::log_format::text);
    app::add_log_secret(config.twilio_auth_token);
    app::add_log_secret(config.twilio_stream_token);
    server = std::make_unique<server::gateway>(io, std::move(config));
    port = server->start();
  }
  ~gateway() {
    const auto state_dir = server->config().state_dir;
    server.reset();  // its record writer stores what is queued first
    app::set_log_sink(nullptr);
    if (!keep_state_dir) remove_temp_dir(state_dir);
  }

  // A caller that hangs up 600 ms after its audio; or, with `expected_bytes`, as soon as it heard that much
  // agent audio (20 s at most), so slow sanitizer builds do not cut the answer short.
  sim::options caller(std::vector<std::uint8_t> audio = {}, std::size_t expected_bytes = 0) const {
    sim::options o;
    o.port = port;
    o.public_base_url = server->config().public_base_url;
    o.auth_token = server->config().twilio_auth_token;
    o.caller_audio = std::move(audio);
    o.linger = std::chrono::milliseconds(600);
    if (expected_bytes > 0) {
      o.hang_up_after_bytes = expected_bytes;
      o.linger = std::chrono::seconds(20);
    }
    return o;
  }

  // Runs the loop until every task has finished (bounded, so a hung test fails instead of hanging).
  void run_until(const std::function<bool()>& finished) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!finished() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(100));
    BOOST_REQUIRE_MESSAGE(finished(), "test tasks did not finish in 60 s");
  }

  // After the clients are done: let the server finish its side of every call (logs, records) too.
  void settle() {
    run_until([&] { return server->active_calls() == 0 && server->pending_streams() == 0; });
  }

  template <class T>
  std::vector<T> run_all(std::vector<asio::awaitable<T>> tasks) {
    std::vector<std::optional<T>> results(tasks.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < tasks.size(); ++i)
      asio::co_spawn(io, std::move(tasks[i]), [&, i](std::exception_ptr e, T value) {
        if (e) std::rethrow_exception(e);
        results[i] = std::move(value);
        ++done;
      });
    run_until([&] { return done == results.size(); });
    std::vector<T> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }
  template <class T>
  T run(asio::awaitable<T> task) {
    std::vector<asio::awaitable<T>> one;
    one.push_back(std::move(task));
    return std::move(run_all(std::move(one)).front());
  }
};

struct http_result {
  unsigned status = 0;
  std::string body;
  std::string content_range;  // the Content-Range header, if any
};

inline asio::awaitable<http_result> http_call(std::uint16_t port, http::verb verb, std::string target, std::string body = {},
                                              std::vector<std::pair<std::string, std::string>> headers = {}) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(10));
  co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "gw.example.test");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [ec, n] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
  co_return http_result{ec ? 0u : res.result_int(), res.body(), std::string(res[http::field::content_range])};
}

// A request signed as Twilio signs it (form body, X-Twilio-Signature over public URL + params).
inline asio::awaitable<http_result> signed_post(std::uint16_t port, const app::config& c, std::string path,
                                                twilio::form_params form) {
  const auto signature = twilio::compute_signature(c.twilio_auth_token, c.public_base_url + path, form);
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/x-www-form-urlencoded"},
                                                           {"X-Twilio-Signature", signature}};
  std::string body = twilio::encode_form(form);  // named locals (GCC 12: docs/gcc12-coroutines.md)
  auto result = co_await http_call(port, http::verb::post, std::move(path), std::move(body), std::move(headers));
  co_return result;
}

// A `start` for `call_sid` without a stream token: for a socket whose upgrade was signed (stream_signature).
inline std::string start_without_token(const std::string& call_sid) {
  twilio::start_message s;
  s.sequence_number = 1;
  s.stream_sid = "MZ" + call_sid.substr(2);
  s.call_sid = call_sid;
  s.encoding = "audio/x-mulaw";
  s.sample_rate = 8000;
  s.channels = 1;
  return twilio::serialize_start(s);
}

// A hand-driven Media Streams client for the cases the simulator will not produce.
struct raw_stream_result {
  unsigned upgrade_status = 0;
  int close_code = -1;  // -1: no close frame
  std::string close_reason;
  std::size_t media_received = 0;
};

struct raw_frame {
  std::string data;
  bool binary = false;
};

inline asio::awaitable<raw_stream_result> raw_stream(std::uint16_t port, std::string signature, std::vector<raw_frame> frames,
                                                     std::string target = "/ws/twilio/stream") {
  raw_stream_result r;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  stream.expires_never();
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  auto t = websocket::stream_base::timeout::suggested(beast::role_type::client);
  t.idle_timeout = std::chrono::seconds(20);
  ws.set_option(t);
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    if (!signature.empty()) req.set("X-Twilio-Signature", signature);
  }));
  websocket::response_type res;
  auto [hec] = co_await ws.async_handshake(res, "gw.example.test", target, asio::as_tuple(asio::use_awaitable));
  r.upgrade_status = res.result_int();
  if (hec) co_return r;
  for (auto& f : frames) {
    ws.binary(f.binary);
    auto [ec, n] = co_await ws.async_write(asio::buffer(f.data), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == websocket::error::closed) {
        r.close_code = ws.reason().code;
        r.close_reason = ws.reason().reason.c_str();
      }
      break;
    }
    if (beast::buffers_to_string(buffer.data()).find("\"media\"") != std::string::npos) ++r.media_received;
    buffer.consume(buffer.size());
  }
  co_return r;
}

// The caller heard the fallback prompt from its start (as far as the call lasted): after any agent audio,
// and at least one whole frame of it.
inline bool heard_fallback(const sim::call_summary& s, const server::gateway& gateway, std::string_view route = "default") {
  const auto& prompt = gateway.fallback_prompt(route);
  const auto& heard = s.received_audio;
  const auto first_frame_end = prompt.begin() + 160;
  const auto at = std::search(heard.begin(), heard.end(), prompt.begin(), first_frame_end);
  if (at == heard.end()) return false;
  const auto n = std::min<std::ptrdiff_t>(heard.end() - at, static_cast<std::ptrdiff_t>(prompt.size()));
  return std::equal(at, at + n, prompt.begin());
}

// The read API, with the token the record tests configure (ADMIN_TOKEN).
inline const std::string test_admin_token = "integration-admin-token-0123456789";

inline http_result api_get(gateway& gw, std::string target, std::string token = test_admin_token) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return gw.run(http_call(gw.port, http::verb::get, std::move(target), {}, std::move(headers)));
}

// The stored record of a call, once the writer has stored every queued record.
inline boost::json::object call_record(gateway& gw, const std::string& call_sid) {
  BOOST_TEST_REQUIRE(gw.server->wait_records_stored(std::chrono::seconds(20)));
  auto r = api_get(gw, "/api/calls/" + call_sid);
  BOOST_TEST_REQUIRE(r.status == 200u, r.body);
  return boost::json::parse(r.body).as_object();
}

inline std::string stream_signature(const app::config& c) {
  return twilio::compute_signature(c.twilio_auth_token, c.stream_url(), {});
}

}  // namespace voicebridge::testing
