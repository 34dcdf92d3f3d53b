#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "voicebridge/llm/chat_messages.hpp"

using namespace voicebridge::llm;
namespace json = boost::json;

namespace {

std::vector<std::string> feed_all(sse_parser& parser, std::string_view bytes) {
  std::vector<std::string> events;
  BOOST_TEST(parser.feed(bytes, events));
  return events;
}

std::vector<std::string> phrases_of(const std::vector<std::string>& tokens) {
  phrase_chunker chunker;
  std::vector<std::string> out;
  for (const auto& t : tokens)
    if (auto p = chunker.add(t)) out.push_back(*p);
  if (auto p = chunker.finish()) out.push_back(*p);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chat_messages)

BOOST_AUTO_TEST_CASE(request_streams_with_history_and_the_gateway_tools) {
  std::vector<chat_message> history{{"system", "Be brief.", {}, {}},
                                    {"user", "Bye", {}, {}},
                                    {"assistant", "", {{"call_1", "end_call", "{}"}}, {}},
                                    {"tool", "ok", {}, "call_1"}};
  const auto o = json::parse(serialize_chat_request("gpt-test", history)).as_object();
  BOOST_TEST(o.at("model").as_string() == "gpt-test");
  BOOST_TEST(o.at("stream").as_bool());
  const auto& messages = o.at("messages").as_array();
  BOOST_TEST_REQUIRE(messages.size() == 4u);
  BOOST_TEST(messages[2].at("tool_calls").at(0).at("function").at("name").as_string() == "end_call");
  BOOST_TEST(messages[3].at("tool_call_id").as_string() == "call_1");
  const auto& tools = o.at("tools").as_array();
  BOOST_TEST_REQUIRE(tools.size() == 2u);
  BOOST_TEST(tools[0].at("function").at("name").as_string() == "end_call");
  BOOST_TEST(tools[1].at("function").at("name").as_string() == "transfer_to_number");
}

BOOST_AUTO_TEST_CASE(sse_events_are_complete_at_a_blank_line_whatever_the_reads) {
  const std::string stream = "data: {\"a\":1}\n\n: a comment\nevent: message\nid: 7\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\n\n";
  sse_parser whole;
  BOOST_TEST(feed_all(whole, stream) == (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "[DONE]"}));
  // One byte at a time, CRLF split between reads included.
  sse_parser bytewise;
  std::vector<std::string> events;
  for (char c : stream) BOOST_TEST(bytewise.feed(std::string_view(&c, 1), events));
  BOOST_TEST(events == (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "[DONE]"}));
}

BOOST_AUTO_TEST_CASE(sse_multiline_data_and_cr_line_ends) {
  sse_parser parser;
  BOOST_TEST(feed_all(parser, "data:one\rdata: two\r\r") == std::vector<std::string>{"one\ntwo"});
  BOOST_TEST(feed_all(parser, "data: unfinished").empty());
  BOOST_TEST(feed_all(parser, "\n\n") == std::vector<std::string>{"unfinished"});
}

BOOST_AUTO_TEST_CASE(sse_event_over_the_limit_is_refused) {
  sse_parser parser(16);
  std::vector<std::string> events;
  BOOST_TEST(!parser.feed("data: " + std::string(64, 'x'), events));
}

BOOST_AUTO_TEST_CASE(chunks_give_text_tool_fragments_and_finish) {
  auto text = parse_chat_chunk(R"({"choices":[{"index":0,"delta":{"content":" Hello"},"finish_reason":null}]})");
  BOOST_TEST_REQUIRE(text.has_value());
  BOOST_TEST(text->content == " Hello");
  BOOST_TEST(text->finish_reason == "");
  auto stop = parse_chat_chunk(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  BOOST_TEST(stop->finish_reason == "stop");
  BOOST_TEST(parse_chat_chunk(R"({"choices":[],"usage":{"total_tokens":5}})")->content == "");

  tool_call_builder builder;
  for (const char* data : {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"transfer_to_number","arguments":"{\"phone_"}}]}}]})",
                           R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"number\":\"+15550001111\"}"}}]}}]})"}) {
    auto d = parse_chat_chunk(data);
    BOOST_TEST_REQUIRE(d.has_value());
    for (const auto& t : d->tool_calls) builder.add(t);
  }
  const auto calls = builder.take();
  BOOST_TEST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].id == "call_9");
  BOOST_TEST(calls[0].name == "transfer_to_number");
  BOOST_TEST(calls[0].arguments_json == R"({"phone_number":"+15550001111"})");
  BOOST_TEST(builder.take().empty());
}

BOOST_AUTO_TEST_CASE(bad_chunks_and_model_errors_are_errors) {
  auto error = parse_chat_chunk(R"({"error":{"message":"Rate limit reached","type":"requests"}})");
  BOOST_TEST_REQUIRE(!error.has_value());
  BOOST_TEST(error.error().message.find("Rate limit reached") != std::string::npos);
  BOOST_TEST(!parse_chat_chunk("{not json").has_value());
  BOOST_TEST(!parse_chat_chunk(R"({"choices":{}})").has_value());
  BOOST_TEST(!parse_chat_chunk(R"({"choices":[{"delta":{"tool_calls":{}}}]})").has_value());
  BOOST_TEST(!parse_chat_chunk(R"({"choices":[{"delta":{"tool_calls":[{"index":9999}]}}]})").has_value());
}

BOOST_AUTO_TEST_CASE(phrases_end_at_sentences_and_are_handed_on_early) {
  BOOST_TEST(phrases_of({"Sure", ".", " We", " open", " at", " 9", ".", "30", " daily", "!", " Anything", " else", "?"}) ==
             (std::vector<std::string>{"Sure. ", "We open at 9.30 daily! ", "Anything else? "}));
  // The first phrase is ready as soon as its sentence ends, before the answer is complete.
  phrase_chunker chunker;
  BOOST_TEST(!chunker.add("Hello").has_value());
  BOOST_TEST(!chunker.add(".").has_value());  // "9." may go on as "9.30": wait for the next token
  BOOST_TEST(chunker.add(" How").value() == "Hello. ");
  BOOST_TEST(chunker.finish().value() == "How ");
  BOOST_TEST(!chunker.finish().has_value());
}

BOOST_AUTO_TEST_CASE(long_clauses_split_at_commas_or_spaces) {
  const std::string clause(45, 'a');
  BOOST_TEST(phrases_of({"Short, not split", "."}) == std::vector<std::string>{"Short, not split. "});
  BOOST_TEST(phrases_of({clause, ", then", " more"}) == (std::vector<std::string>{clause + ", ", "then more "}));
  std::vector<std::string> words(40, " word");
  const auto phrases = phrases_of(words);
  BOOST_TEST(phrases.size() >= 2u);
  for (const auto& p : phrases) BOOST_TEST(p.size() <= phrase_chunker::force_after + 1);
}

BOOST_AUTO_TEST_SUITE_END()
