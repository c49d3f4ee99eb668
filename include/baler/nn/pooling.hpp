#pragma once
// Pooling, average and max, 2-D and 3-D (one conv_geometry serves both).
//
// Average pooling (PyTorch's AvgPool2d/3d, count_include_pad=True): each channel's window mean,
// (C x D*H*W) -> (C x P). Per sample and channel it is a (1 x K) row of 1/K times that
// channel's (K x P) block of im2col, so it needs no backend op beyond the convolution's.
#include <string>

#include "baler/nn/conv.hpp"

namespace baler {

template <class B, class T>
class AvgPool {
 public:
  using backend = B;
  using value_type = T;

  explicit AvgPool(const conv_geometry& input) : g_(conv_geometry::checked(input)) {}

  std::size_t out_features(std::size_t in) const {
    require(in == g_.in_size(), "AvgPool::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return g_.channels * g_.out_positions();
  }
  std::size_t param_count() const { return 0; }
  std::size_t state_count() const { return 0; }
  void bind(T*, T*, T*) {}
  void init(rng&, T*, T*) const {}

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) {
    const std::size_t P = g_.out_positions(), K = g_.taps();
    auto col = rows_view(be, col_, g_.col_rows(), P);
    const auto mean = mean_row(be);
    for (std::size_t b = 0; b < x.rows; ++b) {
      be.im2col(x.rows_slice(b, 1), g_, col);
      for (std::size_t c = 0; c < g_.channels; ++c)
        be.gemm(false, false, T(1), mean, const_view<T>(col.rows_slice(c * K, K)), T(0),
                matrix_view<T>{y.row(b) + c * P, 1, P});
    }
  }

  void backward(B& be, const_view<T>, const_view<T>, matrix_view<T> dy, matrix_view<T> dx) {
    if (dx.empty()) return;
    const std::size_t P = g_.out_positions(), K = g_.taps();
    auto col = rows_view(be, col_, g_.col_rows(), P);
    const auto mean = mean_row(be);
    for (std::size_t b = 0; b < dy.rows; ++b) {
      for (std::size_t c = 0; c < g_.channels; ++c)
        be.gemm(false, false, T(1), const_view<T>{mean.data, K, 1},
                const_view<T>{dy.row(b) + c * P, 1, P}, T(0), col.rows_slice(c * K, K));
      be.col2im(const_view<T>(col), g_, dx.rows_slice(b, 1));
    }
  }

  std::string describe() const { return "AvgPool(" + g_.describe() + ")"; }

 private:
  const_view<T> mean_row(B& be) {  // (1 x K) of 1/K
    auto v = rows_view(be, mean_, 1, g_.taps());
    be.fill(v, T(1.0 / static_cast<double>(g_.taps())));
    return v;
  }

  conv_geometry g_;
  typename B::template matrix<T> col_, mean_;
};

// Max pooling (PyTorch's MaxPool2d/3d; padding never wins, as PyTorch's -inf): each channel's
// window maximum, (C x D*H*W) -> (C x P). The gradient goes to each window's maximum, the first
// in tap order among equal values (conv_geometry::window_argmax).
template <class B, class T>
class MaxPool {
 public:
  using backend = B;
  using value_type = T;

  explicit MaxPool(const conv_geometry& input) : g_(conv_geometry::checked(input)) {}

  std::size_t out_features(std::size_t in) const {
    require(in == g_.in_size(), "MaxPool::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return g_.channels * g_.out_positions();
  }
  std::size_t param_count() const { return 0; }
  std::size_t state_count() const { return 0; }
  void bind(T*, T*, T*) {}
  void init(rng&, T*, T*) const {}

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) const {
    for (std::size_t b = 0; b < x.rows; ++b)
      be.max_pool(x.rows_slice(b, 1), g_, y.rows_slice(b, 1));
  }
  void backward(B& be, const_view<T> x, const_view<T>, matrix_view<T> dy, matrix_view<T> dx) const {
    if (dx.empty()) return;
    for (std::size_t b = 0; b < x.rows; ++b)
      be.max_pool_backward(x.rows_slice(b, 1), const_view<T>(dy.rows_slice(b, 1)), g_,
                           dx.rows_slice(b, 1));
  }

  std::string describe() const { return "MaxPool(" + g_.describe() + ")"; }

 private:
  conv_geometry g_;
};

}  // namespace baler
