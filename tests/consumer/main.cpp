// A downstream program: builds a tiny autoencoder with baler, runs one forward pass and
// checks the output shape. Compiled by the consumer-build tests against an installed baler
// (find_package) and against the source tree (add_subdirectory).
#include <cmath>
#include <cstdio>
#include <exception>

#include "baler/nn/nn.hpp"

int main() {
  try {
    constexpr std::size_t rows = 3, features = 4, latent = 2;
    baler::cpu be(1);
    auto model = baler::models::make_ae<baler::cpu, float>({features, latent, {8, 8, 4}, 0.01});
    baler::parameters<baler::cpu, float> params(be, model, 1);

    auto x = be.make<float>(rows, features);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * static_cast<float>(i);
    const baler::const_view<float> y = model.forward(be, baler::cpu::view(x), baler::mode::eval);

    std::printf("parameters: %zu\n", params.size());
    std::printf("output: %zu x %zu (%zu values)\n", y.rows, y.cols, y.size());
    if (y.rows != rows || y.cols != features || model.latent().cols != latent) {
      std::fprintf(stderr, "unexpected shape: got %zu x %zu, expected %zu x %zu\n", y.rows, y.cols,
                   rows, features);
      return 1;
    }
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!std::isfinite(y.data[i])) {
        std::fprintf(stderr, "output value %zu is not finite\n", i);
        return 1;
      }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
