#include "voicebridge/llm/chat_messages.hpp"

#include <boost/json.hpp>

#include "util/json_fields.hpp"

namespace voicebridge::llm {
namespace json = boost::json;
using util::fail;

namespace {

json::object function_tool(std::string_view name, std::string_view description, json::object parameters) {
  return {{"type", "function"},
          {"function", {{"name", name}, {"description", description}, {"parameters", std::move(parameters)}}}};
}

json::array gateway_tools() {
  return {function_tool(end_call_tool, "End the phone call, after saying goodbye.",
                        {{"type", "object"}, {"properties", json::object{}}}),
          function_tool(transfer_tool, "Transfer the caller to a human at a phone number.",
                        {{"type", "object"},
                         {"properties", {{"phone_number", {{"type", "string"}, {"description", "E.164, e.g. +15551234567"}}}}},
                         {"required", json::array{"phone_number"}}})};
}

json::object to_json(const chat_message& m) {
  json::object o{{"role", m.role}, {"content", m.content}};
  if (!m.tool_calls.empty()) {
    json::array calls;
    for (const auto& c : m.tool_calls)
      calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments_json}}}});
    o["tool_calls"] = std::move(calls);
  }
  if (!m.tool_call_id.empty()) o["tool_call_id"] = m.tool_call_id;
  return o;
}

bool sentence_end(char c) { return c == '.' || c == '!' || c == '?' || c == ';' || c == ':'; }

}  // namespace

std::string serialize_chat_request(std::string_view model, const std::vector<chat_message>& messages) {
  json::array list;
  for (const auto& m : messages) list.push_back(to_json(m));
  return json::serialize(json::object{
      {"model", model}, {"messages", std::move(list)}, {"stream", true}, {"tools", gateway_tools()}});
}

bool sse_parser::feed(std::string_view bytes, std::vector<std::string>& events) {
  for (char c : bytes) {
    if (after_cr_ && c == '\n') {  // the LF of a CRLF
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      end_line(events);
      continue;
    }
    line_ += c;
    if (line_.size() + data_.size() > max_event_bytes_) return false;
  }
  return true;
}

void sse_parser::end_line(std::vector<std::string>& events) {
  if (line_.empty()) {  // a blank line dispatches the event
    if (has_data_) events.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  std::string_view line = line_;
  const auto colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  }
  line_.clear();
}

util::result<chat_delta> parse_chat_chunk(std::string_view data) {
  VB_TRY(value, util::parse_json_object(data));
  const auto& o = value.get_object();
  if (const json::value* error = o.if_contains("error")) {
    const json::value* message = error->is_object() ? error->get_object().if_contains("message") : nullptr;
    return fail("the model answered with an error: " +
                (message && message->is_string() ? std::string(message->get_string()) : json::serialize(*error)));
  }
  chat_delta delta;
  const json::value* choices = o.if_contains("choices");
  if (!choices) return delta;  // usage-only chunks
  if (!choices->is_array()) return fail("choices is not an array");
  if (choices->get_array().empty()) return delta;
  const json::value& choice = choices->get_array().front();
  if (!choice.is_object()) return fail("choices[0] is not an object");
  if (const json::value* reason = choice.get_object().if_contains("finish_reason"); reason && reason->is_string())
    delta.finish_reason = std::string(reason->get_string());
  VB_TRY(d, util::object_field(choice.get_object(), "delta", false));
  if (!d) return delta;
  if (const json::value* content = d->if_contains("content"); content && content->is_string())
    delta.content = std::string(content->get_string());
  if (const json::value* calls = d->if_contains("tool_calls"); calls && !calls->is_null()) {
    if (!calls->is_array()) return fail("delta.tool_calls is not an array");
    for (const auto& call : calls->get_array()) {
      if (!call.is_object()) return fail("a tool call is not an object");
      const auto& c = call.get_object();
      tool_call_delta t;
      VB_TRY(index, util::integer_field(c, "index", false));
      if (index < 0 || index > 64) return fail("tool call index out of range");
      t.index = static_cast<std::size_t>(index);
      VB_TRY(id, util::string_field(c, "id", false));
      t.id = std::move(id);
      VB_TRY(function, util::object_field(c, "function", false));
      if (function) {
        VB_TRY(name, util::string_field(*function, "name", false));
        VB_TRY(arguments, util::string_field(*function, "arguments", false));
        t.name = std::move(name);
        t.arguments = std::move(arguments);
      }
      delta.tool_calls.push_back(std::move(t));
    }
  }
  return delta;
}

void tool_call_builder::add(const tool_call_delta& delta) {
  if (calls_.size() <= delta.index) calls_.resize(delta.index + 1);
  auto& call = calls_[delta.index];
  call.id += delta.id;
  call.name += delta.name;
  call.arguments_json += delta.arguments;
}

std::vector<tool_call> tool_call_builder::take() {
  std::vector<tool_call> calls;
  for (auto& c : calls_)
    if (!c.name.empty()) calls.push_back(std::move(c));
  calls_.clear();
  return calls;
}

std::optional<std::string> phrase_chunker::add(std::string_view token) {
  pending_ += token;
  std::size_t end = std::string::npos;
  for (std::size_t i = 0; i + 1 < pending_.size(); ++i) {
    const char c = pending_[i], next = pending_[i + 1];
    if ((sentence_end(c) && next == ' ') || c == '\n' || (c == ',' && next == ' ' && i + 1 >= comma_after)) end = i + 1;
  }
  if (end == std::string::npos && pending_.size() >= force_after) {
    if (const auto space = pending_.rfind(' '); space != std::string::npos && space > 0) end = space;
  }
  if (end == std::string::npos) return std::nullopt;
  return take(end);
}

std::optional<std::string> phrase_chunker::finish() { return take(pending_.size()); }

std::optional<std::string> phrase_chunker::take(std::size_t end) {
  std::string phrase = pending_.substr(0, end);
  pending_.erase(0, end);
  const auto first = pending_.find_first_not_of(" \n");
  pending_.erase(0, first == std::string::npos ? pending_.size() : first);
  while (!phrase.empty() && (phrase.back() == ' ' || phrase.back() == '\n')) phrase.pop_back();
  const auto start = phrase.find_first_not_of(" \n");
  if (start == std::string::npos) return std::nullopt;
  return phrase.substr(start) + ' ';
}

}  // namespace voicebridge::llm
