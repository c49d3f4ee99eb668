#pragma once
// BatchNorm1d over the batch axis of (batch x features), as PyTorch: gamma and beta are
// trained; the running mean and variance are state (saved with the weights, never trained).
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class B, class T>
class BatchNorm1d {
public:
  using backend = B;
  using value_type = T;

  explicit BatchNorm1d(std::size_t features, double momentum = 0.1, double eps = 1e-5)
      : f_(features), momentum_(momentum), eps_(eps) {
    require(features > 0, "BatchNorm1d", "features must be positive");
  }
  std::size_t out_features(std::size_t in) const {
    require(in == f_, "BatchNorm1d::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return f_;
  }
  std::size_t param_count() const { return 2 * f_; }  // gamma, beta
  std::size_t state_count() const { return 2 * f_; }  // running mean, running variance
  void bind(T* params, T* grads, T* state) {
    p_ = params;
    g_ = grads;
    s_ = state;
  }
  void init(rng&, T* params, T* state) const {
    for (std::size_t i = 0; i < f_; ++i) {
      params[i] = T(1);
      params[f_ + i] = T(0);
      state[i] = T(0);
      state[f_ + i] = T(1);
    }
  }

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode m) {
    if (m == mode::eval) {
      be.batchnorm_forward_eval(x, y, p_, p_ + f_, s_, s_ + f_, eps_);
      return;
    }
    require(x.rows > 1, "BatchNorm1d::forward", "training needs more than one row per batch");
    auto stats = rows_view(be, batch_stats_, 2, f_);  // row 0: mean, row 1: 1/std
    be.batchnorm_forward_train(x, y, p_, p_ + f_, stats.row(0), stats.row(1), s_, s_ + f_,
                               momentum_, eps_);
  }
  void backward(B& be, const_view<T> x, const_view<T>, matrix_view<T> dy,
                matrix_view<T> dx) const {
    const T* stats = B::view(batch_stats_).data;
    be.batchnorm_backward(x, const_view<T>(dy), dx, p_, stats, stats + f_, g_, g_ + f_);
  }
  std::string describe() const { return "BatchNorm1d(" + std::to_string(f_) + ")"; }

private:
  std::size_t f_;
  double momentum_, eps_;
  T *p_ = nullptr, *g_ = nullptr, *s_ = nullptr;
  typename B::template matrix<T> batch_stats_;
};

}  // namespace baler
