// Weights files: exact round trip (batch-norm state included), and refusal of mismatches.
#include <doctest/doctest.h>

#include "baler/nn/nn.hpp"
#include "baler/nn/weights_file.hpp"

using namespace baler;

TEST_CASE("weights: save and load restore every parameter and state value exactly") {
  cpu be(1);
  auto a = models::make_ae_dropout_bn<cpu, double>({5, 2, {6, 4, 3}, 0.01});
  parameters<cpu, double> pa(be, a, 1);
  pa.state().data[3] = 0.25;  // a running mean that is not the initial one
  const auto bytes = save_weights(be, pa, {{"model", "AE_Dropout_BN"}});

  auto b = models::make_ae_dropout_bn<cpu, double>({5, 2, {6, 4, 3}, 0.01});
  parameters<cpu, double> pb(be, b, 2);
  CHECK(std::memcmp(pa.values().data, pb.values().data, pa.size() * sizeof(double)) != 0);
  const auto description = load_weights(be, bytes, pb);
  CHECK(description["model"] == "AE_Dropout_BN");
  CHECK(std::memcmp(pa.values().data, pb.values().data, pa.size() * sizeof(double)) == 0);
  CHECK(std::memcmp(pa.state().data, pb.state().data, pa.state_size() * sizeof(double)) == 0);
}

TEST_CASE("weights: another shape, another scalar type, or a damaged file is refused") {
  cpu be(1);
  auto a = models::make_ae<cpu, float>({6, 2, {8, 4, 4}, 0.01});
  parameters<cpu, float> pa(be, a, 1);
  const auto bytes = save_weights(be, pa);

  auto wider = models::make_ae<cpu, float>({6, 3, {8, 4, 4}, 0.01});
  parameters<cpu, float> pw(be, wider, 1);
  CHECK_THROWS_WITH_AS(load_weights(be, bytes, pw), doctest::Contains("parameters, the model has"), error);
  auto twin = models::make_ae<cpu, double>({6, 2, {8, 4, 4}, 0.01});
  parameters<cpu, double> pd(be, twin, 1);
  CHECK_THROWS_WITH_AS(load_weights(be, bytes, pd), doctest::Contains("the weights are f32, the model is f64"), error);
  auto damaged = bytes;
  damaged[damaged.size() - 5] ^= std::byte{1};
  parameters<cpu, float> pb(be, a, 3);
  CHECK_THROWS_WITH_AS(load_weights(be, damaged, pb), doctest::Contains("checksum"), error);
}
