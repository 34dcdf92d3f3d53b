// The reading side shared by both WebSockets, without a socket: frames cut across reads wait for their rest, one
// read's several frames come out together, and a buffer grown for a big frame is given back after it.
#include <boost/test/unit_test.hpp>
#include <cstring>

#include "net/ws_inbox.hpp"

using namespace voicebridge;
using kind = net::ws_message::kind;

namespace {
// As a socket's read would: into space(), then received().
void arrive(net::ws_inbox& inbox, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto space = inbox.space();
    BOOST_TEST_REQUIRE(space.size() >= net::ws_inbox::read_step);
    const std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    inbox.received(n);
    bytes.remove_prefix(n);
  }
}

std::string server_frames(std::initializer_list<std::string_view> texts) {
  std::string out;
  for (const auto text : texts) net::append_frame(out, kind::text, text);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ws_inbox)

BOOST_AUTO_TEST_CASE(a_frame_cut_across_reads_waits_and_several_come_out_together) {
  net::ws_inbox inbox(net::ws_role::client, 1 << 20, net::ws_oversized::fail, 2048);
  const std::string wire = server_frames({"one", "two", "three"});
  std::vector<net::ws_message> out;
  arrive(inbox, std::string_view(wire).substr(0, 7));  // "one" whole, "two" cut short
  inbox.read(out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].payload == "one");
  arrive(inbox, std::string_view(wire).substr(7));
  inbox.read(out);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[1].payload == "two");
  BOOST_TEST(out[2].payload == "three");
  BOOST_TEST(!inbox.failure());
}

BOOST_AUTO_TEST_CASE(bytes_from_before_the_frames_were_ours_come_first) {
  net::ws_inbox inbox(net::ws_role::client, 1 << 20, net::ws_oversized::fail, 2048);
  inbox.start_with(server_frames({"early"}));
  std::vector<net::ws_message> out;
  inbox.read(out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].payload == "early");
}

BOOST_AUTO_TEST_CASE(a_buffer_grown_for_a_big_frame_is_given_back_after_it) {
  net::ws_inbox inbox(net::ws_role::client, 1 << 20, net::ws_oversized::fail, 2048);
  const std::string big(20000, 'b');
  std::vector<net::ws_message> out;
  arrive(inbox, server_frames({big}));
  inbox.read(out);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].payload == big);
  BOOST_TEST(inbox.space().size() <= 2048u, "back to a frame's room, not the big one's");
}

BOOST_AUTO_TEST_CASE(a_frame_that_breaks_the_protocol_ends_the_reading) {
  net::ws_inbox inbox(net::ws_role::server, 1 << 20, net::ws_oversized::fail, 2048);
  std::vector<net::ws_message> out;
  arrive(inbox, server_frames({"unmasked, from a client"}));
  inbox.read(out);
  BOOST_TEST(out.empty());
  BOOST_TEST_REQUIRE(inbox.failure().has_value());
  BOOST_TEST(inbox.failure()->close_code == 1002);
}

BOOST_AUTO_TEST_SUITE_END()
