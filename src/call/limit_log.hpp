// A configured limit reached during one call: counted in metrics every time, logged once per call and limit.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/app/log.hpp"
#include "voicebridge/app/metrics.hpp"

namespace voicebridge::call {

class limit_log {
 public:
  void hit(std::string_view limit, const std::string& call_sid) {
    app::metrics().limit_hits.inc(limit);
    for (auto seen : seen_)
      if (seen == limit) return;
    seen_.push_back(limit);
    app::log(app::log_level::warn, "limit reached", {{"call_sid", call_sid}, {"limit", limit}});
  }

 private:
  std::vector<std::string_view> seen_;  // limit names are string literals
};

}  // namespace voicebridge::call
