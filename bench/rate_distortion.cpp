// Rate-distortion of baler's error-bounded mode beside the strongest peers, in one run, on every
// data set of a data folder, at bounds of 1e-2, 1e-3, 1e-4 of the range (of each column for
// tables, of the whole array for fields) and a pointwise relative bound of 1e-3.
//
//   rate_distortion [--csv FILE] [--data DIR] [--peers DIR] [--baler PATH] [--only SUBSTRING]
//
// Methods (whole-file sizes; ratio = input as stored / compressed bytes):
//   baler        `baler compress --error-bound ...` and `baler decompress`, run as programs
//   baler-fast   the same with --effort fast
//   sz3          SZ3 3.3.2 (-M ABS), fields only, run as programs
//   sperr        SPERR (--pwe), fields only, run as programs
//                (neither has a pointwise relative mode: SZ3's REL is relative to the range)
//   quant-zstd   uniform codes (step 2 x bound) in the narrowest integer type, byte-shuffled,
//                column-major, zstd -19; fields also with Lorenzo differences first (the better
//                one is kept): ../shared/peers/simple_baselines.py's method, in process
//   mantissa     per column the fewest mantissa bits that meet the bound, byte-shuffled, zstd -19
//   zfp          ZFP fixed accuracy (fields; abs bounds)
// Integer columns: baler keeps them exact; the simple methods quantise them like any column, as
// simple_baselines.py does (so they may not be exact there). Timings: MB/s of input over wall
// time; for programs that includes starting them and the file I/O, alike for baler and peers
// (fields: baler reads and writes .npy, the peers raw files of the same values); MB/s of CPU
// time (user + system) of the programs; and their peak resident memory (MB). Programs on
// fields run --repeat times (default 3) and the fastest run counts, for baler and peers alike.
// Peers: --peers DIR holding sz3, sperr2d, sperr3d; without it, ../shared/peers/build.sh builds
// them into build/peers when that script exists (about 3 minutes), else they are skipped.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zfp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>

#include "baler/codec/error_bounded.hpp"
#include "baler/format/zstd.hpp"

using namespace baler;
using namespace baler::codec;
namespace fs = std::filesystem;

