#include "server/calls_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <functional>

#include "server/byte_ranges.hpp"
#include "voicebridge/app/log.hpp"
#include "voicebridge/twilio/form.hpp"
#include "voicebridge/twilio/media_messages.hpp"
#include "voicebridge/util/crypto.hpp"

namespace voicebridge::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using app::log;
using app::log_level;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using request = http::request<http::string_body>;

// Audio another instance recorded, served from the call store (records/call_audio.hpp).
struct audio_in_store {
  std::string call_sid;
  std::string_view kind;
  records::stored_audio audio;
};

struct api_answer {
  unsigned status = 200;
  std::string body;  // JSON, or an error text
  std::filesystem::path file;  // set: stream this WAV instead
  std::optional<audio_in_store> stored;  // set: stream this instead
  std::string call_sid;                  // whose audio it is
};

api_answer error(unsigned status, std::string text) { return {status, std::move(text) + "\n", {}, {}, {}}; }

}  // namespace

std::optional<std::size_t> list_limit(std::string_view text) {
  std::size_t limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 1000) return std::nullopt;
  return limit;
}

boost::json::value record_view(const records::call_record& record, const std::string& link_base) {
  auto value = boost::json::parse(records::to_json(record));
  auto& o = value.as_object();
  const std::string base = link_base + std::string(app::calls_api_path) + "/" + record.call_sid;
  o["recording_url"] = record.recording_path.empty() ? boost::json::value(nullptr) : boost::json::value(base + "/recording");
  o["voicemail_url"] = record.voicemail_path.empty() ? boost::json::value(nullptr) : boost::json::value(base + "/voicemail");
  return value;
}

namespace {

boost::json::value with_links(const records::call_record& record) { return record_view(record, ""); }

// Runs on the database thread: the store's calls may block (a PostgreSQL that does not answer).
api_answer query(const std::string& target, records::call_store& store) {
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  if (path == app::calls_api_path || path == std::string(app::calls_api_path) + "/") {
    std::size_t limit = 50;
    std::optional<std::string> route;
    if (const auto q = target.find('?'); q != std::string::npos) {
      auto form = twilio::parse_form(std::string_view(target).substr(q + 1));
      if (!form) return error(400, "malformed query");
      if (auto text = form->get("limit")) {
        const auto asked = list_limit(*text);
        if (!asked) return error(400, "limit must be an integer from 1 to 1000");
        limit = *asked;
      }
      if (auto name = form->get("route")) {
        if (name->empty() || name->size() > 64) return error(400, "route must be a route's name");
        route = std::string(*name);
      }
    }
    boost::json::array calls;
    for (const auto& record : store.recent(limit, route)) calls.push_back(with_links(record));
    return {200, boost::json::serialize(boost::json::object{{"calls", std::move(calls)}}), {}, {}, {}};
  }
  std::string_view rest = path.substr(app::calls_api_path.size() + 1);
  const auto slash = rest.find('/');
  const std::string call_sid(rest.substr(0, slash));
  const std::string_view part = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (!twilio::is_valid_sid(call_sid) || (part != "" && part != "recording" && part != "voicemail"))
    return error(404, "not found");
  auto record = store.find(call_sid);
  if (!record) return error(404, "no such call");
  if (part.empty()) return {200, boost::json::serialize(with_links(*record)), {}, {}, {}};
  // Only paths the gateway itself stored are served: nothing in the request names a file.
  const std::string& file = part == "recording" ? record->recording_path : record->voicemail_path;
  if (file.empty()) return error(404, "this call has no " + std::string(part));
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) return {200, {}, file, {}, call_sid};
  // Not on this instance's disk: another instance recorded it, and copied it into the store.
  const auto kind = part == "recording" ? records::audio_kind::recording : records::audio_kind::voicemail;
  if (auto stored = store.find_audio(call_sid, kind)) return {200, {}, {}, audio_in_store{call_sid, kind, *stored}, call_sid};
  return {200, {}, file, {}, call_sid};  // the reply below says the file is gone
}

// Where a WAV's bytes come from: its file on this instance's disk, or the chunks of its copy in the store.
// read(offset) gives the bytes from `offset` on (some of them; nothing at the end), or throws.
struct audio_source {
  std::uint64_t size = 0;
  std::function<asio::awaitable<std::string>(std::uint64_t offset)> read;
};

std::optional<audio_source> file_source(const std::filesystem::path& path) {
  auto fd = std::make_shared<beast::file>();
  beast::error_code ec;
  fd->open(path.c_str(), beast::file_mode::read, ec);
  if (ec) return std::nullopt;
  const auto size = fd->size(ec);
  if (ec) return std::nullopt;
  return audio_source{size, [fd](std::uint64_t offset) -> asio::awaitable<std::string> {
                        constexpr std::size_t piece = 64 * 1024;
                        std::string bytes(piece, '\0');
                        beast::error_code rec;
                        fd->seek(offset, rec);
                        const auto n = rec ? 0 : fd->read(bytes.data(), bytes.size(), rec);
                        if (rec) throw std::runtime_error("read: " + rec.message());
                        bytes.resize(n);
                        co_return bytes;
                      }};
}

audio_source store_source(const audio_in_store& audio, records::call_store& store, asio::thread_pool& database_pool) {
  return {static_cast<std::uint64_t>(audio.audio.bytes),
          [audio, &store, &database_pool](std::uint64_t offset) -> asio::awaitable<std::string> {
            const auto chunk_no = static_cast<std::int64_t>(offset / records::audio_chunk_bytes);
            auto read = [&]() -> asio::awaitable<std::string> { co_return store.audio_chunk(audio.call_sid, audio.kind, chunk_no); };
            std::string chunk = co_await asio::co_spawn(database_pool, read, asio::use_awaitable);
            const auto skip = offset % records::audio_chunk_bytes;
            co_return skip >= chunk.size() ? std::string() : chunk.substr(skip);
          }};
}

