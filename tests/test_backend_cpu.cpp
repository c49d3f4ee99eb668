#include <doctest/doctest.h>

#include <climits>
#include <utility>

#include "baler/backend/cpu.hpp"

using namespace baler;

TEST_CASE("gemm refuses sizes beyond BLAS's int instead of wrapping them") {
  cpu be(1);
  // Shapes only: the check comes before any element is touched.
  const std::size_t big = std::size_t(INT_MAX) + 1;
  const const_view<float> a{nullptr, big, 1}, b{nullptr, 1, 1};
  const matrix_view<float> c{nullptr, big, 1};
  CHECK_THROWS_WITH_AS(be.gemm(false, false, 1.0f, a, b, 0.0f, c),
                       doctest::Contains("cpu::gemm(): size 2147483648 exceeds BLAS's int range"), error);
  const const_view<float> wide{nullptr, 1, big};
  const matrix_view<float> one{nullptr, 1, 1};
  CHECK_THROWS_WITH_AS(be.gemm(false, true, 1.0f, wide, wide, 0.0f, one),
                       doctest::Contains("exceeds BLAS's int range"), error);
}

TEST_CASE("gemm after the BLAS threads are parked: they come back and the product is right") {
  park_blas_threads();
  cpu be(2);
  constexpr std::size_t n = 192;  // large enough for OpenBLAS to split it over its threads
  auto a = be.make<double>(n, n), b = be.make<double>(n, n), c = be.make<double>(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a(i, j) = double((i * 7 + j * 3) % 11) - 5, b(i, j) = double((i + 2 * j) % 5) - 2;
  be.gemm(false, false, 1.0, cpu::view(std::as_const(a)), cpu::view(std::as_const(b)), 0.0, cpu::view(c));
  for (std::size_t i = 0; i < n; i += 17)
    for (std::size_t j = 0; j < n; j += 13) {
      double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += a(i, k) * b(k, j);
      REQUIRE(c(i, j) == s);  // small integers: exact in any order
    }
}
