#include "voicebridge/twilio/media_messages.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "util/json_fields.hpp"
#include "util/simple_json.hpp"
#include "voicebridge/util/base64.hpp"

namespace voicebridge::twilio {
namespace json = boost::json;
namespace {

using util::fail;
using util::object_field;
using util::string_field;
constexpr auto error = [](std::string m) { return fail(std::move(m)); };

// Twilio sends counters as decimal strings ("sequenceNumber":"4"); numbers are accepted as well.
parse_result<std::uint64_t> counter_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::uint64_t{0};
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  if (v->is_string()) {
    const auto& s = v->get_string();
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n;
  }
  return error("\"" + std::string(key) + "\" is not a non-negative integer");
}

parse_result<unsigned> small_number_field(const json::object& o, std::string_view key) {
  auto n = counter_field(o, key);
  if (!n) return n.error();
  if (*n > 1'000'000) return error("\"" + std::string(key) + "\" is out of range");
  return static_cast<unsigned>(*n);
}

parse_result<inbound_message> parse_start(const json::object& root, std::uint64_t seq) {
  VB_TRY(start, object_field(root, "start", true));
  start_message m;
  m.sequence_number = seq;
  VB_TRY(stream_sid, string_field(*start, "streamSid", true));
  VB_TRY(call_sid, string_field(*start, "callSid", true));
  VB_TRY(account_sid, string_field(*start, "accountSid", false));
  if (!is_valid_sid(stream_sid)) return error("start.streamSid is not a valid SID");
  if (!is_valid_sid(call_sid)) return error("start.callSid is not a valid SID");
  if (!account_sid.empty() && !is_valid_sid(account_sid)) return error("start.accountSid is not a valid SID");
  m.stream_sid = std::move(stream_sid);
  m.call_sid = std::move(call_sid);
  m.account_sid = std::move(account_sid);
  if (const json::value* tracks = start->if_contains("tracks")) {
    if (!tracks->is_array()) return error("start.tracks is not an array");
    for (const auto& t : tracks->get_array()) {
      if (!t.is_string()) return error("start.tracks holds a non-string");
      m.tracks.emplace_back(t.get_string());
    }
  }
  VB_TRY(format, object_field(*start, "mediaFormat", false));
  if (format) {
    VB_TRY(encoding, string_field(*format, "encoding", false));
    VB_TRY(rate, small_number_field(*format, "sampleRate"));
    VB_TRY(channels, small_number_field(*format, "channels"));
    m.encoding = std::move(encoding);
    m.sample_rate = rate;
    m.channels = channels;
  }
  VB_TRY(params, object_field(*start, "customParameters", false));
  if (params) {
    for (const auto& [name, value] : *params) {
      if (!value.is_string()) return error("start.customParameters." + std::string(name) + " is not a string");
      m.custom_parameters.emplace_back(std::string(name), std::string(value.get_string()));
    }
  }
  return m;
}

parse_result<inbound_message> parse_media(const json::object& root, std::uint64_t seq) {
  VB_TRY(media, object_field(root, "media", true));
  media_message m;
  m.sequence_number = seq;
  VB_TRY(track, string_field(*media, "track", false));
  VB_TRY(chunk, counter_field(*media, "chunk"));
  VB_TRY(timestamp, counter_field(*media, "timestamp"));
  VB_TRY(payload, string_field(*media, "payload", true));
  if (!util::is_valid_base64(payload)) return error("media.payload is not valid base64");
  m.track = std::move(track);
  m.chunk = chunk;
  m.timestamp_ms = timestamp;
  m.payload = std::move(payload);
  return m;
}

void put_sequence(json::object& o, std::uint64_t seq) { o["sequenceNumber"] = std::to_string(seq); }

}  // namespace

const std::string* start_message::parameter(std::string_view name) const {
  for (const auto& [n, v] : custom_parameters)
    if (n == name) return &v;
  return nullptr;
}

