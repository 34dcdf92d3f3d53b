#include "server/webhook_policy.hpp"

#include <algorithm>

#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {

std::string webhook_signature(std::string_view secret, std::string_view body, std::int64_t unix_seconds) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(".").append(body);
  const auto mac = util::hmac_sha256(secret, signed_text);
  return "t=" + t + ",v1=" + util::hex_lower({reinterpret_cast<const char*>(mac.data()), mac.size()});
}

std::string describe(const attempt_answer& answer) {
  if (answer.status == 0) return answer.failure.empty() ? "no answer" : answer.failure;
  return "HTTP " + std::to_string(answer.status);
}

records::delivery_result after_delivery_attempt(const attempt_answer& answer, const records::webhook_delivery& delivery,
                                       const retry_policy& policy, std::int64_t now_ms, double jitter) {
  using kind = records::delivery_result::kind;
  if (answer.status >= 200 && answer.status < 300) return {kind::delivered, now_ms, {}};
  const bool transient = answer.status == 0 || answer.status == 429 || answer.status >= 500;
  if (!transient) return {kind::park, now_ms, describe(answer) + ": refused by the receiver"};
  // first_retry * 2^attempts, without overflow: the doubling stops at max_backoff.
  auto backoff = policy.first_retry;
  for (unsigned i = 0; i < delivery.attempts && backoff < policy.max_backoff; ++i) backoff *= 2;
  backoff = std::min(backoff, policy.max_backoff);
  const double scale = 0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0);
  auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(backoff.count()) * scale));
  if (answer.retry_after)
    delay = std::max(delay, std::min<std::chrono::milliseconds>(*answer.retry_after, policy.max_backoff));
  const auto at = now_ms + std::max<std::int64_t>(1, delay.count());
  if (at > delivery.window_from_ms + policy.window.count())
    return {kind::park, now_ms, describe(answer) + ": retry window ended"};
  return {kind::retry, at, describe(answer)};
}

}  // namespace voicebridge::server
