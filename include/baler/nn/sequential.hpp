#pragma once
// Compile-time composition of layers: Sequential<Dense<...>, Dropout<...>, ...>. The layer
// types are fixed at compile time (no virtual calls); their sizes are set at construction.
// Sequential owns the activations between layers and is itself a layer, so it nests.
#include <array>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"

namespace baler {

namespace detail {
template <std::size_t... I, class F>
void for_each_index(std::index_sequence<I...>, F&& f) {
  (f(std::integral_constant<std::size_t, I>{}), ...);
}
}  // namespace detail

template <class... Layers>
class Sequential {
  static_assert(sizeof...(Layers) > 0, "Sequential needs at least one layer");
  using first_layer = std::tuple_element_t<0, std::tuple<Layers...>>;

public:
  using backend = typename first_layer::backend;
  using value_type = typename first_layer::value_type;
  static constexpr std::size_t depth = sizeof...(Layers);
  static_assert((std::is_same_v<typename Layers::backend, backend> && ...),
                "all layers of a Sequential must use the same backend");
  static_assert((std::is_same_v<typename Layers::value_type, value_type> && ...),
                "all layers of a Sequential must use the same scalar type");

  // `in` is the number of input features; each layer checks that its input fits.
  Sequential(std::size_t in, Layers... layers) : layers_(std::move(layers)...) {
    features_[0] = in;
    each([&](auto i) { features_[i + 1] = layer<i>().out_features(features_[i]); });
  }

  std::size_t in_features() const { return features_[0]; }
  std::size_t out_features() const { return features_[depth]; }
  std::size_t out_features(std::size_t in) const {
    require(in == features_[0], "Sequential::out_features",
            "expects " + std::to_string(features_[0]) + " features, got " + std::to_string(in));
    return out_features();
  }
  std::size_t features(std::size_t boundary) const { return features_.at(boundary); }

  std::size_t param_count() const {
    std::size_t n = 0;
    each([&](auto i) { n += layer<i>().param_count(); });
    return n;
  }
  std::size_t state_count() const {
    std::size_t n = 0;
    each([&](auto i) { n += layer<i>().state_count(); });
    return n;
  }
  void bind(value_type* params, value_type* grads, value_type* state) {
    each([&](auto i) {
      layer<i>().bind(params, grads, state);
      params += layer<i>().param_count();
      grads += layer<i>().param_count();
      state += layer<i>().state_count();
    });
  }
  void init(rng& gen, value_type* params, value_type* state) {
    each([&](auto i) {
      layer<i>().init(gen, params, state);
      params += layer<i>().param_count();
      state += layer<i>().state_count();
    });
  }

  // Runs all layers; returns a view of the output, valid until the next forward. `x` must stay
  // alive until backward, which reads it.
  const_view<value_type> forward(backend& be, const_view<value_type> x, mode m) {
    require_shape(x, x.rows, features_[0], "Sequential::forward", "input");
    require(x.rows > 0, "Sequential::forward", "empty batch");
    input_ = x;
    each([&](auto i) {
      auto y = rows_view(be, outputs_[i], x.rows, features_[i + 1]);
      layer<i>().forward(be, input_of(i), y, m);
    });
    return output_of(depth - 1);
  }
  void forward(backend& be, const_view<value_type> x, matrix_view<value_type> y, mode m) {
    be.copy(forward(be, x, m), y);
  }

  // dy: gradient of the loss w.r.t. the last forward's output (clobbered). dx: gradient
  // w.r.t. its input, or empty when not needed (saves the first layer's input GEMM).
  void backward(backend& be, matrix_view<value_type> dy, matrix_view<value_type> dx) {
    const std::size_t rows = input_.rows;
    require_shape(dy, rows, out_features(), "Sequential::backward", "output gradient");
    if (!dx.empty()) require_shape(dx, rows, in_features(), "Sequential::backward", "dx");
    each([&](auto r) {
      constexpr std::size_t i = depth - 1 - decltype(r)::value;
      auto dy_i = i + 1 == depth ? dy : backend::view(grads_[i]).rows_slice(0, rows);
      auto dx_i = i == 0 ? dx : rows_view(be, grads_[i - 1], rows, features_[i]);
      layer<i>().backward(be, input_of(i), output_of(i), dy_i, dx_i);
    });
  }
  // The layer form, for a Sequential nested in another: x and y are the ones kept by forward.
  void backward(backend& be, const_view<value_type>, const_view<value_type>,
                matrix_view<value_type> dy, matrix_view<value_type> dx) {
    backward(be, dy, dx);
  }

  // Layer i's output of the last forward: (rows x features(i + 1)), for diagnostics.
  const_view<value_type> output(std::size_t i) const {
    require(i < depth, "Sequential::output", "no layer " + std::to_string(i));
    return output_of(i);
  }

  template <std::size_t I>
  auto& layer() { return std::get<I>(layers_); }
  template <std::size_t I>
  const auto& layer() const { return std::get<I>(layers_); }

  std::vector<std::string> layer_names() const {
    std::vector<std::string> names;
    each([&](auto i) { names.push_back(layer<i>().describe()); });
    return names;
  }
  std::string describe() const {
    std::string s = "Sequential(";
    each([&](auto i) { s += (i == 0 ? "" : ", ") + layer<i>().describe(); });
    return s + ")";
  }

private:
  using matrix = typename backend::template matrix<value_type>;

  template <class F>
  void each(F&& f) { detail::for_each_index(std::index_sequence_for<Layers...>{}, f); }
  template <class F>
  void each(F&& f) const { detail::for_each_index(std::index_sequence_for<Layers...>{}, f); }

  const_view<value_type> input_of(std::size_t i) const {
    return i == 0 ? input_ : output_of(i - 1);
  }
  const_view<value_type> output_of(std::size_t i) const {
    return backend::view(outputs_[i]).rows_slice(0, input_.rows);
  }

  std::tuple<Layers...> layers_;
  std::array<std::size_t, depth + 1> features_{};
  std::array<matrix, depth> outputs_;  // outputs_[i]: (rows x features_[i+1]), capacity grows
  std::array<matrix, depth> grads_;    // grads_[i]: gradient w.r.t. outputs_[i] (i < depth-1)
  const_view<value_type> input_;
};

}  // namespace baler
