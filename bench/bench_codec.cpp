// Compress and decompress throughput of the codec on the bundled examples (a HEP table and a
// CFD field), in bytes of input per second. The model is trained once, outside the timing
// (a few epochs: the speed of encode and decode does not depend on how well it is trained).
#include <benchmark/benchmark.h>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"

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

BENCHMARK_CAPTURE(compress, lhcb, lhcb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(decompress, lhcb, lhcb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(compress, cfd, cfd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(decompress, cfd, cfd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
