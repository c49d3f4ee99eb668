#pragma once
// A stand-alone activation layer (Dense fuses its own; these serve any other position,
// e.g. after BatchNorm1d).
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/activations.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class B, class T, class Act>
class Activation {
public:
  using backend = B;
  using value_type = T;

  explicit Activation(Act f = Act{}) : f_(f) {}
  std::size_t out_features(std::size_t in) const { return in; }
  std::size_t param_count() const { return 0; }
  std::size_t state_count() const { return 0; }
  void bind(T*, T*, T*) {}
  void init(rng&, T*, T*) const {}

  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) const {
    be.activation_forward(f_, x, y);
  }
  void backward(B& be, const_view<T>, const_view<T> y, matrix_view<T> dy,
                matrix_view<T> dx) const {
    if (dx.empty()) return;
    be.activation_backward(f_, y, dy);
    be.copy(const_view<T>(dy), dx);
  }
  std::string describe() const { return std::string("Activation(") + Act::name + ")"; }

private:
  Act f_;
};

template <class B, class T>
using ReLU = Activation<B, T, act::relu>;
template <class B, class T>
using LeakyReLU = Activation<B, T, act::leaky_relu>;
template <class B, class T>
using Tanh = Activation<B, T, act::tanh>;
template <class B, class T>
using Sigmoid = Activation<B, T, act::sigmoid>;

}  // namespace baler
