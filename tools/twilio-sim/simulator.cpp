#include "twilio-sim/simulator.hpp"
#include "twilio-sim/webhook_requests.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <array>
#include <span>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <deque>
#include <random>

#include "voicebridge/util/message_queue.hpp"
#include "voicebridge/audio/g711.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/twilio/signature.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::sim {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using clock = std::chrono::steady_clock;

std::chrono::milliseconds since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t);
}

// The media stream, from the upgrade to the close.
class stream_session {
 public:
  // `resumed_from`: a fresh stream after the last one was lost at that time (its first audio is the gap).
  // `call_began`: when the voice webhook was sent (the call's set-up time ends with its first agent audio).
  stream_session(websocket::stream<beast::tcp_stream>& ws, const options& o, call_summary& s, clock::time_point call_began,
                 std::optional<clock::time_point> resumed_from)
      : ws_(ws), o_(o), s_(s), out_(ws.get_executor(), 100000), tick_(ws.get_executor()), call_began_(call_began),
        resumed_from_(resumed_from) {}

  asio::awaitable<void> run() {
    std::uint64_t seq = 0;
    send(twilio::serialize_connected());
    twilio::start_message start;
    start.sequence_number = ++seq;
    start.account_sid = o_.account_sid;
    start.stream_sid = s_.stream_sid;
    start.call_sid = s_.call_sid;
    start.tracks = {"inbound"};
    start.encoding = "audio/x-mulaw";
    start.sample_rate = 8000;
    start.channels = 1;
    start.custom_parameters = s_.parameters;
    if (o_.stream_token_override) {
      for (auto& [name, value] : start.custom_parameters)
        if (name == "stream_token") value = *o_.stream_token_override;
    }
    send(twilio::serialize_start(start));
    seq_ = seq;
    started_at_ = clock::now();
    co_await (reader() && writer() && ticker());
  }

 private:
  void send(std::string text) { out_.push(std::move(text)); }

