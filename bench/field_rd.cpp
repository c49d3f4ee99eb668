// Rate-distortion of baler's plain mode on fields, against SZ3 at the same PSNR:
//
//   field_rd [--sz3 PATH] [--csv FILE] [--plot FILE.png] [--epochs N] [--batch N] [--lr X]
//            [--only FIELD] [--method patch|conv] [--data DIR]
//
// For each field (cfd/CFD_animation, fields/sperr_vorticity_512x512) it runs
//   baler-dense   the plain codec on whole frames (the leading axis as rows), default shape
//   baler-patch   the plain codec's patch architecture (codec/tiling.hpp): one small dense AE
//                 shared by every tile, several tile, latent and width choices
//   baler-conv    the conv architecture (models/conv_ae.hpp): a convolutional AE over whole
//                 frames (CFD) or square blocks (the vorticity), several latent and channel choices
//   sz3           SZ3 in PSNR mode (-M PSNR 40 and 50), when --sz3 names its binary
// and prints, per run, the whole file's bytes, the ratio against the input as stored and the
// PSNR (20 log10(value range) - 10 log10(MSE), SZ3's definition). Every size is the codec's
// complete .baler file: latent, decoder, normalisation, header.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/plot/gnuplot.hpp"

using namespace baler;
using namespace baler::codec;
namespace fs = std::filesystem;
using CpuCodec = Codec<cpu, models::AE<cpu, float>>;

