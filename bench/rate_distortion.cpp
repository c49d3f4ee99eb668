// Rate-distortion of baler's error-bounded mode against the simple methods, on every data set
// in the shared data folder, at bounds of 1e-2, 1e-3, 1e-4 of each column's range (of the
// whole array for fields) and a pointwise relative bound of 1e-3.
//
//   rate_distortion [--csv FILE] [--epochs N] [--data DIR]
//
// Methods, sizes always whole-file, ratios against the input as stored (its own dtype):
//   baler-eb       this codec's error-bounded mode (header, decoder if kept, everything)
//   baler-plain    the plain codec without residuals: its max error, not a bounded method
//   zstd-f64       lossless zstd of the float64 bytes
//   zstd-f32-shuf  lossless byte-shuffled float32 + zstd, where every value is exact in float32
//   mantissa       per column the fewest mantissa bits meeting the bound (ROOT's Double32_t
//                  idea), float64 byte-shuffled + zstd
//   quant-zstd     uniform quantisation, step 2 * bound, int32/int64 codes shuffled + zstd
//   quant-rans     the same codes through baler's rANS symbol coder (entropy coder check)
//   zfp            ZFP fixed-accuracy mode with the bound as tolerance (fields)
// Integer-valued columns stay exact in every method. Max error is reported as max |x^ - x| /
// bound over all values (<= 1: the bound holds); "n/a" where a method has no such mode.
#include <zfp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"

using namespace baler;
using namespace baler::codec;
using CpuCodec = Codec<cpu, models::AE<cpu, float>>;

namespace {

constexpr int zstd_level = 9;  // baselines' zstd level (the container uses 3 on rANS output)

struct layout {
  std::size_t rows, cols;
  bool field;
  std::vector<double> x;        // row-major
  std::vector<bool> integral;   // per column (per array for fields)
};

struct outcome {
  std::size_t bytes = 0;
  std::vector<double> y;  // reconstruction
  bool bounded = true;    // false: n/a for this bound
};

std::vector<std::byte> zstd_of(const void* p, std::size_t n) {
  return zstd_compress(byte_view(static_cast<const std::byte*>(p), n), zstd_level);
}

// Byte planes of `n` values of `width` bytes: plane b holds byte b of every value.
template <class V>
std::vector<std::byte> shuffled(const std::vector<V>& v) {
  std::vector<std::byte> out(v.size() * sizeof(V));
  const auto* p = reinterpret_cast<const std::byte*>(v.data());
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t b = 0; b < sizeof(V); ++b) out[b * v.size() + i] = p[i * sizeof(V) + b];
  return out;
}

// The absolute bound of value i under spec (rel: of |x|); columns of a table have their own range.
struct bounds {
  const layout& l;
  bound_spec spec;
  std::vector<double> per_col;  // abs bound per column (abs/range)
  bounds(const layout& l, bound_spec s) : l(l), spec(s) {
    const std::size_t groups = l.field ? 1 : l.cols;
    per_col.assign(groups, s.value);
    if (s.kind != bound_kind::range) return;
    for (std::size_t c = 0; c < groups; ++c) {
      const column_stats st = l.field ? analyse(l.x.data(), l.x.size(), 1, 0, 0) : analyse(l.x.data(), l.rows, l.cols, c, 0);
      per_col[c] = s.value * (st.max - st.min);
    }
  }
  std::size_t col(std::size_t i) const { return l.field ? 0 : i % l.cols; }
  bool exact(std::size_t i) const { return l.integral[col(i)]; }
  double of(std::size_t i) const {
    if (exact(i)) return 0;
    return spec.kind == bound_kind::rel ? spec.value * std::abs(l.x[i]) : per_col[col(i)];
  }
};

outcome zstd_f64(const layout& l, const bounds&) { return {zstd_of(l.x.data(), l.x.size() * 8).size(), l.x}; }

outcome zstd_f32(const layout& l, const bounds&) {
  std::vector<float> f(l.x.begin(), l.x.end());
  for (std::size_t i = 0; i < f.size(); ++i)
    if (double(f[i]) != l.x[i]) return {0, {}, false};
  return {zstd_of(shuffled(f).data(), f.size() * 4).size(), l.x};
}

double round_mantissa(double v, int bits) {
  std::uint64_t u;
  std::memcpy(&u, &v, 8);
  if (bits < 52 && std::isfinite(v)) {
    const int drop = 52 - bits;
    u = (u + (std::uint64_t(1) << (drop - 1))) & ~((std::uint64_t(1) << drop) - 1);  // round half up
  }
  std::memcpy(&v, &u, 8);
  return v;
}

