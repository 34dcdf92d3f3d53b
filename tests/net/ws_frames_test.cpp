// The WebSocket frame reader without sockets: every length form, masking, fragmentation with control frames
// between the fragments, text checked as UTF-8 across fragment boundaries, close frames, the size bound, each
// rule of RFC 6455 that makes a frame wrong (and the close code it calls for), and frames cut anywhere.
#include <boost/test/unit_test.hpp>

#include "net/ws_frames.hpp"

using namespace voicebridge::net;
using kind = ws_message::kind;

namespace {

struct frame_spec {
  bool fin = true;
  std::uint8_t opcode = 1;
  std::string payload;
  bool masked = true;
  std::uint8_t rsv = 0;
  int length_form = 0;  // 0: the shortest; 126 or 127: that form whatever the length
};

std::string frame(const frame_spec& f) {
  std::string out;
  out += static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode);
  const std::uint64_t n = f.payload.size();
  const int form = f.length_form ? f.length_form : n < 126 ? 0 : n < 65536 ? 126 : 127;
  const char mask_bit = f.masked ? static_cast<char>(0x80) : 0;
  if (form == 0) {
    out += static_cast<char>(mask_bit | static_cast<char>(n));
  } else {
    out += static_cast<char>(mask_bit | form);
    for (int i = (form == 126 ? 1 : 7); i >= 0; --i) out += static_cast<char>(n >> (8 * i) & 0xFF);
  }
  const std::string key = "\x12\x34\x56\x78";
  if (f.masked) out += key;
  for (std::size_t i = 0; i < f.payload.size(); ++i) out += f.masked ? static_cast<char>(f.payload[i] ^ key[i % 4]) : f.payload[i];
  return out;
}

std::string text(std::string s, bool fin = true, std::uint8_t op = 1) { return frame({fin, op, std::move(s)}); }

struct outcome {
  std::vector<ws_message> messages;
  std::optional<ws_failure> failure;
  std::size_t used = 0;
};

outcome read_all(const std::string& bytes, ws_role role = ws_role::server, std::size_t max = 1 << 20) {
  ws_frame_reader reader(role, max);
  outcome o;
  o.used = reader.read(bytes, o.messages);
  o.failure = reader.failure();
  return o;
}

std::uint16_t failure_code(const std::string& bytes, ws_role role = ws_role::server, std::size_t max = 1 << 20) {
  auto o = read_all(bytes, role, max);
  return o.failure ? o.failure->close_code : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ws_frames)

BOOST_AUTO_TEST_CASE(every_complete_frame_in_one_read_comes_out_in_order) {
  const std::string bytes = text("one") + frame({true, 2, std::string("\0\1\2", 3)}) + frame({true, 9, "ping"}) + text("two");
  const auto o = read_all(bytes);
  BOOST_TEST(!o.failure.has_value());
  BOOST_TEST(o.used == bytes.size());
  BOOST_TEST_REQUIRE(o.messages.size() == 4u);
  BOOST_TEST((o.messages[0].what == kind::text && o.messages[0].payload == "one"));
  BOOST_TEST((o.messages[1].what == kind::binary && o.messages[1].payload == std::string("\0\1\2", 3)));
  BOOST_TEST((o.messages[2].what == kind::ping && o.messages[2].payload == "ping"));
  BOOST_TEST(o.messages[3].payload == "two");
}

BOOST_AUTO_TEST_CASE(each_length_form_is_read_and_the_shortest_form_is_required) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
    const auto o = read_all(text(std::string(n, 'a')));
    BOOST_TEST_REQUIRE(o.messages.size() == 1u, n);
    BOOST_TEST(o.messages[0].payload.size() == n);
  }
  BOOST_TEST(failure_code(frame({true, 1, "short", true, 0, 126})) == 1002);
  BOOST_TEST(failure_code(frame({true, 1, std::string(200, 'a'), true, 0, 127})) == 1002);
  std::string top_bit = frame({true, 2, std::string(70000, 'a'), true, 0, 127});
  top_bit[2] = static_cast<char>(0x80);
  BOOST_TEST(failure_code(top_bit, ws_role::server, SIZE_MAX) == 1002);
}

BOOST_AUTO_TEST_CASE(a_frame_cut_anywhere_waits_for_the_rest) {
  const std::string bytes = text(std::string(300, 'x')) + frame({true, 9, "p"}) + text("end");
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    ws_frame_reader reader(ws_role::server, 1 << 20);
    std::vector<ws_message> got;
    std::string pending = bytes.substr(0, cut);
    pending.erase(0, reader.read(pending, got));
    pending += bytes.substr(cut);
    BOOST_TEST(reader.read(pending, got) == pending.size(), cut);
    BOOST_TEST_REQUIRE(got.size() == 3u, cut);
    BOOST_TEST(got[0].payload == std::string(300, 'x'));
    BOOST_TEST(got[2].payload == "end");
  }
}

