// Gets call records into the database without ever holding up a call: calls hand records to a bounded
// queue and return; one writer thread stores them. While the database is down, records go to a local
// spool file (fsync'd, one JSON line each) and are replayed, in order, once it answers again; the spool
// survives a restart. Writes are upserts by call SID, so a replay that is interrupted can run again.
#pragma once
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "records/call_store.hpp"

namespace voicebridge::records {

// Which stored calls queue a post-call webhook (records/webhook_deliveries.hpp), in the same step as their
// last record (the one with an outcome) or the final status of a call that never connected: a spooled
// record queues its delivery when it is replayed, so a database outage loses none.
struct postcall_queue {
  std::function<bool(const std::string& route)> wanted;  // empty: no post-call webhooks; called on the writer's thread
  std::chrono::milliseconds status_wait{30000};          // a stream's record waits this long for Twilio's final status
  std::function<void()> on_queued;                       // wakes the sender; thread-safe
};

// Where a call's recording and voicemail can be read: the disk of the instance that wrote them (one instance),
// or also the call store, copied in before the call's record (several instances: records/call_audio.hpp).
enum class call_audio_home { local_disk, also_in_store };

class record_writer {
 public:
  record_writer(std::shared_ptr<call_store> store, std::filesystem::path spool_file, postcall_queue postcall = {},
                std::chrono::milliseconds retry_every = std::chrono::milliseconds(1000),
                call_audio_home audio = call_audio_home::local_disk);
  ~record_writer();  // stores (or spools) what is queued, then stops
  record_writer(const record_writer&) = delete;
  record_writer& operator=(const record_writer&) = delete;

  void submit(call_record record);
  void submit(status_update update);

  call_store& store() { return *store_; }
  // Until everything submitted so far is in the database (true) or the timeout passes (false). For tests
  // and the drain at shutdown.
  bool wait_stored(std::chrono::milliseconds timeout);
  // Until everything submitted so far is stored or spooled (true), or the timeout passes.
  bool wait_handled(std::chrono::milliseconds timeout);

  static constexpr std::size_t max_queued = 10000;

 private:
  using operation = std::variant<call_record, status_update>;
  void run();
  void apply(const operation& op);
  bool replay_spool();  // true when the spool is empty afterwards
  void spool(const operation& op);
  void share_audio(const call_record& r);

  std::shared_ptr<call_store> store_;
  std::filesystem::path spool_file_;
  postcall_queue postcall_;
  std::chrono::milliseconds retry_every_;
  call_audio_home audio_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<operation> queue_;
  bool spool_pending_ = false;  // the spool file holds operations not yet in the database
  std::uint64_t spooled_by_submitters_ = 0;
  bool busy_ = false;
  bool stopping_ = false;
  std::mutex spool_mutex_;  // the spool file is appended to by the writer, and by submitters when the queue is full
  std::thread thread_;
};

}  // namespace voicebridge::records
