// Training and inference speed of the CUDA backend (float32), timed on the GPU: every iteration
// records a CUDA event on the backend's stream before and after the timed work, waits for the
// second and reports the time between them (manual time), so only device time, including any
// gap the host leaves between launches, is counted.
//
//   cuda_train_step/f32/<batch>          one training step of Baler's HEP autoencoder
//                                        (24-200-100-50-15-50-100-200-24, LeakyReLU): gather a
//                                        shuffled batch from a device-resident table of
//                                        train_table_rows rows, forward (train), MSE value and
//                                        gradient, backward, Adam step. items/s = samples/s.
//   cuda_kernel/<kernel>/.../<rows>      the backend's own kernels alone at the model's shapes;
//                                        bytes/s and GB/s count each input read once and each
//                                        output written once (effective bandwidth).
//   cuda_encode/f32/tf32_<off|on>/<rows> model.encode / model.decode of device-resident rows;
//   cuda_decode/f32/tf32_<off|on>/<rows> items/s = rows/s, bytes/s = float input bytes (encode)
//                                        or float output bytes (decode). tf32_on lets cuBLAS use
//                                        TF32 tensor cores (cuda_options::tf32).
//   cuda_latent/<quantize|dequantize>/.. latent <-> 16-bit bits; GB/s counts the floats and the
//                                        16-bit values (6 bytes per value), as bench_half does.
//
// bench/compare_pytorch_cuda.py runs this program and PyTorch on the same GPU and prints the
// ratios. Without a usable GPU the program prints "skipped: <reason>" and exits 0.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "baler/backend/cuda.hpp"
#include "baler/models/baler_ae.hpp"
#include "baler/nn/losses.hpp"
#include "baler/nn/parameters.hpp"
#include "baler/optim/adam.hpp"

namespace {

using backend = baler::cuda;
using T = float;
template <class V>
using device = backend::matrix<V>;

constexpr std::size_t features = 24;                           // Baler's HEP data width
constexpr std::size_t hidden = 200;                            // widest hidden layer
constexpr std::size_t train_table_rows = std::size_t(1) << 20;  // rows the batches come from
constexpr std::size_t codec_rows = std::size_t(1) << 20;        // rows per encode / decode
constexpr std::size_t latent_rows = std::size_t(1) << 22;       // rows per latent conversion
constexpr int warmup_runs = 3;  // untimed runs before each timed loop (allocations, cuBLAS)

baler::models::ae_shape model_shape() { return {}; }  // 24 -> 200 -> 100 -> 50 -> 15, slope 0.01

// Standard normal float32 values from a fixed seed, generated once and shared by every
// benchmark (a prefix of the same sequence for every size).
const T* host_normal(std::size_t count) {
  static std::vector<T> values;
  if (values.size() < count) {
    baler::rng gen(1234);
    values.resize(count);
    for (auto& v : values) v = T(gen.normal());
  }
  return values.data();
}

// A rows x cols device matrix of standard normal values.
device<T> device_normal(backend& be, std::size_t rows, std::size_t cols) {
  return be.resident_table(host_normal(rows * cols), rows, cols);
}

// Two events on the backend's stream: elapsed device time of the work enqueued between them.
class event_timer {
public:
  explicit event_timer(cudaStream_t stream) : stream_(stream) {
    BALER_CUDA_CHECK(cudaEventCreate(&start_));
    const cudaError_t status = cudaEventCreate(&stop_);
    if (status != cudaSuccess) cudaEventDestroy(start_);
    BALER_CUDA_CHECK(status);
  }
  event_timer(const event_timer&) = delete;
  event_timer& operator=(const event_timer&) = delete;
  ~event_timer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  void start() { BALER_CUDA_CHECK(cudaEventRecord(start_, stream_)); }
  // Seconds since start(), once the device has reached this point.
  double stop() {
    BALER_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    BALER_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    BALER_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return double(ms) * 1e-3;
  }

private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// Runs `work` warmup_runs times untimed, then once per benchmark iteration between two events.
template <class F>
void timed_loop(benchmark::State& state, backend& be, F&& work) {
  for (int i = 0; i < warmup_runs; ++i) work();
  be.synchronize();
  event_timer timer(be.stream());
  for (auto _ : state) {
    timer.start();
    work();
    state.SetIterationTime(timer.stop());
  }
}

// A failure (CUDA error, out of memory, ...) skips the benchmark with its message instead of
// ending the program, so the other benchmarks still report.
template <class F>
void guarded(benchmark::State& state, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    const std::string message = e.what();
    state.SkipWithError(message.c_str());
  }
}

// Throughput counters: items/s and bytes/s (Google Benchmark's own), plus "GB/s" in 1e9 bytes.
void set_rates(benchmark::State& state, std::size_t items_per_iteration,
               std::size_t bytes_per_iteration) {
  const auto iterations = std::int64_t(state.iterations());
  state.SetItemsProcessed(iterations * std::int64_t(items_per_iteration));
  state.SetBytesProcessed(iterations * std::int64_t(bytes_per_iteration));
  state.counters["GB/s"] = benchmark::Counter(double(iterations) * double(bytes_per_iteration) * 1e-9,
                                              benchmark::Counter::kIsRate);
}

// ---- one training step ------------------------------------------------------------------------
void train_step(benchmark::State& state) {
  guarded(state, [&] {
    const auto batch = std::size_t(state.range(0));
    const std::size_t rows = train_table_rows;
    backend be;
    auto model = baler::models::make_ae<backend, T>(model_shape());
    baler::parameters<backend, T> p(be, model, 1);
    baler::Adam<backend, T> opt;
    const device<T> table = device_normal(be, rows, features);
    device<T> x = be.make<T>(batch, features), g = be.make<T>(batch, features);
    // The trainer's order: one shuffle of the rows, then consecutive slices of it.
    const std::vector<std::size_t> order = baler::rng(7).permutation(rows);
    std::size_t offset = 0;
    double loss = 0;
    timed_loop(state, be, [&] {
      if (offset + batch > rows) offset = 0;
      be.gather_rows(table, order.data() + offset, backend::view(x));
      offset += batch;
      const auto y = model.forward(be, backend::view(x), baler::mode::train);
      loss = baler::mse_loss{}.value_and_grad(be, y, backend::view(x), backend::view(g));
      model.backward(be, backend::view(g), baler::matrix_view<T>{});
      opt.step(be, p.values(), p.gradients());
    });
    state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(batch));
    state.counters["loss"] = loss;  // a finite loss: the step computed something sensible
  });
}

