#pragma once
// Shared by the PyTorch golden-value tests.
#include <algorithm>
#include <cmath>
#include <vector>

// max |a - b| / max(|b|_inf, tiny): one number for a whole tensor.
inline double relative_error(const double* a, const std::vector<double>& b) {
  double diff = 0, scale = 1e-300;
  for (std::size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return diff / scale;
}
