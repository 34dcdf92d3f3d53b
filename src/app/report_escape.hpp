// The completion handler every co_spawn gets: what escaped a coroutine is logged and counted
// (voicebridge_escaped_exceptions_total{task}), so that a bug in one task never takes the process down and is
// never silent. Cancellation is not an escape: a task ended by its owner (a barge-in, a call's end) is logged
// at debug only.
#pragma once
#include <exception>
#include <string_view>

namespace voicebridge::app {

class report_escape {
 public:
  // `task` is a metric label: a string literal naming the kind of coroutine ("connection", "transfer", ...).
  explicit report_escape(std::string_view task) : task_(task) {}
  void operator()(std::exception_ptr escaped) const;

 private:
  std::string_view task_;
};

}  // namespace voicebridge::app