  asio::awaitable<void> writer() {
    while (auto text = co_await out_.pop()) {
      if (text->empty()) {  // the close request
        auto [ec] = co_await ws_.async_close(websocket::close_code::normal, use_tuple);
        break;
      }
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*text), use_tuple);
      if (ec) break;
    }
  }

  asio::awaitable<void> reader() {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
      if (ec) {
        if (ec == websocket::error::closed && !hung_up_) {
          s_.server_closed = true;
          s_.close_code = static_cast<int>(ws_.reason().code);
          s_.close_reason = std::string(ws_.reason().reason.c_str());
        } else if (ec != websocket::error::closed && !hung_up_) {
          s_.server_closed = true;  // dropped without a close frame
          s_.close_reason = ec.message();
        }
        break;
      }
      if (!ws_.got_text()) s_.protocol_errors.push_back("binary frame (Twilio warning 31950)");
      else on_message(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    done_ = true;
    out_.close();
    tick_.cancel();
  }

  void on_message(const std::string& text) {
    auto parsed = twilio::parse_outbound(text);
    if (!parsed) {
      s_.protocol_errors.push_back("invalid message (Twilio warning 31951): " + parsed.error().message);
      return;
    }
    if (parsed->stream_sid != s_.stream_sid) {
      s_.protocol_errors.push_back("wrong streamSid (Twilio warning 31951)");
      return;
    }
    if (auto* media = std::get_if<twilio::outbound_media>(&parsed->message)) {
      auto bytes = util::base64_decode(media->payload);
      if (!s_.time_to_first_audio) s_.time_to_first_audio = since(started_at_);
      if (!s_.setup_time) s_.setup_time = since(call_began_);
      if (resumed_from_) s_.reconnect_gaps.push_back(since(*std::exchange(resumed_from_, std::nullopt)));
      if (o_.tag_frames) time_echoes(*bytes);
      ++s_.frames_received;
      s_.bytes_received += bytes->size();
      s_.received_audio.insert(s_.received_audio.end(), bytes->begin(), bytes->end());
      playback_.insert(playback_.end(), bytes->begin(), bytes->end());
      queued_total_ += bytes->size();
    } else if (auto* mark = std::get_if<twilio::outbound_mark>(&parsed->message)) {
      s_.marks_received.push_back(mark->name);
      pending_marks_.emplace_back(queued_total_, mark->name);
      echo_played_marks();  // with nothing buffered, Twilio echoes at once
    } else {
      ++s_.clears;
      s_.played_at_clears.push_back(played_total_);
      playback_.clear();
      queued_total_ = played_total_;
      echo_played_marks();  // after `clear`, every pending mark comes back right away
    }
  }

  // Tag, in place of the frame's first 12 samples: 4 magic bytes, the frame's index (little-endian), a zero,
  // and 3 bytes (zero here) where an echoing fake-elevenlabs notes how long it held the frame, in microseconds.
  static constexpr std::size_t frame_tag_bytes = 12;
  static constexpr std::array<std::uint8_t, 4> frame_tag_magic{0xA5, 0x5A, 0x3C, 0xC3};
  static void write_tag(std::uint8_t* at, std::uint32_t index) {
    std::copy(frame_tag_magic.begin(), frame_tag_magic.end(), at);
    for (int i = 0; i < 4; ++i) at[4 + i] = static_cast<std::uint8_t>(index >> (8 * i));
    std::fill(at + 8, at + frame_tag_bytes, std::uint8_t{0});
  }
  // Every 160-byte frame of a payload: the gateway merges frames that queued behind a busy socket.
  void time_echoes(const std::vector<std::uint8_t>& bytes) {
    for (std::size_t at = 0; at + frame_tag_bytes <= bytes.size(); at += audio::mulaw_frame_bytes)
      time_echo(std::span(bytes).subspan(at));
  }
  void time_echo(std::span<const std::uint8_t> bytes) {
    if (!std::equal(frame_tag_magic.begin(), frame_tag_magic.end(), bytes.begin())) return;
    std::uint32_t index = 0;
    for (int i = 0; i < 4; ++i) index |= static_cast<std::uint32_t>(bytes[4 + i]) << (8 * i);
    if (index >= sent_at_.size()) return;
    ++s_.tagged_received;
    if (last_echo_ && index <= *last_echo_) ++s_.tagged_out_of_order;
    last_echo_ = std::max(index, last_echo_.value_or(0));
    s_.round_trips_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - sent_at_[index]).count()));
    s_.agent_holds_us.push_back(bytes[9] | (bytes[10] << 8) | (bytes[11] << 16));
  }

  void echo_played_marks() {
    while (!pending_marks_.empty() && pending_marks_.front().first <= played_total_) {
      send(twilio::serialize_inbound_mark(s_.stream_sid, {++seq_, pending_marks_.front().second}));
      ++s_.marks_echoed;
      pending_marks_.pop_front();
    }
  }

  // One tick per 20 ms on an absolute schedule: send a caller frame, play 20 ms, then hang up when done.
  asio::awaitable<void> ticker() {
    const auto& audio = o_.caller_audio;
    // A fresh stream after a lost one: the caller talks on from where they were.
    std::size_t offset = std::min<std::size_t>(s_.bytes_sent, audio.size()), next_dtmf = 0;
    std::uint64_t chunk = 0;
    auto next = started_at_;
    std::optional<clock::time_point> audio_done_at;
    while (!done_) {
      const auto elapsed = since(started_at_);
      const bool talking = offset < audio.size();
      if (!talking && !audio_done_at) audio_done_at = clock::now();
      if (talking || o_.keep_streaming) {  // a quiet caller still streams silence
        const std::size_t n = talking ? std::min(audio::mulaw_frame_bytes, audio.size() - offset) : audio::mulaw_frame_bytes;
        std::span<const std::uint8_t> frame = talking ? std::span(audio).subspan(offset, n) : std::span(quiet_frame_);
        std::array<std::uint8_t, audio::mulaw_frame_bytes> tagged;
        if (o_.tag_frames && n >= frame_tag_bytes) {
          std::copy(frame.begin(), frame.end(), tagged.begin());
          write_tag(tagged.data(), static_cast<std::uint32_t>(sent_at_.size()));
          sent_at_.push_back(clock::now());
          ++s_.tagged_sent;
          frame = std::span<const std::uint8_t>(tagged.data(), n);
        }
        twilio::media_message m{++seq_, "inbound", ++chunk, static_cast<std::uint64_t>(chunk - 1) * 20,
                                util::base64_encode(frame)};
        send(twilio::serialize_inbound_media(s_.stream_sid, m));
        if (talking) offset += n;
        ++s_.frames_sent;
        s_.bytes_sent += n;
      }
      while (next_dtmf < o_.dtmf.size() && o_.dtmf[next_dtmf].first <= elapsed) {
        send(twilio::serialize_dtmf(s_.stream_sid, {++seq_, "inbound_track", std::string(1, o_.dtmf[next_dtmf].second)}));
        ++s_.dtmf_sent;
        ++next_dtmf;
      }
      const std::size_t n = std::min(audio::mulaw_frame_bytes, playback_.size());
      s_.played_audio.insert(s_.played_audio.end(), playback_.begin(), playback_.begin() + static_cast<std::ptrdiff_t>(n));
      playback_.erase(playback_.begin(), playback_.begin() + static_cast<std::ptrdiff_t>(n));
      played_total_ += n;
      echo_played_marks();
      if (s_.fresh_streams == 0 && o_.break_link_after.count() > 0 && elapsed >= o_.break_link_after) {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);  // the reader sees the loss, as for a crash
        co_return;
      }
      const bool heard_enough = o_.hang_up_after_bytes > 0 && s_.bytes_received >= o_.hang_up_after_bytes;
      const bool finished = audio_done_at && next_dtmf >= o_.dtmf.size() &&
                            (heard_enough || clock::now() - *audio_done_at >= o_.linger);
      if (finished || elapsed >= o_.max_call) {
        hung_up_ = true;  // the caller hangs up: Twilio sends `stop` and closes
        send(twilio::serialize_stop(s_.stream_sid, {++seq_, "AC" + std::string(32, '0'), s_.call_sid}));
        send(std::string());
        co_return;
      }
      next += 20ms;
      tick_.expires_at(next);
      co_await tick_.async_wait(use_tuple);
    }
  }

  std::vector<clock::time_point> sent_at_;  // of each tagged frame
  std::optional<std::uint32_t> last_echo_;
  websocket::stream<beast::tcp_stream>& ws_;
  const options& o_;
  call_summary& s_;
  util::message_queue<std::string> out_;  // one writer per socket; an empty string asks for the close
  asio::steady_timer tick_;
  clock::time_point started_at_;
  std::uint64_t seq_ = 0;
  std::deque<std::uint8_t> playback_;  // Twilio's playout buffer
  std::deque<std::pair<std::uint64_t, std::string>> pending_marks_;  // (byte position, name)
  const std::array<std::uint8_t, audio::mulaw_frame_bytes> quiet_frame_ = [] {
    std::array<std::uint8_t, audio::mulaw_frame_bytes> frame;
    frame.fill(audio::mulaw_silence);
    return frame;
  }();
  std::uint64_t queued_total_ = 0, played_total_ = 0;
  bool done_ = false, hung_up_ = false;
  clock::time_point call_began_;
  std::optional<clock::time_point> resumed_from_;
};

