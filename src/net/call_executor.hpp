// The executor a call's coroutines (its Twilio stream, its agent, a pre-warmed conversation) run on.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace voicebridge::net {

// With several io threads each call gets a strand, so that its coroutines never run at once and nothing a
// call owns needs a lock. With one thread the io_context alone serialises them: a strand would only add a
// queue, a lock and a hand-off to every frame.
inline boost::asio::any_io_executor call_executor(boost::asio::io_context& io, unsigned io_threads) {
  if (io_threads == 1) return io.get_executor();
  return boost::asio::make_strand(io);
}

}  // namespace voicebridge::net
