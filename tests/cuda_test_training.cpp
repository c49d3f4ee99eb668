// Training end to end on the CUDA backend: Baler's HEP model (models::make_ae with its defaults,
// 24 -> 200 -> 100 -> 50 -> 15 and back) on a real table, against the same run on the CPU
// backend, and the determinism of fit on CUDA.
#include <cstring>

#include "baler/io/dataset.hpp"
#include "baler/nn/nn.hpp"
#include "cuda_test_support.hpp"

using namespace baler;
using namespace cuda_test;

namespace {

// The 24 columns of LHCb's three hadrons (PX, PY, PZ, ProbK, ProbPi, Charge, IPChi2 and isMuon
// of each), min-max normalised to [0, 1]: Baler's HEP model takes 24 inputs.
struct table24 {
  std::vector<float> values;
  std::size_t rows = 0;
};

table24 lhcb_hadrons() {
  const dataset d = load_dataset(test_data::path("hep/lhcb_b2kkk.npz"));
  REQUIRE(d.data.shape.size() == 2);
  REQUIRE(d.data.shape[1] == 26);
  REQUIRE(d.names.size() == 26);
  REQUIRE(d.names[2] == "H1_PX");
  REQUIRE(d.names[25] == "H3_isMuon");
  const auto all = d.data.to_doubles();
  table24 t;
  t.rows = d.data.shape[0];
  t.values.resize(t.rows * 24);
  for (std::size_t c = 0; c < 24; ++c) {
    double lo = all[c + 2], hi = all[c + 2];
    for (std::size_t r = 0; r < t.rows; ++r) {
      lo = std::min(lo, all[r * 26 + c + 2]);
      hi = std::max(hi, all[r * 26 + c + 2]);
    }
    REQUIRE(hi > lo);
    for (std::size_t r = 0; r < t.rows; ++r)
      t.values[r * 24 + c] = float((all[r * 26 + c + 2] - lo) / (hi - lo));
  }
  return t;
}

constexpr std::size_t batch_size = 64;
constexpr double validation_fraction = 0.1;

struct run_result {
  train_history history;
  std::vector<float> weights;
  transfer_counts during_fit;  // CUDA only
};

// The run both backends make: the same initial weights (seed 1), split and batch order (seed 5).
template <class B>
run_result train_hep(B& be, const table24& t, std::size_t epochs) {
  auto model = models::make_ae<B, float>(models::ae_shape{});
  parameters<B, float> params(be, model, 1);
  Adam<B, float> opt(adam_options{1e-3});
  train_options o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.validation_fraction = validation_fraction;
  o.seed = 5;
  run_result r;
  transfer_counts before;
  if constexpr (std::is_same_v<B, cuda>) before = be.transfers();
  r.history = fit(be, model, params, opt, t.values.data(), t.rows, 24, o);
  if constexpr (std::is_same_v<B, cuda>) {
    const transfer_counts after = be.transfers();
    r.during_fit = {after.uploads - before.uploads, after.downloads - before.downloads,
                    after.bytes_up - before.bytes_up, after.bytes_down - before.bytes_down};
  }
  r.weights = host_copy(be, params.values());
  return r;
}

std::string losses(const train_history& h) {
  std::string s;
  for (const auto& e : h.epochs) s += " " + std::to_string(e.validation_loss);
  return s;
}

}  // namespace

// =============================================================================================

TEST_CASE("Baler's HEP model on LHCb: CUDA and CPU reach the same validation loss") {
  const table24 t = lhcb_hadrons();
  const std::size_t epochs = 8;
  cpu host(2);
  cuda gpu;
  const run_result on_cpu = train_hep(host, t, epochs);
  const run_result on_gpu = train_hep(gpu, t, epochs);
  MESSAGE("validation MSE per epoch, cpu:" << losses(on_cpu.history));
  MESSAGE("validation MSE per epoch, cuda:" << losses(on_gpu.history));
  REQUIRE(on_cpu.history.epochs.size() == epochs);
  REQUIRE(on_gpu.history.epochs.size() == epochs);

  const auto& a = on_cpu.history.epochs;
  const auto& b = on_gpu.history.epochs;
  // The runs start from the same weights and see the same batches; only rounding separates
  // them, and it has little time to grow within the first epoch.
  CHECK(relative_error(b.front().train_loss, a.front().train_loss) <= 0.01);
  CHECK(relative_error(b.front().validation_loss, a.front().validation_loss) <= 0.01);
  // After several epochs the trajectories differ in detail but not in how far they got.
  CHECK(relative_error(b.back().validation_loss, a.back().validation_loss) <= 0.05);
  CHECK(relative_error(b.back().train_loss, a.back().train_loss) <= 0.05);
  // And both learned: the validation loss fell well below the first epoch's.
  CHECK(a.back().validation_loss < 0.5 * a.front().validation_loss);
  CHECK(b.back().validation_loss < 0.5 * b.front().validation_loss);
  for (const auto& e : b) {
    CHECK(std::isfinite(e.train_loss));
    CHECK(std::isfinite(e.validation_loss));
  }
}

TEST_CASE("fit on CUDA is deterministic and moves only batch indices and loss values") {
  const table24 t = lhcb_hadrons();
  const std::size_t epochs = 3;
  auto run = [&] {
    cuda gpu;  // a fresh context each time
    return train_hep(gpu, t, epochs);
  };
  const run_result first = run(), second = run();
  REQUIRE(first.history.epochs.size() == epochs);
  REQUIRE(second.history.epochs.size() == epochs);
  for (std::size_t e = 0; e < epochs; ++e) {
    INFO("epoch " << e);
    CHECK(first.history.epochs[e].train_loss == second.history.epochs[e].train_loss);
    CHECK(first.history.epochs[e].validation_loss == second.history.epochs[e].validation_loss);
  }
  CHECK(first.history.best_epoch == second.history.best_epoch);
  REQUIRE(first.weights.size() == second.weights.size());
  CHECK(std::memcmp(first.weights.data(), second.weights.data(),
                    first.weights.size() * sizeof(float)) == 0);

  // What crossed the bus during fit: the table once, the row indices of each batch, and one
  // loss value per batch. Weights, gradients and optimizer state never leave the device.
  const std::size_t val = std::size_t(validation_fraction * double(t.rows)), train = t.rows - val;
  auto batches = [](std::size_t n) { return (n + batch_size - 1) / batch_size; };
  const std::size_t steps = epochs * (batches(train) + batches(val));
  const transfer_counts& c = first.during_fit;
  MESSAGE("during fit: " << c.uploads << " uploads (" << c.bytes_up << " bytes), " << c.downloads
                         << " downloads (" << c.bytes_down << " bytes), " << steps << " batches");
  CHECK(c.uploads >= 1);
  CHECK(c.uploads <= 1 + steps);
  CHECK(c.bytes_up <= t.rows * 24 * sizeof(float) + epochs * t.rows * sizeof(std::size_t));
  CHECK(c.downloads >= epochs);
  CHECK(c.downloads <= steps);
  CHECK(c.bytes_down <= steps * sizeof(double));
}
