// The exposition must follow Prometheus' text format exactly: checked here with a strict line parser
// (the service tests also run `promtool check metrics` on a live gateway's /metrics).
#include <boost/test/unit_test.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "voicebridge/app/metrics.hpp"

using namespace voicebridge::app;

namespace {

struct family {
  std::string type;
  std::map<std::string, double> samples;  // "name{labels}" -> value
};

// Parses the text format strictly: HELP then TYPE before a family's samples, names and labels by the
// grammar, values as floats. Fails the test on any line that does not fit.
std::map<std::string, family> parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*)?\})? ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)))");
  std::map<std::string, family> families;
  std::istringstream in(text);
  std::string line, current, helped;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      helped = m[1];
    } else if (std::regex_match(line, m, type)) {
      BOOST_TEST(m[1] == helped, "TYPE without HELP: " << line);
      current = m[1];
      BOOST_TEST(!families.contains(current), "family declared twice: " << current);
      families[current].type = m[2];
    } else if (std::regex_match(line, m, sample)) {
      const std::string name = m[1];
      BOOST_TEST(name.starts_with(current), "sample outside its family: " << line);
      families[current].samples[name + std::string(m[2])] = std::stod(m[7]);
    } else {
      BOOST_FAIL("not exposition format: '" << line << "'");
    }
  }
  BOOST_TEST(text.ends_with("\n"));
  return families;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_format)

BOOST_AUTO_TEST_CASE(exposition_parses_and_histograms_are_cumulative) {
  auto& m = metrics();
  m.calls.inc("agent");
  m.calls.inc("agent");
  m.rejected_streams.inc("weird \"reason\"\\x");  // escaping, even though our reasons are plain words
  m.agent_connect_seconds.observe(0.004);
  m.agent_connect_seconds.observe(0.2);
  m.agent_connect_seconds.observe(100.0);
  m.frames_from_caller.inc(7);
  const auto families = parse_exposition(render_metrics());

  BOOST_TEST(families.at("voicebridge_active_calls").type == "gauge");
  const auto& calls = families.at("voicebridge_calls_total");
  BOOST_TEST(calls.type == "counter");
  BOOST_TEST(calls.samples.at("voicebridge_calls_total{outcome=\"agent\"}") >= 2);
  BOOST_TEST(families.at("voicebridge_rejected_streams_total").samples.contains(
      R"(voicebridge_rejected_streams_total{reason="weird \"reason\"\\x"})"));
  BOOST_TEST(families.at("voicebridge_caller_frames_total").samples.at("voicebridge_caller_frames_total{direction=\"in\"}") >= 7);

  const auto& h = families.at("voicebridge_agent_connect_seconds");
  BOOST_TEST(h.type == "histogram");
  double previous = 0;
  for (double le : histogram::bounds) {
    std::ostringstream key;
    key << "voicebridge_agent_connect_seconds_bucket{le=\"" << le << "\"}";
    const double v = h.samples.at(key.str());
    BOOST_TEST(v >= previous, "buckets must be cumulative at le=" << le);
    previous = v;
  }
  const double inf = h.samples.at("voicebridge_agent_connect_seconds_bucket{le=\"+Inf\"}");
  BOOST_TEST(inf == h.samples.at("voicebridge_agent_connect_seconds_count"));
  BOOST_TEST(inf - previous >= 1);  // the 100 s observation lies beyond the last bound
  BOOST_TEST(h.samples.at("voicebridge_agent_connect_seconds_sum") >= 100.204 - 1e-9);
  BOOST_TEST(h.samples.at("voicebridge_agent_connect_seconds_bucket{le=\"0.005\"}") >= 1);
}

BOOST_AUTO_TEST_CASE(histogram_bucket_edges_are_inclusive) {
  histogram h;
  h.observe(0.005);  // exactly on a bound: counted in le="0.005"
  h.observe(0.0051);
  BOOST_TEST(h.cumulative(2) == 1u);  // bounds[2] == 0.005
  BOOST_TEST(h.cumulative(3) == 2u);
  BOOST_TEST(h.count() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
