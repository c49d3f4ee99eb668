// Convolution, transposed convolution, pooling, reshape and the conv autoencoder on the CPU: the
// window formula against a direct loop, col2im as im2col's adjoint, and finite-difference
// gradients (double).
#include <doctest/doctest.h>

#include "baler/models/conv_ae.hpp"
#include "baler/nn/nn.hpp"
#include "gradcheck.hpp"

using namespace baler;
using B = cpu;
using gradcheck::check_layer;
using gradcheck::matrix;

namespace {

// y[o][z][y][x] by the definition, for comparison with im2col + GEMM.
matrix direct_conv(const conv_geometry& g, std::size_t out_channels, const double* w,
                   const matrix& x) {
  const std::size_t K = g.taps(), P = g.out_positions();
  matrix y = matrix::from_shape({x.shape(0), out_channels * P});
  for (std::size_t b = 0; b < x.shape(0); ++b)
    for (std::size_t o = 0; o < out_channels; ++o)
      for (std::size_t oz = 0; oz < g.out(0); ++oz)
        for (std::size_t oy = 0; oy < g.out(1); ++oy)
          for (std::size_t ox = 0; ox < g.out(2); ++ox) {
            double s = w[out_channels * g.col_rows() + o];  // bias
            for (std::size_t c = 0; c < g.channels; ++c)
              for (std::size_t kz = 0; kz < g.kernel[0]; ++kz)
                for (std::size_t ky = 0; ky < g.kernel[1]; ++ky)
                  for (std::size_t kx = 0; kx < g.kernel[2]; ++kx) {
                    const long long iz = (long long)(oz * g.stride[0] + kz) - (long long)g.pad[0];
                    const long long iy = (long long)(oy * g.stride[1] + ky) - (long long)g.pad[1];
                    const long long ix = (long long)(ox * g.stride[2] + kx) - (long long)g.pad[2];
                    if (iz < 0 || iy < 0 || ix < 0 || iz >= (long long)g.in[0] ||
                        iy >= (long long)g.in[1] || ix >= (long long)g.in[2])
                      continue;
                    const std::size_t k = (kz * g.kernel[1] + ky) * g.kernel[2] + kx;
                    s += w[o * g.col_rows() + c * K + k] *
                         x(b, ((c * g.in[0] + iz) * g.in[1] + iy) * g.in[2] + ix);
                  }
            y(b, o * P + (oz * g.out(1) + oy) * g.out(2) + ox) = s;
          }
  return y;
}

void check_against_direct(const conv_geometry& g, std::size_t out_channels) {
  B be(1);
  Conv<B, double> conv(g, out_channels);
  matrix params = gradcheck::random_matrix(1, conv.param_count(), 3), grads = params;
  conv.bind(params.data(), grads.data(), nullptr);
  const matrix x = gradcheck::random_matrix(3, g.in_size(), 5);
  matrix y = matrix::from_shape({3, conv.out_features(g.in_size())});
  conv.forward(be, B::view(x), B::view(y), mode::eval);
  const matrix expected = direct_conv(g, out_channels, params.data(), x);
  for (std::size_t i = 0; i < y.size(); ++i)
    REQUIRE(y.data()[i] == doctest::Approx(expected.data()[i]).epsilon(1e-13));
}

}  // namespace

TEST_CASE("conv_geometry: output sizes as PyTorch, bad windows rejected") {
  const auto g = conv_geometry::grid_2d(3, 7, 10, 3, 2, 1);
  CHECK(g.out(0) == 1);
  CHECK(g.out(1) == 4);  // (7 + 2 - 3) / 2 + 1
  CHECK(g.out(2) == 5);
  CHECK(g.col_rows() == 27);
  const auto t = conv_geometry::transposed(conv_geometry::grid_3d(2, 3, 4, 5, 3, 2, 1), 1);
  CHECK(t.in[0] == 6);  // (3 - 1) * 2 - 2 + 3 + 1
  CHECK(t.in[1] == 8);
  CHECK(t.in[2] == 10);
  CHECK(t.out(0) == 3);  // sweeping the output grid gives back the input positions
  CHECK(t.out(2) == 5);
  CHECK_THROWS_WITH_AS(conv_geometry::grid_2d(1, 2, 2, 5), doctest::Contains("kernel larger"),
                       error);
  CHECK_THROWS_WITH_AS(conv_geometry::grid_2d(1, 8, 8, 3, 0), doctest::Contains("positive"), error);
  Conv<B, double> conv(g, 4);
  CHECK_THROWS_WITH_AS(conv.out_features(20), doctest::Contains("Conv::out_features"), error);
}

