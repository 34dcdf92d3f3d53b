#include "voicebridge/service/service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#if VOICEBRIDGE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "app/report_escape.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"
#include "voicebridge/server/gateway.hpp"

namespace voicebridge::service {
namespace asio = boost::asio;
using app::config;
using app::log;
using app::log_level;
using app::metrics;
using app::report_escape;
using namespace std::chrono_literals;

void notify_systemd(std::string_view state) {
#if VOICEBRIDGE_HAVE_SYSTEMD
  const std::string text(state);
  sd_notify(0, text.c_str());
#else
  (void)state;
#endif
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How often the loop checks in: WATCHDOG=1 at half systemd's WatchdogSec (as sd_watchdog_enabled(3)
// advises), and at least once a second for the lag metric and the STATUS line.
std::chrono::microseconds heartbeat_interval() {
  std::chrono::microseconds interval = 1s;
#if VOICEBRIDGE_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval = std::min(interval, std::chrono::microseconds(usec / 2));
#endif
  return interval;
}

// The io threads after the first (run_service's own): one io_context each, run by that thread alone
// (net/call_contexts.hpp), kept running while idle until stopped.
class more_io_threads {
 public:
  explicit more_io_threads(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      idle_.push_back(asio::make_work_guard(*contexts_.back()));
    }
  }
  ~more_io_threads() { stop(); }
  more_io_threads(const more_io_threads&) = delete;
  more_io_threads& operator=(const more_io_threads&) = delete;

  std::vector<asio::io_context*> contexts() const {
    std::vector<asio::io_context*> all;
    for (const auto& c : contexts_) all.push_back(c.get());
    return all;
  }
  void start() {
    for (auto& c : contexts_) threads_.emplace_back([&io = *c] { io.run(); });
  }
  // Their loops end (what is queued there is destroyed with the contexts) and their threads are joined.
  void stop() {
    idle_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_;
  std::vector<std::thread> threads_;
};

// When each io thread's heartbeat last fired (steady clock ticks).
using beat_times = std::vector<std::atomic<std::chrono::steady_clock::rep>>;

// A timer on each io thread's loop: when it fires late, every call on that loop was delayed as much. The first
// thread's pings systemd (WATCHDOG=1) while every loop beats: one stuck for good stops the pings, and systemd
// restarts the service.
asio::awaitable<void> heartbeat(const server::gateway& server, beat_times& beats, std::size_t index) {
  const auto interval = heartbeat_interval();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = std::chrono::steady_clock::now() + interval;
  std::size_t last_calls = static_cast<std::size_t>(-1);
  for (;;) {
    timer.expires_at(next);
    if (auto [ec] = co_await timer.async_wait(use_tuple); ec) co_return;
    const auto now = std::chrono::steady_clock::now();
    metrics().event_loop_lag_seconds.observe(std::max(now - next, std::chrono::steady_clock::duration::zero()));
    next = std::max(next + interval, now);
    beats[index].store(now.time_since_epoch().count(), std::memory_order_relaxed);
    if (index != 0) continue;
    const auto stuck = std::any_of(beats.begin(), beats.end(), [&](const auto& beat) {
      return now - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(beat.load())) > 4 * interval;
    });
    if (stuck) continue;
    const auto calls = server.active_calls();
    if (calls != last_calls) {
      last_calls = calls;
      notify_systemd("WATCHDOG=1\nSTATUS=" + std::to_string(calls) + " active calls");
    } else {
      notify_systemd("WATCHDOG=1");
    }
  }
}

asio::awaitable<void> drain(server::gateway& server, std::chrono::seconds timeout, asio::io_context& io) {
  server.begin_drain();
  notify_systemd("STOPPING=1\nSTATUS=draining " + std::to_string(server.active_calls()) + " active calls");
  log(log_level::info, "draining", {{"active_calls", server.active_calls()}, {"timeout_s", timeout.count()}});
  // Named deadlines, not temporaries, as coroutine arguments (GCC 12: docs/gcc12-coroutines.md).
  const auto drain_deadline = std::chrono::steady_clock::now() + timeout;
  // As Beast's server-flex-awaitable: the calls end on their own until the deadline, then are asked to end
  // (`total`: a close handshake each), then, still there 5 s later, have their sockets dropped (`terminal`).
  if (!co_await server.calls_ended(drain_deadline)) {
    log(log_level::warn, "drain timeout: ending active calls", {{"active_calls", server.active_calls()}});
    server.end_calls();
    const auto end_deadline = std::chrono::steady_clock::now() + 5s;
    if (!co_await server.calls_ended(end_deadline)) {
      log(log_level::error, "calls still active after being ended: dropping their sockets",
          {{"active_calls", server.active_calls()}});
      server.end_calls(true);
      const auto drop_deadline = std::chrono::steady_clock::now() + 1s;
      if (!co_await server.calls_ended(drop_deadline))
        log(log_level::error, "calls still active after their sockets were dropped", {{"active_calls", server.active_calls()}});
    }
  }
  server.stop_accepting();
  // The calls' files and records, written on their own threads, land before the process goes.
  if (!server.flush_records(10s)) log(log_level::error, "call records or recordings still being written at exit");
  log(log_level::info, "drained, exiting");
  io.stop();
}

}  // namespace

int run_service(const config& config) {
  // A file size limit must fail the write (recordings: counted, logged, the call goes on), not kill every call.
  ::signal(SIGXFSZ, SIG_IGN);
  const unsigned threads = config.io_threads();
  // One io_context per io thread (net/call_contexts.hpp): this thread runs `io`.
  asio::io_context io(1);
  beat_times beats(threads);  // before the threads: their heartbeats write it until they are joined
  for (auto& beat : beats) beat.store(std::chrono::steady_clock::now().time_since_epoch().count());
  more_io_threads more_io(threads - 1);
  server::gateway server(io, config, more_io.contexts());
  server.start();
  asio::co_spawn(io, heartbeat(server, beats, 0), report_escape("heartbeat"));
  const auto contexts = more_io.contexts();
  for (std::size_t i = 0; i < contexts.size(); ++i)
    asio::co_spawn(*contexts[i], heartbeat(server, beats, i + 1), report_escape("heartbeat"));

  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool draining = false;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                               int signal) {
    if (ec) return;
    if (draining) {
      log(log_level::warn, "second signal: exiting now", {{"signal", signal}, {"active_calls", server.active_calls()}});
      std::_Exit(1);
    }
    draining = true;
    log(log_level::info, "signal received", {{"signal", signal}});
    asio::co_spawn(io, drain(server, config.drain_timeout, io), report_escape("drain"));
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  // SIGHUP (systemctl reload): ROUTES_FILE again. Read, checked and its prompts made on a thread of its own,
  // never on an io thread; a file that fails its checks is logged and changes nothing.
  asio::thread_pool reloads(1);
  asio::signal_set hangups(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log(log_level::info, "SIGHUP: reloading the routes");
    asio::post(reloads, [&server] { (void)server.reload_routes(); });
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);

  notify_systemd("READY=1\nSTATUS=0 active calls, " + std::to_string(threads) + " threads");
  log(log_level::info, "ready", {{"threads", threads}});
  more_io.start();
  io.run();
  more_io.stop();
  reloads.join();
  return 0;
}

}  // namespace voicebridge::service