asio::awaitable<void> open_stream(const options& o, call_summary& s, clock::time_point call_began,
                                  std::optional<clock::time_point> resumed_from) {
  auto url = boost::urls::parse_uri(s.stream_url);
  if (!url) {
    s.error = "TwiML stream url is not a URL";
    co_return;
  }
  const std::string host(url->encoded_host_and_port());
  const std::string target = std::string(url->encoded_path()) + o.stream_target_suffix;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(10s);
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(o.host, std::to_string(o.stream_port ? o.stream_port : o.port), use_tuple);
  if (rec) {
    s.error = "resolve: " + rec.message();
    co_return;
  }
  if (auto [ec, ep] = co_await stream.async_connect(endpoints, use_tuple); ec) {
    s.error = "stream connect: " + ec.message();
    co_return;
  }
  stream.socket().set_option(tcp::no_delay(true));
  stream.expires_never();
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = 5s;
  timeouts.idle_timeout = 30s;
  ws.set_option(timeouts);
  const std::string signature = o.sign_stream ? twilio::compute_signature(o.auth_token, s.stream_url, {}) : "";
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::user_agent, "Twilio.TmeWs/1.0");
    if (!signature.empty()) req.set("X-Twilio-Signature", signature);
  }));
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, host, target, use_tuple);
  s.upgrade_status = res.result_int();
  if (ec) {
    // A refusal carries its status; a timeout or a reset leaves the response empty, and its status means nothing.
    s.error = ec == websocket::error::upgrade_declined ? "stream upgrade refused: HTTP " + std::to_string(s.upgrade_status)
                                                       : "stream upgrade failed: " + ec.message();
    co_return;
  }
  stream_session session(ws, o, s, call_began, resumed_from);
  co_await session.run();
}

}  // namespace

std::string random_sid(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string sid(prefix);
  for (int i = 0; i < 32; ++i) sid.push_back(hex[rng() & 15]);
  return sid;
}

asio::awaitable<call_summary> run_call(options o) {
  call_summary s;
  const auto began = clock::now();
  s.call_sid = o.call_sid.empty() ? random_sid("CA") : o.call_sid;
  s.stream_sid = random_sid("MZ");
  co_await post_webhook(o, s);
  if (s.error.empty() && s.webhook_status == 200) {
    if (!parse_twiml(s)) {
      s.error = "webhook answer has no <Connect><Stream url>";
    } else {
      if (o.stream_delay.count() > 0) {  // Twilio bridging the call's media before it opens the stream
        asio::steady_timer wait(co_await asio::this_coro::executor, o.stream_delay);
        co_await wait.async_wait(use_tuple);
      }
      co_await open_stream(o, s, began, std::nullopt);
      // The caller is still on the line when the gateway closed (or lost) the stream: the action's answer.
      while (o.follow_connect_action && s.error.empty() && s.server_closed && !s.connect_action.empty()) {
        const auto lost_at = clock::now();
        if (!co_await post_connect_action(o, s)) break;
        if (!parse_twiml(s)) {
          s.error = "connect action answer has no <Connect><Stream url>";
          break;
        }
        ++s.fresh_streams;
        s.server_closed = false;
        s.close_code.reset();
        s.close_reason.clear();
        s.stream_sid = random_sid("MZ");
        co_await open_stream(o, s, began, lost_at);
      }
    }
  } else if (s.error.empty()) {
    s.error = "webhook answered HTTP " + std::to_string(s.webhook_status);
  }
  s.duration = since(began);
  co_return s;
}

}  // namespace voicebridge::sim
