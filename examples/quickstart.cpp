// The README's library example: train Baler's autoencoder on a table, compress it into one
// self-contained file, restore it, and print the per-column errors.
#include <cstdio>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/metrics/column_errors.hpp"

int main() {
  using namespace baler;
  cpu backend;                                    // xtensor + OpenBLAS
  codec::codec_options options;                   // defaults: latent = half the columns, quantised
  options.epochs = 300;
  codec::Codec<cpu, models::AE<cpu, float>> codec(backend, options);

  const dataset table = load_dataset("examples/data/lhcb_b2kkk.npz");  // 4322 x 26, float64
  codec.train(table);
  const std::vector<std::byte> file = codec.compress(table);  // latent + decoder + metadata
  write_file_atomically("lhcb.baler", file, /*overwrite=*/true);

  const dataset restored = codec.decompress(read_file("lhcb.baler"));
  std::printf("whole-file ratio %.2f\n%s", double(table.data.nbytes()) / double(file.size()),
              metrics::format_table(metrics::compare(table, restored)).c_str());
}
