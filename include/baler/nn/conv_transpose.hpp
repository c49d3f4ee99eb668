#pragma once
// Transposed convolution (PyTorch's ConvTranspose2d/3d): the adjoint of a Conv sweeping the
// *output* grid, which is how it is described here: `output` is the geometry of that sweep
// (conv_geometry::transposed builds it from the input grid as PyTorch does), and the layer
// maps (C_in x P) to (C_out x D*H*W), P = output.out_positions().
// W is (C_in x C_out*K) row-major, i.e. PyTorch's (C_in, C_out, kd, kh, kw), then b (C_out).
//
// Per sample: col = W^T x (C_out*K x P), y = col2im(col) + b 1^T. Backward reuses im2col.
#include <string>

#include "baler/nn/conv.hpp"

namespace baler {

template <class B, class T>
class ConvTranspose {
 public:
  using backend = B;
  using value_type = T;

  ConvTranspose(std::size_t in_channels, const conv_geometry& output)
      : g_(conv_geometry::checked(output)), in_(in_channels) {
    require(in_channels > 0, "ConvTranspose", "in_channels must be positive");
  }

  const conv_geometry& geometry() const { return g_; }
  std::size_t out_features(std::size_t in) const {
    require(in == in_ * g_.out_positions(), "ConvTranspose::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return g_.in_size();
  }
  std::size_t param_count() const { return in_ * g_.col_rows() + g_.channels; }
  std::size_t state_count() const { return 0; }
  void bind(T* params, T* grads, T*) {
    w_ = params;
    dw_ = grads;
  }
  // PyTorch computes fan_in from weight.size(1) * K = C_out * K for a transposed convolution.
  void init(rng& gen, T* params, T*) const {
    detail::uniform_init(gen, params, param_count(), g_.col_rows());
  }

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) {
    const std::size_t P = g_.out_positions(), N = g_.in_positions();
    require_shape(x, x.rows, in_ * P, "ConvTranspose::forward", "input");
    require_shape(y, x.rows, g_.in_size(), "ConvTranspose::forward", "output");
    auto col = rows_view(be, col_, g_.col_rows(), P);
    const auto ones = detail::ones_row(be, ones_, N);
    for (std::size_t b = 0; b < x.rows; ++b) {
      be.gemm(true, false, T(1), weight(), const_view<T>{x.row(b), in_, P}, T(0), col);
      be.col2im(const_view<T>(col), g_, y.rows_slice(b, 1));
      be.gemm(false, false, T(1), bias(), ones, T(1), matrix_view<T>{y.row(b), g_.channels, N});
    }
  }

  // dcol_b = im2col(dy_b), dW = sum_b x_b dcol_b^T, db = sum_b dy_b 1, dx_b = W dcol_b.
  void backward(B& be, const_view<T> x, const_view<T>, matrix_view<T> dy, matrix_view<T> dx) {
    const std::size_t P = g_.out_positions(), N = g_.in_positions(), CK = g_.col_rows();
    auto col = rows_view(be, col_, CK, P);
    const auto ones = detail::ones_row(be, ones_, N);
    for (std::size_t b = 0; b < x.rows; ++b) {
      const T beta = b == 0 ? T(0) : T(1);
      be.im2col(const_view<T>(dy.rows_slice(b, 1)), g_, col);
      be.gemm(false, true, T(1), const_view<T>{x.row(b), in_, P}, const_view<T>(col), beta,
              matrix_view<T>{dw_, in_, CK});
      be.gemm(false, false, T(1), const_view<T>{dy.row(b), g_.channels, N},
              const_view<T>{ones.data, N, 1}, beta, matrix_view<T>{dw_ + in_ * CK, g_.channels, 1});
      if (!dx.empty())
        be.gemm(false, false, T(1), weight(), const_view<T>(col), T(0),
                matrix_view<T>{dx.row(b), in_, P});
    }
  }

  std::string describe() const {
    return "ConvTranspose(" + std::to_string(in_) + " channels -> " + g_.describe() + ")";
  }

 private:
  const_view<T> weight() const { return {w_, in_, g_.col_rows()}; }
  const_view<T> bias() const { return {w_ + in_ * g_.col_rows(), g_.channels, 1}; }

  conv_geometry g_;
  std::size_t in_;
  T* w_ = nullptr;
  T* dw_ = nullptr;
  typename B::template matrix<T> col_, ones_;
};

template <class B, class T>
using ConvTranspose2d = ConvTranspose<B, T>;
template <class B, class T>
using ConvTranspose3d = ConvTranspose<B, T>;

}  // namespace baler