outcome mantissa(const layout& l, const bounds& b) {
  outcome o;
  o.y = l.x;
  const std::size_t groups = l.field ? 1 : l.cols, stride = l.field ? 1 : l.cols;
  for (std::size_t c = 0; c < groups; ++c) {
    auto meets = [&](int bits) {
      for (std::size_t i = c; i < l.x.size(); i += stride)
        if (!(std::abs(round_mantissa(l.x[i], bits) - l.x[i]) <= b.of(i))) return false;
      return true;
    };
    int lo = 0, hi = 52;  // the error shrinks with more bits: bisect the fewest that meet it
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (meets(mid)) hi = mid;
      else lo = mid + 1;
    }
    for (std::size_t i = c; i < l.x.size(); i += stride) o.y[i] = round_mantissa(l.x[i], lo);
  }
  o.bytes = zstd_of(shuffled(o.y).data(), o.y.size() * 8).size();
  return o;
}

// Uniform codes per column (step 2 * bound, 1 for integer columns) and their reconstruction.
bool quantise(const layout& l, const bounds& b, std::vector<std::int64_t>& k, std::vector<double>& y) {
  if (b.spec.kind == bound_kind::rel) return false;
  k.resize(l.x.size());
  y.resize(l.x.size());
  for (std::size_t i = 0; i < l.x.size(); ++i) {
    const double step = b.exact(i) ? 1.0 : 2 * b.per_col[b.col(i)] * (1 - 1.0 / 1024);
    k[i] = std::int64_t(std::nearbyint(l.x[i] / step));
    y[i] = double(k[i]) * step;
  }
  return true;
}

outcome quant_zstd(const layout& l, const bounds& b) {
  outcome o;
  std::vector<std::int64_t> k;
  if (!quantise(l, b, k, o.y)) return {0, {}, false};
  const auto [lo, hi] = std::minmax_element(k.begin(), k.end());
  if (*lo >= INT32_MIN && *hi <= INT32_MAX) {
    std::vector<std::int32_t> k32(k.begin(), k.end());
    o.bytes = zstd_of(shuffled(k32).data(), k32.size() * 4).size();
  } else {
    o.bytes = zstd_of(shuffled(k).data(), k.size() * 8).size();
  }
  return o;
}

outcome quant_rans(const layout& l, const bounds& b) {
  outcome o;
  std::vector<std::int64_t> k;
  if (!quantise(l, b, k, o.y)) return {0, {}, false};
  const std::size_t groups = l.field ? 1 : l.cols, stride = l.field ? 1 : l.cols;
  std::vector<std::byte> out;
  for (std::size_t c = 0; c < groups; ++c) {  // per column, around its median like baler-eb
    std::vector<std::int64_t> s;
    for (std::size_t i = c; i < k.size(); i += stride) s.push_back(k[i]);
    std::vector<std::int64_t> m = s;
    std::nth_element(m.begin(), m.begin() + m.size() / 2, m.end());
    for (auto& v : s) v -= m[m.size() / 2];
    encode_symbols(s, out);
  }
  o.bytes = out.size();
  return o;
}

outcome zfp(const layout& l, const bounds& b, const std::vector<std::size_t>& shape) {
  if (!l.field || b.spec.kind == bound_kind::rel || shape.size() > 4) return {0, {}, false};
  outcome o;
  o.y = l.x;
  std::vector<std::size_t> s(shape.rbegin(), shape.rend());  // zfp: x fastest
  zfp_field* f = s.size() == 1 ? zfp_field_1d(o.y.data(), zfp_type_double, s[0])
                 : s.size() == 2 ? zfp_field_2d(o.y.data(), zfp_type_double, s[0], s[1])
                 : s.size() == 3 ? zfp_field_3d(o.y.data(), zfp_type_double, s[0], s[1], s[2])
                                 : zfp_field_4d(o.y.data(), zfp_type_double, s[0], s[1], s[2], s[3]);
  zfp_stream* z = zfp_stream_open(nullptr);
  zfp_stream_set_accuracy(z, b.per_col[0]);
  std::vector<unsigned char> buf(zfp_stream_maximum_size(z, f));
  bitstream* bs = stream_open(buf.data(), buf.size());
  zfp_stream_set_bit_stream(z, bs);
  o.bytes = zfp_compress(z, f);
  zfp_stream_rewind(z);
  zfp_decompress(z, f);
  zfp_field_free(f);
  zfp_stream_close(z);
  stream_close(bs);
  return o;
}