namespace {

struct layout {
  std::size_t rows, cols;
  bool field;
  std::vector<double> x;  // row-major
  std::vector<std::size_t> shape;
  dtype type;
};

// Seconds of one step: wall time, and CPU time (user + system), which other work on a shared
// machine disturbs far less. In-process methods count their wall time as both. A program's
// peak resident memory in MB (0: not measured, in process).
struct timing {
  double wall = 0, cpu = 0, peak_mb = 0;
};

struct outcome {
  std::size_t bytes = 0;
  std::vector<double> y;  // reconstruction (doubles, as the output dtype holds them)
  timing compress, decompress;
  std::string note;  // predictors chosen, or why not run
  bool ran = true;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// `rate_distortion --measured FILE PROGRAM ARGS...`: runs the program and writes its wall
// seconds, CPU seconds and peak resident MB to FILE. The benchmark starts programs through this
// small process of its own: Linux carries the peak memory of the process that calls exec over
// to the program, so a program started straight from the benchmark, which holds the data,
// would report the benchmark's.
int measured(char** argv) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = -1;
  rusage use{};
  if (pid < 0 || wait4(pid, &status, 0, &use) < 0) return 127;
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  std::ofstream(argv[0]) << seconds_since(t0) << " " << seconds(use.ru_utime) + seconds(use.ru_stime) << " "
                         << double(use.ru_maxrss) / 1024 << "\n";  // ru_maxrss: KB
  return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

// Runs a program (no shell in between, so none is timed), its output to `log`, `repeats` times;
// the shortest wall and CPU times, the ones least disturbed by whatever else the machine runs.
timing run(const std::string& cmd, const fs::path& log = "/dev/null", int repeats = 1) {
  const fs::path report = fs::temp_directory_path() / ("rate_distortion_run_" + std::to_string(getpid()));
  std::vector<std::string> words{"/proc/self/exe", "--measured", report.string()};
  for (std::size_t at = 0; at < cmd.size();) {
    const std::size_t end = std::min(cmd.find(' ', at), cmd.size());
    if (end > at) words.push_back(cmd.substr(at, end - at));
    at = end + 1;
  }
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  posix_spawn_file_actions_addopen(&io, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&io, 1, 2);
  timing best{INFINITY, INFINITY, 0};
  for (int r = 0; r < repeats; ++r) {
    pid_t pid;
    int status = -1;
    const bool started = posix_spawn(&pid, argv[0], &io, nullptr, argv.data(), environ) == 0;
    if (started) waitpid(pid, &status, 0);
    timing t;
    std::ifstream(report) >> t.wall >> t.cpu >> t.peak_mb;
    best.wall = std::min(best.wall, t.wall);
    best.cpu = std::min(best.cpu, t.cpu);
    best.peak_mb = std::max(best.peak_mb, t.peak_mb);
    if (!started || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      posix_spawn_file_actions_destroy(&io);
      throw error("rate_distortion: failed: " + cmd);
    }
  }
  posix_spawn_file_actions_destroy(&io);
  fs::remove(report);
  return best;
}

std::vector<std::byte> zstd19(const void* p, std::size_t n) {
  return zstd_compress(byte_view(static_cast<const std::byte*>(p), n), 19);
}

template <class V>
std::vector<std::byte> shuffled(const std::vector<V>& v) {
  std::vector<std::byte> out(v.size() * sizeof(V));
  const auto* p = reinterpret_cast<const std::byte*>(v.data());
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t b = 0; b < sizeof(V); ++b) out[b * v.size() + i] = p[i * sizeof(V) + b];
  return out;
}

// The absolute bound of each value under spec: per column (tables) or one (fields); rel of |x|.
struct bounds {
  const layout& l;
  bound_spec spec;
  std::vector<double> per_group, lo;
  bounds(const layout& l, bound_spec s) : l(l), spec(s) {
    const std::size_t groups = l.field ? 1 : l.cols;
    for (std::size_t c = 0; c < groups; ++c) {
      const column_stats st = l.field ? analyse(l.x.data(), l.x.size(), 1, 0, 0) : analyse(l.x.data(), l.rows, l.cols, c, 0);
      lo.push_back(st.min);
      per_group.push_back(s.kind == bound_kind::range ? s.value * (st.max - st.min) : s.value);
    }
  }
  std::size_t group(std::size_t i) const { return l.field ? 0 : i % l.cols; }
  double of(std::size_t i) const {
    return spec.kind == bound_kind::rel ? spec.value * std::abs(l.x[i]) : per_group[group(i)];
  }
};

// Narrowest unsigned type of codes 0..max, byte-shuffled, zstd -19.
std::size_t narrow_zstd(const std::vector<std::uint64_t>& k) {
  const std::uint64_t top = k.empty() ? 0 : *std::max_element(k.begin(), k.end());
  auto as = [&](auto zero) {
    using V = decltype(zero);
    return zstd19(shuffled(std::vector<V>(k.begin(), k.end())).data(), k.size() * sizeof(V)).size();
  };
  return top < 256 ? as(std::uint8_t{}) : top < 65536 ? as(std::uint16_t{}) : top < (1ull << 32) ? as(std::uint32_t{}) : as(std::uint64_t{});
}

// simple_baselines.py's quantisation: codes of (x - min) / (2 bound), column-major; for fields
// also Lorenzo differences of the codes (zig-zagged); the smaller kept.
outcome quant_zstd(const layout& l, const bounds& b) {
  if (b.spec.kind == bound_kind::rel) return {0, {}, {}, {}, "no relative mode", false};
  outcome o;
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t groups = l.field ? 1 : l.cols, per = l.x.size() / groups;
  std::vector<std::uint64_t> k(l.x.size());
  o.y.resize(l.x.size());
  for (std::size_t i = 0; i < l.x.size(); ++i) {
    const std::size_t g = b.group(i), at = l.field ? i : g * per + i / l.cols;  // column-major
    const double step = 2 * b.per_group[g] > 0 ? 2 * b.per_group[g] : 1.0;
    k[at] = std::uint64_t(std::llround((l.x[i] - b.lo[g]) / step));
    o.y[i] = double(k[at]) * step + b.lo[g];
  }
  o.bytes = narrow_zstd(k);
  if (l.field && l.shape.size() >= 2) {  // Lorenzo on the code grid, the last three axes
    std::vector<std::int64_t> d(k.begin(), k.end());
    std::size_t stride = 1;
    for (std::size_t ax = l.shape.size(); ax-- > 0;) {
      const std::size_t n = l.shape[ax];
      for (std::size_t i = d.size(); i-- > 0;)
        if ((i / stride) % n != 0) d[i] -= d[i - stride];
      stride *= n;
    }
    std::vector<std::uint64_t> z(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) z[i] = std::uint64_t(std::abs(d[i])) * 2 - (d[i] < 0);
    o.bytes = std::min(o.bytes, narrow_zstd(z));
  }
  o.compress.wall = o.compress.cpu = seconds_since(t0);
  return o;
}

double round_mantissa(double v, int bits) {
  std::uint64_t u;
  std::memcpy(&u, &v, 8);
  if (bits < 52 && std::isfinite(v)) {
    const int drop = 52 - bits;
    u = (u + (std::uint64_t(1) << (drop - 1))) & ~((std::uint64_t(1) << drop) - 1);
  }
  std::memcpy(&v, &u, 8);
  return v;
}

outcome mantissa(const layout& l, const bounds& b) {
  outcome o;
  const auto t0 = std::chrono::steady_clock::now();
  o.y = l.x;
  const std::size_t groups = l.field ? 1 : l.cols, stride = l.field ? 1 : l.cols;
  for (std::size_t c = 0; c < groups; ++c) {
    int bits = 0;
    auto meets = [&](int n) {
      for (std::size_t i = c; i < l.x.size(); i += stride)
        if (!(std::abs(round_mantissa(l.x[i], n) - l.x[i]) <= b.of(i))) return false;
      return true;
    };
    while (bits < 52 && !meets(bits)) ++bits;
    for (std::size_t i = c; i < l.x.size(); i += stride) o.y[i] = round_mantissa(l.x[i], bits);
  }
  std::vector<double> cm(o.y.size());  // column-major
  const std::size_t per = o.y.size() / groups;
  for (std::size_t i = 0; i < o.y.size(); ++i) cm[l.field ? i : (i % l.cols) * per + i / l.cols] = o.y[i];
  o.bytes = zstd19(shuffled(cm).data(), cm.size() * 8).size();
  o.compress.wall = o.compress.cpu = seconds_since(t0);
  return o;
}

outcome zfp(const layout& l, const bounds& b) {
  if (!l.field || b.spec.kind == bound_kind::rel || l.shape.size() > 4) return {0, {}, {}, {}, "fields, abs only", false};
  outcome o;
  o.y = l.x;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::size_t> s(l.shape.rbegin(), l.shape.rend());
  zfp_field* f = s.size() == 1 ? zfp_field_1d(o.y.data(), zfp_type_double, s[0])
                 : s.size() == 2 ? zfp_field_2d(o.y.data(), zfp_type_double, s[0], s[1])
                 : s.size() == 3 ? zfp_field_3d(o.y.data(), zfp_type_double, s[0], s[1], s[2])
                                 : zfp_field_4d(o.y.data(), zfp_type_double, s[0], s[1], s[2], s[3]);
  zfp_stream* z = zfp_stream_open(nullptr);
  zfp_stream_set_accuracy(z, b.per_group[0]);
  std::vector<unsigned char> buf(zfp_stream_maximum_size(z, f));
  bitstream* bs = stream_open(buf.data(), buf.size());
  zfp_stream_set_bit_stream(z, bs);
  o.bytes = zfp_compress(z, f);
  o.compress.wall = o.compress.cpu = seconds_since(t0);
  zfp_stream_rewind(z);
  const auto t1 = std::chrono::steady_clock::now();
  zfp_decompress(z, f);
  o.decompress.wall = o.decompress.cpu = seconds_since(t1);
  zfp_field_free(f);
  zfp_stream_close(z);
  stream_close(bs);
  return o;
}

std::vector<double> read_raw(const fs::path& p, std::size_t n, dtype type) {
  const std::vector<std::byte> bytes = read_file(p);
  const std::size_t width = type == dtype::f32 ? 4 : 8;
  if (bytes.size() != n * width) throw error("rate_distortion: " + p.string() + " has the wrong size");
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (width == 4) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      y[i] = f;
    } else {
      std::memcpy(&y[i], bytes.data() + 8 * i, 8);
    }
  }
  return y;
}

