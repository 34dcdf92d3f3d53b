#include "server/routing.hpp"

#include <fstream>
#include <iterator>

#include "voicebridge/app/log.hpp"

namespace voicebridge::server {
using app::log;
using app::log_level;

namespace {

constexpr std::string_view voicemail_suffix = "/voicemail";

// The route <Parameter> a stream token is bound to: the route's name, and whether it is its voicemail.
std::string grant_of(std::string_view name, bool voicemail) {
  return std::string(name) + (voicemail ? std::string(voicemail_suffix) : std::string());
}

std::string read_file(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw app::config_error(what + ": cannot read " + file.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// One route table with each route's agents, built once and then only read (from any thread).
class route_generation {
 public:
  route_generation(boost::asio::thread_pool& disk, route_table table,
                   call::precall_answers* precalls)
      : table_(std::move(table)) {
    for (const auto& r : table_.routes()) {
      auto e = std::make_unique<entry>(r.settings);
      // A route's own secrets are masked in every log line, as the environment's are (service/main.cpp).
      for (const auto* secret : {&r.settings.webhook_secret, &r.settings.elevenlabs_api_key, &r.settings.llm_api_key})
        app::add_log_secret(*secret);
      if (!r.settings.precall_webhook_url.empty() && r.settings.mode() != app::agent_mode::elevenlabs_agent)
        log(log_level::warn, "precall_webhook_url is used by agent_mode elevenlabs-agent only: not asked for this route",
            {{"route", r.name}});
      if (r.system_prompt_file)
        e->settings.system_prompt = read_file(*r.system_prompt_file, "ROUTES_FILE: route " + r.name + ": system_prompt_file");
      // Throws app::config_error for a prompt that cannot be loaded: named by the route too.
      try {
        e->agents = std::make_unique<configured_agents>(e->settings, disk, r.dynamic_variables, precalls);
      } catch (const app::config_error& error) {
        throw app::config_error("ROUTES_FILE: route " + r.name + ": " + error.what());
      }
      e->normal = std::make_unique<call::call_route>(
          call::call_route{r.name, e->settings, *e->agents, e->agents->fallback(), r.max_calls, false,
                           e->agents->machine_message()});
      e->voicemail = std::make_unique<call::call_route>(
          call::call_route{r.name, e->settings, *e->agents, e->agents->fallback(), r.max_calls, true,
                           e->agents->machine_message()});
      entries_.push_back(std::move(e));
    }
  }

  const route_table& table() const { return table_; }

  // `self` keeps the generation alive for as long as the route is held (shared_ptr's aliasing constructor).
  static route_choice choice(const std::shared_ptr<route_generation>& self, const route& r, bool voicemail) {
    auto& e = *self->entries_.at(static_cast<std::size_t>(&r - self->table_.routes().data()));
    const call::call_route& chosen = voicemail ? *e.voicemail : *e.normal;
    return {std::shared_ptr<const call::call_route>(self, &chosen), grant_of(r.name, voicemail), e.agents.get()};
  }

 private:
  struct entry {
    explicit entry(const app::config& s) : settings(s) {}
    app::config settings;  // the route's, with its system prompt file read
    std::unique_ptr<configured_agents> agents;
    std::unique_ptr<call::call_route> normal, voicemail;
  };
  route_table table_;
  std::vector<std::unique_ptr<entry>> entries_;  // one per route, in the table's order
};

routing::routing(const app::config& base, boost::asio::thread_pool& disk, call::precall_answers* precalls)
    : base_(base), disk_(disk), precalls_(precalls), current_(load()) {
  const auto& routes = current_->table().routes();
  log(log_level::info, "routes loaded",
      {{"file", base.routes_file.empty() ? "(none: the environment is the one route)" : base.routes_file.string()},
       {"routes", routes.size()}});
}

routing::~routing() = default;

std::shared_ptr<route_generation> routing::load() const {
  if (base_.routes_file.empty())
    return std::make_shared<route_generation>(disk_, route_table::single(base_), precalls_);
  const std::string text = read_file(base_.routes_file, "ROUTES_FILE");
  auto table = route_table::parse(text, base_, app::process_environment());
  if (!table) throw app::config_error(table.error().message + " (" + base_.routes_file.string() + ")");
  return std::make_shared<route_generation>(disk_, std::move(*table), precalls_);
}

std::optional<std::string> routing::reload() {
  std::shared_ptr<route_generation> next;
  try {
    next = load();
  } catch (const app::config_error& e) {
    log(log_level::error, "routes reload refused: the routes in force stay", {{"error", e.what()}});
    return std::string(e.what());
  }
  {
    std::lock_guard lock(mutex_);
    std::swap(current_, next);
  }
  // `next` (the old generation) goes when its last call and held route let go of it.
  log(log_level::info, "routes reloaded", {{"file", base_.routes_file.string()}});
  return std::nullopt;
}

std::optional<route_choice> routing::choose(std::string_view to, std::chrono::system_clock::time_point now) {
  std::shared_ptr<route_generation> generation;
  {
    std::lock_guard lock(mutex_);
    generation = current_;
  }
  const auto& table = generation->table();
  const route* r = table.for_number(to);
  if (!r) return std::nullopt;
  // After hours, a route hands its calls to the route it names (which may be closed too), or to its own
  // voicemail. The load refused a route naming itself; a longer loop ends in voicemail after one round.
  for (std::size_t step = 0; step < table.routes().size(); ++step) {
    const auto open = is_open(*r, now);
    if (!open) log(log_level::error, "route hours: taken as open", {{"route", r->name}, {"error", open.error().message}});
    if (!open || *open) return route_generation::choice(generation, *r, false);
    if (r->after_hours == "voicemail") break;
    r = table.named(r->after_hours);
  }
  return route_generation::choice(generation, *r, true);
}

std::optional<route_choice> routing::choose_named(std::string_view name) {
  std::shared_ptr<route_generation> generation;
  {
    std::lock_guard lock(mutex_);
    generation = current_;
  }
  const route* r = generation->table().named(name);
  if (!r) return std::nullopt;
  return route_generation::choice(generation, *r, false);
}

std::shared_ptr<const route_table> routing::table() {
  std::lock_guard lock(mutex_);
  return std::shared_ptr<const route_table>(current_, &current_->table());
}

void routing::hold_for_stream(const std::string& call_sid, std::shared_ptr<const call::call_route> route) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  std::erase_if(held_, [&](const auto& entry) { return entry.second.until <= now; });
  held_[call_sid] = {std::move(route), now + base_.prewarm_timeout};
}

std::shared_ptr<const call::call_route> routing::find(const std::string& call_sid, std::string_view grant) {
  std::shared_ptr<route_generation> generation;
  {
    std::lock_guard lock(mutex_);
    if (auto it = held_.find(call_sid); it != held_.end()) {
      auto route = std::move(it->second.route);
      held_.erase(it);
      if (grant == grant_of(route->name, route->voicemail_only)) return route;
    }
    generation = current_;
  }
  // A stream whose webhook ran on another instance (or before a restart): the route of that name now.
  auto choice = granted(generation, grant);
  return choice ? choice->route : nullptr;
}

std::optional<route_choice> routing::choose_granted(std::string_view grant) {
  std::shared_ptr<route_generation> generation;
  {
    std::lock_guard lock(mutex_);
    generation = current_;
  }
  return granted(generation, grant);
}

std::optional<route_choice> routing::granted(const std::shared_ptr<route_generation>& generation, std::string_view grant) {
  const auto& table = generation->table();
  const bool voicemail = grant.ends_with(voicemail_suffix);
  if (voicemail) grant.remove_suffix(voicemail_suffix.size());
  const route* r = grant.empty() && !voicemail ? table.catch_all() : table.named(grant);  // "": signature-only starts
  if (!r) return std::nullopt;
  return route_generation::choice(generation, *r, voicemail);
}

}  // namespace voicebridge::server
