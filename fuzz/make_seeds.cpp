// Writes the seed corpora of the harnesses that read baler's own files: a small table
// compressed (plain and error-bounded, with its decoder, single and chunked), its model file,
// and chunks as the HDF5 filter stores them. The other harnesses start from the test fixtures
// (.ci/fuzz copies them).
//   make_seeds OUT_DIR   ->  OUT_DIR/{container,decompress,model,config,error_bound,chunked,hdf5_filter}/...
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>

#include "../hdf5/H5Zbaler_chunk.hpp"
#include "baler/codec/chunked.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/core/rng.hpp"

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

// 512 jets, what the table predictors exist for: px, py and the pt and azimuth they give
// (formulas), a mass that goes with pt (partnered and mixed histograms), an energy, a
// column with NaN (its marker), one with -999 for missing rows (a sentinel) and a count.
baler::dataset jets() {
  baler::dataset d;
  d.names = {"px", "py", "pt", "phi", "m", "E", "iso", "d0", "n"};
  const std::size_t rows = 512, cols = d.names.size();
  d.data = baler::ndarray::zeros(baler::dtype::f64, {rows, cols});
  auto* v = reinterpret_cast<double*>(d.data.bytes.data());
  baler::rng random(12345);
  for (std::size_t i = 0; i < rows; ++i) {
    double* r = v + i * cols;
    const double pt = 20 + 200 * random.uniform() * random.uniform(), phi = random.uniform(-M_PI, M_PI);
    r[0] = pt * std::cos(phi), r[1] = pt * std::sin(phi), r[2] = pt, r[3] = phi;
    r[4] = 0.1 * pt * (0.5 + random.uniform());
    r[5] = std::sqrt(pt * pt * (1 + 4 * random.uniform()) + r[4] * r[4]);
    r[6] = i % 7 == 3 ? NAN : random.uniform();
    r[7] = i % 5 == 0 ? -999.0 : 0.01 * (random.uniform() - 0.5);
    r[8] = std::floor(10 * random.uniform() * random.uniform());
  }
  return d;
}

// 6 frames of 12 x 16 f32, a pattern drifting from frame to frame.
baler::dataset frames() {
  baler::dataset d;
  d.data = baler::ndarray::zeros(baler::dtype::f32, {6, 12, 16});
  auto* v = reinterpret_cast<float*>(d.data.bytes.data());
  for (int t = 0; t < 6; ++t)
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 16; ++x) v[(t * 12 + y) * 16 + x] = float(std::sin(0.4 * x + 0.3 * t) * std::cos(0.5 * y) + 0.01 * ((x * 7 + y * 3 + t) % 5));
  return d;
}

// A grid of 32 x 32 f32, smooth with a ripple: the corrected wavelet's at range:1e-2.
baler::dataset image() {
  baler::dataset d;
  d.data = baler::ndarray::zeros(baler::dtype::f32, {32, 32});
  auto* v = reinterpret_cast<float*>(d.data.bytes.data());
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) v[y * 32 + x] = float(std::sin(0.25 * x) * std::cos(0.2 * y) + 0.01 * std::sin(3.1 * x * y));
  return d;
}

// A grid of 8 x 8 f32, one smooth field.
baler::dataset field() {
  baler::dataset d;
  d.data = baler::ndarray::zeros(baler::dtype::f32, {8, 8});
  auto* v = reinterpret_cast<float*>(d.data.bytes.data());
  for (int i = 0; i < 64; ++i) v[i] = float(std::cos(0.3 * (i / 8)) * std::sin(0.2 * (i % 8)));
  return d;
}

// One stored chunk of the HDF5 filter, as the fuzz_hdf5_filter input: the parameter count,
// the parameters (u32 little-endian), the chunk. `user` are the four H5Pset_baler() sets.
std::vector<std::byte> filter_seed(std::vector<unsigned> user, const baler::ndarray& chunk) {
  std::vector<unsigned> cd = std::move(user);
  cd.push_back(static_cast<unsigned>(chunk.type));
  cd.push_back(static_cast<unsigned>(chunk.shape.size()));
  for (std::size_t n : chunk.shape) cd.push_back(static_cast<unsigned>(n));
  baler::byte_writer w;
  w.write_u8(static_cast<std::uint8_t>(cd.size()));
  for (unsigned v : cd) w.write_u32(v);
  w.write_bytes(baler::h5z::encode_chunk(cd.size(), cd.data(), baler::byte_view(chunk.bytes)));
  return w.bytes();
}

