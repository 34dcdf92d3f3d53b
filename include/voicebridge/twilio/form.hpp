// application/x-www-form-urlencoded bodies and query strings, decoded as Twilio's helper libraries see them.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "voicebridge/util/result.hpp"

namespace voicebridge::twilio {

struct form_param {
  std::string name;
  std::string value;
  friend bool operator==(const form_param&, const form_param&) = default;
};

// Parameters in the order received; a name may repeat.
class form_params {
 public:
  form_params() = default;
  explicit form_params(std::vector<form_param> params) : params_(std::move(params)) {}

  // First value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  std::string_view get_or(std::string_view name, std::string_view fallback) const;
  const std::vector<form_param>& all() const { return params_; }
  void add(std::string name, std::string value) { params_.push_back({std::move(name), std::move(value)}); }

 private:
  std::vector<form_param> params_;
};

// Decodes `a=1&b=x+y%21`: '+' is a space, percent escapes are decoded. Malformed escapes are an error.
util::result<form_params> parse_form(std::string_view text);

// The inverse, with every reserved character escaped (used by the simulator and tests).
std::string encode_form(const form_params& params);

}  // namespace voicebridge::twilio
