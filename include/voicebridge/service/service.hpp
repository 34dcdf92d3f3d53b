// voicebridge as a service: io threads, systemd's notify protocol (READY, STATUS, WATCHDOG, STOPPING),
// event-loop lag, and the graceful drain on SIGTERM/SIGINT.
#pragma once
#include <string_view>

#include "voicebridge/app/config.hpp"

namespace voicebridge::service {

// Runs the gateway until a signal ends it. The first SIGTERM/SIGINT drains: the voice webhook and
// /healthz answer 503, active calls run on for up to DRAIN_TIMEOUT_S and are then ended cleanly; the
// process then returns 0. A second signal exits at once with status 1. Throws on start-up failures.
int run_service(const app::config& config);

// sd_notify(3) when built with libsystemd and run under systemd (NOTIFY_SOCKET set); else a no-op.
void notify_systemd(std::string_view state);

}  // namespace voicebridge::service
