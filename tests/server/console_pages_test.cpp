// The console's pages as text: every value from a call is escaped, the calls filter reads what its form sends
// (and refuses a number in an address), one call's page shows its transcript, timeline and audio, and the
// live view's event carries every call in progress.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "call/live_call.hpp"
#include "server/console/call_pages.hpp"
#include "server/console/html.hpp"
#include "server/console/operations_pages.hpp"

using namespace voicebridge;
using namespace voicebridge::server::console;

namespace {

twilio::form_params form(std::vector<std::pair<std::string, std::string>> fields) {
  twilio::form_params f;
  for (auto& [k, v] : fields) f.add(k, v);
  return f;
}

records::call_record hostile_call() {
  records::call_record r;
  r.call_sid = "CA" + std::string(32, 'a');
  r.from = "+15551230000\"><script>alert(1)</script>";
  r.to = "+15559870000";
  r.route = "sales";
  r.outcome = "agent";
  r.started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'800'000'000'000));
  r.ended = r.started + std::chrono::seconds(65);
  r.first_agent_audio_ms = 640;
  r.add_user_text("<script>alert('caller')</script> & more", 1, 1'800'000'003'000);
  r.add_agent_text("Hello, how can I help?", 2, 1'800'000'001'000);
  r.dtmf = "12#";
  r.barge_ins = 2;
  r.recording_path = "/var/lib/voicebridge/recordings/x.wav";
  return r;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(console_pages)

BOOST_AUTO_TEST_CASE(escape_leaves_no_markup) {
  BOOST_TEST(escape("<a href=\"x\" onclick='y'>&</a>") == "&lt;a href=&quot;x&quot; onclick=&apos;y&apos;&gt;&amp;&lt;/a&gt;");
  BOOST_TEST(escape("line one\nline two") == "line one&#10;line two");
  BOOST_TEST(escape("plain text +1555") == "plain text +1555");
}

BOOST_AUTO_TEST_CASE(a_calls_transcript_and_numbers_are_shown_as_text_never_as_markup) {
  const auto html = call_page(hostile_call(), {true, false}, {}, "csrf-token");
  BOOST_TEST(!contains(html, "<script>alert"));
  BOOST_TEST(contains(html, "&lt;script&gt;alert(&apos;caller&apos;)&lt;/script&gt; &amp; more"));
  BOOST_TEST(contains(html, "+15551230000&quot;&gt;&lt;script&gt;"));
  // The script the page does load is the console's own file.
  BOOST_TEST(contains(html, "<script src=\"/console/assets/console.js\" defer></script>"));
}

BOOST_AUTO_TEST_CASE(one_calls_page_has_its_facts_timeline_transcript_and_player) {
  const auto html = call_page(hostile_call(), {true, false}, {}, "csrf-token");
  BOOST_TEST(contains(html, "<audio controls preload=\"metadata\" src=\"/console/calls/CA" + std::string(32, 'a') + "/recording\""));
  BOOST_TEST(!contains(html, "/voicemail\""));
  BOOST_TEST(contains(html, "640 ms after the stream began"));
  BOOST_TEST(contains(html, "<dt>Keys pressed (DTMF)</dt><dd>12#</dd>"));
  BOOST_TEST(contains(html, "<dt>Duration</dt><dd>1:05</dd>"));
  // The timeline in order of time: the agent's line (+0:01) before the caller's (+0:03), the end last.
  const auto agent = html.find("+0:01</span> Agent spoke"), caller = html.find("+0:03</span> Caller spoke"),
             ended = html.find("+1:05</span> Stream ended");
  BOOST_TEST_REQUIRE(agent != std::string::npos);
  BOOST_TEST_REQUIRE(caller != std::string::npos);
  BOOST_TEST_REQUIRE(ended != std::string::npos);
  BOOST_TEST((agent < caller && caller < ended));
  BOOST_TEST(contains(html, "interrupted the agent 2 time(s)"));
}

BOOST_AUTO_TEST_CASE(an_outbound_calls_variables_and_campaign_are_shown_escaped) {
  auto r = hostile_call();
  r.direction = "outbound";
  const auto html = call_page(r, {false, false}, {{"first_name", "<img src=x onerror=alert(1)>"}, {"campaign", "CP1"}}, "csrf-token");
  BOOST_TEST(contains(html, "<dt>first_name</dt><dd>&lt;img src=x onerror=alert(1)&gt;</dd>"));
  BOOST_TEST(contains(html, "<dt>Campaign</dt><dd><a href=\"/console/campaigns\">CP1</a></dd>"));
  BOOST_TEST(!contains(html, "<h2>Audio</h2>"));
  BOOST_TEST(!contains(call_page(hostile_call(), {}, {}, "csrf-token"), "<h2>Variables</h2>"));
}

