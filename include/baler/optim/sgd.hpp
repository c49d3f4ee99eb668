#pragma once
// SGD with momentum and L2 weight decay, as torch.optim.SGD (dampening 0, no Nesterov).
// The velocity buffer is allocated at the first step, when the parameter count is known.
#include "baler/core/matrix_view.hpp"

namespace baler {

struct sgd_options {
  double lr = 1e-2;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

template <class B, class T>
class SGD {
public:
  explicit SGD(sgd_options o = {}) : o_(o) {
    require(o.lr > 0 && o.momentum >= 0 && o.weight_decay >= 0, "SGD",
            "lr must be positive, momentum and weight_decay non-negative");
  }
  double learning_rate() const { return o_.lr; }
  void set_learning_rate(double lr) { o_.lr = lr; }

  void step(B& be, matrix_view<T> params, const_view<T> grads) {
    require(params.size() == grads.size(), "SGD::step", "parameter and gradient sizes differ");
    const bool first = velocity_.size() != params.size();
    if (first) velocity_ = be.template make<T>(1, params.size());
    be.sgd_step(params.data, grads.data, B::view(velocity_).data, params.size(), o_.lr,
                o_.momentum, o_.weight_decay, first);
  }

private:
  sgd_options o_;
  typename B::template matrix<T> velocity_;
};

}  // namespace baler
