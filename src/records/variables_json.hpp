// A call's variables (name, value) as the call store keeps them: one JSON object of strings.
#pragma once
#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace voicebridge::records {

inline std::string variables_json(const std::vector<std::pair<std::string, std::string>>& variables) {
  boost::json::object o;
  for (const auto& [name, value] : variables) o[name] = value;
  return boost::json::serialize(o);
}

inline std::vector<std::pair<std::string, std::string>> variables_from_json(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return out;  // written by the store only: never anything else
  for (const auto& [name, v] : value.get_object())
    if (v.is_string()) out.emplace_back(std::string(name), std::string(v.get_string()));
  return out;
}

}  // namespace voicebridge::records
