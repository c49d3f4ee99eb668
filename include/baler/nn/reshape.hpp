#pragma once
// Flatten / Unflatten / Reshape. A row already holds a sample's values in NCDHW order, so a
// reshape moves no numbers: it copies, and states (and checks) where the model's view of the
// sample changes, e.g. Conv (C x H x W) -> Dense (C*H*W).
#include <string>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

template <class B, class T>
class Reshape {
 public:
  using backend = B;
  using value_type = T;

  // `features`: the values per sample; `to`: the new view's shape, for describe().
  Reshape(std::size_t features, std::string to) : features_(features), to_(std::move(to)) {}

  std::size_t out_features(std::size_t in) const {
    require(in == features_, "Reshape::out_features",
            describe() + " receives " + std::to_string(in) + " features");
    return in;
  }
  std::size_t param_count() const { return 0; }
  std::size_t state_count() const { return 0; }
  void bind(T*, T*, T*) {}
  void init(rng&, T*, T*) const {}
  void forward(B& be, const_view<T> x, matrix_view<T> y, mode) const { be.copy(x, y); }
  void backward(B& be, const_view<T>, const_view<T>, matrix_view<T> dy, matrix_view<T> dx) const {
    if (!dx.empty()) be.copy(const_view<T>(dy), dx);
  }
  std::string describe() const {
    return "Reshape(" + std::to_string(features_) + " -> " + to_ + ")";
  }

 private:
  std::size_t features_;
  std::string to_;
};

}  // namespace baler
