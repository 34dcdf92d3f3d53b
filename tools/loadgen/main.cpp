// loadgen: N concurrent simulated Twilio calls from one process (coroutines on one thread, not a thread per
// call), each with a signed webhook and stream and 20 ms paced caller frames that carry a sequence tag. Against
// fake-elevenlabs in echo mode, every tagged frame comes back through gateway -> agent -> gateway, and its
// round trip is timed; less what the fake says it held the frame, that is the gateway's share (with the
// kernel's and the load generator's). Reports calls established, frames sent/received/lost/out of order,
// round-trip percentiles, and, given the gateway's pid, its CPU seconds (user and system) per call-second and
// RSS per call (idle vs loaded) from /proc; also the load generator's own CPU, to tell when it is the
// bottleneck. One warm-up call runs first, so that what the gateway touches once (code pages, pools, caches)
// is in the idle figures, not charged to the calls.
//
//   loadgen --url http://127.0.0.1:8080 --calls 100 --seconds 10 --gateway-pid $(pidof voicebridge) [--json]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "twilio-sim/simulator.hpp"
#include "voicebridge/audio/g711.hpp"
#include "common/report_escape.hpp"

namespace asio = boost::asio;
using namespace voicebridge;
using namespace std::chrono_literals;

namespace {

struct settings {
  std::string url = "http://127.0.0.1:8080";
  unsigned calls = 10;
  unsigned seconds = 10;
  unsigned ramp_ms = 2000;  // calls start spread over this time, as a busy line's calls would
  int gateway_pid = 0;
  unsigned warmup_seconds = 2;
  bool json = false;
};

struct cpu_times {
  double user = 0, system = 0;
};

// utime and stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
cpu_times cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return {};
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {utime / tick, stime / tick};
}

// VmRSS of a process, in KiB.
long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  return 0;
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

