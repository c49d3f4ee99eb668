// Activation statistics of a trained model: known answers on a model with hand-set weights.
#include <doctest/doctest.h>

#include "baler/backend/cpu.hpp"
#include "baler/diagnose/report.hpp"

using namespace baler;
using Model = models::AE<cpu, double>;

TEST_CASE("a neuron with zero weights and a negative bias is dead; statistics are per neuron") {
  cpu be(1);
  codec::model_schema schema;
  schema.names = {"a", "b"};
  schema.modelled = {0, 1};
  schema.normalisers = {codec::normaliser{}, codec::normaliser{}};  // identity
  schema.integer = {false, false};
  codec::trained_model<cpu, Model> m(be, schema, models::ae_shape{2, 1, {3, 2, 2}, 0.01});
  // Encoder layer 1 (3 x 2 weights, 3 biases): neuron 0 = x0, neuron 1 = x1, neuron 2 = -1.
  double* p = m.params->values().data;
  const double w1[] = {1, 0, 0, 1, 0, 0, 0, 0, -1};
  std::copy(std::begin(w1), std::end(w1), p);

  codec::table t;
  t.rows = 4;
  t.cols = 2;
  t.names = schema.names;
  t.values = {1, 2, -1, 4, 3, -2, 1, 0};  // a = 1, -1, 3, 1; b = 2, 4, -2, 0
  const auto layers = diagnose::activation_stats(be, m, t, /*chunk=*/3);  // two chunks
  REQUIRE(layers.size() == 8);
  const auto& first = layers[0];
  CHECK(first.name == "encoder 1: Dense(2->3, leaky_relu)");
  CHECK(first.rectifier);
  REQUIRE(first.mean.size() == 3);
  // LeakyReLU(0.01): a -> 1, -0.01, 3, 1; b -> 2, 4, -0.02, 0; the third neuron -0.01 always.
  CHECK(first.mean[0] == doctest::Approx((1 - 0.01 + 3 + 1) / 4.0));
  CHECK(first.mean[1] == doctest::Approx((2 + 4 - 0.02 + 0) / 4.0));
  CHECK(first.mean[2] == doctest::Approx(-0.01));
  CHECK(first.active_fraction[0] == doctest::Approx(0.75));
  CHECK(first.active_fraction[1] == doctest::Approx(0.5));
  CHECK(first.active_fraction[2] == 0.0);
  CHECK(first.dead() == 1);
  CHECK_FALSE(layers[3].rectifier);  // the linear bottleneck: "dead" means nothing there
  CHECK(layers[3].dead() == 0);
  CHECK(layers[7].mean.size() == 2);

  const std::string table = diagnose::format_table(layers);
  CHECK(table.find("encoder 1: Dense(2->3, leaky_relu)") != std::string::npos);
  const std::string csv = diagnose::to_csv(layers);
  CHECK(csv.rfind("layer,neuron,mean,active_fraction\n1,0,", 0) == 0);

  t.cols = 3;
  CHECK_THROWS_WITH_AS(diagnose::activation_stats(be, m, t), doctest::Contains("the data has 3 columns"), error);
}
