// Stream sockets that have not yet proved themselves with an authenticated `start`. They live in a budget of
// their own, a total and a share per source address, and never in MAX_CALLS: sockets that never authenticate
// cannot take the business off the phone, and one source cannot take the whole budget from the others (Twilio's
// own streams send `start` within milliseconds of the upgrade, so they hold a ticket only briefly). Thread-safe:
// upgrades arrive on every io thread.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {

class pending_streams {
 public:
  // A place in the budget, given back when the stream authenticates (release) or ends (destruction).
  class ticket {
   public:
    ticket() = default;
    ticket(ticket&& other) noexcept : owner_(other.owner_), address_(std::move(other.address_)) { other.owner_ = nullptr; }
    ticket& operator=(ticket&& other) noexcept {
      if (this != &other) {
        release();
        owner_ = other.owner_;
        address_ = std::move(other.address_);
        other.owner_ = nullptr;
      }
      return *this;
    }
    ~ticket() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    void release() {
      if (owner_) owner_->leave(address_);
      owner_ = nullptr;
    }

   private:
    friend class pending_streams;
    ticket(pending_streams* owner, std::string address) : owner_(owner), address_(std::move(address)) {}
    pending_streams* owner_ = nullptr;
    std::string address_;
  };

  // Which limit refused a socket: the `limit` label of limit_hits_total.
  static constexpr std::string_view total_limit = "pending_streams";
  static constexpr std::string_view per_address_limit = "pending_streams_per_address";

  pending_streams(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // A ticket for a socket from `address`; an empty one when a limit is reached, with `refused_by` naming it.
  ticket try_enter(const std::string& address, std::string_view& refused_by) {
    std::lock_guard lock(mutex_);
    if (total_ >= max_total_) {
      refused_by = total_limit;
      return {};
    }
    auto& from_address = by_address_[address];
    if (from_address >= max_per_address_) {
      refused_by = per_address_limit;
      return {};
    }
    ++from_address;
    app::metrics().pending_streams.set(static_cast<double>(++total_));
    return {this, address};
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  void leave(const std::string& address) {
    std::lock_guard lock(mutex_);
    app::metrics().pending_streams.set(static_cast<double>(--total_));
    if (auto it = by_address_.find(address); it != by_address_.end() && --it->second == 0) by_address_.erase(it);
  }

  mutable std::mutex mutex_;
  const std::size_t max_total_, max_per_address_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> by_address_;
};

}  // namespace voicebridge::call