bool is_valid_sid(std::string_view sid) {
  if (sid.size() < 2 || sid.size() > 64) return false;
  for (char c : sid)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

std::optional<media_message> parse_media_fast(std::string_view text) {
  const auto view = read_media_in_place(text);
  if (!view) return std::nullopt;
  return media_message{view->sequence_number, std::string(view->track), view->chunk, view->timestamp_ms,
                       std::string(view->payload)};
}

std::optional<media_view> read_media_in_place(std::string_view text) {
  util::simple_json_object o;
  if (!o.parse(text)) return std::nullopt;
  const auto* event = o.find("event");
  const auto* media = o.find("media");
  const auto* payload = o.find("media", "payload");
  if (!event || event->type != util::simple_json_object::kind::string || event->value != "media" || !media ||
      media->type != util::simple_json_object::kind::object || !payload ||
      payload->type != util::simple_json_object::kind::string || !util::is_valid_base64(payload->value))
    return std::nullopt;
  media_view m;
  // Counters as counter_field reads them: absent is 0, present must be a non-negative integer.
  auto counter = [&](std::string_view parent, std::string_view key, std::uint64_t& out) {
    const auto* f = o.find(parent, key);
    if (!f) return true;
    const auto n = util::simple_counter(*f);
    if (n) out = *n;
    return n.has_value();
  };
  if (!counter({}, "sequenceNumber", m.sequence_number) || !counter("media", "chunk", m.chunk) ||
      !counter("media", "timestamp", m.timestamp_ms))
    return std::nullopt;
  if (const auto* track = o.find("media", "track")) {
    if (track->type != util::simple_json_object::kind::string) return std::nullopt;
    m.track = track->value;
  }
  m.payload = payload->value;
  return m;
}

parse_result<inbound_message> parse_inbound(std::string_view text) {
  if (auto media = parse_media_fast(text)) return std::move(*media);
  return parse_inbound_dom(text);
}

parse_result<inbound_message> parse_inbound_dom(std::string_view text) {
  util::json_scratch scratch;
  VB_TRY(root, util::parse_json_object(text, scratch.storage()));
  const auto& o = root.get_object();
  VB_TRY(event, string_field(o, "event", true));
  VB_TRY(seq, counter_field(o, "sequenceNumber"));
  if (event == "media") return parse_media(o, seq);
  if (event == "start") return parse_start(o, seq);
  if (event == "connected") {
    VB_TRY(protocol, string_field(o, "protocol", false));
    VB_TRY(version, string_field(o, "version", false));
    return connected_message{std::move(protocol), std::move(version)};
  }
  if (event == "dtmf") {
    VB_TRY(dtmf, object_field(o, "dtmf", true));
    VB_TRY(track, string_field(*dtmf, "track", false));
    VB_TRY(digit, string_field(*dtmf, "digit", true));
    if (digit.size() != 1 || std::string_view("0123456789*#ABCDabcd").find(digit[0]) == std::string_view::npos)
      return error("dtmf.digit is not a DTMF key");
    return dtmf_message{seq, std::move(track), std::move(digit)};
  }
  if (event == "mark") {
    VB_TRY(mark, object_field(o, "mark", true));
    VB_TRY(name, string_field(*mark, "name", true));
    return mark_message{seq, std::move(name)};
  }
  if (event == "stop") {
    VB_TRY(stop, object_field(o, "stop", false));
    stop_message m{seq, {}, {}};
    if (stop) {
      VB_TRY(account_sid, string_field(*stop, "accountSid", false));
      VB_TRY(call_sid, string_field(*stop, "callSid", false));
      m.account_sid = std::move(account_sid);
      m.call_sid = std::move(call_sid);
    }
    return m;
  }
  return unknown_message{std::move(event)};
}

parse_result<parsed_outbound> parse_outbound(std::string_view text) {
  VB_TRY(root, util::parse_json_object(text));
  const auto& o = root.get_object();
  VB_TRY(event, string_field(o, "event", true));
  VB_TRY(stream_sid, string_field(o, "streamSid", true));
  if (event == "media") {
    VB_TRY(media, object_field(o, "media", true));
    VB_TRY(payload, string_field(*media, "payload", true));
    if (!util::is_valid_base64(payload)) return error("media.payload is not valid base64");
    return parsed_outbound{std::move(stream_sid), outbound_media{std::move(payload)}};
  }
  if (event == "mark") {
    VB_TRY(mark, object_field(o, "mark", true));
    VB_TRY(name, string_field(*mark, "name", true));
    return parsed_outbound{std::move(stream_sid), outbound_mark{std::move(name)}};
  }
  if (event == "clear") return parsed_outbound{std::move(stream_sid), outbound_clear{}};
  return error("unknown outbound event \"" + event + "\"");
}

std::string serialize_media(std::string_view stream_sid, std::string_view payload_base64) {
  std::string out;
  serialize_media(out, stream_sid, payload_base64);
  return out;
}

void serialize_media(std::string& out, std::string_view stream_sid, std::string_view payload_base64) {
  // Hot path: both values are validated (SID charset, base64 alphabet), so no JSON escaping is needed.
  out.clear();
  out.reserve(64 + stream_sid.size() + payload_base64.size());
  out.append(R"({"event":"media","streamSid":")").append(stream_sid).append(R"(","media":{"payload":")");
  out.append(payload_base64).append("\"}}");
}

std::string serialize_mark(std::string_view stream_sid, std::string_view name) {
  return json::serialize(json::object{{"event", "mark"}, {"streamSid", stream_sid}, {"mark", {{"name", name}}}});
}

std::string serialize_clear(std::string_view stream_sid) {
  return json::serialize(json::object{{"event", "clear"}, {"streamSid", stream_sid}});
}

std::string serialize_connected() {
  return json::serialize(json::object{{"event", "connected"}, {"protocol", "Call"}, {"version", "1.0.0"}});
}

std::string serialize_start(const start_message& start) {
  json::object params;
  for (const auto& [n, v] : start.custom_parameters) params[n] = v;
  json::array tracks;
  for (const auto& t : start.tracks) tracks.emplace_back(t);
  json::object o{{"event", "start"},
                 {"start",
                  {{"accountSid", start.account_sid},
                   {"streamSid", start.stream_sid},
                   {"callSid", start.call_sid},
                   {"tracks", std::move(tracks)},
                   {"mediaFormat", {{"encoding", start.encoding}, {"sampleRate", start.sample_rate}, {"channels", start.channels}}},
                   {"customParameters", std::move(params)}}},
                 {"streamSid", start.stream_sid}};
  put_sequence(o, start.sequence_number);
  return json::serialize(o);
}

std::string serialize_inbound_media(std::string_view stream_sid, const media_message& media) {
  json::object o{{"event", "media"},
                 {"streamSid", stream_sid},
                 {"media",
                  {{"track", media.track},
                   {"chunk", std::to_string(media.chunk)},
                   {"timestamp", std::to_string(media.timestamp_ms)},
                   {"payload", media.payload}}}};
  put_sequence(o, media.sequence_number);
  return json::serialize(o);
}

std::string serialize_dtmf(std::string_view stream_sid, const dtmf_message& dtmf) {
  json::object o{{"event", "dtmf"}, {"streamSid", stream_sid}, {"dtmf", {{"track", dtmf.track}, {"digit", dtmf.digit}}}};
  put_sequence(o, dtmf.sequence_number);
  return json::serialize(o);
}

std::string serialize_inbound_mark(std::string_view stream_sid, const mark_message& mark) {
  json::object o{{"event", "mark"}, {"streamSid", stream_sid}, {"mark", {{"name", mark.name}}}};
  put_sequence(o, mark.sequence_number);
  return json::serialize(o);
}

std::string serialize_stop(std::string_view stream_sid, const stop_message& stop) {
  json::object o{{"event", "stop"}, {"streamSid", stream_sid},
                 {"stop", {{"accountSid", stop.account_sid}, {"callSid", stop.call_sid}}}};
  put_sequence(o, stop.sequence_number);
  return json::serialize(o);
}

}  // namespace voicebridge::twilio
