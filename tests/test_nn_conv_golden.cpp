// Two small convolutional autoencoders against PyTorch (tests/golden/make_conv_golden.py): one
// forward and one backward each, in double.
#include <doctest/doctest.h>

#include "baler/io/npz.hpp"
#include "baler/nn/nn.hpp"
#include "golden_support.hpp"

using namespace baler;
using B = cpu;

namespace {

const npz::archive& golden() {
  static const npz::archive a =
      npz::read_file(std::string(BALER_TEST_DIR) + "/golden/conv_ae_golden.npz");
  return a;
}
std::vector<double> get(const std::string& key) {
  return golden().at(key).array().to_doubles();
}


// Loads `name`_params0 and `name`_x, runs forward + mean MSE + backward, compares y, the loss
// and the parameter gradient.
template <class Model>
void check_against_golden(Model& model, const std::string& name) {
  B be(1);
  parameters<B, double> params(be, model, 0);
  const auto p0 = get(name + "_params0"), xv = get(name + "_x");
  REQUIRE(p0.size() == params.size());
  std::copy(p0.begin(), p0.end(), params.values().data);
  const std::size_t batch = xv.size() / model.in_features();
  B::matrix<double> x = B::matrix<double>::from_shape({batch, model.in_features()}), g = x;
  std::copy(xv.begin(), xv.end(), x.begin());
  const auto y = model.forward(be, B::view(x), mode::train);
  const double loss = mse_loss{}.value_and_grad(be, y, B::view(x), B::view(g));
  model.backward(be, B::view(g), matrix_view<double>{});
  CHECK(relative_error(y.data, get(name + "_y")) < 1e-12);
  CHECK(loss == doctest::Approx(get(name + "_loss")[0]).epsilon(1e-12));
  CHECK(relative_error(params.gradients().data, get(name + "_grad")) < 1e-10);
}

}  // namespace

TEST_CASE("golden: 2-D conv AE (conv, pool, dense latent, transposed convs) matches PyTorch") {
  using leaky = Activation<B, double, act::leaky_relu>;
  const auto down = conv_geometry::grid_2d(1, 8, 8, 3, 2, 1);  // -> 4 x 4 x 4
  const auto pool = conv_geometry::grid_2d(4, 4, 4, 2, 2);     // -> 4 x 2 x 2
  const auto up1 = conv_geometry::transposed(conv_geometry::grid_2d(4, 2, 2, 2, 2));  // 4x4x4
  const auto up2 =
      conv_geometry::transposed(conv_geometry::grid_2d(1, 4, 4, 3, 2, 1), 1);  // 1 x 8 x 8
  Sequential<Conv2d<B, double>, leaky, AvgPool<B, double>, Reshape<B, double>, Dense<B, double>,
             Dense<B, double, act::leaky_relu>, Reshape<B, double>, ConvTranspose2d<B, double>,
             leaky, ConvTranspose2d<B, double>>
      model(64, {down, 4}, {}, AvgPool<B, double>(pool), {16, "16"}, {16, 3}, {3, 16},
            {16, "4 x 2 x 2"}, {4, up1}, {}, {4, up2});
  REQUIRE(model.out_features() == 64);
  check_against_golden(model, "conv2d");
}

TEST_CASE("golden: 3-D conv and transposed conv match PyTorch") {
  const auto down = conv_geometry::grid_3d(1, 4, 6, 6, 3, 2, 1);  // -> 2 x 2 x 3 x 3
  const auto up = conv_geometry::transposed(conv_geometry::grid_3d(1, 2, 3, 3, 3, 2, 1), 1);
  Sequential<Conv3d<B, double>, Activation<B, double, act::leaky_relu>, ConvTranspose3d<B, double>>
      model(144, {down, 2}, {}, {2, up});
  REQUIRE(model.out_features() == 144);
  check_against_golden(model, "conv3d");
}

TEST_CASE("golden: max pooling (overlapping, padded 2-D windows; 3-D) matches PyTorch") {
  using leaky = Activation<B, double, act::leaky_relu>;
  SUBCASE("2-D: Conv2d, MaxPool2d(3, stride 2, padding 1), Linear") {
    const auto conv = conv_geometry::grid_2d(1, 8, 8, 3, 1, 1);  // -> 3 x 8 x 8
    const auto pool = conv_geometry::grid_2d(3, 8, 8, 3, 2, 1);  // -> 3 x 4 x 4
    Sequential<Conv2d<B, double>, leaky, MaxPool<B, double>, Dense<B, double>> model(
        64, {conv, 3}, {}, MaxPool<B, double>(pool), {48, 64});
    REQUIRE(model.out_features() == 64);
    check_against_golden(model, "maxpool2d");
  }
  SUBCASE("3-D: Conv3d, MaxPool3d(2), Linear") {
    const auto conv = conv_geometry::grid_3d(1, 4, 4, 4, 3, 1, 1);  // -> 2 x 4 x 4 x 4
    const auto pool = conv_geometry::grid_3d(2, 4, 4, 4, 2, 2);     // -> 2 x 2 x 2 x 2
    Sequential<Conv3d<B, double>, leaky, MaxPool<B, double>, Dense<B, double>> model(
        64, {conv, 2}, {}, MaxPool<B, double>(pool), {16, 64});
    REQUIRE(model.out_features() == 64);
    check_against_golden(model, "maxpool3d");
  }
}
