// The main of the CUDA test programs: with no usable GPU it says why and exits 77, which ctest
// reports as "Skipped" (SKIP_RETURN_CODE), so a build machine without a GPU stays green.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

#include "baler/backend/cuda.hpp"

int main(int argc, char** argv) {
  const baler::cuda_availability gpu = baler::cuda_status();
  if (!gpu.available) {
    std::cout << "skipped: " << gpu.reason << "\n";
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