namespace {

struct run {
  std::string field, method, config;
  std::size_t bytes = 0;
  double ratio = 0, psnr = 0, seconds = 0;
};

// SZ3's definition: value range over RMS error, in dB (metrics::summarize's psnr_db).
double psnr(const std::vector<double>& x, const std::vector<double>& y) {
  return metrics::summarize("field", x, y).psnr_db;
}

// A run of the patch or conv architecture.
struct tiled_config {
  std::string architecture;  // "patch" or "conv"
  std::vector<std::size_t> tile;
  std::size_t latent;                 // 0: the codec's default shape
  std::array<std::size_t, 3> hidden;  // 0, 0, 0: the codec's default widths (conv: channels)
};

std::string describe(const tiled_config& c) {
  std::string s = "tile ";
  for (std::size_t i = 0; i < c.tile.size(); ++i) s += (i ? "x" : "") + std::to_string(c.tile[i]);
  if (c.latent == 0) return s + " default shape";
  return s + " latent " + std::to_string(c.latent) +
         (c.architecture == "conv" ? " channels " : " hidden ") + std::to_string(c.hidden[0]) +
         "-" + std::to_string(c.hidden[1]) + "-" + std::to_string(c.hidden[2]);
}

// The plain codec on `d`; returns the file size and the restored values (row-major).
std::pair<std::size_t, std::vector<double>> plain_codec(const dataset& d, codec_options o) {
  cpu be(2);
  CpuCodec codec(be, o);
  codec.train(d);
  const std::vector<std::byte> file = codec.compress(d);
  CpuCodec reader(be, o);
  return {file.size(), reader.decompress(byte_view(file)).data.to_doubles()};
}

struct training {
  std::size_t epochs = 1000, batch = 64;
  double lr = 3e-3;
  codec_options options() const {
    codec_options o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.learning_rate = lr;
    o.lossless_max_distinct = 0;  // a tile position or pixel is never an integer column
    return o;
  }
};

// The codec's patch or conv architecture with tile, latent and widths of `c`.
run baler_tiled(const std::string& name, const dataset& d, const tiled_config& c,
                const training& tr) {
  const auto t0 = std::chrono::steady_clock::now();
  codec_options o = tr.options();
  o.architecture = c.architecture;
  // Whole frames and large blocks make a few hundred rows at most: the codec's batch (rows / 16).
  if (c.architecture == "conv") o.batch_size = 0;
  o.tile = c.tile;
  o.latent = c.latent;
  o.hidden = c.hidden;
  const auto [bytes, y] = plain_codec(d, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {name,
          "baler-" + c.architecture,
          describe(c),
          bytes,
          double(d.data.nbytes()) / double(bytes),
          psnr(d.data.to_doubles(), y),
          s};
}

run baler_dense(const std::string& name, const dataset& d, const training& tr) {
  const auto t0 = std::chrono::steady_clock::now();
  codec_options o = tr.options();
  o.architecture = "dense";
  o.batch_size = 0;  // the codec's default: 60 frames make too few rows for batches of 64
  const auto [bytes, y] = plain_codec(d, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {name,
          "baler-dense",
          "whole frames (default shape)",
          bytes,
          double(d.data.nbytes()) / double(bytes),
          psnr(d.data.to_doubles(), y),
          s};
}

// SZ3's command line on the raw array (dims fastest first), in PSNR mode.
run sz3(const std::string& name, const dataset& d, const fs::path& exe, double target) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = fs::temp_directory_path() / ("field_rd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path raw = dir / "in.raw", z = dir / "out.sz", out = dir / "out.raw";
  const bool f32 = d.data.type == dtype::f32;
  {
    std::ofstream f(raw, std::ios::binary);
    f.write(reinterpret_cast<const char*>(d.data.bytes.data()), std::streamsize(d.data.nbytes()));
  }
  std::string dims = " -" + std::to_string(d.data.shape.size());
  for (std::size_t a = d.data.shape.size(); a-- > 0;) dims += " " + std::to_string(d.data.shape[a]);
  const std::string cmd = exe.string() + (f32 ? " -f" : " -d") + " -i " + raw.string() + " -z " +
                          z.string() + " -o " + out.string() + dims + " -M PSNR " +
                          std::to_string(target) + " > /dev/null 2>&1";
  require(std::system(cmd.c_str()) == 0, "field_rd", "sz3 failed: " + cmd);
  std::vector<double> y(d.data.size());
  std::ifstream f(out, std::ios::binary);
  if (f32) {
    std::vector<float> v(y.size());
    f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * 4));
    std::copy(v.begin(), v.end(), y.begin());
  } else {
    f.read(reinterpret_cast<char*>(y.data()), std::streamsize(y.size() * 8));
  }
  const std::size_t bytes = fs::file_size(z);
  fs::remove_all(dir);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {name,
          "sz3",
          "-M PSNR " + std::to_string(int(target)),
          bytes,
          double(d.data.nbytes()) / double(bytes),
          psnr(d.data.to_doubles(), y),
          s};
}

// Ratio (log scale) against PSNR, one panel per field, one series per method.
void rd_plot(const std::vector<run>& runs, const fs::path& png) {
  std::string script = "set terminal pngcairo size 1200,500\nset output " +
                       plot::quote(png.string()) +
                       "\nset termoption noenhanced\nset multiplot layout 1,2\n";
  int blocks = 0;
  for (const std::string field : {"CFD_animation", "sperr_vorticity_512x512"}) {
    std::string plots;
    for (const std::string method : {"baler-dense", "baler-patch", "baler-conv", "sz3"}) {
      const std::string block = "$d" + std::to_string(blocks++);
      std::string data;
      for (const auto& r : runs)
        if (r.field == field && r.method == method)
          data += std::to_string(r.psnr) + " " + std::to_string(r.ratio) + "\n";
      if (data.empty()) continue;
      script += block + " << EOD\n" + data + "EOD\n";
      plots += (plots.empty() ? "plot " : ", ") + block + " using 1:2 with points pt 7 lc rgb " +
               plot::quote(method == "sz3"           ? "black"
                           : method == "baler-dense" ? "red"
                           : method == "baler-conv"  ? "dark-green"
                                                     : "blue") +
               " title " + plot::quote(method);
    }
    script += "set title " + plot::quote(field + ": whole-file ratio vs PSNR") +
              "\nset xlabel 'PSNR (dB)'\nset ylabel 'ratio (input as stored / file)'\n"
              "set logscale y\nset key top right\n" +
              plots + "\n";
  }
  plot::run_gnuplot(script + "unset multiplot\n");
}

}  // namespace

