// Strings for the messages a call sends, recycled per thread. Every 20 ms each call builds a message for the
// agent and one for the caller; once a writer has sent one, its string goes back to this thread's list and the
// next message is built in it, so a steady flow of frames allocates nothing. The list is shared by all the
// calls of a thread (it holds about as many strings as there are messages in flight, not a spare per call),
// and bounded in count and in the size of what it keeps.
#pragma once
#include <cstddef>
#include <string>

namespace voicebridge::util {

// An empty string, with the capacity of one given back earlier on this thread if there is one.
std::string recycled_text();

// Gives `text` back for a later message; it is kept while the list has room and its capacity is at most
// max_recycled_capacity (a rare large message is freed, not held) and it has any heap memory to reuse; it is
// freed otherwise.
void recycle_text(std::string&& text);

// A thread has a handful of messages in flight at once (each is sent right after it is built): 32 cover that,
// and keep at most 64 KiB per thread. More, or larger, showed in the benchmark's RSS per call (a burst of
// greeting chunks filled 256 slots with 1.2 KB strings: about +2 KiB per call at 100 calls).
constexpr std::size_t max_recycled_texts = 32;
constexpr std::size_t max_recycled_capacity = 2048;

// How many strings this thread's list holds now (for tests).
std::size_t recycled_text_count();

}  // namespace voicebridge::util