asio::awaitable<void> one_call(sim::options o, std::chrono::milliseconds start_in, sim::call_summary& result) {
  asio::steady_timer wait(co_await asio::this_coro::executor, start_in);
  co_await wait.async_wait(asio::use_awaitable);
  result = co_await sim::run_call(o);
}

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "loadgen: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--url") s.url = value();
    else if (arg == "--calls") s.calls = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--seconds") s.seconds = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--ramp-ms") s.ramp_ms = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--gateway-pid") s.gateway_pid = std::stoi(value());
    else if (arg == "--warmup-seconds") s.warmup_seconds = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--json") s.json = true;
    else {
      std::cerr << "usage: loadgen [--url URL] [--calls N] [--seconds S] [--ramp-ms MS] [--gateway-pid PID] [--warmup-seconds S] [--json]\n"
                   "  TWILIO_AUTH_TOKEN signs the requests, as for twilio-sim.\n";
      std::exit(2);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const settings cfg = parse(argc, argv);
  const char* token = std::getenv("TWILIO_AUTH_TOKEN");
  const auto port_at = cfg.url.rfind(':');
  if (!token || port_at == std::string::npos || port_at < 6) {
    std::cerr << "loadgen: set TWILIO_AUTH_TOKEN and --url http://host:port\n";
    return 2;
  }
  // A 440 Hz tone; each frame's first 8 bytes are replaced by its tag.
  std::vector<std::int16_t> pcm(static_cast<std::size_t>(cfg.seconds) * 8000);
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 440 * i / 8000.0));
  const auto audio = audio::mulaw_encode(pcm);

  auto options_for_call = [&] {
    sim::options o;
    o.host = cfg.url.substr(cfg.url.find("://") + 3, port_at - cfg.url.find("://") - 3);
    o.port = static_cast<std::uint16_t>(std::stoi(cfg.url.substr(port_at + 1)));
    o.public_base_url = cfg.url;
    o.auth_token = token;
    o.caller_audio = audio;
    o.linger = 1000ms;
    o.tag_frames = true;
    o.max_call = std::chrono::milliseconds(cfg.seconds * 1000 + 30000);
    return o;
  };

  asio::io_context io(1);
  if (cfg.warmup_seconds > 0) {
    sim::options o = options_for_call();
    o.caller_audio.resize(std::min<std::size_t>(o.caller_audio.size(), cfg.warmup_seconds * 8000));
    sim::call_summary warmup;
    asio::co_spawn(io, one_call(std::move(o), 0ms, warmup), voicebridge::tools::report_escape("loadgen call"));
    io.run();
    io.restart();
    std::this_thread::sleep_for(500ms);  // the gateway's end-of-call work (records) lands
  }
  std::vector<sim::call_summary> results(cfg.calls);
  const long idle_rss = cfg.gateway_pid ? rss_kib(cfg.gateway_pid) : 0;
  const cpu_times gateway_cpu_before = cfg.gateway_pid ? cpu_seconds(cfg.gateway_pid) : cpu_times{};
  const double own_cpu_before = own_cpu_seconds();
  const auto began = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < cfg.calls; ++i) {
    sim::options o = options_for_call();
    const auto start_in = std::chrono::milliseconds(cfg.calls > 1 ? cfg.ramp_ms * i / (cfg.calls - 1) : 0);
    asio::co_spawn(io, one_call(std::move(o), start_in, results[i]), [&results, i](std::exception_ptr e) {
      if (e) results[i].error = "the simulated call threw";  // counted as not established
    });
  }
  // RSS under load: sampled in the middle of the run, when every call is up.
  long loaded_rss = 0;
  asio::steady_timer sample(io, std::chrono::milliseconds(cfg.ramp_ms) + std::chrono::seconds(cfg.seconds) / 2);
  sample.async_wait([&](auto) { loaded_rss = cfg.gateway_pid ? rss_kib(cfg.gateway_pid) : 0; });
  io.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const cpu_times gateway_cpu_after = cfg.gateway_pid ? cpu_seconds(cfg.gateway_pid) : cpu_times{};
  const double gateway_user = gateway_cpu_after.user - gateway_cpu_before.user;
  const double gateway_system = gateway_cpu_after.system - gateway_cpu_before.system;
  const double gateway_cpu = gateway_user + gateway_system;
  const double own_cpu = own_cpu_seconds() - own_cpu_before;

  unsigned established = 0;
  std::uint64_t sent = 0, received = 0, out_of_order = 0;
  std::vector<std::uint32_t> rtt;
  std::vector<std::uint32_t> added;  // round trip minus the fake agent's own hold: the gateway's (and kernel's) share
  std::vector<std::uint32_t> setup_us;  // voice webhook sent -> first agent audio heard, per call
  std::string first_error;
  for (auto& r : results) {
    if (r.upgrade_status == 101 && r.error.empty()) ++established;
    else if (first_error.empty()) first_error = r.error;
    sent += r.tagged_sent;
    received += r.tagged_received;
    out_of_order += r.tagged_out_of_order;
    rtt.insert(rtt.end(), r.round_trips_us.begin(), r.round_trips_us.end());
    if (r.setup_time) setup_us.push_back(static_cast<std::uint32_t>(r.setup_time->count() * 1000));
    for (std::size_t i = 0; i < r.round_trips_us.size() && i < r.agent_holds_us.size(); ++i)
      added.push_back(r.round_trips_us[i] - std::min(r.round_trips_us[i], r.agent_holds_us[i]));
  }
  std::sort(rtt.begin(), rtt.end());
  std::sort(added.begin(), added.end());
  std::sort(setup_us.begin(), setup_us.end());
  const double call_seconds = static_cast<double>(established) * cfg.seconds;
  boost::json::object out{
      {"calls", cfg.calls},
      {"calls_established", established},
      {"seconds", cfg.seconds},
      {"frames_sent", sent},
      {"frames_received", received},
      {"frames_lost", sent - std::min(sent, received)},
      {"frames_out_of_order", out_of_order},
      {"rtt_ms_p50", percentile(rtt, 50)},
      {"rtt_ms_p90", percentile(rtt, 90)},
      {"rtt_ms_p99", percentile(rtt, 99)},
      {"rtt_ms_max", rtt.empty() ? 0.0 : rtt.back() / 1000.0},
      {"gateway_added_ms_p50", percentile(added, 50)},
      {"gateway_added_ms_p99", percentile(added, 99)},
      {"setup_ms_p50", percentile(setup_us, 50)},
      {"setup_ms_p99", percentile(setup_us, 99)},
      {"wall_seconds", wall},
      {"loadgen_cpu_seconds", own_cpu},
      {"loadgen_cpu_share", own_cpu / wall},
  };
  if (cfg.gateway_pid) {
    out["gateway_cpu_seconds"] = gateway_cpu;
    out["gateway_cpu_ms_per_call_second"] = call_seconds > 0 ? gateway_cpu * 1000 / call_seconds : 0.0;
    out["gateway_user_ms_per_call_second"] = call_seconds > 0 ? gateway_user * 1000 / call_seconds : 0.0;
    out["gateway_system_ms_per_call_second"] = call_seconds > 0 ? gateway_system * 1000 / call_seconds : 0.0;
    out["gateway_rss_idle_kib"] = idle_rss;
    out["gateway_rss_loaded_kib"] = loaded_rss;
    out["gateway_rss_kib_per_call"] = cfg.calls ? static_cast<double>(loaded_rss - idle_rss) / cfg.calls : 0.0;
  }
  if (!first_error.empty()) out["first_error"] = first_error;
  if (cfg.json) {
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    for (const auto& [key, value] : out) {
      std::cout << "  " << std::string(key) << std::string(34 - key.size(), ' ');
      if (value.is_double()) std::cout << std::fixed << std::setprecision(3) << value.as_double() << "\n";
      else std::cout << value << "\n";
    }
  }
  return established == cfg.calls ? 0 : 1;
}
