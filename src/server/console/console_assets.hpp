// The console's stylesheet and script, compiled into the binary from src/server/console/assets/ (meson runs
// tools/embed-assets), so that installing the binary is all there is to deploy.
#pragma once
#include <optional>
#include <string_view>

namespace voicebridge::server::console {

struct asset {
  std::string_view content_type;
  std::string_view body;
};

// "console.css", "console.js", "favicon.svg"; nullopt for any other name.
std::optional<asset> find_asset(std::string_view name);

}  // namespace voicebridge::server::console
