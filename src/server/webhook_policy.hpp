// What the business's webhooks decide, without I/O: the signature their receivers check, and what one
// post-call delivery attempt comes to (delivered, tried again after a backoff with jitter, or parked).
// webhook_sender.cpp moves the bytes; this is unit-tested without sockets.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "records/webhook_deliveries.hpp"

namespace voicebridge::server {

// "Voicebridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">", keyed with the route's
// webhook secret: as Stripe signs its webhooks (Stripe docs, "Check the webhook signatures") and ElevenLabs
// its post-call webhooks (ElevenLabs docs, "Post-call webhooks", "Authentication"). The timestamp lets a
// receiver refuse a replay.
inline constexpr std::string_view signature_header = "Voicebridge-Signature";
std::string webhook_signature(std::string_view secret, std::string_view body, std::int64_t unix_seconds);

// One attempt as the receiver answered it: its HTTP status, or the connection's failure (status 0).
struct attempt_answer {
  unsigned status = 0;
  std::string failure;  // "connect: Connection refused", "timeout"; empty with a status
  std::optional<std::chrono::seconds> retry_after;  // a 429's or 503's Retry-After
};

struct retry_policy {
  std::chrono::milliseconds first_retry{5000};  // after the first failure; doubled after each one
  std::chrono::milliseconds max_backoff{std::chrono::hours(1)};
  std::chrono::milliseconds window{std::chrono::hours(24)};  // from the delivery's window_from_ms
};

// 2xx: delivered. A connection failure, a timeout, 429 or 5xx: tried again after first_retry * 2^attempts
// (at most max_backoff, and at least a Retry-After), scaled by `jitter` in [0, 1) to 50..100 % so that
// deliveries failed together do not come back together; parked once the next try would fall past the
// window. Any other status (a 4xx, a redirect) is the receiver refusing it: parked at once, for a person
// to look at and retry (POST /api/webhooks/{id}/retry).
records::delivery_result after_delivery_attempt(const attempt_answer& answer, const records::webhook_delivery& delivery,
                                       const retry_policy& policy, std::int64_t now_ms, double jitter);

// The answer as the delivery's last_error shows it: "HTTP 503", or the connection's failure.
std::string describe(const attempt_answer& answer);

}  // namespace voicebridge::server
