#include "net/call_contexts.hpp"

#include <unistd.h>

namespace voicebridge::net {

std::optional<boost::asio::ip::tcp::socket> move_socket(boost::asio::ip::tcp::socket& socket,
                                                        boost::asio::io_context& context) {
  boost::asio::execution_context& here = boost::asio::query(socket.get_executor(), boost::asio::execution::context);
  if (&here == &context) return std::move(socket);
  boost::system::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return std::nullopt;
  const auto descriptor = socket.release(ec);
  if (ec) return std::nullopt;
  boost::asio::ip::tcp::socket moved(context);
  moved.assign(protocol, descriptor, ec);
  if (ec) {
    ::close(descriptor);
    return std::nullopt;
  }
  return moved;
}

}  // namespace voicebridge::net
