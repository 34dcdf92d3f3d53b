#include "fake-twilio-api/dialler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <numbers>

#include "common/report_escape.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/signature.hpp"

namespace voicebridge::fake {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string field(const std::vector<std::pair<std::string, std::string>>& form, std::string_view name) {
  for (const auto& [k, v] : form)
    if (k == name) return v;
  return {};
}

bool has_event(const std::vector<std::pair<std::string, std::string>>& form, std::string_view event) {
  for (const auto& [k, v] : form)
    if (k == "StatusCallbackEvent" && v == event) return true;
  return false;
}

// "https://gw.example.test/api/x?y" -> {"https://gw.example.test", "/api/x?y"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path = scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_tuple);
}

}  // namespace

struct dialler::impl : std::enable_shared_from_this<impl> {
  asio::io_context& io;
  dialler_settings settings;
  std::deque<dialled_call> calls;
  std::size_t in_progress = 0, most_at_once = 0;

  impl(asio::io_context& io_, dialler_settings s) : io(io_), settings(std::move(s)) {}

  // A signed form POST to one of the call's URLs, as Twilio makes them; the gateway's HTTP status (0: none).
  asio::awaitable<unsigned> post(const std::string& url, const twilio::form_params& form) {
    const auto [base, target] = split_url(url);
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, base.substr(base.find("://") + 3));
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set(http::field::user_agent, "TwilioProxy/1.1");
    req.set("X-Twilio-Signature", twilio::compute_signature(settings.auth_token, url, form));
    req.body() = twilio::encode_form(form);
    req.prepare_payload();
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(std::chrono::seconds(15));  // Twilio's webhook timeout
    const tcp::endpoint gateway(asio::ip::make_address(settings.gateway_host), settings.gateway_port);
    if (auto [ec] = co_await stream.async_connect(gateway, use_tuple); ec) co_return 0;
    if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) co_return 0;
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (auto [ec, n] = co_await http::async_read(stream, buffer, res, use_tuple); ec) co_return 0;
    co_return res.result_int();
  }

  twilio::form_params call_form(const dialled_call& call, std::string_view status) const {
    twilio::form_params f;
    f.add("AccountSid", settings.account_sid);
    f.add("ApiVersion", "2010-04-01");
    f.add("CallSid", call.call_sid);
    f.add("CallStatus", std::string(status));
    f.add("Direction", "outbound-api");
    f.add("From", call.from);
    f.add("To", call.to);
    return f;
  }

  // One status callback event, if the call asked for it (StatusCallbackEvent).
  asio::awaitable<void> status(dialled_call& call, const std::vector<std::pair<std::string, std::string>>& form,
                               std::string_view event, std::string_view call_status, std::size_t sequence,
                               bool lost = false) {
    const auto url = field(form, "StatusCallback");
    if (url.empty() || !has_event(form, event)) co_return;
    if (lost) {
      call.callbacks.emplace_back(std::string(call_status), 0);  // never reached the gateway
      co_return;
    }
    auto params = call_form(call, call_status);
    params.add("CallbackSource", "call-progress-events");
    params.add("SequenceNumber", std::to_string(sequence));
    if (event == "completed") {
      const auto seconds = call.answered == std::chrono::steady_clock::time_point{}
                               ? 0
                               : std::chrono::duration_cast<std::chrono::seconds>(call.ended - call.answered).count();
      params.add("CallDuration", std::to_string(seconds));
    }
    const unsigned answer = co_await post(url, params);
    call.callbacks.emplace_back(std::string(call_status), answer);
  }

  asio::awaitable<void> post_amd(dialled_call& call, const std::vector<std::pair<std::string, std::string>>& form,
                                 const callee_script& script) {
    const std::chrono::milliseconds greeting(script.audio.size() / 8);  // 8 bytes a millisecond
    co_await sleep_for(script.answers == callee_answers::machine ? greeting + script.amd_after : script.amd_after);
    const auto url = field(form, "AsyncAmdStatusCallback");
    if (url.empty() || field(form, "AsyncAmd") != "true") co_return;
    auto params = call_form(call, "in-progress");
    call.answered_by = script.answers == callee_answers::human ? "human"
                       : script.answers == callee_answers::fax ? "fax"
                                                               : "machine_end_beep";
    params.add("AnsweredBy", call.answered_by);
    params.add("MachineDetectionDuration", std::to_string(script.amd_after.count()));
    call.amd_answer = co_await post(url, params);
  }

  static asio::awaitable<void> run(std::shared_ptr<impl> self, std::size_t index,
                                   std::vector<std::pair<std::string, std::string>> form) {
    auto& call = self->calls[index];  // a deque: the reference stays good as calls are added
    const auto found = self->settings.callees.find(call.to);
    const callee_script script = found == self->settings.callees.end() ? self->settings.default_callee : found->second;
    co_await self->status(call, form, "initiated", "initiated", 0);
    co_await self->status(call, form, "ringing", "ringing", 1);
    co_await sleep_for(script.ring);
    const char* unanswered = script.answers == callee_answers::busy        ? "busy"
                             : script.answers == callee_answers::no_answer ? "no-answer"
                             : script.answers == callee_answers::failed    ? "failed"
                                                                           : nullptr;
    if (!unanswered) {
      call.answered = std::chrono::steady_clock::now();
      co_await self->status(call, form, "answered", "in-progress", 2);
      sim::options o;
      o.host = self->settings.gateway_host;
      o.port = self->settings.gateway_port;
      std::tie(o.public_base_url, o.webhook_path) = split_url(field(form, "Url"));
      o.auth_token = self->settings.auth_token;
      o.account_sid = self->settings.account_sid;
      o.call_sid = call.call_sid;
      o.from = call.from;
      o.to = call.to;
      o.direction = "outbound-api";
      o.call_status = "in-progress";
      o.caller_audio = script.audio;
      o.hang_up_after_bytes = script.hang_up_after_bytes;
      o.linger = script.linger;
      o.dtmf = script.dtmf;
      auto media = sim::run_call(o);  // named (GCC 12: docs/gcc12-coroutines.md)
      auto amd = self->post_amd(call, form, script);
      call.media = co_await (std::move(media) && std::move(amd));  // the AMD result is posted during the call
    }
    call.ended = std::chrono::steady_clock::now();
    call.final_status = unanswered ? unanswered : "completed";
    co_await self->status(call, form, "completed", call.final_status, 3, script.final_callback_lost);
    call.done = true;
    --self->in_progress;
  }
};