int main(int argc, char** argv) try {
  fs::path data = BALER_SHARED_DATA, sz3_exe, csv, png;
  training tr;
  std::string only, method;  // method: "patch" or "conv" runs only that architecture and SZ3
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--sz3")
      sz3_exe = argv[i + 1];
    else if (a == "--csv")
      csv = argv[i + 1];
    else if (a == "--plot")
      png = argv[i + 1];
    else if (a == "--epochs")
      tr.epochs = std::stoul(argv[i + 1]);
    else if (a == "--batch")
      tr.batch = std::stoul(argv[i + 1]);
    else if (a == "--lr")
      tr.lr = std::stod(argv[i + 1]);
    else if (a == "--only")
      only = argv[i + 1];
    else if (a == "--method")
      method = argv[i + 1];
    else if (a == "--data")
      data = argv[i + 1];
    else
      throw error("field_rd: unknown option " + a);
  }
  struct field {
    std::string name, path;
    std::vector<tiled_config> configs;
  };
  const std::vector<field> fields = {
      {"CFD_animation",
       "cfd/CFD_animation.npz",
       {{"patch", {1, 10, 10}, 4, {32, 16, 8}},
        {"patch", {1, 10, 10}, 8, {32, 16, 8}},
        {"patch", {2, 10, 10}, 8, {32, 16, 8}},
        {"patch", {4, 10, 10}, 8, {32, 16, 8}},
        {"patch", {4, 10, 10}, 16, {64, 32, 16}},
        {"patch", {1, 8, 8}, 0, {0, 0, 0}},
        {"conv", {1, 50, 50}, 4, {8, 8, 8}},
        {"conv", {1, 50, 50}, 8, {8, 8, 8}},
        {"conv", {1, 50, 50}, 16, {8, 8, 16}}}},
      {"sperr_vorticity_512x512",
       "fields/sperr_vorticity_512x512.npz",
       {{"patch", {8, 8}, 4, {32, 16, 8}},
        {"patch", {8, 8}, 8, {32, 16, 8}},
        {"patch", {16, 16}, 8, {32, 16, 8}},
        {"patch", {16, 16}, 16, {64, 32, 16}},
        {"conv", {16, 16}, 8, {8, 8, 8}},
        {"conv", {32, 32}, 16, {8, 8, 8}},
        {"conv", {32, 32}, 32, {8, 8, 16}}}},
  };
  std::vector<run> runs;
  std::cout << "field,method,config,bytes,ratio,psnr_db,seconds\n";
  auto report = [&](const run& r) {
    runs.push_back(r);
    std::cout << r.field << "," << r.method << "," << r.config << "," << r.bytes << "," << r.ratio
              << "," << r.psnr << "," << r.seconds << std::endl;
  };
  for (const auto& f : fields) {
    if (!only.empty() && f.name != only) continue;
    const dataset d = load_dataset(data / f.path);
    if (d.data.shape.size() > 2 && method.empty()) report(baler_dense(f.name, d, tr));
    for (const auto& c : f.configs)
      if (method.empty() || c.architecture == method) report(baler_tiled(f.name, d, c, tr));
    if (!sz3_exe.empty())
      for (double target : {40.0, 50.0}) report(sz3(f.name, d, sz3_exe, target));
  }
  if (!csv.empty()) {
    std::ofstream out(csv);
    out << "field,method,config,bytes,ratio,psnr_db,seconds\n";
    for (const auto& r : runs)
      out << r.field << "," << r.method << "," << r.config << "," << r.bytes << "," << r.ratio
          << "," << r.psnr << "," << r.seconds << "\n";
  }
  if (!png.empty()) rd_plot(runs, png);
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << "\n";
  return 1;
}