std::string name_of(const bound_spec& b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s:%g", b.kind == bound_kind::rel ? "rel" : b.kind == bound_kind::abs ? "abs" : "range", b.value);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path, data_dir = BALER_SHARED_DATA;
  std::size_t epochs = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--csv") csv_path = argv[i + 1];
    else if (a == "--epochs") epochs = std::stoul(argv[i + 1]);
    else if (a == "--data") data_dir = argv[i + 1];
    else return std::cerr << "usage: rate_distortion [--csv FILE] [--epochs N] [--data DIR]\n", 2;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir))
    if (e.path().extension() == ".npz") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  cpu be(2);
  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "dataset,bound,method,bytes,ratio,max_err_over_bound,rmse,mb_per_s,predictor\n";
  }
  std::printf("%-28s %-11s %-14s %10s %8s %10s %11s %8s\n", "dataset", "bound", "method", "bytes", "ratio",
              "maxerr/bnd", "rmse", "MB/s");
  for (const auto& file : files) {
    const dataset d = load_dataset(file);
    const table t = as_table(d, "rate_distortion");
    layout l{t.rows, t.cols, is_field(t.shape, !d.names.empty()), t.values, {}};
    const std::size_t groups = l.field ? 1 : l.cols;
    for (std::size_t c = 0; c < groups; ++c)
      l.integral.push_back(l.field ? analyse(l.x.data(), l.x.size(), 1, 0, 0).integral
                                   : analyse(l.x.data(), l.rows, l.cols, c, 0).integral);
    const double input = double(d.data.nbytes());  // as stored
    const std::string name = std::filesystem::relative(file, data_dir).string();

    codec_options o;
    o.epochs = epochs;
    o.hidden = {64, 32, 16};
    o.architecture = "dense";  // one model for both rows; the bounded mode takes dense ones only
    o.on_epoch = nullptr;
    CpuCodec trainer(be, o);
    trainer.train(d);
    const std::vector<std::byte> model = trainer.save_model();

    for (const char* spec : {"range:1e-2", "range:1e-3", "range:1e-4", "rel:1e-3"}) {
      const bounds b(l, parse_bound(spec));
      std::string predictor;
      auto codec_run = [&](bool bounded) {
        codec_options oc = o;
        if (bounded) oc.error_bound.all = b.spec;
        CpuCodec c(be, oc);
        c.load_model(model);
        const auto bytes = c.compress(d);
        const auto h = format::inspect(bytes).header;
        if (bounded && h.contains("error_bound")) {
          std::map<std::string, int> kinds;
          if (h["error_bound"]["layout"] == "field") ++kinds[h["error_bound"]["predictor"]["kind"].get<std::string>()];
          for (const auto& j : h["columns"])
            if (j.contains("predictor")) ++kinds[j["predictor"]["kind"].get<std::string>()];
          predictor.clear();
          for (const auto& [k, n] : kinds) predictor += (predictor.empty() ? "" : " ") + k + "=" + std::to_string(n);
        }
        return outcome{bytes.size(), c.decompress(bytes).data.to_doubles()};
      };
      const std::vector<std::pair<const char*, std::function<outcome()>>> methods = {
          {"baler-eb", [&] { return codec_run(true); }},
          {"baler-plain", [&] { return codec_run(false); }},
          {"zstd-f64", [&] { return zstd_f64(l, b); }},
          {"zstd-f32-shuf", [&] { return zstd_f32(l, b); }},
          {"mantissa", [&] { return mantissa(l, b); }},
          {"quant-zstd", [&] { return quant_zstd(l, b); }},
          {"quant-rans", [&] { return quant_rans(l, b); }},
          {"zfp", [&] { return zfp(l, b, t.shape); }}};
      for (const auto& [method, run] : methods) {
        const auto t0 = std::chrono::steady_clock::now();
        const outcome r = run();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!r.bounded) continue;
        double worst = 0, se = 0;
        if (!r.y.empty())
          for (std::size_t i = 0; i < l.x.size(); ++i) {
            const double err = std::abs(r.y[i] - l.x[i]), lim = b.of(i);
            worst = std::max(worst, lim > 0 ? err / lim : err > 0 ? INFINITY : 0.0);
            se += err * err;
          }
        const double rmse = std::sqrt(se / double(l.x.size())), mbs = input / 1e6 / seconds;
        const std::string p = std::string(method) == "baler-eb" ? predictor : "";
        std::printf("%-28s %-11s %-14s %10zu %8.2f %10.3g %11.4g %8.1f %s\n", name.c_str(), name_of(b.spec).c_str(),
                    method, r.bytes, input / double(r.bytes), worst, rmse, mbs, p.c_str());
        if (csv.is_open())
          csv << name << "," << name_of(b.spec) << "," << method << "," << r.bytes << "," << input / double(r.bytes)
              << "," << worst << "," << rmse << "," << mbs << "," << p << "\n";
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