TEST_CASE("im2col: against the direct convolution, 2-D and 3-D, stride and padding") {
  check_against_direct(conv_geometry::grid_2d(2, 5, 6, 3), 3);
  check_against_direct(conv_geometry::grid_2d(3, 7, 8, 3, 2, 1), 2);
  check_against_direct(conv_geometry::grid_2d(1, 8, 8, 2, 2), 4);
  check_against_direct(conv_geometry::grid_3d(2, 4, 5, 6, 3, 2, 1), 3);
}

TEST_CASE("col2im is the adjoint of im2col: <col2im(c), x> = <c, im2col(x)>") {
  B be(1);
  for (const auto& g :
       {conv_geometry::grid_2d(2, 6, 7, 3, 2, 1), conv_geometry::grid_3d(1, 5, 4, 6, 2, 1, 1)}) {
    const matrix x = gradcheck::random_matrix(1, g.in_size(), 8);
    const matrix c = gradcheck::random_matrix(g.col_rows(), g.out_positions(), 9);
    matrix col = c, back = x;
    be.im2col(B::view(x), g, B::view(col));
    be.col2im(B::view(c), g, B::view(back));
    CHECK(gradcheck::dot(B::view(back), B::view(x)) ==
          doctest::Approx(gradcheck::dot(B::view(c), B::view(col))).epsilon(1e-13));
  }
}

TEST_CASE("cpu im2col and col2im: the geometry's formulas (the CUDA kernels'), value for value") {
  // Uneven sizes, kernels, strides and paddings per axis, so a mixed-up axis or a missed
  // padding row shows; col2im's sums must match bit for bit (the same order of additions).
  const conv_geometry geometries[] = {
      conv_geometry::grid_2d(1, 5, 5, 1),
      conv_geometry::grid_2d(2, 7, 9, 3, 1, 1),
      conv_geometry::grid_2d(3, 8, 11, 3, 2, 1),
      conv_geometry::grid_2d(1, 10, 7, 2, 2),
      conv_geometry::checked({2, {1, 9, 12}, {1, 3, 4}, {1, 3, 2}, {0, 2, 1}}),
      conv_geometry::grid_3d(2, 4, 5, 6, 3, 2, 1),
      conv_geometry::checked({1, {5, 6, 7}, {2, 3, 1}, {1, 2, 3}, {1, 0, 0}}),
      conv_geometry::checked({2, {1, 3, 1}, {1, 3, 5}, {1, 1, 2}, {0, 1, 2}}),  // taps past W
      conv_geometry::transposed(conv_geometry::grid_2d(2, 4, 5, 3, 2, 1), 1),
  };
  B be(1);
  for (const auto& g : geometries) {
    CAPTURE(g.describe());
    const matrix x = gradcheck::random_matrix(1, g.in_size(), 11);
    const matrix c = gradcheck::random_matrix(g.col_rows(), g.out_positions(), 12);
    matrix col = c, back = x;
    be.im2col(B::view(x), g, B::view(col));
    be.col2im(B::view(c), g, B::view(back));
    std::size_t im2col_differ = 0, col2im_differ = 0;
    for (std::size_t i = 0; i < col.size(); ++i) {
      const long long s = g.im2col_source(i);
      im2col_differ += col.data()[i] != (s < 0 ? 0.0 : x.data()[s]);
    }
    for (std::size_t j = 0; j < back.size(); ++j)
      col2im_differ += back.data()[j] != g.col2im_value(c.data(), j);
    CHECK(im2col_differ == 0);
    CHECK(col2im_differ == 0);
  }
}

TEST_CASE("Conv2d and Conv3d: gradients") {
  Conv2d<B, double> plain(conv_geometry::grid_2d(2, 5, 6, 3), 3);
  check_layer(plain, 3, 60);
  Conv2d<B, double> strided(conv_geometry::grid_2d(3, 7, 8, 3, 2, 1), 2);
  check_layer(strided, 2, 168);
  Conv3d<B, double> cube(conv_geometry::grid_3d(2, 4, 5, 5, 3, 2, 1), 3);
  check_layer(cube, 2, 200);
}

