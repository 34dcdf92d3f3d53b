#include "util/recycled_text.hpp"

#include <vector>

namespace voicebridge::util {
namespace {

std::vector<std::string>& free_list() {
  thread_local std::vector<std::string> list = [] {
    std::vector<std::string> l;
    l.reserve(max_recycled_texts);  // the list itself never reallocates
    return l;
  }();
  return list;
}

}  // namespace

std::string recycled_text() {
  auto& list = free_list();
  if (list.empty()) return {};
  std::string text = std::move(list.back());
  list.pop_back();
  return text;
}

void recycle_text(std::string&& text) {
  auto& list = free_list();
  static const std::size_t inline_capacity = std::string().capacity();  // nothing on the heap to reuse
  if (list.size() >= max_recycled_texts || text.capacity() > max_recycled_capacity ||
      text.capacity() <= inline_capacity)
    return;
  text.clear();
  list.push_back(std::move(text));
}

std::size_t recycled_text_count() { return free_list().size(); }

}  // namespace voicebridge::util
