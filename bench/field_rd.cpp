// Rate-distortion of baler's plain mode and of its PSNR target on fields, against SZ3 and SPERR
// at the same PSNR:
//
//   field_rd [--peers DIR] [--csv FILE] [--plot FILE.png] [--epochs N] [--batch N] [--lr X]
//            [--only FIELD] [--method patch|conv|psnr] [--data DIR]
//
// For each field (cfd/CFD_animation, fields/sperr_vorticity_512x512) it runs
//   baler-dense   the plain codec on whole frames (the leading axis as rows), default shape
//   baler-patch   the plain codec's patch architecture (codec/tiling.hpp): one small dense AE
//                 shared by every tile, several tile, latent and width choices
//   baler-conv    the conv architecture (models/conv_ae.hpp): a convolutional AE over whole
//                 frames (CFD) or square blocks (the vorticity), several latent and channel choices
//   baler-psnr    the error-bounded mode with a PSNR target (--error-bound psnr:X, 25 to 70 dB)
//   sz3, sperr    SZ3 (-M PSNR X) and SPERR (--psnr X) at 30, 40, 50 and 60 dB, when --peers
//                 names the folder of ../shared/peers/build.sh (sz3, sperr2d, sperr3d)
// and prints, per run, the whole file's bytes, the ratio against the input as stored and the
// PSNR (20 log10(value range) - 10 log10(MSE), SZ3's definition). Every size is the codec's
// complete .baler file: latent, decoder, normalisation, header. Then, for each peer's run,
// baler-psnr's ratio at the PSNR the peer reached (interpolated between its two nearest
// targets, log-linear in the ratio): the comparison at equal PSNR.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/codec/error_bounded.hpp"
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

// The error-bounded mode with a PSNR target.
run baler_psnr(const std::string& name, const dataset& d, double target) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::byte> file = compress_error_bounded(d, parse_bound_config("psnr:" + std::to_string(target)));
  const std::vector<double> y = decompress_file(byte_view(file)).data.to_doubles();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {name, "baler-psnr", "psnr:" + std::to_string(int(target)), file.size(),
          double(d.data.nbytes()) / double(file.size()), psnr(d.data.to_doubles(), y), s};
}

// SZ3 (-M PSNR) or SPERR (--psnr) as programs on the raw array (dims fastest first).
run peer(const std::string& tool, const std::string& name, const dataset& d, const fs::path& peers, double target) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = fs::temp_directory_path() / ("field_rd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path raw = dir / "in.raw", z = dir / "out.bin", out = dir / "out.raw";
  const bool f32 = d.data.type == dtype::f32;
  {
    std::ofstream f(raw, std::ios::binary);
    f.write(reinterpret_cast<const char*>(d.data.bytes.data()), std::streamsize(d.data.nbytes()));
  }
  std::string dims;
  for (std::size_t a = d.data.shape.size(); a-- > 0;) dims += " " + std::to_string(d.data.shape[a]);
  const std::string t = std::to_string(target), nd = std::to_string(d.data.shape.size());
  const std::string cmd =
      tool == "sz3"
          ? (peers / "sz3").string() + (f32 ? " -f" : " -d") + " -i " + raw.string() + " -z " + z.string() + " -o " +
                out.string() + " -" + nd + dims + " -M PSNR " + t
          : (peers / ("sperr" + nd + "d")).string() + " -c --ftype " + (f32 ? "32" : "64") + " --dims" + dims +
                " --psnr " + t + " --bitstream " + z.string() + " " + raw.string() + " && " +
                (peers / ("sperr" + nd + "d")).string() + " -d --decomp_d " + out.string() + " " + z.string();
  require(std::system((cmd + " > /dev/null 2>&1").c_str()) == 0, "field_rd", tool + " failed: " + cmd);
  std::vector<double> y(d.data.size());
  std::ifstream f(out, std::ios::binary);
  if (f32 && tool == "sz3") {  // SPERR writes doubles (--decomp_d)
    std::vector<float> v(y.size());
    f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * 4));
    std::copy(v.begin(), v.end(), y.begin());
  } else {
    f.read(reinterpret_cast<char*>(y.data()), std::streamsize(y.size() * 8));
  }
  require(bool(f), "field_rd", tool + " wrote too few values");
  const std::size_t bytes = fs::file_size(z);
  fs::remove_all(dir);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {name, tool, (tool == "sz3" ? "-M PSNR " : "--psnr ") + std::to_string(int(target)), bytes,
          double(d.data.nbytes()) / double(bytes), psnr(d.data.to_doubles(), y), s};
}

