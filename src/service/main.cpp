// voicebridge: answers Twilio voice webhooks and bridges each call's Media Stream to an agent.
#include <iostream>

#include "voicebridge/app/config.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/service/service.hpp"

int main(int argc, char** argv) {
  using namespace voicebridge;
  app::config config;
  try {
    config = app::load_config(app::process_environment(), {argv + 1, argv + argc});
  } catch (const app::config_error& e) {
    std::cerr << "voicebridge: configuration error: " << e.what() << "\n";
    return 2;
  }
  app::configure_logging(config.log_level_, config.log_format_);
  app::add_log_secret(config.twilio_auth_token);
  app::add_log_secret(config.twilio_stream_token);
  app::add_log_secret(config.elevenlabs_api_key);
  app::add_log_secret(config.llm_api_key);
  app::add_log_secret(config.webhook_secret);
  try {
    return service::run_service(config);
  } catch (const std::exception& e) {
    app::log(app::log_level::error, "fatal", {{"error", e.what()}});
    return 1;
  }
}
