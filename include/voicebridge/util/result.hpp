// result<T>: a value or a human-readable reason, for parsers of untrusted input (files, messages, forms).
#pragma once
#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace voicebridge::util {

// Constructible only through fail(), so result<std::string> or result<T*> never confuse a value with an error.
class error_text {
 public:
  error_text() = default;  // result<T>::error() of a value: empty
  std::string message;

 private:
  explicit error_text(std::string m) : message(std::move(m)) {}
  friend error_text fail(std::string message);
};

inline error_text fail(std::string message) { return error_text(std::move(message)); }

// Called by result<T>::value() on an error (found by argument-dependent lookup).
[[noreturn]] inline void throw_exception_from_error(const error_text& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

template <class T>
using result = boost::system::result<T, error_text>;

}  // namespace voicebridge::util
