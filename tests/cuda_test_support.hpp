#pragma once
// What the CUDA conformance tests (tests/cuda_test_*.cpp) share: seeded random inputs, moving
// host vectors into and out of either backend, and the normalised error every comparison of
// the CUDA backend against the CPU backend uses, with its tolerances per scalar type.
//
// A comparison runs the same function body on both backends (a template over the backend) from
// the same host inputs, downloads the results and compares them here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "baler/backend/cpu.hpp"
#include "baler/backend/cuda.hpp"
#include "baler/core/rng.hpp"
#include "test_data.hpp"

namespace cuda_test {

using baler::const_view;
using baler::matrix_view;

// A backend as a value, for generic lambdas that build backend-specific layers and models:
// make(on<cpu>{}) and make(on<cuda>{}).
template <class B>
struct on {
  using backend = B;
};

// ---- inputs -----------------------------------------------------------------------------
// n values ~ N(mean, scale^2), the same for a seed on every run.
template <class T>
std::vector<T> normal_values(std::size_t n, std::uint64_t seed, double scale = 1.0,
                             double mean = 0.0) {
  baler::rng gen(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = T(mean + scale * gen.normal());
  return v;
}

// n values uniform in [lo, hi).
template <class T>
std::vector<T> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
  baler::rng gen(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = T(gen.uniform(lo, hi));
  return v;
}

// ---- host <-> backend ---------------------------------------------------------------------
template <class T>
const_view<T> cv(matrix_view<T> v) {  // the read-only view that backend members take
  return v;
}

// A (rows x cols) backend matrix holding `host`.
template <class B, class T>
typename B::template matrix<T> to_backend(B& be, const std::vector<T>& host, std::size_t rows,
                                          std::size_t cols) {
  REQUIRE(host.size() == rows * cols);
  auto m = be.template make<T>(rows, cols);
  be.upload(host.data(), B::view(m));
  return m;
}

// The values of a backend view (mutable or read-only), on the host.
template <class B, class T>
std::vector<std::remove_const_t<T>> host_copy(B& be, matrix_view<T> v) {
  using U = std::remove_const_t<T>;
  std::vector<U> out(v.size());
  be.download(const_view<U>(v), out.data());
  return out;
}

// ---- comparisons --------------------------------------------------------------------------
// max |got - want| / max(max |want|, tiny): the largest deviation in units of the reference's
// largest magnitude, so that results near zero are judged on the scale of the whole result.
// A size mismatch, or a non-finite value that is not equal in both, counts as infinitely far.
template <class T>
double normalised_error(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = double(got[i]), w = double(want[i]);
    if (!std::isfinite(g) || !std::isfinite(w)) {
      if (!(g == w)) return std::numeric_limits<double>::infinity();
      continue;
    }
    diff = std::max(diff, std::abs(g - w));
    scale = std::max(scale, std::abs(w));
  }
  return diff / std::max(scale, std::numeric_limits<double>::min());
}

// The elements [first, first + count) of v.
template <class T>
std::vector<T> slice(const std::vector<T>& v, std::size_t first, std::size_t count) {
  REQUIRE(first + count <= v.size());
  return std::vector<T>(v.begin() + first, v.begin() + first + count);
}

inline double relative_error(double got, double want) {
  return std::abs(got - want) / std::max(std::abs(want), std::numeric_limits<double>::min());
}

// Tolerances of the normalised error. Both backends evaluate the same formulas (activations.hpp,
// loss_terms.hpp, update_rules.hpp) in the same type; they differ only in the last bits of the
// device math functions (expf, tanhf: within 2 ulp of glibc's), in FMA contraction, and in the
// order of the terms of a sum (cuBLAS and the reduction kernels against OpenBLAS and loops).
//   elementwise:   a few ulp of the largest value, with a factor ~10-80 of margin
//                  (float ulp 1.2e-7, double ulp 2.2e-16).
//   per_sqrt_term: the rounding of a k-term sum grows like sqrt(k) ulp for terms of random sign;
//                  4e-6 * sqrt(k) is ~30 float ulp * sqrt(k), still ~1/1000 of what a wrong
//                  index, transpose or missing term does to a sum of k = 5000 terms.
template <class T>
struct tolerance;
template <>
struct tolerance<float> {
  static constexpr double elementwise = 1e-5;
  static constexpr double per_sqrt_term = 4e-6;
};
template <>
struct tolerance<double> {
  static constexpr double elementwise = 1e-12;
  static constexpr double per_sqrt_term = 1e-14;
};

// For results that are sums of k terms (GEMM with inner size k, column sums over k rows).
template <class T>
double sum_tolerance(std::size_t k) {
  return std::max(tolerance<T>::elementwise,
                  tolerance<T>::per_sqrt_term * std::sqrt(double(std::max<std::size_t>(k, 1))));
}

// For a chain of `depth` such sums (the layers of a network, forward or backward): the
// deviations of consecutive layers add up, each no larger than one sum's.
template <class T>
double chain_tolerance(std::size_t depth, std::size_t widest_sum) {
  return double(depth) * sum_tolerance<T>(widest_sum);
}

// An activation's name for messages, with leaky_relu's slope.
template <class Act>
std::string label(const Act&) {
  return Act::name;
}
inline std::string label(const baler::act::leaky_relu& f) {
  return "leaky_relu(" + std::to_string(f.slope) + ")";
}

// The five activation functors the kernels are instantiated for (leaky_relu with two slopes).
template <class F>
void for_each_activation(F&& f) {
  f(baler::act::identity{});
  f(baler::act::relu{});
  f(baler::act::leaky_relu(0.01));
  f(baler::act::leaky_relu(0.2));
  f(baler::act::tanh{});
  f(baler::act::sigmoid{});
}

}  // namespace cuda_test

// CHECK that `got` is within `tol` of `want` in normalised error, printing the error if not.
#define CUDA_CHECK_CLOSE(got, want, tol)                                           \
  do {                                                                             \
    const double cuda_check_error_ = ::cuda_test::normalised_error((got), (want)); \
    const double cuda_check_tol_ = (tol);                                          \
    CHECK_MESSAGE(cuda_check_error_ <= cuda_check_tol_,                            \
                  #got " against " #want ": normalised error "                     \
                      << cuda_check_error_ << ", tolerance " << cuda_check_tol_);  \
  } while (false)
