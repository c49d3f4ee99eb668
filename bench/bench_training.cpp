// Training-speed benchmarks on the CPU backend: Dense forward and backward, one Adam step over
// the flat parameters, and one full training step (forward, MSE, backward, Adam) of Baler's HEP
// autoencoder 24-200-100-50-15-50-100-200-24. items_per_second = samples per second.
// bench/compare_pytorch.py runs PyTorch beside this program and prints the ratios.
#include <benchmark/benchmark.h>

#include <string>

#include "baler/nn/nn.hpp"

using namespace baler;

namespace {

template <class T>
cpu::matrix<T> random_batch(std::size_t rows, std::size_t cols) {
  rng gen(42);
  cpu::matrix<T> m = cpu::matrix<T>::from_shape({rows, cols});
  for (auto& v : m) v = T(gen.normal());
  return m;
}

// A 200 -> 100 LeakyReLU Dense layer (the HEP model's widest hidden layer) with its input,
// output and gradients for one batch.
template <class T>
struct dense_case {
  cpu be;
  Dense<cpu, T, act::leaky_relu> layer{200, 100};
  cpu::matrix<T> params = random_batch<T>(1, layer.param_count()), grads = params;
  cpu::matrix<T> x, y, dy, dx;
  explicit dense_case(std::size_t batch)
      : x(random_batch<T>(batch, 200)), y(random_batch<T>(batch, 100)),
        dy(random_batch<T>(batch, 100)), dx(random_batch<T>(batch, 200)) {
    layer.bind(params.data(), grads.data(), nullptr);
  }
};

template <class T>
void dense_forward(benchmark::State& state) {
  dense_case<T> c(std::size_t(state.range(0)));
  for (auto _ : state) {
    c.layer.forward(c.be, cpu::view(c.x), cpu::view(c.y), mode::train);
    benchmark::DoNotOptimize(c.y.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class T>
void dense_backward(benchmark::State& state) {
  dense_case<T> c(std::size_t(state.range(0)));
  c.layer.forward(c.be, cpu::view(c.x), cpu::view(c.y), mode::train);
  const cpu::matrix<T> dy0 = c.dy;
  for (auto _ : state) {
    // backward scales dy in place by f'(y); without the refill, repeated iterations would
    // shrink it into denormals and time those instead. The copy is ~2 % of the step.
    std::copy(dy0.begin(), dy0.end(), c.dy.begin());
    c.layer.backward(c.be, cpu::view(c.x), cpu::view(c.y), cpu::view(c.dy), cpu::view(c.dx));
    benchmark::DoNotOptimize(c.dx.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class T>
void adam_step(benchmark::State& state) {
  cpu be;
  auto model = models::make_ae<cpu, T>({});
  parameters<cpu, T> p(be, model, 1);
  Adam<cpu, T> opt;
  for (auto _ : state) opt.step(be, p.values(), p.gradients());
  state.SetItemsProcessed(state.iterations() * std::int64_t(p.size()));  // parameters/s
}

// One optimisation step on a fresh batch of a larger table, as the trainer does it.
template <class T>
void train_step(benchmark::State& state) {
  const auto batch = std::size_t(state.range(0));
  cpu be;
  auto model = models::make_ae<cpu, T>({});
  parameters<cpu, T> p(be, model, 1);
  Adam<cpu, T> opt;
  const std::size_t rows = std::max<std::size_t>(2 * batch, 65536);
  const auto data = random_batch<T>(rows, 24);
  const auto table = be.resident_table(data.data(), rows, 24);
  cpu::matrix<T> x = cpu::matrix<T>::from_shape({batch, 24}), g = x;
  std::vector<std::size_t> index(batch);
  std::size_t offset = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) index[i] = (offset + i) % rows;
    offset = (offset + batch) % rows;
    be.gather_rows(table, index.data(), cpu::view(x));
    const auto y = model.forward(be, cpu::view(x), mode::train);
    mse_loss{}.value_and_grad(be, y, cpu::view(x), cpu::view(g));
    model.backward(be, cpu::view(g), matrix_view<T>{});
    opt.step(be, p.values(), p.gradients());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(batch));
}

void register_all() {
  for (const char* t : {"f32", "f64"}) {
    const bool f32 = std::string(t) == "f32";
    auto* fwd = benchmark::RegisterBenchmark((std::string("dense_forward/") + t).c_str(),
                                             f32 ? dense_forward<float> : dense_forward<double>);
    auto* bwd = benchmark::RegisterBenchmark((std::string("dense_backward/") + t).c_str(),
                                             f32 ? dense_backward<float> : dense_backward<double>);
    auto* step = benchmark::RegisterBenchmark((std::string("train_step/") + t).c_str(),
                                              f32 ? train_step<float> : train_step<double>);
    for (auto* b : {fwd, bwd, step}) b->Arg(512)->Arg(4096)->Arg(65536)->UseRealTime();
    benchmark::RegisterBenchmark((std::string("adam_step/") + t).c_str(),
                                 f32 ? adam_step<float> : adam_step<double>)
        ->UseRealTime();
  }
}
const int registered = (register_all(), 0);

}  // namespace
