#pragma once
// Quantiles of a sample, the summary statistic physicists quote for error distributions (the
// median and the 90 % / 99 % tails say more about a lossy compressor than a mean does).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "baler/core/error.hpp"

namespace baler::metrics {

// The q-quantile (0 <= q <= 1) by linear interpolation between order statistics, numpy's
// default ("linear"): with the values sorted as v[0] <= ... <= v[n-1] and h = (n - 1) q,
//   quantile = v[floor(h)] + (h - floor(h)) * (v[floor(h) + 1] - v[floor(h)]).
// So q = 0 is the minimum, q = 1 the maximum, q = 0.5 the usual median. nth_element instead of a
// full sort keeps it O(n); `values` is reordered, which is why it is taken by reference. An
// empty sample has no quantile: NaN. NaN inputs are the caller's to exclude (they break the
// ordering nth_element relies on).
inline double quantile(std::vector<double>& values, double q) {
  require(q >= 0.0 && q <= 1.0, "metrics::quantile", "q must be in [0, 1], got " + std::to_string(q));
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double v_lo = values[lo];
  const double frac = h - static_cast<double>(lo);
  if (frac == 0.0 || lo + 1 == values.size()) return v_lo;
  // After nth_element everything right of lo is >= v_lo, so the next order statistic is the
  // minimum of that part.
  const double v_hi = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return v_lo + frac * (v_hi - v_lo);
}

}  // namespace baler::metrics
