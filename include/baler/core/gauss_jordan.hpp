#pragma once
// Gauss-Jordan elimination with partial pivoting, in place, for the small normal equations of
// the least-squares fits (a field's learned predictors, a table's linear formulas).
//
//   m  n rows of n + 1 doubles, row-major: [A | b]. Afterwards A is diagonal and the solution
//      of A x = b is x[r] = m[r][n] / m[r][r].
// False (m partly eliminated) when A is singular.
#include <cmath>
#include <cstddef>
#include <utility>

namespace baler {

inline bool gauss_jordan(double* m, std::size_t n) {
  const std::size_t w = n + 1;  // row stride
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t piv = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(m[r * w + col]) > std::abs(m[piv * w + col])) piv = r;
    if (!(std::abs(m[piv * w + col]) > 0)) return false;
    for (std::size_t q = 0; q <= n; ++q) std::swap(m[col * w + q], m[piv * w + q]);
    for (std::size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double g = m[r * w + col] / m[col * w + col];
      for (std::size_t q = col; q <= n; ++q) m[r * w + q] -= g * m[col * w + q];
    }
  }
  return true;
}

}  // namespace baler
