// A downstream program: builds a tiny autoencoder with baler, runs one forward pass and
// checks the output shape. Compiled by the consumer-build tests against an installed baler
// (find_package) and against the source tree (add_subdirectory).
#include <cmath>
#include <cstdio>
#include <exception>
#include <vector>

#include "baler/nn/nn.hpp"
#if defined(BALER_HAS_CUDA)
#include "baler/backend/cuda.hpp"
#endif

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
#if defined(BALER_HAS_CUDA)
    // Linked with baler::cuda: the same model on the GPU, where there is one.
    const baler::cuda_availability gpu = baler::cuda_status();
    std::printf("cuda: %s\n", gpu.available ? "available" : gpu.reason.c_str());
    if (gpu.available) {
      baler::cuda gpu_be;
      auto gpu_model = baler::models::make_ae<baler::cuda, float>({features, latent, {8, 8, 4}, 0.01});
      baler::parameters<baler::cuda, float> gpu_params(gpu_be, gpu_model, 1);
      auto gx = gpu_be.make<float>(rows, features);
      gpu_be.upload(x.data(), baler::cuda::view(gx));
      std::vector<float> gy(rows * features);
      gpu_be.download(gpu_model.forward(gpu_be, baler::cuda::view(gx), baler::mode::eval), gy.data());
      for (std::size_t i = 0; i < gy.size(); ++i)
        if (!(std::fabs(gy[i] - y.data[i]) <= 1e-5f)) {
          std::fprintf(stderr, "GPU output %zu is %g, CPU %g\n", i, gy[i], y.data[i]);
          return 1;
        }
    }
#endif
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
