// Baler's HEP autoencoder (24-200-100-50-15-50-100-200-24) against PyTorch: one forward, one
// backward, and Adam, AdamW and SGD steps, from the values tests/golden/make_golden.py wrote.
#include <doctest/doctest.h>

#include "baler/io/npz.hpp"
#include "baler/nn/nn.hpp"
#include "golden_support.hpp"

using namespace baler;

namespace {

struct golden {
  npz::archive archive = npz::read_file(std::string(BALER_TEST_DIR) + "/golden/baler_ae_golden.npz");
  std::vector<double> get(const std::string& key) const { return archive.at(key).array().to_doubles(); }
};


// Loads params0, runs forward + MSE + backward on x; returns the model ready for a step.
struct hep_model {
  cpu be{1};
  models::AE<cpu, double> model = models::make_ae<cpu, double>({24, 15, {200, 100, 50}, 0.01});
  parameters<cpu, double> params{be, model, 0};
  cpu::matrix<double> x, grad;
  double loss = 0;

  explicit hep_model(const golden& g) {
    const auto p0 = g.get("params0");
    REQUIRE(p0.size() == params.size());
    std::copy(p0.begin(), p0.end(), params.values().data);
    const auto xv = g.get("x");
    x = cpu::matrix<double>::from_shape({16, 24});
    std::copy(xv.begin(), xv.end(), x.begin());
    grad = x;
  }
  const_view<double> forward_backward() {
    const auto y = model.forward(be, cpu::view(x), mode::train);
    loss = mse_loss{}.value_and_grad(be, y, cpu::view(x), cpu::view(grad));
    model.backward(be, cpu::view(grad), matrix_view<double>{});
    return y;
  }
};

}  // namespace

TEST_CASE("golden: forward, latent, loss and gradient match PyTorch") {
  const golden g;
  hep_model m(g);
  const auto y = m.forward_backward();
  CHECK(relative_error(y.data, g.get("y")) < 1e-12);
  CHECK(relative_error(m.model.latent().data, g.get("latent")) < 1e-12);
  CHECK(m.loss == doctest::Approx(g.get("loss")[0]).epsilon(1e-12));
  CHECK(relative_error(m.params.gradients().data, g.get("grad")) < 1e-10);

  cpu::matrix<double> gsum = m.grad;
  const double loss_sum = mse_loss{false}.value_and_grad(m.be, y, cpu::view(m.x), cpu::view(gsum));
  CHECK(loss_sum == doctest::Approx(g.get("loss_sum")[0]).epsilon(1e-12));
}

TEST_CASE("golden: two Adam steps, one AdamW step, two SGD momentum steps match PyTorch") {
  const golden g;
  auto run = [&](auto optimizer, int steps) {
    hep_model m(g);
    for (int s = 0; s < steps; ++s) {
      m.forward_backward();
      optimizer.step(m.be, m.params.values(), m.params.gradients());
    }
    return std::vector<double>(m.params.values().data, m.params.values().data + m.params.size());
  };
  using A = Adam<cpu, double>;
  CHECK(relative_error(run(A(adam_options{}), 1).data(), g.get("params_adam1")) < 1e-12);
  CHECK(relative_error(run(A(adam_options{}), 2).data(), g.get("params_adam2")) < 1e-12);
  CHECK(relative_error(run(AdamW<cpu, double>(), 1).data(), g.get("params_adamw1")) < 1e-12);
  using S = SGD<cpu, double>;
  CHECK(relative_error(run(S({1e-2, 0.9, 0}), 1).data(), g.get("params_sgd1")) < 1e-12);
  CHECK(relative_error(run(S({1e-2, 0.9, 0}), 2).data(), g.get("params_sgd2")) < 1e-12);
}

TEST_CASE("golden: float32 forward and gradient agree with PyTorch's float64 to float32 accuracy") {
  const golden g;
  cpu be(1);
  auto model = models::make_ae<cpu, float>({});
  parameters<cpu, float> params(be, model, 0);
  const auto p0 = g.get("params0"), xv = g.get("x");
  std::transform(p0.begin(), p0.end(), params.values().data, [](double v) { return float(v); });
  cpu::matrix<float> x = cpu::matrix<float>::from_shape({16, 24}), grad = x;
  std::transform(xv.begin(), xv.end(), x.begin(), [](double v) { return float(v); });
  const auto y = model.forward(be, cpu::view(x), mode::train);
  mse_loss{}.value_and_grad(be, y, cpu::view(x), cpu::view(grad));
  model.backward(be, cpu::view(grad), matrix_view<float>{});
  const std::vector<double> y64(y.data, y.data + y.size());
  const std::vector<double> g64(params.gradients().data, params.gradients().data + params.size());
  CHECK(relative_error(y64.data(), g.get("y")) < 1e-5);
  CHECK(relative_error(g64.data(), g.get("grad")) < 1e-4);
}