dialler::dialler(asio::io_context& io, dialler_settings settings) : impl_(std::make_shared<impl>(io, std::move(settings))) {}
dialler::~dialler() = default;

void dialler::dial(const std::string& call_sid, const std::vector<std::pair<std::string, std::string>>& form) {
  if (impl_->settings.gateway_port == 0) return;
  dialled_call call;
  call.call_sid = call_sid;
  call.from = field(form, "From");
  call.to = field(form, "To");
  call.created = std::chrono::steady_clock::now();
  impl_->calls.push_back(std::move(call));
  impl_->most_at_once = std::max(impl_->most_at_once, ++impl_->in_progress);
  asio::co_spawn(impl_->io, impl::run(impl_, impl_->calls.size() - 1, form), tools::report_escape("fake Twilio dial"));
}

void dialler::deliver_to(std::uint16_t gateway_port) { impl_->settings.gateway_port = gateway_port; }
void dialler::script_others(callee_script script) { impl_->settings.default_callee = std::move(script); }
void dialler::script(const std::string& number, callee_script script) { impl_->settings.callees[number] = std::move(script); }
const std::deque<dialled_call>& dialler::calls() const { return impl_->calls; }
const dialled_call* dialler::find(const std::string& call_sid) const {
  for (const auto& c : impl_->calls)
    if (c.call_sid == call_sid) return &c;
  return nullptr;
}
std::size_t dialler::most_at_once() const { return impl_->most_at_once; }

std::vector<std::uint8_t> answering_machine_greeting(std::chrono::milliseconds speech) {
  std::vector<std::int16_t> pcm;
  const auto tone = [&](double hz, std::size_t samples, double level) {
    for (std::size_t i = 0; i < samples; ++i)
      pcm.push_back(static_cast<std::int16_t>(level * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / 8000.0)));
  };
  // Syllables of 150 ms at pitches that wander as a voice does, then 300 ms of quiet and the beep.
  const std::size_t syllables = static_cast<std::size_t>(speech.count()) / 150;
  for (std::size_t k = 0; k < syllables; ++k) tone(180.0 + 40.0 * static_cast<double>(k % 5), 1200, 7000);
  pcm.insert(pcm.end(), 2400, 0);
  tone(1000.0, 4000, 9000);
  return audio::mulaw_encode(pcm);
}

}  // namespace voicebridge::fake
