// Writes the seed corpora of the harnesses that read baler's own files: a small table
// compressed (plain and error-bounded, with its decoder) and its model file. The other
// harnesses start from the test fixtures (.ci/fuzz copies them).
//   make_seeds OUT_DIR   ->  OUT_DIR/{container,decompress,model,config,error_bound}/...
#include <cmath>
#include <fstream>
#include <iostream>

#include "baler/codec/error_bounded.hpp"

namespace {

void save(const std::filesystem::path& path, baler::byte_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data), std::streamsize(bytes.size));
}

// 64 rows: a smooth column, an integer flag and a constant; small enough to fuzz quickly.
baler::dataset table() {
  baler::dataset d;
  d.names = {"x", "flag", "c"};
  d.data = baler::ndarray::zeros(baler::dtype::f64, {64, 3});
  auto* v = reinterpret_cast<double*>(d.data.bytes.data());
  for (int i = 0; i < 64; ++i) {
    v[3 * i] = std::sin(0.1 * i);
    v[3 * i + 1] = i % 2;
    v[3 * i + 2] = 1.5;
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace baler;
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  codec::codec_options o;
  o.epochs = 2;
  o.hidden = {8, 4, 4};
  o.latent = 2;
  cpu be(1);
  codec::Codec<cpu, models::AE<cpu, float>> c(be, o);
  const dataset d = table();
  c.train(d);
  const auto plain = c.compress(d);
  const auto bounded = codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-3"), o);
  for (const char* dir : {"container", "decompress"}) {
    save(out / dir / "plain.baler", plain);
    save(out / dir / "bounded.baler", bounded);
  }
  save(out / "model" / "small.balermodel", c.save_model());
  save(out / "config" / "some.json",
       std::string(R"({"latent": 4, "hidden": [16, 8, 4], "latent_dtype": "bf16", "normalisation": "standard",)"
                   R"( "schedule": "step", "epochs": 3, "error_bound": "range:1e-3", "error_bounds": {"x": "abs:0.1"}})"));
  save(out / "error_bound" / "mixed.txt", std::string("range:1e-3,pt=rel:1e-3,m=abs:0.5"));
  return 0;
}
