// What escapes a coroutine of a tool (a stand-in's connection, a load generator's call): printed with the
// task's name and counted, never swallowed as asio::detached would. A stand-in that throws is a bug in the
// stand-in, and a test that drives it should see it.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>

namespace voicebridge::tools {

inline std::atomic<std::uint64_t>& escaped_exceptions() {
  static std::atomic<std::uint64_t> count{0};
  return count;
}

inline auto report_escape(const char* task) {
  return [task](std::exception_ptr e) {
    if (!e) return;
    escaped_exceptions().fetch_add(1, std::memory_order_relaxed);
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "%s: exception escaped: %s\n", task, x.what());
    } catch (...) {
      std::fprintf(stderr, "%s: exception escaped\n", task);
    }
  };
}

}  // namespace voicebridge::tools
