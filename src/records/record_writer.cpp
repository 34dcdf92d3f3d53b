#include "records/record_writer.hpp"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "util/overloaded.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::records {
using app::log;
using app::log_level;
using app::metrics;

namespace {

// One operation per spool line: "record <record JSON>" or "status <JSON>".
std::string spool_line(const std::variant<call_record, status_update>& op) {
  if (const auto* record = std::get_if<call_record>(&op)) return "record " + to_json(*record);
  const auto& update = std::get<status_update>(op);
  boost::json::object o{{"call_sid", update.call_sid}, {"status", update.status}};
  if (update.duration_s) o["duration_s"] = *update.duration_s;
  if (update.outcome) o["outcome"] = *update.outcome;
  return "status " + boost::json::serialize(o);
}

std::optional<std::variant<call_record, status_update>> parse_spool_line(std::string_view line) {
  if (line.starts_with("record ")) {
    auto record = record_from_json(line.substr(7));
    if (record) return std::variant<call_record, status_update>(std::move(*record));
  } else if (line.starts_with("status ")) {
    boost::json::error_code ec;
    auto value = boost::json::parse(line.substr(7), ec);
    if (!ec && value.is_object()) {
      const auto& o = value.get_object();
      const auto* sid = o.if_contains("call_sid");
      const auto* status = o.if_contains("status");
      const auto* duration = o.if_contains("duration_s");
      if (sid && sid->is_string() && status && status->is_string()) {
        status_update u{std::string(sid->get_string()), std::string(status->get_string()), std::nullopt, std::nullopt};
        if (duration && duration->is_int64()) u.duration_s = duration->as_int64();
        if (const auto* outcome = o.if_contains("outcome"); outcome && outcome->is_string())
          u.outcome = std::string(outcome->get_string());
        return std::variant<call_record, status_update>(std::move(u));
      }
    }
  }
  return std::nullopt;
}

}  // namespace

record_writer::record_writer(std::shared_ptr<call_store> store, std::filesystem::path spool_file, postcall_queue postcall,
                             std::chrono::milliseconds retry_every, call_audio_home audio)
    : store_(std::move(store)),
      spool_file_(std::move(spool_file)),
      postcall_(std::move(postcall)),
      retry_every_(retry_every),
      audio_(audio) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(spool_file_, ec);
  spool_pending_ = !ec && size > 0;  // left by an earlier run while the database was down
  if (spool_pending_) log(log_level::info, "call records: spooled records from an earlier run will be replayed",
                          {{"spool", spool_file_.string()}, {"bytes", static_cast<std::uint64_t>(size)}});
  thread_ = std::thread([this] { run(); });
}

record_writer::~record_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void record_writer::submit(call_record record) {
  operation op(std::move(record));
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() < max_queued) {
      queue_.push_back(std::move(op));
      wake_.notify_one();
      return;
    }
  }
  // The writer is stuck on the database and the queue is full: straight to the spool, not dropped.
  spool(op);
  std::lock_guard lock(mutex_);
  spool_pending_ = true;
  ++spooled_by_submitters_;
}

void record_writer::submit(status_update update) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(update));  // small and rare (one per call): not bounded separately
  wake_.notify_one();
}

bool record_writer::wait_stored(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_ && !spool_pending_; });
}

bool record_writer::wait_handled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void record_writer::run() {
  auto next_attempt = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<operation> op;
    bool pending = false;
    std::uint64_t spooled_before = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, retry_every_, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) break;
      if (!queue_.empty()) {
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      busy_ = true;
      pending = spool_pending_;
      spooled_before = spooled_by_submitters_;
    }
    // While the database is down it is tried again every retry_every_, not for every record.
    const auto now = std::chrono::steady_clock::now();
    bool failed_now = false;
    if (pending && now >= next_attempt) failed_now = pending = !replay_spool();
    if (op) {
      if (pending) {
        spool(*op);  // behind what is spooled already: the database sees each call's writes in order
      } else {
        try {
          apply(*op);
          metrics().record_writes.inc("stored");
        } catch (const store_error& e) {
          log(log_level::error, "call records: database unavailable, spooling to disk until it is back",
              {{"database", store_->kind()}, {"error", e.what()}, {"spool", spool_file_.string()}});
          spool(*op);
          failed_now = pending = true;
        }
      }
    }
    if (failed_now) next_attempt = now + retry_every_;
    std::lock_guard lock(mutex_);
    // A submitter may have spooled (full queue) since the replay: then the spool is not empty yet.
    spool_pending_ = pending || spooled_by_submitters_ != spooled_before;
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  std::lock_guard lock(mutex_);
  busy_ = false;
  idle_.notify_all();
}