// Writes the WAV, or the one range of it the request asks for (byte_ranges.hpp), a piece in memory at a time.
// Once the header is out, a failed read closes the connection short of its Content-Length.
asio::awaitable<bool> serve_audio(beast::tcp_stream& stream, const request& req, const audio_source& source,
                                  const std::string& call_sid, const app::config& config) {
  const auto choice = choose_range(req[http::field::range], source.size);
  if (choice.what == range_choice::kind::unsatisfiable) {
    http::response<http::string_body> res{http::status::range_not_satisfiable, req.version()};
    res.set(http::field::server, "voicebridge");
    res.set(http::field::content_range, content_range(choice, source.size));
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    stream.expires_after(config.http_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    co_return !ec && req.keep_alive();
  }
  const bool part = choice.what == range_choice::kind::part;
  const byte_range range = part ? choice.range : byte_range{0, source.size == 0 ? 0 : source.size - 1};
  const std::uint64_t length = source.size == 0 ? 0 : range.length();
  http::response<http::buffer_body> res{part ? http::status::partial_content : http::status::ok, req.version()};
  res.set(http::field::server, "voicebridge");
  res.set(http::field::content_type, "audio/wav");
  res.set(http::field::accept_ranges, "bytes");
  if (part) res.set(http::field::content_range, content_range(choice, source.size));
  res.content_length(length);
  res.keep_alive(req.keep_alive());
  res.body().data = nullptr;
  res.body().more = length > 0;
  http::response_serializer<http::buffer_body> writer{res};
  stream.expires_after(config.http_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, writer, use_tuple); ec) co_return false;
  for (std::uint64_t sent = 0; sent < length;) {
    std::string piece;
    try {
      piece = co_await source.read(range.first + sent);
    } catch (const std::exception& e) {  // a store_error, or the file's read
      log(log_level::error, "read API: audio unavailable", {{"call_sid", call_sid}, {"error", e.what()}});
      co_return false;
    }
    if (piece.empty()) co_return false;  // shorter than it said: never a body short of its Content-Length
    if (piece.size() > length - sent) piece.resize(static_cast<std::size_t>(length - sent));
    sent += piece.size();
    res.body().data = piece.data();
    res.body().size = piece.size();
    res.body().more = sent < length;
    stream.expires_after(config.http_timeout);
    auto [ec, n] = co_await http::async_write(stream, writer, use_tuple);
    if (ec && ec != http::error::need_buffer) co_return false;
  }
  co_return req.keep_alive();
}

}  // namespace

bool admin_authorized(const request& req, const app::config& config) {
  const std::string_view header = req[http::field::authorization];
  constexpr std::string_view scheme = "Bearer ";
  return !config.admin_token.empty() && header.starts_with(scheme) &&
         util::constant_time_equal(header.substr(scheme.size()), config.admin_token);
}

http::response<http::string_body> api_reply(const request& req, unsigned status, std::string body, bool as_json) {
  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "voicebridge");
  res.set(http::field::content_type, as_json ? "application/json" : "text/plain");
  if (status == 401) res.set(http::field::www_authenticate, "Bearer");
  res.body() = as_json ? std::move(body) : std::move(body) + "\n";
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

bool is_calls_api(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == app::calls_api_path || path.starts_with(std::string(app::calls_api_path) + "/");
}

asio::awaitable<bool> serve_calls_api(beast::tcp_stream& stream, const request& req, records::call_store& store,
                                      asio::thread_pool& database_pool, const app::config& config) {
  api_answer answer;
  if (config.admin_token.empty()) {
    answer = error(404, "the read API is off: set ADMIN_TOKEN");
  } else if (!admin_authorized(req, config)) {
    answer = error(401, "a bearer token is required");
  } else if (req.method() != http::verb::get) {
    answer = error(405, "method not allowed");
  } else {
    std::string target(req.target());
    auto task = [&target, &store]() -> asio::awaitable<api_answer> { co_return query(target, store); };
    try {
      answer = co_await asio::co_spawn(database_pool, task, asio::use_awaitable);
    } catch (const records::store_error& e) {
      log(log_level::error, "read API: database unavailable", {{"error", e.what()}});
      answer = error(503, "call records are unavailable right now");
    }
  }
  if (answer.stored) {
    const auto source = store_source(*answer.stored, store, database_pool);  // named (GCC 12: docs/gcc12-coroutines.md)
    co_return co_await serve_audio(stream, req, source, answer.call_sid, config);
  }
  if (!answer.file.empty()) {
    if (auto source = file_source(answer.file)) co_return co_await serve_audio(stream, req, *source, answer.call_sid, config);
    log(log_level::error, "read API: recording file missing", {{"path", answer.file.string()}});
    answer = error(404, "the audio file is gone");
  }
  stream.expires_after(config.http_timeout);
  http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::server, "voicebridge");
  res.set(http::field::content_type, answer.status == 200 ? "application/json" : "text/plain");
  if (answer.status == 401) res.set(http::field::www_authenticate, "Bearer");
  res.body() = std::move(answer.body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  auto [wec, n] = co_await http::async_write(stream, res, use_tuple);
  co_return !wec && req.keep_alive();
}

}  // namespace voicebridge::server
