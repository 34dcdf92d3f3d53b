#include "app/report_escape.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <string>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::app {

void report_escape::operator()(std::exception_ptr escaped) const {
  if (!escaped) return;
  std::string what;
  try {
    std::rethrow_exception(escaped);
  } catch (const boost::system::system_error& e) {
    if (e.code() == boost::asio::error::operation_aborted) {
      log(log_level::debug, "task cancelled", {{"task", task_}});
      return;
    }
    what = e.what();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "not a std::exception";
  }
  metrics().escaped_exceptions.inc(task_);
  log(log_level::error, "task failed with an exception", {{"task", task_}, {"error", what}});
}

}  // namespace voicebridge::app
