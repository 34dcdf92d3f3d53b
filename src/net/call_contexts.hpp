// Where calls run. One io_context per io thread (THREADS, one per core by default), each run by its thread
// alone: a call's coroutines (its Twilio stream, its agent, a pre-warmed conversation) all live on one
// context, so they never run at once, with no strand, and its frames never cross threads. With one shared
// io_context and a strand per call, two threads cost 27 % more CPU per call than one (issue #23).
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <cassert>
#include <optional>
#include <vector>

namespace voicebridge::net {

class call_contexts {
 public:
  // Not empty; each context is run by one thread, the first by the gateway's owner.
  explicit call_contexts(std::vector<boost::asio::io_context*> contexts) : contexts_(std::move(contexts)) {
    assert(!contexts_.empty());
  }

  unsigned size() const { return static_cast<unsigned>(contexts_.size()); }
  // The next in turn, round robin (any thread may ask): connections as they are accepted, and each pre-warmed
  // conversation together with the stream that will adopt it.
  unsigned next() { return next_.fetch_add(1, std::memory_order_relaxed) % size(); }
  // The next in turn when there is a choice to name: nothing with one context.
  std::optional<unsigned> next_to_name() {
    if (size() == 1) return std::nullopt;
    return next();
  }
  boost::asio::io_context& at(unsigned index) const { return *contexts_[index % size()]; }

 private:
  std::vector<boost::asio::io_context*> contexts_;
  std::atomic<unsigned> next_{0};
};

// The connection (taken from `socket`) on `context`, before anything is pending on it: as it is when it is
// there already; nullopt (the socket closed) should that context refuse it.
std::optional<boost::asio::ip::tcp::socket> move_socket(boost::asio::ip::tcp::socket& socket,
                                                        boost::asio::io_context& context);

}  // namespace voicebridge::net