TEST_CASE("ConvTranspose2d and ConvTranspose3d: gradients, and the adjoint of Conv") {
  const auto g2 = conv_geometry::transposed(conv_geometry::grid_2d(3, 3, 4, 3, 2, 1), 1);
  ConvTranspose2d<B, double> up2(3, g2);  // (3 x 3 x 4) -> (3 x 6 x 8)
  check_layer(up2, 2, 36);
  auto g3 = conv_geometry::transposed(conv_geometry::grid_3d(2, 2, 3, 3, 2, 2), 0);
  ConvTranspose3d<B, double> up3(4, g3);
  check_layer(up3, 2, 4 * 18);
  CHECK(up3.out_features(72) == 2 * 4 * 6 * 6);

  // With the same weights, <ConvT(x), v> = <x, Conv(v)> when biases are zero.
  B be(1);
  const auto g = conv_geometry::transposed(conv_geometry::grid_2d(2, 4, 3, 3, 2, 1));
  ConvTranspose<B, double> t(5, g);
  Conv<B, double> c(g, 5);  // W of both is (5 x 2*9) read as (C_in x C_out K) and (O x C K)
  matrix params = gradcheck::random_matrix(1, t.param_count() + 3, 2), grads = params;
  for (std::size_t i = 0; i < 5; ++i) params.data()[5 * 18 + i] = 0;  // both biases
  t.bind(params.data(), grads.data(), nullptr);
  c.bind(params.data(), grads.data(), nullptr);
  const matrix x = gradcheck::random_matrix(1, 5 * g.out_positions(), 4);
  const matrix v = gradcheck::random_matrix(1, g.in_size(), 6);
  matrix tx = v, cv = x;
  t.forward(be, B::view(x), B::view(tx), mode::eval);
  c.forward(be, B::view(v), B::view(cv), mode::eval);
  CHECK(gradcheck::dot(B::view(tx), B::view(v)) ==
        doctest::Approx(gradcheck::dot(B::view(x), B::view(cv))).epsilon(1e-13));
}

TEST_CASE("AvgPool: window means, gradients, 2-D and 3-D") {
  AvgPool<B, double> pool(conv_geometry::grid_2d(2, 4, 6, 2, 2));
  B be(1);
  const matrix x = gradcheck::random_matrix(1, 48, 1);
  matrix y = matrix::from_shape({1, pool.out_features(48)});
  pool.forward(be, B::view(x), B::view(y), mode::eval);
  REQUIRE(y.size() == 12);
  CHECK(y(0, 7) ==
        doctest::Approx((x(0, 24 + 2) + x(0, 24 + 3) + x(0, 30 + 2) + x(0, 30 + 3)) / 4));
  check_layer(pool, 3, 48);
  AvgPool<B, double> padded(conv_geometry::grid_3d(2, 3, 4, 5, 3, 2, 1));
  check_layer(padded, 2, 120);
}

TEST_CASE("MaxPool: window maxima, padding never wins, gradients, 2-D and 3-D") {
  MaxPool<B, double> pool(conv_geometry::grid_2d(2, 4, 6, 2, 2));
  B be(1);
  const matrix x = gradcheck::random_matrix(1, 48, 1);
  matrix y = matrix::from_shape({1, pool.out_features(48)});
  pool.forward(be, B::view(x), B::view(y), mode::eval);
  REQUIRE(y.size() == 12);
  CHECK(y(0, 7) == std::max({x(0, 24 + 2), x(0, 24 + 3), x(0, 30 + 2), x(0, 30 + 3)}));
  // All values negative: a zero from the padding must not be the maximum.
  MaxPool<B, double> edge(conv_geometry::grid_2d(1, 2, 2, 3, 1, 1));
  matrix neg = matrix::from_shape({1, 4});
  neg.fill(-1.0);
  matrix m = matrix::from_shape({1, 4});
  edge.forward(be, B::view(neg), B::view(m), mode::eval);
  CHECK(m(0, 0) == -1.0);
  // Random values have no ties, so the maximum is differentiable at them: finite differences
  // hold, also with overlapping windows (stride < kernel) and padding.
  check_layer(pool, 3, 48);
  MaxPool<B, double> overlapping(conv_geometry::grid_3d(2, 3, 4, 5, 3, 2, 1));
  check_layer(overlapping, 2, 120);
}

TEST_CASE("ConvAE (the codec's conv architecture): gradients of both halves, 2-D and 3-D frames") {
  for (const models::grid3 frame : {models::grid3{1, 7, 5}, models::grid3{3, 4, 5}}) {
    const std::size_t n = frame[0] * frame[1] * frame[2];
    auto ae = models::make_conv_ae<B, double>({n, 3, {2, 2, 3}, 0.1, frame});
    check_layer(ae.encoder(), 2, n);
    check_layer(ae.decoder(), 2, 3);
  }
}

TEST_CASE("Reshape: copies, checks the size, passes the gradient through") {
  Reshape<B, double> flatten(24, "24");
  check_layer(flatten, 3, 24);
  CHECK_THROWS_WITH_AS(flatten.out_features(25), doctest::Contains("Reshape::out_features"), error);
}
