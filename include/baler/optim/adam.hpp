#pragma once
// Adam and AdamW as torch.optim computes them. One class: AdamW differs only in applying the
// weight decay to the parameters directly (decoupled) instead of adding it to the gradient.
#include "baler/core/matrix_view.hpp"

namespace baler {

struct adam_options {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // true: AdamW
};

template <class B, class T>
class Adam {
public:
  explicit Adam(adam_options o = {}) : o_(o) {
    require(o.lr > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps > 0 &&
                o.weight_decay >= 0,
            "Adam", "needs lr > 0, betas in [0, 1), eps > 0, weight_decay >= 0");
  }
  double learning_rate() const { return o_.lr; }
  void set_learning_rate(double lr) { o_.lr = lr; }
  long steps() const { return step_; }

  void step(B& be, matrix_view<T> params, const_view<T> grads) {
    require(params.size() == grads.size(), "Adam::step", "parameter and gradient sizes differ");
    if (m_.size() != params.size()) {  // first step: zeroed moments
      m_ = be.template make<T>(1, params.size());
      v_ = be.template make<T>(1, params.size());
      be.fill(B::view(m_), T(0));
      be.fill(B::view(v_), T(0));
      step_ = 0;
    }
    ++step_;
    const double l2 = o_.decoupled_weight_decay ? 0.0 : o_.weight_decay;
    const double decoupled = o_.decoupled_weight_decay ? o_.weight_decay : 0.0;
    be.adam_step(params.data, grads.data, B::view(m_).data, B::view(v_).data, params.size(),
                 o_.lr, o_.beta1, o_.beta2, o_.eps, l2, decoupled, step_);
  }

private:
  adam_options o_;
  long step_ = 0;
  typename B::template matrix<T> m_, v_;
};

// torch.optim.AdamW's defaults: weight decay 1e-2, decoupled.
template <class B, class T>
Adam<B, T> AdamW(adam_options o = {0.001, 0.9, 0.999, 1e-8, 1e-2, true}) {
  o.decoupled_weight_decay = true;
  return Adam<B, T>(o);
}

}  // namespace baler