// ---- the fused kernels alone ------------------------------------------------------------------
void kernel_bias_leaky_relu(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = hidden;
    backend be;
    device<T> y = device_normal(be, rows, cols), bias = be.make<T>(1, cols);
    be.fill(backend::view(bias), T(0));
    const baler::act::leaky_relu f(0.01);
    timed_loop(state, be, [&] { be.bias_activation_forward(f, bias.data(), backend::view(y)); });
    set_rates(state, rows, (2 * rows * cols + cols) * sizeof(T));
  });
}

void kernel_leaky_relu_backward(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = hidden;
    backend be;
    const device<T> y = device_normal(be, rows, cols);
    device<T> dy = device_normal(be, rows, cols);
    const baler::act::leaky_relu f(0.01);
    timed_loop(state, be, [&] { be.activation_backward(f, backend::view(y), backend::view(dy)); });
    set_rates(state, rows, 3 * rows * cols * sizeof(T));
  });
}

void kernel_column_sums(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = hidden;
    backend be;
    const device<T> m = device_normal(be, rows, cols);
    device<T> out = be.make<T>(1, cols);
    timed_loop(state, be, [&] { be.column_sums(backend::view(m), out.data()); });
    set_rates(state, rows, (rows * cols + cols) * sizeof(T));
  });
}

// The loss kernel alone, through its launcher: value (left on the device) and gradient.
void kernel_mse(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = features, n = rows * cols;
    backend be;
    const device<T> pred = device_normal(be, rows, cols);
    device<T> target = be.make<T>(rows, cols), grad = be.make<T>(rows, cols);
    be.fill(backend::view(target), T(0.5));
    device<double> workspace = be.make<double>(1, baler::cuda_kernels::sum_workspace);
    device<double> result = be.make<double>(1, 1);
    timed_loop(state, be, [&] {
      baler::cuda_kernels::mse(be.stream(), pred.data(), target.data(), grad.data(), n,
                               1.0 / double(n), workspace.data(), result.data());
    });
    set_rates(state, rows, 3 * n * sizeof(T));
  });
}