// The four user parameters of a bound (kind: 0 abs, 1 range, 2 rel) and layout (0 table, 1 field).
std::vector<unsigned> user_params(unsigned kind, double bound, unsigned layout) {
  std::uint32_t words[2];
  std::memcpy(words, &bound, sizeof bound);
  return {kind, words[0], words[1], layout};
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
  const dataset j = jets(), t = frames(), img = image();
  // Models over tiles and frames (their files hold a tile, a conv model its frame), plain mode.
  for (const char* arch : {"patch", "conv"}) {
    codec::codec_options oa = o;
    oa.architecture = arch;
    oa.hidden = {2, 2, 2};
    codec::Codec<cpu, models::AE<cpu, float>> ca(be, oa);
    ca.train(t);
    const std::string name = std::string("frames_") + arch;
    save(out / "model" / (name + ".balermodel"), ca.save_model());
    for (const char* dir : {"container", "decompress"}) save(out / dir / (name + ".baler"), ca.compress(t));
  }
  // The error-bounded blocks of tables and fields: formulas, histograms, NaN and sentinel
  // markers, field walks (requantised under an abs bound), a field's wavelet and graded
  // requantising under PSNR targets, the corrected wavelet under a range bound, signed codes
  // under a rel bound.
  struct seed {
    const dataset& data;
    const char *bound, *name;
  };
  for (const seed& b : {seed{j, "range:1e-3", "jets_range"}, seed{j, "rel:1e-3", "jets_rel"},
                        seed{j, "range:1e-2,n=abs:0.5", "jets_named"}, seed{t, "range:1e-3", "frames_range"},
                        seed{t, "abs:1e-4", "frames_abs"}, seed{t, "rel:1e-2", "frames_rel"},
                        seed{t, "psnr:30", "frames_psnr"}, seed{t, "psnr:40", "frames_wavelet"},
                        seed{img, "range:1e-2", "image_corrected"}})
    save(out / "decompress" / (std::string(b.name) + ".baler"),
         codec::compress_error_bounded(b.data, codec::parse_bound_config(b.bound), o));
  // 64-bit integers past 2^53, held less their offsets (the header's "integer_offsets"): a
  // table of nanosecond times and counts, and a field.
  ndarray times = ndarray::zeros(dtype::i64, {64, 2}), grid = ndarray::zeros(dtype::i64, {4, 8, 8});
  for (std::int64_t r = 0; r < 64; ++r) {
    times.data_as<std::int64_t>()[2 * r] = 1600000000000000001 + r * 977;
    times.data_as<std::int64_t>()[2 * r + 1] = (r * 37) % 11 - 5;
  }
  for (std::size_t i = 0; i < grid.size(); ++i) grid.data_as<std::int64_t>()[i] = -4000000000000000003 + std::int64_t(i * i);
  save(out / "decompress" / "times_i64.baler",
       codec::compress_error_bounded(dataset{times, {"t_ns", "n"}}, codec::parse_bound_config("abs:10"), o));
  save(out / "decompress" / "grid_i64.baler", codec::compress_error_bounded(dataset{grid, {}}, codec::parse_bound_config("abs:3"), o));

  // Chunked files of 4 chunks: the shared model, an error bound, and a field.
  codec::chunked_options chunks;
  chunks.chunk_rows = 16;
  chunks.threads = 1;
  std::filesystem::create_directories(out / "chunked");
  codec::compress_chunked(codec::source_of(d), out / "chunked" / "plain.baler", true, o, chunks, c.save_model());
  codec::codec_options ob = o;
  ob.error_bound = codec::parse_bound_config("range:1e-3,flag=abs:0.5");
  codec::compress_chunked(codec::source_of(d), out / "chunked" / "bounded.baler", true, ob, chunks);
  const dataset f = field();
  ob.error_bound = codec::parse_bound_config("abs:1e-3");
  chunks.chunk_rows = 2;
  codec::compress_chunked(codec::source_of(f), out / "chunked" / "field.baler", true, ob, chunks);

  save(out / "hdf5_filter" / "table.bin", filter_seed(user_params(0, 1e-3, 0), d.data));
  save(out / "hdf5_filter" / "field.bin", filter_seed(user_params(1, 1e-2, 1), f.data));
  ndarray column = ndarray::zeros(dtype::i32, {40});
  for (int i = 0; i < 40; ++i) reinterpret_cast<std::int32_t*>(column.bytes.data())[i] = i * i - 300;
  save(out / "hdf5_filter" / "column_i32.bin", filter_seed(user_params(2, 1e-2, 0), column));
  save(out / "config" / "some.json",
       std::string(R"({"latent": 4, "hidden": [16, 8, 4], "latent_dtype": "bf16", "normalisation": "standard",)"
                   R"( "schedule": "step", "epochs": 3, "error_bound": "range:1e-3", "error_bounds": {"x": "abs:0.1"}})"));
  save(out / "error_bound" / "mixed.txt", std::string("range:1e-3,pt=rel:1e-3,m=abs:0.5"));
  return 0;
}
