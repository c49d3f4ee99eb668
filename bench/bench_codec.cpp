// Compress and decompress throughput of the codec on the bundled examples (a HEP table and a
// CFD field), in bytes of input per second. The model is trained once, outside the timing
// (a few epochs: the speed of encode and decode does not depend on how well it is trained).
// `bounded/...`: the error-bounded mode at range:1e-3 in-process, without a program's start-up
// (what bench/rate_distortion's MB/s include): on the bundled CFD frames and on the 2-D
// turbulence field of ../shared/data when it is there.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/codec/error_bounded.hpp"

using namespace baler;
using Codec = codec::Codec<cpu, models::AE<cpu, float>>;

namespace {

struct fixture {
  cpu be;
  dataset data;
  std::unique_ptr<Codec> codec;
  std::vector<std::byte> file;

  fixture(const std::string& path, codec::codec_options o) : data(load_dataset(path)) {
    o.epochs = 2;
    codec = std::make_unique<Codec>(be, o);
    codec->train(data);
    file = codec->compress(data);
  }
};

fixture& lhcb() {
  const codec::codec_options defaults;
  static fixture f(std::string(BALER_SOURCE_DIR) + "/examples/data/lhcb_b2kkk.npz", defaults);
  return f;
}
fixture& cfd() {
  codec::codec_options o;
  o.latent = 8;
  o.hidden = {64, 32, 16};
  static fixture f(std::string(BALER_SOURCE_DIR) + "/examples/data/CFD_animation.npz", o);
  return f;
}

void compress(benchmark::State& state, fixture& (*get)()) {
  fixture& f = get();
  for (auto _ : state) benchmark::DoNotOptimize(f.codec->compress(f.data));
  state.SetBytesProcessed(state.iterations() * std::int64_t(f.data.data.nbytes()));
}
void decompress(benchmark::State& state, fixture& (*get)()) {
  fixture& f = get();
  for (auto _ : state) benchmark::DoNotOptimize(f.codec->decompress(f.file));
  state.SetBytesProcessed(state.iterations() * std::int64_t(f.data.data.nbytes()));
}

struct bounded_fixture {
  dataset data;
  codec::bound_config bound = codec::parse_bound_config("range:1e-3");
  std::vector<std::byte> file;
  explicit bounded_fixture(const std::string& path) : data(load_dataset(path)), file(codec::compress_error_bounded(data, bound)) {}
};

bounded_fixture* bounded_cfd() {
  static bounded_fixture f(std::string(BALER_SOURCE_DIR) + "/examples/data/CFD_animation.npz");
  return &f;
}
bounded_fixture* bounded_turbulence() {
  const std::string path = std::string(BALER_SOURCE_DIR) + "/../shared/data/fields/sperr_vorticity_512x512.npz";
  if (!std::filesystem::exists(path)) return nullptr;
  static bounded_fixture f(path);
  return &f;
}

void bounded_compress(benchmark::State& state, bounded_fixture* (*get)()) {
  bounded_fixture* f = get();
  if (!f) return state.SkipWithError("data not found");
  for (auto _ : state) benchmark::DoNotOptimize(codec::compress_error_bounded(f->data, f->bound));
  state.SetBytesProcessed(state.iterations() * std::int64_t(f->data.data.nbytes()));
}
void bounded_decompress(benchmark::State& state, bounded_fixture* (*get)()) {
  bounded_fixture* f = get();
  if (!f) return state.SkipWithError("data not found");
  for (auto _ : state) benchmark::DoNotOptimize(codec::decompress_file(f->file));
  state.SetBytesProcessed(state.iterations() * std::int64_t(f->data.data.nbytes()));
}

BENCHMARK_CAPTURE(compress, lhcb, lhcb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(decompress, lhcb, lhcb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(compress, cfd, cfd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(decompress, cfd, cfd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bounded_compress, cfd, bounded_cfd)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bounded_decompress, cfd, bounded_cfd)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bounded_compress, turbulence, bounded_turbulence)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bounded_decompress, turbulence, bounded_turbulence)->Unit(benchmark::kMillisecond);

}  // namespace
