// Optimizer steps against values computed by hand, learning-rate schedules, early stopping.
#include <doctest/doctest.h>

#include "baler/nn/nn.hpp"

using namespace baler;
using M = cpu::matrix<double>;

namespace {
M row(std::initializer_list<double> v) {
  M m = M::from_shape({1, v.size()});
  std::copy(v.begin(), v.end(), m.begin());
  return m;
}
}  // namespace

TEST_CASE("SGD: plain, momentum and weight decay by hand") {
  cpu be(1);
  M p = row({1.0, -2.0}), g = row({0.5, 0.25});
  SGD<cpu, double> plain(sgd_options{0.1, 0.0, 0.0});
  plain.step(be, cpu::view(p), cpu::view(g));
  CHECK(p(0, 0) == doctest::Approx(1.0 - 0.05));
  CHECK(p(0, 1) == doctest::Approx(-2.0 - 0.025));

  // Momentum: v1 = g, v2 = 0.9 g + g.
  p = row({1.0, -2.0});
  SGD<cpu, double> momentum(sgd_options{0.1, 0.9, 0.0});
  momentum.step(be, cpu::view(p), cpu::view(g));
  momentum.step(be, cpu::view(p), cpu::view(g));
  CHECK(p(0, 0) == doctest::Approx(1.0 - 0.1 * 0.5 - 0.1 * 1.9 * 0.5));

  // L2 decay adds wd * p to the gradient: 0.5 + 0.1 * 1.0.
  p = row({1.0, -2.0});
  SGD<cpu, double> decay(sgd_options{0.1, 0.0, 0.1});
  decay.step(be, cpu::view(p), cpu::view(g));
  CHECK(p(0, 0) == doctest::Approx(1.0 - 0.1 * 0.6));
}

TEST_CASE("Adam and AdamW: first two steps by hand") {
  cpu be(1);
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  M p = row({1.0}), g = row({0.3});
  Adam<cpu, double> adam(adam_options{lr, b1, b2, eps, 0.0, false});
  adam.step(be, cpu::view(p), cpu::view(g));
  // Step 1: m-hat = g, v-hat = g^2, so the step is lr * g / (|g| + eps).
  CHECK(p(0, 0) == doctest::Approx(1.0 - lr * 0.3 / (0.3 + eps)).epsilon(1e-14));
  g(0, 0) = -0.1;
  adam.step(be, cpu::view(p), cpu::view(g));
  const double m = b1 * (1 - b1) * 0.3 + (1 - b1) * -0.1;
  const double v = b2 * (1 - b2) * 0.09 + (1 - b2) * 0.01;
  const double expected =
      1.0 - lr * 0.3 / (0.3 + eps) - lr * (m / (1 - b1 * b1)) / (std::sqrt(v / (1 - b2 * b2)) + eps);
  CHECK(p(0, 0) == doctest::Approx(expected).epsilon(1e-14));
  CHECK(adam.steps() == 2);

  // AdamW shrinks the parameter by (1 - lr * wd) before the Adam step; Adam with the same
  // weight decay adds it to the gradient instead.
  M pw = row({2.0}), gw = row({0.3});
  auto adamw = AdamW<cpu, double>(adam_options{lr, b1, b2, eps, 0.1, true});
  adamw.step(be, cpu::view(pw), cpu::view(gw));
  CHECK(pw(0, 0) == doctest::Approx(2.0 * (1 - lr * 0.1) - lr * 0.3 / (0.3 + eps)).epsilon(1e-14));
  M pl = row({2.0}), gl = row({0.3});
  Adam<cpu, double> adam_l2(adam_options{lr, b1, b2, eps, 0.1, false});
  adam_l2.step(be, cpu::view(pl), cpu::view(gl));
  CHECK(pl(0, 0) == doctest::Approx(2.0 - lr * 0.5 / (0.5 + eps)).epsilon(1e-14));

  using A = Adam<cpu, double>;
  CHECK_THROWS_WITH_AS(A(adam_options{-1.0}), doctest::Contains("lr > 0"), error);
  M short_g = row({1.0, 2.0});
  CHECK_THROWS_AS(adam.step(be, cpu::view(p), cpu::view(short_g)), error);
}

TEST_CASE("ReduceLROnPlateau halves after `patience` epochs without improvement, floored") {
  lr_schedule s;
  s.type = lr_schedule::kind::plateau;
  s.patience = 2;
  s.min_lr = 0.3;
  lr_scheduler sched(s, 1.0);
  double lr = 1.0;
  lr = sched.next(0, 10.0, lr);  // best 10
  lr = sched.next(1, 10.0, lr);  // bad 1
  lr = sched.next(2, 10.0, lr);  // bad 2
  CHECK(lr == 1.0);
  lr = sched.next(3, 10.0, lr);  // bad 3 > patience: halve
  CHECK(lr == 0.5);
  lr = sched.next(4, 9.0, lr);  // improvement resets
  CHECK(lr == 0.5);
  for (int e = 5; e < 20; ++e) lr = sched.next(e, 9.0, lr);
  CHECK(lr == 0.3);  // never below min_lr
}

TEST_CASE("step and cosine schedules") {
  lr_schedule step = lr_schedule::parse("step");
  step.step_epochs = 3;
  step.factor = 0.1;
  step.min_lr = 0;
  lr_scheduler s1(step, 1.0);
  double lr = 1.0;
  for (int e = 0; e < 3; ++e) lr = s1.next(e, 0, lr);
  CHECK(lr == doctest::Approx(0.1));

  lr_schedule cos = lr_schedule::parse("cosine");
  cos.total_epochs = 10;
  cos.min_lr = 0.0;
  lr_scheduler s2(cos, 1.0);
  CHECK(s2.next(4, 0, 1.0) == doctest::Approx(0.5));  // half way: (1 + cos(pi/2)) / 2
  CHECK(s2.next(9, 0, 1.0) == doctest::Approx(0.0).scale(1));
  CHECK_THROWS_WITH_AS(lr_schedule::parse("linear"), doctest::Contains("unknown schedule"), error);
}

TEST_CASE("a step or cosine schedule over zero epochs is refused, not a division by zero") {
  lr_schedule step = lr_schedule::parse("step");
  step.step_epochs = 0;
  CHECK_THROWS_WITH_AS(lr_scheduler(step, 1.0), doctest::Contains("step_epochs must be positive"), error);
  lr_schedule cos = lr_schedule::parse("cosine");
  cos.total_epochs = 0;
  CHECK_THROWS_WITH_AS(lr_scheduler(cos, 1.0), doctest::Contains("total_epochs must be positive"), error);
}

TEST_CASE("early stopping: patience and min_delta") {
  early_stopping stop(2, 0.1);
  CHECK_FALSE(stop.update(1.0));
  CHECK(stop.improved());
  CHECK_FALSE(stop.update(0.95));  // not better by more than 0.1
  CHECK_FALSE(stop.improved());
  CHECK(stop.update(0.92));  // second epoch without improvement
  early_stopping off(0);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(off.update(1.0));
}
