#pragma once
// BLAS and cuBLAS take sizes as int: a size_t beyond INT_MAX would wrap into a negative or
// small size and compute on the wrong memory, so every size is checked on the way in.
#include <climits>
#include <cstddef>
#include <string>

#include "baler/core/error.hpp"

namespace baler {

inline int blas_int(std::size_t v, const char* where) {
  require(v <= std::size_t(INT_MAX), where,
          "size " + std::to_string(v) + " exceeds BLAS's int range (" + std::to_string(INT_MAX) + ")");
  return static_cast<int>(v);
}

}  // namespace baler