BOOST_AUTO_TEST_CASE(fragments_make_one_message_with_control_frames_between_them) {
  const std::string bytes = text("Hel", false) + frame({true, 9, "p1"}) + frame({false, 0, "lo, "}) + frame({true, 10, ""}) +
                            frame({true, 0, "world"});
  const auto o = read_all(bytes);
  BOOST_TEST_REQUIRE(o.messages.size() == 3u);
  BOOST_TEST((o.messages[0].what == kind::ping));
  BOOST_TEST((o.messages[1].what == kind::pong));
  BOOST_TEST(o.messages[2].payload == "Hello, world");
  BOOST_TEST(failure_code(frame({true, 0, "orphan"})) == 1002);                    // continuation outside a message
  BOOST_TEST(failure_code(text("a", false) + text("b")) == 1002);                  // a new message inside one
  BOOST_TEST(failure_code(frame({false, 9, "p"})) == 1002);                        // a fragmented control frame
  BOOST_TEST(failure_code(frame({true, 9, std::string(126, 'p')})) == 1002);       // a control frame over 125
}

BOOST_AUTO_TEST_CASE(masking_follows_the_role_and_reserved_bits_and_opcodes_are_refused) {
  BOOST_TEST(failure_code(frame({true, 1, "x", false})) == 1002);                  // a client must mask
  BOOST_TEST(read_all(frame({true, 1, "x", false}), ws_role::client).messages.size() == 1u);
  BOOST_TEST(failure_code(frame({true, 1, "x", true}), ws_role::client) == 1002);  // a server must not
  for (std::uint8_t rsv : {1, 2, 4}) BOOST_TEST(failure_code(frame({true, 1, "x", true, rsv})) == 1002);
  for (std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) BOOST_TEST(failure_code(frame({true, op, "x"})) == 1002, int(op));
}

BOOST_AUTO_TEST_CASE(text_must_be_utf8_even_when_a_character_is_split_between_fragments) {
  const std::string euro = "\xE2\x82\xAC";
  const auto split = read_all(text("price " + euro.substr(0, 2), false) + frame({true, 0, euro.substr(2) + " 5"}));
  BOOST_TEST_REQUIRE(split.messages.size() == 1u);
  BOOST_TEST(split.messages[0].payload == "price " + euro + " 5");
  BOOST_TEST(failure_code(text("\xC0\xAF")) == 1007);                      // overlong
  BOOST_TEST(failure_code(text("\xED\xA0\x80")) == 1007);                  // a surrogate
  BOOST_TEST(failure_code(text(euro.substr(0, 2))) == 1007);               // cut short at the message's end
  BOOST_TEST(failure_code(text("ok \xE2\x28", false)) == 1007);            // wrong before the message ends
  BOOST_TEST(read_all(frame({true, 2, "\xC0\xAF"})).messages.size() == 1u);  // binary is not text
}

BOOST_AUTO_TEST_CASE(close_frames_carry_a_valid_code_and_a_utf8_reason) {
  const auto o = read_all(frame({true, 8, std::string("\x03\xE8", 2) + "bye"}));
  BOOST_TEST_REQUIRE(o.messages.size() == 1u);
  BOOST_TEST((o.messages[0].what == kind::close));
  BOOST_TEST(o.messages[0].close_code == 1000);
  BOOST_TEST(o.messages[0].payload == "bye");
  BOOST_TEST(read_all(frame({true, 8, ""})).messages.at(0).close_code == 0);
  BOOST_TEST(failure_code(frame({true, 8, "\x03"})) == 1002);                              // a one-byte body
  for (std::uint16_t code : {999, 1004, 1005, 1006, 1014, 1015, 2999, 5000})
    BOOST_TEST(failure_code(frame({true, 8, std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)}})) == 1002, code);
  for (std::uint16_t code : {1000, 1001, 1011, 1012, 1013, 3000, 4999})
    BOOST_TEST(failure_code(frame({true, 8, std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)}})) == 0, code);
  BOOST_TEST(failure_code(frame({true, 8, std::string("\x03\xE8\xFF", 3)})) == 1002);  // as Beast answers it
}

BOOST_AUTO_TEST_CASE(a_message_over_the_bound_is_refused_as_soon_as_its_header_says_so) {
  BOOST_TEST(failure_code(text(std::string(100, 'a')), ws_role::server, 100) == 0);
  BOOST_TEST(failure_code(text(std::string(101, 'a')), ws_role::server, 100) == 1009);
  BOOST_TEST(failure_code(text(std::string(60, 'a'), false) + frame({true, 0, std::string(41, 'a')}), ws_role::server, 100) == 1009);
  // Only the header is needed to know: 2 GB announced, 10 bytes sent.
  BOOST_TEST(failure_code(frame({true, 2, std::string(70000, 'a')}).substr(0, 14 + 10), ws_role::server, 65536) == 1009);
}

