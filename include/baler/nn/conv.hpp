#pragma once
// Convolution (PyTorch's Conv2d and Conv3d): y[o] = b[o] + sum_c W[o][c] * x[c] (cross-
// correlation), with stride and zero padding. A row holds one sample in NCDHW order; a 2-D
// grid is a 3-D one of depth 1, so Conv2d and Conv3d are one layer with two geometries.
// W is (O x C*K) row-major, i.e. PyTorch's (O, C, kd, kh, kw) (kd absent in 2-D), then b (O).
//
// Per sample: col = im2col(x) (C*K x P), y = W col + b 1^T (O x P): the backend's GEMM does the
// work. Activations are separate layers (activation_layer.hpp).
#include <cmath>
#include <string>

#include "baler/core/conv_geometry.hpp"
#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

namespace detail {
// A (1 x n) row of ones: y += b 1^T and db = dy 1 as GEMMs, so bias needs no extra backend op.
template <class B, class M>
auto ones_row(B& be, M& buffer, std::size_t n) {
  using T = typename M::value_type;
  auto v = rows_view(be, buffer, 1, n);
  be.fill(v, T(1));
  return const_view<T>(v);
}
// PyTorch's default for convolutions: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), ..),
// and the same bound for the bias.
template <class T>
void uniform_init(rng& gen, T* params, std::size_t n, std::size_t fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (std::size_t i = 0; i < n; ++i) params[i] = T(gen.uniform(-bound, bound));
}
}  // namespace detail

template <class B, class T>
class Conv {
 public:
  using backend = B;
  using value_type = T;

  // `input`: the input grid, window and channels (conv_geometry::grid_2d / grid_3d).
  Conv(const conv_geometry& input, std::size_t out_channels)
      : g_(conv_geometry::checked(input)), out_(out_channels) {
    require(out_channels > 0, "Conv", "out_channels must be positive");
  }

  std::size_t out_channels() const { return out_; }
  const conv_geometry& geometry() const { return g_; }
  std::size_t out_features(std::size_t in) const {
    require(in == g_.in_size(), "Conv::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return out_ * g_.out_positions();
  }
  std::size_t param_count() const { return out_ * g_.col_rows() + out_; }
  std::size_t state_count() const { return 0; }
  void bind(T* params, T* grads, T*) {
    w_ = params;
    dw_ = grads;
  }
  void init(rng& gen, T* params, T*) const {
    detail::uniform_init(gen, params, param_count(), g_.col_rows());
  }

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) {
    require_shape(x, x.rows, g_.in_size(), "Conv::forward", "input");
    require_shape(y, x.rows, out_ * g_.out_positions(), "Conv::forward", "output");
    const std::size_t P = g_.out_positions();
    auto col = rows_view(be, col_, g_.col_rows(), P);
    const auto ones = detail::ones_row(be, ones_, P);
    for (std::size_t b = 0; b < x.rows; ++b) {
      be.im2col(x.rows_slice(b, 1), g_, col);
      const matrix_view<T> yb{y.row(b), out_, P};
      be.gemm(false, false, T(1), weight(), const_view<T>(col), T(0), yb);
      be.gemm(false, false, T(1), bias(), ones, T(1), yb);
    }
  }

  // dW = sum_b dy_b col_b^T, db = sum_b dy_b 1, dx_b = col2im(W^T dy_b).
  void backward(B& be, const_view<T> x, const_view<T>, matrix_view<T> dy, matrix_view<T> dx) {
    const std::size_t P = g_.out_positions(), CK = g_.col_rows();
    auto col = rows_view(be, col_, CK, P);
    const auto ones = detail::ones_row(be, ones_, P);
    for (std::size_t b = 0; b < x.rows; ++b) {
      const T beta = b == 0 ? T(0) : T(1);
      const const_view<T> dyb{dy.row(b), out_, P};
      be.im2col(x.rows_slice(b, 1), g_, col);
      be.gemm(false, true, T(1), dyb, const_view<T>(col), beta, matrix_view<T>{dw_, out_, CK});
      be.gemm(false, false, T(1), dyb, const_view<T>{ones.data, P, 1}, beta,
              matrix_view<T>{dw_ + out_ * CK, out_, 1});
      if (dx.empty()) continue;
      be.gemm(true, false, T(1), weight(), dyb, T(0), col);
      be.col2im(const_view<T>(col), g_, dx.rows_slice(b, 1));
    }
  }

  std::string describe() const {
    return "Conv(" + g_.describe() + " -> " + std::to_string(out_) + " channels)";
  }

 private:
  const_view<T> weight() const { return {w_, out_, g_.col_rows()}; }
  const_view<T> bias() const { return {w_ + out_ * g_.col_rows(), out_, 1}; }

  conv_geometry g_;
  std::size_t out_;
  T* w_ = nullptr;
  T* dw_ = nullptr;
  typename B::template matrix<T> col_, ones_;  // workspaces, grown on first use
};

template <class B, class T>
using Conv2d = Conv<B, T>;  // with conv_geometry::grid_2d
template <class B, class T>
using Conv3d = Conv<B, T>;  // with conv_geometry::grid_3d

}  // namespace baler
