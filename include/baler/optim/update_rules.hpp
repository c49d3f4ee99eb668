#pragma once
// The per-parameter update formulas of SGD and Adam/AdamW, as torch.optim computes them. Both
// backends apply these same functions: the CPU in a loop over the flat parameter buffer, CUDA
// in one thread per parameter.
#include <cmath>

#include "baler/core/host_device.hpp"

namespace baler {

// SGD: g += l2 * p; v = momentum * v + g (v = g on the first step); p -= lr * v.
template <class T>
struct sgd_coefficients {
  T lr, momentum, l2;
  bool first;  // the velocity buffer holds no history yet

  static sgd_coefficients make(double lr, double momentum, double l2, bool first) {
    return {T(lr), T(momentum), T(l2), first || momentum == 0.0};
  }
};

template <class T>
BALER_HOST_DEVICE inline void sgd_update(T& p, T g, T& v, const sgd_coefficients<T>& c) {
  const T grad = g + c.l2 * p;
  const T velocity = c.first ? grad : c.momentum * v + grad;
  v = velocity;
  p -= c.lr * velocity;
}

// Adam: l2 is the coupled decay added to the gradient; decay = 1 - lr * decoupled is AdamW's
// decoupled decay, applied to p before the step. The bias corrections fold into step_size and
// inv_sqrt_bc2 (computed once per step in double, as PyTorch does).
template <class T>
struct adam_coefficients {
  T beta1, beta2, eps, l2, decay, step_size, inv_sqrt_bc2;

  static adam_coefficients make(double lr, double beta1, double beta2, double eps, double l2,
                                double decoupled, long step) {
    const double bc1 = 1.0 - std::pow(beta1, double(step));
    const double bc2 = 1.0 - std::pow(beta2, double(step));
    return {T(beta1),         T(beta2),        T(eps), T(l2), T(1.0 - lr * decoupled),
            T(lr / bc1), T(1.0 / std::sqrt(bc2))};
  }
};

template <class T>
BALER_HOST_DEVICE inline void adam_update(T& p, T g, T& m, T& v, const adam_coefficients<T>& c) {
  const T grad = g + c.l2 * p;
  const T mi = c.beta1 * m + (T(1) - c.beta1) * grad;
  const T vi = c.beta2 * v + (T(1) - c.beta2) * grad * grad;
  m = mi;
  v = vi;
  p = p * c.decay - c.step_size * mi / (std::sqrt(vi) * c.inv_sqrt_bc2 + c.eps);
}

}  // namespace baler
