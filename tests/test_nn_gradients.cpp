// Finite-difference checks of every layer's backward pass, in double.
#include <doctest/doctest.h>

#include "baler/nn/nn.hpp"
#include "gradcheck.hpp"

using namespace baler;
using B = cpu;
using gradcheck::matrix;

using gradcheck::check_layer;

TEST_CASE("Dense: gradients for every fused activation") {
  Dense<B, double> linear(5, 4);
  check_layer(linear, 6, 5);
  Dense<B, double, act::leaky_relu> leaky(5, 4, act::leaky_relu(0.1));
  check_layer(leaky, 6, 5);
  Dense<B, double, act::relu> relu(5, 4);
  check_layer(relu, 6, 5);
  Dense<B, double, act::tanh> tanh_layer(5, 4);
  check_layer(tanh_layer, 6, 5);
  Dense<B, double, act::sigmoid> sigmoid_layer(5, 4);
  check_layer(sigmoid_layer, 6, 5);
}

TEST_CASE("Activation layers: gradients") {
  ReLU<B, double> relu;
  check_layer(relu, 7, 3);
  LeakyReLU<B, double> leaky(act::leaky_relu(0.2));
  check_layer(leaky, 7, 3);
  Tanh<B, double> tanh_layer;
  check_layer(tanh_layer, 7, 3);
  Sigmoid<B, double> sigmoid_layer;
  check_layer(sigmoid_layer, 7, 3);
}

TEST_CASE("Dropout: gradient with a fixed mask, identity in eval, survivors scaled") {
  Dropout<B, double> dropout(0.3);
  check_layer<Dropout<B, double>>(dropout, 8, 5, [](auto& l) {
    rng g(99);
    l.init(g, nullptr, nullptr);
  });

  B be(1);
  matrix x = gradcheck::random_matrix(200, 10, 3), y = matrix::from_shape({200, 10});
  dropout.forward(be, B::view(x), B::view(y), mode::eval);
  CHECK(y == x);
  dropout.forward(be, B::view(x), B::view(y), mode::train);
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (y.data()[i] == 0) ++zeros;
    else CHECK(y.data()[i] == doctest::Approx(x.data()[i] / 0.7));
  }
  CHECK(zeros > 0.2 * x.size());
  CHECK(zeros < 0.4 * x.size());
}

TEST_CASE("BatchNorm1d: gradients in training mode, running statistics") {
  BatchNorm1d<B, double> bn(4);
  check_layer(bn, 9, 4, {}, 3.0);

  // Running statistics follow PyTorch: momentum 0.1, unbiased variance.
  B be(1);
  matrix params = matrix::from_shape({1, 8}), grads = params, state = params;
  rng gen(1);
  bn.init(gen, params.data(), state.data());
  bn.bind(params.data(), grads.data(), state.data());
  matrix x = gradcheck::random_matrix(5, 4, 21), y = matrix::from_shape({5, 4});
  bn.forward(be, B::view(x), B::view(y), mode::train);
  for (std::size_t c = 0; c < 4; ++c) {
    double mean = 0, ss = 0;
    for (std::size_t r = 0; r < 5; ++r) mean += x(r, c) / 5;
    for (std::size_t r = 0; r < 5; ++r) ss += (x(r, c) - mean) * (x(r, c) - mean);
    CHECK(state(0, c) == doctest::Approx(0.1 * mean));
    CHECK(state(0, 4 + c) == doctest::Approx(0.9 + 0.1 * ss / 4));
    double ymean = 0;
    for (std::size_t r = 0; r < 5; ++r) ymean += y(r, c) / 5;
    CHECK(ymean == doctest::Approx(0).epsilon(1e-12).scale(1));
  }
  CHECK_THROWS_WITH_AS(bn.forward(be, B::view(x).rows_slice(0, 1), B::view(y).rows_slice(0, 1),
                                  mode::train),
                       doctest::Contains("more than one row"), error);
}

