// The command line on the GPU: --device cuda trains, compresses and decompresses, and its files
// decompress on the CPU as well (and the other way round) to nearly the same values.
#include "test_cli_support.hpp"

#include "baler/io/dataset.hpp"
#include "baler/metrics/column_errors.hpp"

using namespace cli_test;

namespace {

// The largest per-column RMS error divided by the column's range.
double worst_rms_over_range(const std::string& original, const std::string& decompressed) {
  double worst = 0;
  for (const auto& c : baler::metrics::compare(baler::load_dataset(original), baler::load_dataset(decompressed)))
    worst = std::max(worst, c.rms_over_range);
  return worst;
}

}  // namespace

TEST_CASE("baler --device cuda: compress on the GPU, decompress on either backend") {
  scratch s;
  const std::vector<std::string> fast = {"--epochs", "30", "--seed", "3", "--quiet"};
  auto args = std::vector<std::string>{"compress", lhcb, "-o", "gpu.baler", "--device", "cuda",
                                       "--save-model", "gpu.balermodel"};
  args.insert(args.end(), fast.begin(), fast.end());
  const result c = baler_cli(args);
  INFO(c.err);
  REQUIRE(c.status == 0);

  REQUIRE(baler_cli({"decompress", "gpu.baler", "-o", "on_gpu.npz", "--device", "cuda"}).status == 0);
  REQUIRE(baler_cli({"decompress", "gpu.baler", "-o", "on_cpu.npz"}).status == 0);
  const double gpu = worst_rms_over_range(lhcb, "on_gpu.npz");
  const double cpu = worst_rms_over_range(lhcb, "on_cpu.npz");
  CHECK(gpu < 0.1);  // a broken network reconstructs no better than the column means (~0.2-0.3)
  CHECK(std::abs(gpu - cpu) < 1e-3);  // the same file: only float rounding may differ
  CHECK(worst_rms_over_range("on_cpu.npz", "on_gpu.npz") < 1e-4);

  // A model trained on the GPU compresses on the CPU; a CPU file decompresses on the GPU.
  REQUIRE(baler_cli({"compress", lhcb, "-o", "cpu.baler", "--model", "gpu.balermodel", "--quiet"}).status == 0);
  REQUIRE(baler_cli({"decompress", "cpu.baler", "-o", "cpu_on_gpu.npz", "--device", "cuda"}).status == 0);
  CHECK(worst_rms_over_range(lhcb, "cpu_on_gpu.npz") < 0.1);
  CHECK(worst_rms_over_range("on_cpu.npz", "cpu_on_gpu.npz") < 1e-3);
}
