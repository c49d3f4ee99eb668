// The command line on the GPU: --device cuda trains, compresses and decompresses, and its files
// decompress on the CPU as well (and the other way round) to nearly the same values.
#include "test_cli_support.hpp"

#include "baler/io/dataset.hpp"
#include "baler/metrics/bound_check.hpp"
#include "baler/metrics/column_errors.hpp"

using namespace cli_test;

namespace {

// The squared error summed over the columns that come back with an error, against their
// variance, each in units of the column's range: predicting each column's mean leaves 1. The
// default model after 30 epochs leaves about 0.2 on the CPU (its worst column's RMS is about
// 11 % of the range: a per-column limit cannot tell it from a broken network).
double unexplained_fraction(const std::string& original, const std::string& decompressed) {
  const baler::dataset a = baler::load_dataset(original);
  const std::vector<double> x = a.data.to_doubles();
  const std::size_t cols = a.data.shape.at(1), rows = x.size() / cols;
  double error = 0, variance = 0;
  const auto columns = baler::metrics::compare(a, baler::load_dataset(decompressed));  // in column order
  for (std::size_t j = 0; j < cols; ++j) {
    const auto& c = columns.at(j);
    if (c.rms_residual == 0) continue;  // stored exactly
    double mean = 0, square = 0;
    for (std::size_t r = 0; r < rows; ++r) mean += x[r * cols + j] / double(rows);
    for (std::size_t r = 0; r < rows; ++r) square += (x[r * cols + j] - mean) * (x[r * cols + j] - mean) / double(rows);
    error += c.rms_over_range * c.rms_over_range;
    variance += square / (c.range * c.range);
  }
  return error / variance;
}

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
  const double gpu = unexplained_fraction(lhcb, "on_gpu.npz");
  MESSAGE("unexplained fraction of the variance: " << gpu);
  CHECK(gpu < 0.4);
  CHECK(std::abs(gpu - unexplained_fraction(lhcb, "on_cpu.npz")) < 1e-3);  // one file: float rounding only
  CHECK(worst_rms_over_range("on_cpu.npz", "on_gpu.npz") < 1e-4);

  // A model trained on the GPU compresses on the CPU; a CPU file decompresses on the GPU.
  REQUIRE(baler_cli({"compress", lhcb, "-o", "cpu.baler", "--model", "gpu.balermodel", "--quiet"}).status == 0);
  REQUIRE(baler_cli({"decompress", "cpu.baler", "-o", "cpu_on_gpu.npz", "--device", "cuda"}).status == 0);
  CHECK(unexplained_fraction(lhcb, "cpu_on_gpu.npz") < 0.4);
  CHECK(worst_rms_over_range("on_cpu.npz", "cpu_on_gpu.npz") < 1e-3);
}

// The error-bounded mode with its learned predictors asked for (an autoencoder over the table's
// rows, a conv model over the CFD frames, trained where the file is written): whichever backend
// decodes a file, and whichever wrote it, the values are the same bits, each within its bound.
TEST_CASE("baler --device cuda --error-bound: one file, the same values on both backends, within the bound") {
  scratch s;
  struct input {
    std::string path;
    std::vector<std::string> model;
  };
  for (const input& in : {input{lhcb, {"--epochs", "10"}},
                          input{cfd, {"--architecture", "conv", "--epochs", "5"}}}) {
    if (in.path.empty()) continue;  // test_data says which file is missing
    INFO(in.path);
    const baler::dataset original = baler::load_dataset(in.path);
    for (const std::string writer : {"cuda", "cpu"}) {
      INFO("written on " << writer);
      auto args = std::vector<std::string>{"-f", "compress", in.path, "-o", "b.baler", "--device", writer,
                                           "--error-bound", "range:1e-3", "--latent-predictor", "always",
                                           "--seed", "2", "-q"};
      args.insert(args.end(), in.model.begin(), in.model.end());
      REQUIRE(baler_cli(args).status == 0);
      REQUIRE(baler_cli({"-f", "decompress", "b.baler", "-o", "on_cpu.npz"}).status == 0);
      REQUIRE(baler_cli({"-f", "decompress", "b.baler", "-o", "on_gpu.npz", "--device", "cuda"}).status == 0);
      const baler::dataset on_cpu = baler::load_dataset("on_cpu.npz"), on_gpu = baler::load_dataset("on_gpu.npz");
      CHECK(on_gpu.data.to_doubles() == on_cpu.data.to_doubles());
      for (const auto& b : baler::metrics::check_bounds(original, on_gpu, baler::codec::parse_bound_config("range:1e-3"))) {
        INFO(b.name << ": worst error / allowed " << b.worst);
        CHECK(b.holds());
      }
    }
  }
}
