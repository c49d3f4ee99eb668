// Throughput of the 16-bit float conversions. Bytes processed count both sides: the floats read
// plus the 16-bit values written (or the reverse), 6 bytes per value.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "baler/format/half.hpp"

namespace {

// Latent-like values: mostly normal f16 numbers, some subnormal or out of range.
std::vector<float> floats(std::size_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 100.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  for (std::size_t i = 0; i < n; i += 97) v[i] *= 1e-9f;
  return v;
}

template <void (*Encode)(const float*, std::size_t, std::uint16_t*)>
void encode(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  const std::vector<float> in = floats(n);
  std::vector<std::uint16_t> out(n);
  for (auto _ : state) {
    Encode(in.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n * (sizeof(float) + 2)));
}

template <void (*Encode)(const float*, std::size_t, std::uint16_t*),
          void (*Decode)(const std::uint16_t*, std::size_t, float*)>
void decode(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  std::vector<std::uint16_t> in(n);
  Encode(floats(n).data(), n, in.data());
  std::vector<float> out(n);
  for (auto _ : state) {
    Decode(in.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n * (sizeof(float) + 2)));
}

}  // namespace

BENCHMARK_TEMPLATE(encode, baler::encode_f16)->Name("float_to_f16")->Arg(1 << 20)->Arg(1 << 24);
BENCHMARK_TEMPLATE(decode, baler::encode_f16, baler::decode_f16)->Name("f16_to_float")->Arg(1 << 20)->Arg(1 << 24);
BENCHMARK_TEMPLATE(encode, baler::encode_bf16)->Name("float_to_bf16")->Arg(1 << 20)->Arg(1 << 24);
BENCHMARK_TEMPLATE(decode, baler::encode_bf16, baler::decode_bf16)->Name("bf16_to_float")->Arg(1 << 20)->Arg(1 << 24);
