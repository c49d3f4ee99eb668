#pragma once
// Dense (PyTorch's Linear) with an optional fused activation: y = f(x W^T + b).
// W is (out x in) row-major as PyTorch stores it, followed by b (out) in the flat buffer.
// Fusing the activation saves one pass over the output in forward and one in backward.
#include <cmath>
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/activations.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class B, class T, class Act = act::identity>
class Dense {
public:
  using backend = B;
  using value_type = T;

  Dense(std::size_t in, std::size_t out, Act f = Act{}) : in_(in), out_(out), f_(f) {
    require(in > 0 && out > 0, "Dense", "features must be positive, got " + describe());
  }

  std::size_t in_features() const { return in_; }
  std::size_t out_features(std::size_t in) const {
    require(in == in_, "Dense::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return out_;
  }
  std::size_t param_count() const { return out_ * in_ + out_; }
  std::size_t state_count() const { return 0; }
  void bind(T* params, T* grads, T*) {
    w_ = params;
    dw_ = grads;
  }

  // PyTorch's default: kaiming_uniform(a = sqrt(5)) for W, which is U(-1/sqrt(in), 1/sqrt(in)),
  // and the same bound for b.
  void init(rng& gen, T* params, T*) const {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
    for (std::size_t i = 0; i < param_count(); ++i) params[i] = T(gen.uniform(-bound, bound));
  }

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) const {
    require_shape(x, x.rows, in_, "Dense::forward", "input");
    be.gemm(false, true, T(1), x, weight(), T(0), y);
    be.bias_activation_forward(f_, bias(), y);
  }

  void backward(B& be, const_view<T> x, const_view<T> y, matrix_view<T> dy,
                matrix_view<T> dx) const {
    if constexpr (!std::is_same_v<Act, act::identity>) be.activation_backward(f_, y, dy);
    be.gemm(true, false, T(1), const_view<T>(dy), x, T(0), matrix_view<T>{dw_, out_, in_});
    be.column_sums(const_view<T>(dy), dw_ + out_ * in_);
    if (!dx.empty()) be.gemm(false, false, T(1), const_view<T>(dy), weight(), T(0), dx);
  }

  std::string describe() const {
    return "Dense(" + std::to_string(in_) + "->" + std::to_string(out_) + ", " + Act::name + ")";
  }

private:
  const_view<T> weight() const { return {w_, out_, in_}; }
  const T* bias() const { return w_ + out_ * in_; }

  std::size_t in_, out_;
  Act f_;
  T* w_ = nullptr;
  T* dw_ = nullptr;
};

}  // namespace baler
