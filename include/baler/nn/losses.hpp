#pragma once
// Losses compute value and gradient in one pass through the backend. Each is a small value
// type; `mean` selects PyTorch's reduction='mean' (divide by the element count) or 'sum'.
#include <string>

#include "baler/core/matrix_view.hpp"

namespace baler {

struct mse_loss {
  bool mean = true;
  std::string name() const { return mean ? "mse" : "mse_sum"; }
  template <class B, class T>
  double value_and_grad(B& be, in_view<T> pred, in_view<T> target,
                        matrix_view<T> grad) const {
    check(pred, target, grad);
    return be.mse(pred, target, grad, mean);
  }
  template <class T>
  static void check(in_view<T> pred, in_view<T> target, matrix_view<T> grad) {
    require_shape(target, pred.rows, pred.cols, "loss", "target");
    require_shape(grad, pred.rows, pred.cols, "loss", "gradient");
    require(pred.size() > 0, "loss", "empty prediction");
  }
};

struct mae_loss {
  bool mean = true;
  std::string name() const { return mean ? "mae" : "mae_sum"; }
  template <class B, class T>
  double value_and_grad(B& be, in_view<T> pred, in_view<T> target,
                        matrix_view<T> grad) const {
    mse_loss::check(pred, target, grad);
    return be.mae(pred, target, grad, mean);
  }
};

// weight * mean(|z|) over the latent z, with its gradient ADDED to dz: the activation-sparsity
// term of Baler's sparse autoencoder (its `reg_param`), applied here for real.
struct l1_activation_penalty {
  double weight = 0.0;
  template <class B, class T>
  double value_and_add_grad(B& be, in_view<T> z, matrix_view<T> dz) const {
    require_shape(dz, z.rows, z.cols, "l1_activation_penalty", "latent gradient");
    return weight == 0.0 ? 0.0 : be.l1_penalty(z, weight, dz);
  }
};

}  // namespace baler
