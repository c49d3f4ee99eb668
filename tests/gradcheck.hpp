#pragma once
// Finite-difference gradient checks in double precision for any layer or model. The scalar
// objective is J = sum(y * r) for a fixed random r, so dJ/dy = r; every parameter and input
// gradient is compared with a central difference.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "baler/backend/cpu.hpp"
#include "baler/nn/layer.hpp"

namespace gradcheck {

using matrix = baler::cpu::matrix<double>;

inline matrix random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed,
                            double scale = 1.0) {
  baler::rng gen(seed);
  matrix m = matrix::from_shape({rows, cols});
  for (auto& v : m) v = scale * gen.normal();
  return m;
}

inline double dot(baler::const_view<double> a, baler::const_view<double> b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a.data[i] * b.data[i];
  return s;
}

// Max of |analytic - numeric| / max(1, |numeric|) over all entries of `values`, where
// `objective` recomputes J after `values` changed and analytic[i] is dJ/dvalues[i].
inline double max_error(double* values, const double* analytic, std::size_t n,
                        const std::function<double()>& objective, double h = 1e-6) {
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double saved = values[i];
    values[i] = saved + h;
    const double up = objective();
    values[i] = saved - h;
    const double down = objective();
    values[i] = saved;
    const double numeric = (up - down) / (2 * h);
    worst = std::max(worst, std::abs(analytic[i] - numeric) / std::max(1.0, std::abs(numeric)));
  }
  return worst;
}

// Checks d(sum(layer(x) * r))/d(params) and /d(x) for a layer in train mode. `reseed` runs
// before every forward so that stochastic layers (dropout) draw the same mask each time.
template <class Layer>
void check_layer(Layer& layer, std::size_t batch, std::size_t in,
                 std::function<void(Layer&)> reseed = {}, double x_scale = 1.0) {
  baler::cpu be(1);
  const std::size_t out = layer.out_features(in);
  matrix params = matrix::from_shape({1, std::max<std::size_t>(layer.param_count(), 1)});
  matrix grads = params,
         state = matrix::from_shape({1, std::max<std::size_t>(layer.state_count(), 1)});
  baler::rng gen(7);
  layer.init(gen, params.data(), state.data());
  for (std::size_t i = 0; i < layer.param_count(); ++i) params.data()[i] += 0.1 * gen.normal();
  layer.bind(params.data(), grads.data(), state.data());
  const matrix state0 = state;

  matrix x = random_matrix(batch, in, 11, x_scale);
  const matrix r = random_matrix(batch, out, 13);
  matrix y = matrix::from_shape({batch, out}), dy = r, dx = matrix::from_shape({batch, in});

  auto objective = [&] {
    state = state0;  // batch norm's running statistics must not drift between evaluations
    if (reseed) reseed(layer);
    layer.forward(be, baler::cpu::view(x), baler::cpu::view(y), baler::mode::train);
    return dot(baler::cpu::view(y), baler::cpu::view(r));
  };
  objective();
  dy = r;
  layer.backward(be, baler::cpu::view(x), baler::cpu::view(y), baler::cpu::view(dy),
                 baler::cpu::view(dx));
  const matrix analytic_params = grads, analytic_x = dx;

  if (layer.param_count() > 0)
    CHECK(max_error(params.data(), analytic_params.data(), layer.param_count(), objective) < 1e-6);
  CHECK(max_error(x.data(), analytic_x.data(), x.size(), objective) < 1e-6);
}

}  // namespace gradcheck
