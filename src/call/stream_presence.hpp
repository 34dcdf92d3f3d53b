// Where a call's stream is served, told to the other instances: the call reports its authenticated start and
// how it ends; server/shared_streams.hpp keeps that in the shared call store (PostgreSQL). Absent on a single
// instance, where the gateway's own list of served calls answers Twilio's <Connect action> request.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "records/call_record.hpp"

namespace voicebridge::call {

class stream_presence {
 public:
  virtual ~stream_presence() = default;
  // The stream authenticated and is served here; `parameters`: its <Parameter>s but the stream token.
  virtual void started(const std::string& call_sid, const std::string& route,
                       std::vector<std::pair<std::string, std::string>> parameters) = 0;
  // The gateway is about to close the stream, ending it as `state` (records::stream_state): stored before the
  // close frame leaves, since Twilio's <Connect action> request may follow it at once on another instance.
  // Bounded; a store that fails is logged, and the close goes ahead.
  virtual boost::asio::awaitable<void> closing(std::string call_sid, std::string_view state) = 0;
  // Twilio ended the stream itself: no action request follows; the row is marked for the record.
  virtual void ended_by_twilio(const std::string& call_sid) = 0;
  // The stream is over here, however it ended: if nothing of its end was stored (it dropped), it is `lost`, so
  // that it no longer counts as live while the action request may still give the call a fresh stream.
  virtual void stream_over(const std::string& call_sid) = 0;
  // A line of the transcript as the call goes (the `line_no`th of this stream), so that a fresh stream after
  // a crash can tell its agent what was said.
  virtual void said(const std::string& call_sid, const std::string& stream_sid, unsigned line_no,
                    records::transcript_line line) = 0;
  // A fresh stream: every line its call's earlier streams stored, handed to `then` on another thread (empty
  // when the store could not say).
  virtual void earlier_transcript(const std::string& call_sid,
                                  std::function<void(std::vector<records::transcript_line>)> then) = 0;
};

}  // namespace voicebridge::call