// The backend's mse as training calls it: the kernel plus the wait for the value and its copy.
void kernel_mse_with_value(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = features, n = rows * cols;
    backend be;
    const device<T> pred = device_normal(be, rows, cols);
    device<T> target = be.make<T>(rows, cols), grad = be.make<T>(rows, cols);
    be.fill(backend::view(target), T(0.5));
    double value = 0;
    timed_loop(state, be, [&] {
      value = be.mse(backend::view(pred), backend::view(std::as_const(target)),
                     backend::view(grad), true);
    });
    benchmark::DoNotOptimize(value);
    set_rates(state, rows, 3 * n * sizeof(T));
  });
}

// One Adam update over the HEP model's flat parameter buffer.
void kernel_adam_step(benchmark::State& state) {
  guarded(state, [&] {
    backend be;
    const std::size_t n = baler::models::make_ae<backend, T>(model_shape()).param_count();
    device<T> params = device_normal(be, 1, n), grads = device_normal(be, 1, n);
    device<T> m = be.make<T>(1, n), v = be.make<T>(1, n);
    be.fill(backend::view(m), T(0));
    be.fill(backend::view(v), T(0));
    long step = 0;
    timed_loop(state, be, [&] {
      be.adam_step(params.data(), grads.data(), m.data(), v.data(), n, 1e-3, 0.9, 0.999, 1e-8,
                   0.0, 0.0, ++step);
    });
    state.counters["params"] = double(n);
    set_rates(state, n, 7 * n * sizeof(T));  // items: parameters; reads p g m v, writes p m v
  });
}

void kernel_batchnorm_forward_train(benchmark::State& state) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = hidden;
    backend be;
    const device<T> x = device_normal(be, rows, cols);
    device<T> y = be.make<T>(rows, cols);
    device<T> gamma = be.make<T>(1, cols), beta = be.make<T>(1, cols);
    device<T> mean = be.make<T>(1, cols), invstd = be.make<T>(1, cols);
    device<T> running_mean = be.make<T>(1, cols), running_var = be.make<T>(1, cols);
    be.fill(backend::view(gamma), T(1));
    be.fill(backend::view(beta), T(0));
    be.fill(backend::view(running_mean), T(0));
    be.fill(backend::view(running_var), T(1));
    timed_loop(state, be, [&] {
      be.batchnorm_forward_train(backend::view(x), backend::view(y), gamma.data(), beta.data(),
                                 mean.data(), invstd.data(), running_mean.data(),
                                 running_var.data(), 0.1, 1e-5);
    });
    set_rates(state, rows, 2 * rows * cols * sizeof(T));
  });
}

// ---- encode and decode at large batch ---------------------------------------------------------
// model.encode of (rows x features) or model.decode of (rows x latent). Bytes count the float
// rows of the data side: the input of encode, the output of decode (both rows x features).
void codec_pass(benchmark::State& state, bool tf32, bool encoding) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0));
    backend be(baler::cuda_options{0, tf32});
    auto model = baler::models::make_ae<backend, T>(model_shape());
    baler::parameters<backend, T> p(be, model, 1);
    const device<T> x =
        device_normal(be, rows, encoding ? model.in_features() : model.latent_features());
    timed_loop(state, be, [&] {
      if (encoding) model.encode(be, backend::view(x));
      else model.decode(be, backend::view(x));
    });
    set_rates(state, rows, rows * model.in_features() * sizeof(T));
  });
}

// ---- latent quantisation ----------------------------------------------------------------------
void latent_quantize(benchmark::State& state, baler::half_format format) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = model_shape().latent, n = rows * cols;
    backend be;
    const device<T> z = device_normal(be, rows, cols);
    device<std::uint16_t> bits = be.make<std::uint16_t>(rows, cols);
    timed_loop(state, be, [&] { be.quantize_latent(backend::view(z), format, backend::view(bits)); });
    set_rates(state, n, n * (sizeof(T) + sizeof(std::uint16_t)));  // items: values
  });
}