// SZ3 or SPERR on the raw array (fields only), as programs.
outcome peer(const std::string& tool, const layout& l, const bounds& b, const fs::path& peers, const fs::path& work,
             const fs::path& raw, int repeats) {
  if (!l.field) return {0, {}, {}, {}, "fields only", false};
  if (peers.empty()) return {0, {}, {}, {}, "not built", false};
  // SZ3's REL mode is relative to the value range, SPERR has none: neither bounds pointwise.
  if (b.spec.kind == bound_kind::rel) return {0, {}, {}, {}, "no pointwise relative mode", false};
  const bool f32 = l.type == dtype::f32;
  std::string dims;  // fastest first
  for (auto it = l.shape.rbegin(); it != l.shape.rend(); ++it) dims += " " + std::to_string(*it);
  const std::size_t nd = std::min<std::size_t>(l.shape.size(), 3);
  if (l.shape.size() > 3) return {0, {}, {}, {}, "more than 3 axes", false};
  char eb[64];
  std::snprintf(eb, sizeof eb, "%.17g", b.per_group[0]);
  const fs::path packed = work / (tool + ".bin"), out = work / (tool + ".out");
  outcome o;
  if (tool == "sz3") {
    const std::string common = std::string(f32 ? " -f" : " -d") + " -" + std::to_string(nd) + dims;
    o.compress = run((peers / "sz3").string() + common + " -i " + raw.string() + " -z " + packed.string() + " -M ABS " + eb,
                       "/dev/null", repeats);
    o.decompress = run((peers / "sz3").string() + common + " -z " + packed.string() + " -o " + out.string() + " -M ABS " + eb,
                         "/dev/null", repeats);
  } else {
    const std::string bin = (peers / (nd == 3 ? "sperr3d" : "sperr2d")).string();
    o.compress = run(bin + " -c --ftype " + (f32 ? "32" : "64") + " --dims" + dims + " --pwe " + eb + " --bitstream " +
                       packed.string() + " " + raw.string(), "/dev/null", repeats);
    o.decompress = run(bin + " -d --decomp_d " + out.string() + " " + packed.string(), "/dev/null", repeats);
  }
  o.bytes = fs::file_size(packed);
  o.y = read_raw(out, l.x.size(), tool == "sz3" && f32 ? dtype::f32 : dtype::f64);
  return o;
}