// ws_oversized::skip: a message over the bound is reported once, at the frame that takes it over the bound, and
// the rest of it skipped, whole or fragmented,
// with control frames between its fragments still read, and the frames after it read as usual, however the
// bytes are cut (a skipped payload need never be whole in the buffer).
BOOST_AUTO_TEST_CASE(a_skipped_message_over_the_bound_leaves_the_frames_after_it_readable) {
  const std::string bytes = text("before") + text(std::string(60, 'a'), false) + frame({true, 9, "ping"}) +
                            frame({false, 0, std::string(50, 'b')}) + frame({true, 0, ""}) +
                            frame({true, 2, std::string(300, 'c')}) + text("after") + frame({true, 8, "\x03\xe8"});
  for (const std::size_t step : {bytes.size(), std::size_t{1}, std::size_t{7}}) {
    ws_frame_reader reader(ws_role::server, 100, ws_oversized::skip);
    std::vector<ws_message> got;
    std::string pending;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
      pending += bytes.substr(at, step);
      pending.erase(0, reader.read(pending, got));
    }
    BOOST_TEST(!reader.failure().has_value());
    BOOST_TEST(pending.empty());
    BOOST_TEST_REQUIRE(got.size() == 6u, step);
    BOOST_TEST((got[0].payload == "before" && !got[0].oversized));
    BOOST_TEST((got[1].what == kind::ping && got[1].payload == "ping"));
    BOOST_TEST((got[2].what == kind::text && got[2].oversized && got[2].payload.empty()));  // once it is over
    BOOST_TEST((got[3].what == kind::binary && got[3].oversized));
    BOOST_TEST((got[4].payload == "after" && !got[4].oversized));
    BOOST_TEST((got[5].what == kind::close && got[5].close_code == 1000));
    BOOST_TEST(!reader.in_message());
  }
  // Skipping changes no rule: a data frame inside the skipped message is still a protocol error.
  ws_frame_reader reader(ws_role::server, 10, ws_oversized::skip);
  std::vector<ws_message> got;
  reader.read(text(std::string(20, 'a'), false) + text("x"), got);
  BOOST_TEST(reader.failure()->close_code == 1002);
}

BOOST_AUTO_TEST_CASE(nothing_is_read_after_a_failure) {
  ws_frame_reader reader(ws_role::server, 1 << 20);
  std::vector<ws_message> got;
  reader.read(frame({true, 3, "x"}) + text("after"), got);
  BOOST_TEST(got.empty());
  BOOST_TEST(reader.read(text("more"), got) == 0u);
  BOOST_TEST(got.empty());
  BOOST_TEST(reader.failure()->reason == "a reserved opcode");
}

BOOST_AUTO_TEST_CASE(the_writer_makes_the_frames_of_rfc_6455_section_5_7) {
  const auto bytes = [](std::initializer_list<int> b) {
    std::string out;
    for (int x : b) out += static_cast<char>(x);
    return out;
  };
  std::string out;
  append_frame(out, kind::text, "Hello");
  BOOST_TEST(out == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));  // a single-frame unmasked text message
  out.clear();
  append_frame(out, kind::text, "Hello", ws_fragment::whole, 0x37fa213d);
  BOOST_TEST(out == bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));  // masked
  out.clear();
  append_frame(out, kind::text, "Hel", ws_fragment::first);
  append_frame(out, kind::text, "lo", ws_fragment::last);
  BOOST_TEST(out == bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));  // a fragmented one
  out.clear();
  append_frame(out, kind::ping, "Hello");
  BOOST_TEST(out == bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, kind::binary, std::string(256, 'x'));
  BOOST_TEST(out.substr(0, 4) == bytes({0x82, 0x7E, 0x01, 0x00}));
  BOOST_TEST(out.size() == 4u + 256u);
  out.clear();
  append_frame(out, kind::binary, std::string(65536, 'x'));
  BOOST_TEST(out.substr(0, 10) == bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  out.clear();
  append_frame(out, kind::close, "bye", ws_fragment::whole, std::nullopt, 1000);
  BOOST_TEST(out == bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
}

BOOST_AUTO_TEST_CASE(what_the_writer_batches_the_reader_reads_back_in_either_role) {
  for (const auto role : {ws_role::server, ws_role::client}) {
    const auto key = role == ws_role::server ? std::optional<std::uint32_t>(0xa1b2c3d4) : std::nullopt;
    std::string batch;
    append_frame(batch, kind::text, "{\"event\":", ws_fragment::first, key);
    append_frame(batch, kind::ping, "between", ws_fragment::whole, key);
    append_frame(batch, kind::text, "\"media\"", ws_fragment::middle, key);
    append_frame(batch, kind::text, "}", ws_fragment::last, key);
    append_frame(batch, kind::binary, std::string(70000, '\x7f'), ws_fragment::whole, key);
    append_frame(batch, kind::pong, "", ws_fragment::whole, key);
    append_frame(batch, kind::close, "going", ws_fragment::whole, key, 1001);
    const auto o = read_all(batch, role);
    BOOST_TEST_REQUIRE(!o.failure.has_value());
    BOOST_TEST_REQUIRE(o.messages.size() == 5u);
    BOOST_TEST((o.messages[0].what == kind::ping));
    BOOST_TEST(o.messages[1].payload == "{\"event\":\"media\"}");
    BOOST_TEST(o.messages[2].payload == std::string(70000, '\x7f'));
    BOOST_TEST((o.messages[3].what == kind::pong));
    BOOST_TEST(o.messages[4].close_code == 1001);
    BOOST_TEST(o.messages[4].payload == "going");
  }
}

BOOST_AUTO_TEST_SUITE_END()