void latent_dequantize(benchmark::State& state, baler::half_format format) {
  guarded(state, [&] {
    const auto rows = std::size_t(state.range(0)), cols = model_shape().latent, n = rows * cols;
    backend be;
    const device<T> z0 = device_normal(be, rows, cols);
    device<std::uint16_t> bits = be.make<std::uint16_t>(rows, cols);
    be.quantize_latent(backend::view(z0), format, backend::view(bits));
    device<T> z = be.make<T>(rows, cols);
    timed_loop(state, be,
               [&] { be.dequantize_latent(backend::view(bits), format, backend::view(z)); });
    set_rates(state, n, n * (sizeof(T) + sizeof(std::uint16_t)));
  });
}

// ---- registration -----------------------------------------------------------------------------
template <class F>
auto* add(const std::string& name, F&& f) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(f))
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_all() {
  add("cuda_train_step/f32", train_step)->Arg(512)->Arg(4096)->Arg(65536);

  const std::string cols = "/cols:" + std::to_string(hidden);
  for (auto* b : {add("cuda_kernel/bias_activation_forward/leaky_relu" + cols, kernel_bias_leaky_relu),
                  add("cuda_kernel/activation_backward/leaky_relu" + cols, kernel_leaky_relu_backward),
                  add("cuda_kernel/column_sums" + cols, kernel_column_sums),
                  add("cuda_kernel/batchnorm_forward_train" + cols, kernel_batchnorm_forward_train),
                  add("cuda_kernel/mse/cols:" + std::to_string(features), kernel_mse),
                  add("cuda_kernel/mse_with_value/cols:" + std::to_string(features),
                      kernel_mse_with_value)})
    b->Arg(4096)->Arg(65536);
  add("cuda_kernel/adam_step/ae_params", kernel_adam_step);

  for (const bool tf32 : {false, true}) {
    const std::string suffix = tf32 ? "/tf32_on" : "/tf32_off";
    add("cuda_encode/f32" + suffix, [tf32](benchmark::State& s) { codec_pass(s, tf32, true); })
        ->Arg(std::int64_t(codec_rows));
    add("cuda_decode/f32" + suffix, [tf32](benchmark::State& s) { codec_pass(s, tf32, false); })
        ->Arg(std::int64_t(codec_rows));
  }

  using baler::half_format;
  const std::string latent_cols = "/cols:" + std::to_string(model_shape().latent);
  add("cuda_latent/quantize/f16" + latent_cols,
      [](benchmark::State& s) { latent_quantize(s, half_format::f16); })
      ->Arg(std::int64_t(latent_rows));
  add("cuda_latent/quantize/bf16" + latent_cols,
      [](benchmark::State& s) { latent_quantize(s, half_format::bf16); })
      ->Arg(std::int64_t(latent_rows));
  add("cuda_latent/dequantize/f16" + latent_cols,
      [](benchmark::State& s) { latent_dequantize(s, half_format::f16); })
      ->Arg(std::int64_t(latent_rows));
}

// What the comparison script needs to know besides the results, and what identifies the run.
void add_context(const backend& be) {
  benchmark::AddCustomContext("cuda_device", be.device_name());
  int runtime = 0, driver = 0;
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
    benchmark::AddCustomContext("cuda_runtime_version", std::to_string(runtime));
  if (cudaDriverGetVersion(&driver) == cudaSuccess)
    benchmark::AddCustomContext("cuda_driver_version", std::to_string(driver));
  const auto s = model_shape();
  benchmark::AddCustomContext(
      "model", "AE " + std::to_string(s.features) + "-" + std::to_string(s.hidden[0]) + "-" +
                   std::to_string(s.hidden[1]) + "-" + std::to_string(s.hidden[2]) + "-" +
                   std::to_string(s.latent) + " and mirrored, LeakyReLU");
  benchmark::AddCustomContext("train_table_rows", std::to_string(train_table_rows));
  benchmark::AddCustomContext("codec_rows", std::to_string(codec_rows));
}

}  // namespace

int main(int argc, char** argv) {
  const baler::cuda_availability gpu = baler::cuda_status();
  if (!gpu.available) {
    std::cout << "skipped: " << gpu.reason << std::endl;
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    const backend be;
    add_context(be);
  } catch (const std::exception& e) {
    std::cerr << "error: cannot use the GPU: " << e.what() << std::endl;
    return 1;
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
