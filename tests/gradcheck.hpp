#pragma once
// Finite-difference gradient checks in double precision for any layer or model. The scalar
// objective is J = sum(y * r) for a fixed random r, so dJ/dy = r; every parameter and input
// gradient is compared with a central difference.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "baler/backend/cpu.hpp"

namespace gradcheck {

using matrix = baler::cpu::matrix<double>;

inline matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed,
                            double scale = 1.0) {
  baler::rng gen(seed);
  matrix m = matrix::from_shape({rows, cols});
  for (auto& v : m) v = scale * gen.normal();
  return m;
}

inline double dot(baler::const_view<double> a, baler::const_view<double> b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a.data[i] * b.data[i];
  return s;
}

// Max of |analytic - numeric| / max(1, |numeric|) over all entries of `values`, where
// `objective` recomputes J after `values` changed and analytic[i] is dJ/dvalues[i].
inline double max_error(double* values, const double* analytic, std::size_t n,
                        const std::function<double()>& objective, double h = 1e-6) {
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double saved = values[i];
    values[i] = saved + h;
    const double up = objective();
    values[i] = saved - h;
    const double down = objective();
    values[i] = saved;
    const double numeric = (up - down) / (2 * h);
    worst = std::max(worst, std::abs(analytic[i] - numeric) / std::max(1.0, std::abs(numeric)));
  }
  return worst;
}

}  // namespace gradcheck
