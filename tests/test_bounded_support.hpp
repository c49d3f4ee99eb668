#pragma once
// Shared by the error-bounded tests: values that break quantisers, and the bound checked on
// every value as a user would check it.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "baler/codec/error_bound.hpp"
#include "baler/core/rng.hpp"

namespace baler::testing {

using codec::bound_kind;
using codec::bound_spec;

// Values that break naive quantisers: zeros of both signs, denormals, the extremes of both
// types, huge and tiny magnitudes side by side, exact half-steps.
std::vector<double> hard_values(std::uint64_t seed, std::size_t n, bool f32) {
  rng gen(seed);
  const double big = f32 ? double(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
  const double den = f32 ? double(std::numeric_limits<float>::denorm_min()) : std::numeric_limits<double>::denorm_min();
  std::vector<double> v = {0.0, -0.0, den, -den, 3 * den, big, -big, 1e-300, -1e-30, 0.5e-3, 1.5e-3, 1.0};
  while (v.size() < n) {
    const double u = gen.uniform();
    v.push_back(u < 0.05 ? 0.0 : u < 0.1 ? std::ldexp(gen.uniform(-1, 1), int(gen.uniform(-60, 60)))
                                         : gen.normal() * 10);
  }
  if (f32)
    for (double& x : v) x = double(float(x));
  return v;
}

void check_within(const std::vector<double>& x, const std::vector<double>& y, const bound_spec& b,
                  double lo, double hi, bool f32) {
  REQUIRE(x.size() == y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double out = f32 ? double(float(y[i])) : y[i];
    const double err = std::abs(out - x[i]);
    const double limit = b.kind == bound_kind::abs ? b.value
                         : b.kind == bound_kind::range ? b.value * (hi - lo)
                                                       : b.value * std::abs(x[i]);
    if (!(err <= limit)) FAIL_CHECK("value " << i << ": " << x[i] << " came back as " << out);
    if (b.kind == bound_kind::rel && x[i] == 0) CHECK(out == 0.0);
  }
}

}  // namespace baler::testing