// baler-psnr's ratio at `db` (log-linear between its two nearest runs), 0 outside them.
double baler_ratio_at(const std::vector<run>& runs, const std::string& field, double db) {
  const run* below = nullptr;
  const run* above = nullptr;
  for (const auto& r : runs) {
    if (r.field != field || r.method != "baler-psnr") continue;
    if (r.psnr <= db && (!below || r.psnr > below->psnr)) below = &r;
    if (r.psnr >= db && (!above || r.psnr < above->psnr)) above = &r;
  }
  if (!below || !above) return 0;
  if (above->psnr == below->psnr) return below->ratio;
  const double w = (db - below->psnr) / (above->psnr - below->psnr);
  return std::exp((1 - w) * std::log(below->ratio) + w * std::log(above->ratio));
}

// Ratio (log scale) against PSNR, one panel per field, one series per method.
void rd_plot(const std::vector<run>& runs, const fs::path& png) {
  std::string script = "set terminal pngcairo size 1200,500\nset output " +
                       plot::quote(png.string()) +
                       "\nset termoption noenhanced\nset multiplot layout 1,2\n";
  int blocks = 0;
  for (const std::string field : {"CFD_animation", "sperr_vorticity_512x512"}) {
    std::string plots;
    for (const std::string method : {"baler-dense", "baler-patch", "baler-conv", "baler-psnr", "sz3", "sperr"}) {
      const std::string block = "$d" + std::to_string(blocks++);
      std::string data;
      for (const auto& r : runs)
        if (r.field == field && r.method == method)
          data += std::to_string(r.psnr) + " " + std::to_string(r.ratio) + "\n";
      if (data.empty()) continue;
      script += block + " << EOD\n" + data + "EOD\n";
      const bool curve = method == "baler-psnr" || method == "sz3" || method == "sperr";
      plots += (plots.empty() ? "plot " : ", ") + block + " using 1:2 with " + (curve ? "linespoints" : "points") +
               " pt 7 lc rgb " +
               plot::quote(method == "sz3"           ? "black"
                           : method == "sperr"       ? "gray50"
                           : method == "baler-dense" ? "red"
                           : method == "baler-conv"  ? "dark-green"
                           : method == "baler-psnr"  ? "orange"
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
  fs::path data = BALER_SHARED_DATA, peers, csv, png;
  training tr;
  std::string only, method;  // method: "patch", "conv" or "psnr" runs only that (and the peers)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--peers")
      peers = argv[i + 1];
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
    if (method.empty() || method == "psnr")
      for (double target = 25; target <= 70; target += 5) report(baler_psnr(f.name, d, target));
    if (!peers.empty())
      for (const std::string tool : {"sz3", "sperr"})
        for (double target : {30.0, 40.0, 50.0, 60.0}) report(peer(tool, f.name, d, peers, target));
  }
  std::cout << "\nat equal PSNR: field, peer run, its PSNR dB, its ratio, baler-psnr's ratio there, baler / peer\n";
  for (const auto& r : runs) {
    if (r.method != "sz3" && r.method != "sperr") continue;
    const double ours = baler_ratio_at(runs, r.field, r.psnr);
    std::printf("%s, %s %s, %.1f, %.1f, %s\n", r.field.c_str(), r.method.c_str(), r.config.c_str(), r.psnr, r.ratio,
                ours > 0 ? (std::to_string(ours) + ", " + std::to_string(ours / r.ratio)).c_str() : "outside baler's runs");
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
