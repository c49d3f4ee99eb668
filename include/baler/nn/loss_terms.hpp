#pragma once
// Per-element terms of the losses and of batch normalisation, shared by the CPU loops and the
// CUDA kernels. A loss term writes d(term)/d(prediction) * scale into grad and returns the
// unscaled term in double, which the caller sums.
#include <cmath>

#include "baler/core/host_device.hpp"

namespace baler::terms {

// scale * sign(d), with sign(0) = 0 (the subgradient PyTorch uses for |d|).
template <class T>
BALER_HOST_DEVICE inline T signed_scale(T d, T scale) {
  return d > T(0) ? scale : (d < T(0) ? -scale : T(0));
}

// (pred - target)^2; grad = 2 * scale * (pred - target), so the caller passes two_scale.
template <class T>
BALER_HOST_DEVICE inline double squared_error(T pred, T target, T two_scale, T& grad) {
  const T d = pred - target;
  grad = two_scale * d;
  return double(d) * double(d);
}

template <class T>
BALER_HOST_DEVICE inline double absolute_error(T pred, T target, T scale, T& grad) {
  const T d = pred - target;
  grad = signed_scale(d, scale);
  return std::fabs(double(d));
}

// |z| with its gradient ADDED: the latent penalty joins the decoder's gradient.
template <class T>
BALER_HOST_DEVICE inline double absolute_value_add_grad(T z, T scale, T& grad) {
  grad += signed_scale(z, scale);
  return std::fabs(double(z));
}

// Batch norm: y = gamma * (x - mean) * invstd + beta.
template <class T>
BALER_HOST_DEVICE inline T batchnorm_apply(T x, T mean, T invstd, T gamma, T beta) {
  return gamma * (x - mean) * invstd + beta;
}

// dx of batch norm over n rows, given the column sums of dy and dy * xhat:
// dx = invstd / n * (n * gamma * dy - gamma * sum_dy - xhat * gamma * sum_dy_xhat).
BALER_HOST_DEVICE inline double batchnorm_input_grad(double dy, double xhat, double gamma,
                                                     double invstd, double n, double sum_dy,
                                                     double sum_dy_xhat) {
  return invstd / n * (n * gamma * dy - gamma * sum_dy - xhat * (gamma * sum_dy_xhat));
}

}  // namespace baler::terms
