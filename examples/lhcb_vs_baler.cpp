// Compresses the LHCb B -> KKK table with baler and compares, column by column, with Baler's own
// reconstruction of the same table at its "ratio 2" (26 -> 13 latent variables in float64,
// decoder not counted). Our ratio counts the whole file: latent, embedded decoder, exact
// columns and metadata.
//
//   build/examples/lhcb_vs_baler [ORIGINAL.npz BALER_RECONSTRUCTION.npz] [--latent N]
//                                [--epochs N] [--markdown]
#include <cstring>
#include <iostream>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/metrics/column_errors.hpp"

using namespace baler;

int main(int argc, char** argv) try {
  std::string original = "examples/data/lhcb_b2kkk.npz";
  std::string reference = std::string(BALER_SHARED_DATA) + "/hep/lhcb_b2kkk_baler_ratio2.npz";
  codec::codec_options o;
  o.latent = 16;
  o.epochs = 1000;
  bool markdown = false;
  for (int i = 1, positional = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--latent") && i + 1 < argc) o.latent = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--epochs") && i + 1 < argc) o.epochs = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--markdown")) markdown = true;
    else (positional++ == 0 ? original : reference) = argv[i];
  }

  cpu be;
  codec::Codec<cpu, models::AE<cpu, float>> c(be, o);
  const dataset data = load_dataset(original);
  c.train(data);
  const auto file = c.compress(data);
  const dataset ours = c.decompress(file);
  const dataset baler_output = load_dataset(reference);
  const auto mine = metrics::compare(data, ours), theirs = metrics::compare(data, baler_output);

  const double ratio = double(data.data.nbytes()) / double(file.size());
  std::size_t wins = 0;
  std::printf(markdown ? "| column | baler (this) RMS/range %% | Baler RMS/range %% | better |\n|---|---:|---:|---|\n"
                       : "%-18s %16s %16s  %s\n",
              "column", "this RMS/range %", "Baler RMS/range %", "better");
  for (std::size_t k = 0; k < mine.size(); ++k) {
    const bool better = mine[k].rms_residual < theirs[k].rms_residual;
    wins += better;
    std::printf(markdown ? "| %s | %.3f | %.3f | %s |\n" : "%-18s %16.3f %16.3f  %s\n",
                mine[k].name.c_str(), 100 * mine[k].rms_over_range, 100 * theirs[k].rms_over_range,
                better ? (mine[k].rms_residual == 0 ? "this (exact)" : "this") : "Baler");
  }
  std::printf("\nwhole-file ratio against float64: %.2f (%zu bytes for %zu input bytes); "
              "Baler: 2 (latent only)\nlower RMS residual than Baler on %zu of %zu columns\n",
              ratio, file.size(), data.data.nbytes(), wins, mine.size());
  return ratio >= 2 && wins >= 22 ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "lhcb_vs_baler: " << e.what() << "\n";
  return 1;
}
