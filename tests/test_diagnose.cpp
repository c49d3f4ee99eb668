// Activation statistics of a trained model: known answers on a model with hand-set weights.
#include <doctest/doctest.h>

#include "baler/backend/cpu.hpp"
#include "baler/diagnose/report.hpp"

using namespace baler;
using Model = models::AE<cpu, double>;

namespace {

// An AE 2 -> 3 -> 2 -> 2 -> 1 and back on identity-normalised columns a, b, with encoder layer 1
// (3 x 2 weights, then 3 biases) set to: neuron 0 = a, neuron 1 = b, neuron 2 = -1.
codec::trained_model<cpu, Model> hand_set_model(cpu& be) {
  codec::model_schema schema;
  schema.names = {"a", "b"};
  schema.modelled = {0, 1};
  schema.normalisers = {codec::normaliser{}, codec::normaliser{}};
  schema.integer = {false, false};
  codec::trained_model<cpu, Model> m(be, schema, models::ae_shape{2, 1, {3, 2, 2}, 0.01});
  const double w1[] = {1, 0, 0, 1, 0, 0, 0, 0, -1};
  std::copy(std::begin(w1), std::end(w1), m.params->values().data);
  return m;
}

codec::table four_rows() {
  codec::table t;
  t.rows = 4;
  t.cols = 2;
  t.names = {"a", "b"};
  t.values = {1, 2, -1, 4, 3, -2, 1, 0};  // a = 1, -1, 3, 1; b = 2, 4, -2, 0
  return t;
}

}  // namespace

TEST_CASE("a neuron with zero weights and a negative bias is dead; statistics are per neuron") {
  cpu be(1);
  auto m = hand_set_model(be);
  const auto layers = diagnose::activation_stats(be, m, four_rows(), /*chunk=*/3);  // two chunks
  REQUIRE(layers.size() == 8);
  const auto& first = layers[0];
  CHECK(first.name() == "encoder 1: Dense(2->3, leaky_relu)");
  CHECK(first.rectifier);
  REQUIRE(first.width() == 3);
  // LeakyReLU(0.01): a -> 1, -0.01, 3, 1; b -> 2, 4, -0.02, 0; the third neuron -0.01 always.
  CHECK(first.mean[0] == doctest::Approx((1 - 0.01 + 3 + 1) / 4.0));
  CHECK(first.mean[1] == doctest::Approx((2 + 4 - 0.02 + 0) / 4.0));
  CHECK(first.mean[2] == doctest::Approx(-0.01));
  CHECK(first.mean_abs[0] == doctest::Approx((1 + 0.01 + 3 + 1) / 4.0));
  CHECK(first.mean_abs[2] == doctest::Approx(0.01));
  CHECK(first.layer_mean_abs() == doctest::Approx((5.01 / 4 + 6.02 / 4 + 0.01) / 3));
  CHECK(first.active_fraction[0] == doctest::Approx(0.75));
  CHECK(first.active_fraction[1] == doctest::Approx(0.5));  // b = 0 is not active
  CHECK(first.active_fraction[2] == 0.0);
  CHECK_FALSE(first.dead(1));
  CHECK(first.dead(2));
  CHECK(first.dead_count() == 1);

  // Shapes: encoder 3, 2, 2, 1 wide, decoder 2, 2, 3, 2; the two linear layers have no dead.
  const std::size_t widths[] = {3, 2, 2, 1, 2, 2, 3, 2};
  for (std::size_t k = 0; k < 8; ++k) {
    CHECK(layers[k].width() == widths[k]);
    CHECK(layers[k].active_fraction.size() == widths[k]);
    CHECK(layers[k].label == (k < 4 ? "encoder " : "decoder ") + std::to_string(k % 4 + 1));
  }
  CHECK_FALSE(layers[3].rectifier);
  CHECK(layers[3].dead_count() == 0);
  CHECK(layers[7].layer == "Dense(3->2, identity)");

  // Chunking changes nothing.
  const auto whole = diagnose::activation_stats(be, m, four_rows());
  for (std::size_t k = 0; k < 8; ++k)
    for (std::size_t n = 0; n < widths[k]; ++n) {
      CHECK(whole[k].mean[n] == doctest::Approx(layers[k].mean[n]));
      CHECK(whole[k].active_fraction[n] == layers[k].active_fraction[n]);
    }
}

TEST_CASE("diagnose outputs: table, CSV, heat map; bad input") {
  cpu be(1);
  auto m = hand_set_model(be);
  const auto layers = diagnose::activation_stats(be, m, four_rows());

  const std::string table = diagnose::format_table(layers);
  CHECK(table.find("encoder 1: Dense(2->3, leaky_relu)") != std::string::npos);
  CHECK(table.find("33.3%") != std::string::npos);  // one dead neuron of three

  const std::string csv = diagnose::to_csv(layers);
  CHECK(csv.rfind("layer,neuron,mean,active_fraction\nencoder 1,0,", 0) == 0);
  CHECK(csv.find("\nencoder 1,2,-0.01,0\n") != std::string::npos);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 3 + 2 + 2 + 1 + 2 + 2 + 3 + 2);

  // One cell per neuron and a marker per dead neuron, at the middle of its cell.
  const plot::figure f = diagnose::heat_map(layers);
  CHECK(f.name == "activations");
  const auto block = [&](const std::string& name) {
    const auto begin = f.data.find("$" + name + " << EOD\n");
    REQUIRE(begin != std::string::npos);
    const auto end = f.data.find("EOD\n", begin + name.size() + 8);
    return f.data.substr(begin, end - begin);
  };
  const std::string cells = block("cells"), dead = block("dead");
  CHECK(std::count(cells.begin(), cells.end(), '\n') == 1 + 17);
  std::size_t dead_neurons = 0;  // the other layers' depend on the random initialisation
  for (const auto& l : layers) dead_neurons += l.dead_count();
  CHECK(dead.rfind("$dead << EOD\n0.8333333 0\n", 0) == 0);
  CHECK(std::size_t(std::count(dead.begin(), dead.end(), '\n')) == 1 + dead_neurons);
  CHECK(f.commands.find("'encoder 1 (3)' 0") != std::string::npos);

  auto t = four_rows();
  t.cols = 3;
  CHECK_THROWS_WITH_AS(diagnose::activation_stats(be, m, t), doctest::Contains("the data has 3 columns"), error);
}