TEST_CASE("Sequential and Autoencoder: end-to-end gradients, latent penalty included") {
  B be(1);
  models::ae_shape shape{6, 2, {5, 4, 3}, 0.1};
  auto model = models::make_ae<B, double>(shape);
  parameters<B, double> p(be, model, 5);
  matrix x = gradcheck::random_matrix(7, 6, 17);
  matrix g = matrix::from_shape({7, 6});
  const l1_activation_penalty penalty{0.3};
  const mse_loss loss;

  auto objective = [&] {
    const auto y = model.forward(be, B::view(x), mode::train);
    return loss.value_and_grad(be, y, B::view(x), B::view(g)) +
           penalty.value_and_add_grad(be, model.latent(), model.latent_grad(be));
  };
  objective();
  model.backward_decoder(be, B::view(g));
  penalty.value_and_add_grad(be, model.latent(), model.latent_grad(be));
  matrix dx = matrix::from_shape({7, 6});
  model.backward_encoder(be, B::view(dx));
  const std::vector<double> analytic(p.gradients().data, p.gradients().data + p.size());
  const matrix analytic_x = dx;

  // The loss depends on x twice (input and target); the backward above gives only the input
  // path, so for x compare against J with a frozen target.
  CHECK(gradcheck::max_error(p.values().data, analytic.data(), p.size(), objective) < 1e-6);
  const matrix target = x;
  auto input_only = [&] {
    const auto y = model.forward(be, B::view(x), mode::train);
    return loss.value_and_grad(be, y, B::view(target), B::view(g)) +
           penalty.value_and_add_grad(be, model.latent(), model.latent_grad(be));
  };
  CHECK(gradcheck::max_error(x.data(), analytic_x.data(), x.size(), input_only) < 1e-6);
}

TEST_CASE("AE_Dropout_BN: gradients through nested Sequentials") {
  B be(1);
  auto model = models::make_ae_dropout_bn<B, double>({5, 2, {6, 4, 3}, 0.01}, 0.25);
  parameters<B, double> p(be, model, 3);
  const std::vector<double> state0(p.state().data, p.state().data + p.state_size());
  matrix x = gradcheck::random_matrix(8, 5, 23), target = x, g = matrix::from_shape({8, 5});
  auto objective = [&] {
    std::copy(state0.begin(), state0.end(), p.state().data);
    rng reseed(4);
    model.init(reseed, std::vector<double>(p.size()).data(),
               std::vector<double>(p.state_size()).data());  // same dropout masks every time
    const auto y = model.forward(be, B::view(x), mode::train);
    return mse_loss{}.value_and_grad(be, y, B::view(target), B::view(g));
  };
  objective();
  model.backward(be, B::view(g), matrix_view<double>{});
  const std::vector<double> analytic(p.gradients().data, p.gradients().data + p.size());
  CHECK(gradcheck::max_error(p.values().data, analytic.data(), p.size(), objective) < 1e-6);
}

TEST_CASE("Losses: value and gradient against finite differences") {
  B be(1);
  matrix pred = gradcheck::random_matrix(4, 3, 31), target = gradcheck::random_matrix(4, 3, 37);
  matrix g = matrix::from_shape({4, 3});
  auto check_loss = [&](auto loss, double expected_value) {
    const double value = loss.value_and_grad(be, B::view(pred), B::view(target), B::view(g));
    CHECK(value == doctest::Approx(expected_value));
    const matrix analytic = g;
    auto objective = [&] { return loss.value_and_grad(be, B::view(pred), B::view(target), B::view(g)); };
    CHECK(gradcheck::max_error(pred.data(), analytic.data(), pred.size(), objective) < 1e-6);
  };
  double sq = 0, ab = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const double d = pred.data()[i] - target.data()[i];
    sq += d * d;
    ab += std::abs(d);
  }
  check_loss(mse_loss{true}, sq / 12);
  check_loss(mse_loss{false}, sq);
  check_loss(mae_loss{true}, ab / 12);
  check_loss(mae_loss{false}, ab);

  // The latent penalty adds weight * sign(z) / size to an existing gradient.
  matrix dz = matrix::from_shape({4, 3});
  dz.fill(1.0);
  const double v = l1_activation_penalty{0.5}.value_and_add_grad(be, B::view(pred), B::view(dz));
  double l1 = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    l1 += std::abs(pred.data()[i]);
    CHECK(dz.data()[i] == doctest::Approx(1.0 + 0.5 / 12 * (pred.data()[i] > 0 ? 1 : -1)));
  }
  CHECK(v == doctest::Approx(0.5 * l1 / 12));
  CHECK_THROWS_AS(mse_loss{}.value_and_grad(be, B::view(pred), B::view(target).rows_slice(0, 2),
                                            B::view(g)),
                  error);
}