BOOST_AUTO_TEST_CASE(the_calls_filter_reads_its_fields_and_keeps_numbers_out_of_addresses) {
  auto f = read_calls_form(form({{"route", "sales"}, {"outcome", "agent"}, {"direction", "outbound"}, {"since", "2026-12-07"},
                                 {"until", "2026-12-07"}, {"tz", "-60"}, {"number", "+15551230000"}}),
                           true);
  BOOST_TEST_REQUIRE(f.has_value());
  const auto& q = f->filter;
  BOOST_TEST(*q.route == "sales");
  BOOST_TEST(*q.outcome == "agent");
  BOOST_TEST(*q.direction == "outbound");
  BOOST_TEST(*q.number == "+15551230000");
  // 2026-12-07 00:00 in UTC+1 is 2026-12-06 23:00 UTC; "to" takes in the whole of its day.
  BOOST_TEST(*q.since_ms == 1796601600000 - 3600000);
  BOOST_TEST(*q.until_ms == 1796601600000 + 86400000 - 3600000);
  BOOST_TEST(q.limit == calls_per_page + 1);

  BOOST_TEST(!read_calls_form(form({{"number", "+15551230000"}}), false).has_value());  // in a query string
  BOOST_TEST(!read_calls_form(form({{"number", "5551230000"}}), true).has_value());
  BOOST_TEST(!read_calls_form(form({{"since", "2026-02-30"}}), true).has_value());
  BOOST_TEST(!read_calls_form(form({{"direction", "sideways"}}), true).has_value());
  BOOST_TEST(!read_calls_form(form({{"tz", "9999"}}), true).has_value());
  BOOST_TEST(!read_calls_form(form({{"after", "12.not-a-sid"}}), true).has_value());
  auto paged = read_calls_form(form({{"after", "1800000000000.CA" + std::string(32, 'b')}}), false);
  BOOST_TEST_REQUIRE(paged.has_value());
  BOOST_TEST(paged->filter.after->started_ms == 1800000000000);
}

BOOST_AUTO_TEST_CASE(a_full_page_of_calls_offers_the_next_by_a_form_that_carries_the_filter) {
  calls_listing l;
  l.form = *read_calls_form(form({{"number", "+15551230000"}}), true);
  l.routes = {"sales", "<b>"};
  for (std::size_t i = 0; i <= calls_per_page; ++i) {
    auto r = hostile_call();
    r.call_sid = "CA" + std::string(30, 'c') + (i < 10 ? "0" : "") + std::to_string(i);
    l.calls.push_back(r);
  }
  const auto html = calls_page(l, "csrf-token");
  BOOST_TEST(contains(html, "<form method=\"post\" action=\"/console/calls\" class=\"pager\">"));
  BOOST_TEST(contains(html, "name=\"number\" value=\"+15551230000\""));
  BOOST_TEST(contains(html, "name=\"after\" value=\"1800000000000.CA" + std::string(30, 'c') + "49\""));
  BOOST_TEST(!contains(html, "CA" + std::string(30, 'c') + "50"));  // the extra record only says there is more
  BOOST_TEST(contains(html, "<option value=\"&lt;b&gt;\">&lt;b&gt;</option>"));
  BOOST_TEST(!contains(html, "<script>alert"));
}

BOOST_AUTO_TEST_CASE(who_is_speaking_follows_the_audio_as_the_caller_hears_it) {
  call::live_call c;
  BOOST_TEST(c.speaking(1000) == "nobody");
  c.agent_audio(1600, 1000);  // 200 ms of agent audio, queued at once
  BOOST_TEST(c.speaking(1100) == "agent");
  c.agent_audio(800, 1100);  // 100 ms more plays after it
  BOOST_TEST(c.speaking(1250) == "agent");
  BOOST_TEST(c.speaking(1300) == "nobody");
  c.caller_spoke(1300);
  BOOST_TEST(c.speaking(1400) == "caller");
  c.agent_audio(800, 1400);
  BOOST_TEST(c.speaking(1450) == "both");
  c.agent_cleared(1460);  // a barge-in clears what was queued
  BOOST_TEST(c.speaking(1470) == "caller");
  BOOST_TEST(c.speaking(1300 + call::live_call::speech_hold_ms) == "nobody");
}

BOOST_AUTO_TEST_CASE(the_live_event_is_one_json_line_with_every_call) {
  const std::vector<live_row> rows{{"CA1", "+1555<script>", "+1666", "sales", "inbound", "agent", 1000},
                                   {"CA2", "+1777", "+1888", "default", "outbound", "nobody", 2000}};
  const auto event = live_event(rows, 5000);
  BOOST_TEST(event.starts_with("event: calls\ndata: {"));
  BOOST_TEST(event.ends_with("}\n\n"));
  BOOST_TEST(std::count(event.begin(), event.end(), '\n') == 3);
  const auto data = boost::json::parse(event.substr(event.find("data: ") + 6));
  BOOST_TEST(data.at("calls").as_array().size() == 2u);
  BOOST_TEST(data.at("calls").at(0).at("from").as_string() == "+1555<script>");  // the script writes it as text
  const auto page = live_page(rows, "csrf-token", 5000);
  BOOST_TEST(contains(page, "+1555&lt;script&gt;"));
  BOOST_TEST(contains(page, "action=\"/console/live/CA1/end\""));
  BOOST_TEST(contains(page, "<td data-started=\"1000\">0:04</td>"));
}

BOOST_AUTO_TEST_SUITE_END()
