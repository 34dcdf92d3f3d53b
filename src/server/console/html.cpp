#include "server/console/html.hpp"

#include <array>
#include <ctime>
#include <utility>

namespace voicebridge::server::console {

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> sections{{
    {"calls", "Calls"}, {"live", "Live"}, {"campaigns", "Campaigns"}, {"routes", "Routes"}, {"webhooks", "Webhooks"},
    {"health", "Health"}}};

std::string head(std::string_view title) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" + escape(title) + " · voicebridge</title>"
         "<link rel=\"icon\" href=\"/console/assets/favicon.svg\" type=\"image/svg+xml\">"
         "<link rel=\"stylesheet\" href=\"/console/assets/console.css\">"
         "<script src=\"/console/assets/console.js\" defer></script></head>\n";
}

}  // namespace

std::string layout(std::string_view title, std::string_view section, std::string_view body, std::string_view csrf) {
  std::string nav;
  for (const auto& [path, label] : sections) {
    nav += "<li><a href=\"/console/" + std::string(path) + "\"";
    if (path == section) nav += " aria-current=\"page\"";
    nav += ">" + std::string(label) + "</a></li>";
  }
  return head(title) + "<body><a class=\"skip\" href=\"#main\">Skip to content</a><header><span class=\"brand\">voicebridge</span>"
         "<nav aria-label=\"Console\"><ul>" + nav + "</ul></nav>" +
         action_button("/console/sign-out", "Sign out", csrf, {}, "sign-out") + "</header>\n<main id=\"main\"><h1>" +
         escape(title) + "</h1>\n" + std::string(body) + "</main></body></html>\n";
}

std::string sign_in_page(std::string_view message) {
  std::string body = "<body class=\"sign-in\"><main id=\"main\"><h1>voicebridge console</h1>";
  if (!message.empty()) body += "<p class=\"error\" role=\"alert\">" + escape(message) + "</p>";
  body +=
      "<form method=\"post\" action=\"/console/sign-in\"><label for=\"token\">Admin token</label>"
      "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>"
      "<button type=\"submit\">Sign in</button></form></main></body></html>\n";
  return head("Sign in") + body;
}

std::string message_page(std::string_view title, std::string_view text, std::string_view csrf) {
  return layout(title, "", "<p role=\"alert\">" + escape(text) + "</p>", csrf);
}

std::string time_tag(std::int64_t epoch_ms) {
  if (epoch_ms <= 0) return "<span class=\"none\">—</span>";
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char iso[32], shown[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::strftime(shown, sizeof shown, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return "<time datetime=\"" + std::string(iso) + "\" data-ms=\"" + std::to_string(epoch_ms) + "\">" + shown + "</time>";
}

std::string duration_text(std::int64_t ms) {
  const auto s = std::max<std::int64_t>(0, ms / 1000);
  const auto two = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  if (s >= 3600) return std::to_string(s / 3600) + ":" + two(s / 60 % 60) + ":" + two(s % 60);
  return std::to_string(s / 60) + ":" + two(s % 60);
}

std::string csrf_field(std::string_view csrf) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
}

std::string action_button(std::string_view action, std::string_view label, std::string_view csrf, std::string_view fields,
                          std::string_view css_class) {
  std::string form = "<form method=\"post\" action=\"" + escape(action) + "\"";
  if (!css_class.empty()) form += " class=\"" + escape(css_class) + "\"";
  return form + ">" + csrf_field(csrf) + std::string(fields) + "<button type=\"submit\">" + escape(label) +
         "</button></form>";
}

}  // namespace voicebridge::server::console
