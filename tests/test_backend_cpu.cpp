#include <doctest/doctest.h>

#include <climits>

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