// Fields go in and come out as .npy (raw values behind a short header, as the peers read and
// write raw files); tables as .npz, which carries their column names.
outcome baler_cli(const fs::path& baler, const fs::path& input, const fs::path& work, const std::string& spec, int repeats,
                  const std::string& flags = {}) {
  const fs::path packed = work / "x.baler", out = work / ("x" + input.extension().string()), log = work / "compress.txt";
  outcome o;
  o.compress = run(baler.string() + " compress " + input.string() + " -o " + packed.string() + " --error-bound " + spec + flags + " -f -q",
                     log, repeats);
  o.decompress = run(baler.string() + " decompress " + packed.string() + " -o " + out.string() + " -f -q", "/dev/null", repeats);
  o.bytes = fs::file_size(packed);
  o.y = load_dataset(out).data.to_doubles();
  std::map<std::string, int> chosen;  // "  NAME: PREDICTOR, N bytes  [...]" lines of the report
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(": "), comma = line.find(", ", colon == std::string::npos ? 0 : colon);
    if (line.rfind("  ", 0) == 0 && line.find('[') != std::string::npos && colon != std::string::npos && comma != std::string::npos)
      ++chosen[line.substr(colon + 2, comma - colon - 2)];
  }
  for (const auto& [k, n] : chosen) o.note += (o.note.empty() ? "" : " ") + k + "=" + std::to_string(n);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 3 && std::strcmp(argv[1], "--measured") == 0) return measured(argv + 2);
  std::string csv_path, only;
  fs::path data_dir = BALER_SHARED_DATA, peers, baler = BALER_CLI;
  int repeats = 3;
  const char* usage =
      "usage: rate_distortion [--csv FILE] [--data DIR] [--peers DIR] [--baler PATH] [--only TEXT] [--repeat N]\n";
  if (argc % 2 == 0) return std::cerr << usage, 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--csv") csv_path = argv[i + 1];
    else if (a == "--repeat") repeats = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--data") data_dir = argv[i + 1];
    else if (a == "--peers") peers = argv[i + 1];
    else if (a == "--baler") baler = argv[i + 1];
    else if (a == "--only") only = argv[i + 1];
    else return std::cerr << usage, 2;
  }
  if (peers.empty()) {
    const fs::path script = data_dir / ".." / "peers" / "build.sh", built = fs::path(BALER_BUILD_DIR) / "peers";
    if (fs::exists(built / "sz3")) peers = built;
    else if (fs::exists(script)) {
      std::cerr << "building SZ3 and SPERR from " << script.string() << " into " << built.string() << " (~3 minutes)\n";
      if (std::system(("bash " + script.string() + " " + built.string() + " >&2").c_str()) == 0) peers = built;
    }
    if (peers.empty()) std::cerr << "SZ3 and SPERR not found (give --peers DIR): skipped\n";
  }
  const fs::path work = fs::temp_directory_path() / ("baler_rd_" + std::to_string(::getpid()));
  fs::create_directories(work);

  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(data_dir))
    if (e.path().extension() == ".npz" && e.path().string().find(only) != std::string::npos) files.push_back(e.path());
  std::sort(files.begin(), files.end());

  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "dataset,bound,method,bytes,ratio,max_err_over_bound,compress_mb_s,decompress_mb_s,compress_cpu_mb_s,"
           "decompress_cpu_mb_s,compress_peak_mb,decompress_peak_mb,note\n";
  }
  std::printf("%-36s %-11s %-11s %9s %8s %10s %9s %9s %9s %9s %9s  %s\n", "dataset", "bound", "method", "bytes", "ratio",
              "maxerr/bnd", "comp MB/s", "dec MB/s", "comp cpu", "dec cpu", "peak MB", "note");
  for (const auto& file : files) {
    const dataset d = load_dataset(file);
    const table t = as_table(d, "rate_distortion");
    const layout l{t.rows, t.cols, t.field, t.values, t.shape, t.type};
    const double input = double(d.data.nbytes());
    const std::string name = fs::relative(file, data_dir).string();
    const fs::path raw = work / "input.raw";  // the peers' input: raw values in the stored dtype
    if (l.field) {
      save_dataset(work / "input.npy", {d.data, {}}, true);
      std::ofstream r(raw, std::ios::binary);
      for (double v : l.x) {
        if (l.type == dtype::f32) {
          const float f = float(v);
          r.write(reinterpret_cast<const char*>(&f), 4);
        } else {
          r.write(reinterpret_cast<const char*>(&v), 8);
        }
      }
    }
    for (const char* spec : {"range:1e-2", "range:1e-3", "range:1e-4", "rel:1e-3"}) {
      const bounds b(l, parse_bound(spec));
      const std::vector<std::pair<const char*, std::function<outcome()>>> methods = {
          {"baler", [&] { return baler_cli(baler, l.field ? work / "input.npy" : file, work, spec, l.field ? repeats : 1); }},
          {"baler-fast", [&] {
             return baler_cli(baler, l.field ? work / "input.npy" : file, work, spec, l.field ? repeats : 1, " --effort fast");
           }},
          {"sz3", [&] { return peer("sz3", l, b, peers, work, raw, repeats); }},
          {"sperr", [&] { return peer("sperr", l, b, peers, work, raw, repeats); }},
          {"quant-zstd", [&] { return quant_zstd(l, b); }},
          {"mantissa", [&] { return mantissa(l, b); }},
          {"zfp", [&] { return zfp(l, b); }}};
      for (const auto& [method, go] : methods) {
        outcome r;
        try {
          r = go();
        } catch (const std::exception& e) {
          r = {0, {}, {}, {}, e.what(), false};
        }
        if (!r.ran) continue;
        double worst = 0;
        for (std::size_t i = 0; i < l.x.size(); ++i) {
          const double y = l.type == dtype::f32 ? double(float(r.y[i])) : r.y[i];
          const double err = std::abs(y - l.x[i]), lim = b.of(i);
          worst = std::max(worst, lim > 0 ? err / lim : err > 0 ? INFINITY : 0.0);
        }
        const auto mb_s = [&](double seconds) { return seconds > 0 ? input / 1e6 / seconds : 0.0; };
        const double cmb = mb_s(r.compress.wall), dmb = mb_s(r.decompress.wall);
        const double ccpu = mb_s(r.compress.cpu), dcpu = mb_s(r.decompress.cpu);
        const double peak = std::max(r.compress.peak_mb, r.decompress.peak_mb);
        std::printf("%-36s %-11s %-11s %9zu %8.2f %10.4g %9.1f %9.1f %9.1f %9.1f %9s  %s\n", name.c_str(), spec, method,
                    r.bytes, input / double(r.bytes), worst, cmb, dmb, ccpu, dcpu,
                    peak > 0 ? std::to_string(int(std::lround(peak))).c_str() : "-", r.note.c_str());
        if (csv.is_open())
          csv << name << "," << spec << "," << method << "," << r.bytes << "," << input / double(r.bytes) << "," << worst
              << "," << cmb << "," << dmb << "," << ccpu << "," << dcpu << "," << r.compress.peak_mb << ","
              << r.decompress.peak_mb << "," << r.note << "\n";
      }
      std::fflush(stdout);
    }
  }
  fs::remove_all(work);
  return 0;
}