void record_writer::share_audio(const call_record& r) {
  for (const auto& [kind, path] : {std::pair{audio_kind::recording, &r.recording_path}, std::pair{audio_kind::voicemail, &r.voicemail_path}}) {
    if (path->empty()) continue;
    const auto started = std::chrono::steady_clock::now();
    const auto bytes = store_->share_audio(r.call_sid, kind, *path, now_epoch_ms());  // a store_error spools the record
    if (!bytes) {
      // Gone or unreadable (removed by hand?): the record is stored anyway; this instance's read API says so.
      log(log_level::warn, "call audio: the file cannot be read, so other instances cannot serve it",
          {{"call_sid", r.call_sid}, {"kind", kind}, {"path", *path}});
      continue;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log(log_level::info, "call audio stored for every instance",
        {{"call_sid", r.call_sid}, {"kind", kind}, {"bytes", *bytes}, {"ms", static_cast<std::int64_t>(ms.count())}});
  }
}

void record_writer::apply(const operation& op) {
  const auto now = now_epoch_ms();
  bool queued = false;
  std::visit(util::overloaded{[&](const call_record& r) {
                                // Before the record: once another instance reads the record (or the
                                // post-call webhook's receiver follows its link), the audio is there.
                                if (audio_ == call_audio_home::also_in_store) share_audio(r);
                                store_->save(r);
                                // Only a call's last record has an outcome (an outbound call's first, at its
                                // placement, has none yet) and was not handed to a fresh stream.
                                if (r.outcome.empty() || r.handed_off || !postcall_.wanted || !postcall_.wanted(r.route))
                                  return;
                                store_->enqueue_delivery(r.call_sid, now, postcall_.status_wait.count());
                                queued = true;
                              },
                              [&](const status_update& u) {
                                store_->save_status(u);
                                // A final status makes a waiting delivery due (call_store::save_status): look now.
                                queued = is_final_call_status(u.status) && postcall_.wanted;
                                // A call that ended before any stream (busy, unanswered): this status completes it.
                                if (!u.outcome || !postcall_.wanted) return;
                                const auto route = store_->route_of(u.call_sid);
                                if (!route || !postcall_.wanted(*route)) return;
                                store_->enqueue_delivery(u.call_sid, now, 0);
                                queued = true;
                              }},
             op);
  if (queued && postcall_.on_queued) postcall_.on_queued();
}

void record_writer::spool(const operation& op) {
  const std::string line = spool_line(op) + "\n";
  std::lock_guard lock(spool_mutex_);
  const int fd = ::open(spool_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0) ::close(fd);
  if (ok) {
    metrics().record_writes.inc("spooled");
    return;
  }
  // Database down and the disk refuses too: the one way a record is lost. Say so loudly.
  metrics().record_writes.inc("failed");
  log(log_level::error, "call record lost: the database is down and the spool cannot be written",
      {{"spool", spool_file_.string()}, {"error", std::strerror(error)}});
}

bool record_writer::replay_spool() {
  std::lock_guard lock(spool_mutex_);
  std::ifstream in(spool_file_);
  if (!in) return true;  // nothing spooled
  std::string line;
  std::uint64_t replayed = 0;
  try {
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto op = parse_spool_line(line);
      if (!op) {  // a line cut short by a crash mid-write
        log(log_level::warn, "call records: unreadable spool line skipped", {{"spool", spool_file_.string()}});
        continue;
      }
      apply(*op);
      ++replayed;
    }
  } catch (const store_error&) {
    return false;  // still down; what was replayed is replayed again next time (upserts)
  }
  in.close();
  // Everything is in the database: empty the spool (truncate, then make that durable).
  const int fd = ::open(spool_file_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  metrics().record_writes.inc("replayed", replayed);
  if (replayed > 0) log(log_level::info, "call records: database is back, spooled records stored",
                        {{"database", store_->kind()}, {"records", replayed}});
  return true;
}

}  // namespace voicebridge::records
