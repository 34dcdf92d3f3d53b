// The usual visitor helper for std::visit over message variants.
#pragma once

namespace voicebridge::util {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

}  // namespace voicebridge::util
