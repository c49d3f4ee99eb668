// Plots: binning and file naming (no gnuplot needed), then whole reports for a small table and a
// small field rendered by gnuplot (skipped with a message where it is not installed), and the
// CSV-only fallback when gnuplot is missing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "baler/plot/report.hpp"
#include "test_io_support.hpp"

using namespace baler;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool is_png(const fs::path& p) {
  const std::string s = slurp(p);
  return s.size() > 100 && s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

bool is_pdf(const fs::path& p) {
  const std::string s = slurp(p);
  return s.size() > 100 && s.compare(0, 5, "%PDF-") == 0 && s.find("%%EOF", s.size() - 32) != std::string::npos;
}

bool skip_without_gnuplot() {
  if (plot::gnuplot_available()) return false;
  MESSAGE("gnuplot is not installed: skipping the rendering checks");
  return true;
}

// Sets an environment variable for one scope, restoring the old value after.
class scoped_env {
public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

private:
  const char* name_;
  std::optional<std::string> old_;
};

// A small table: a Gaussian-ish momentum, a long-tailed positive χ², a ±1 charge, and a name
// that needs sanitizing; the reconstruction adds a few-percent error.
std::pair<dataset, dataset> small_table() {
  const std::size_t rows = 400;
  std::vector<double> x, y;
  for (std::size_t r = 0; r < rows; ++r) {
    const double t = static_cast<double>(r);
    const double px = 1000 * std::sin(0.37 * t) * std::cos(0.011 * t);
    const double chi2 = 1 + std::pow(10.0, 5 * std::fmod(0.618 * t, 1.0));
    const double q = r % 3 ? 1 : -1;
    x.insert(x.end(), {px, chi2, q});
    y.insert(y.end(), {px * 1.02 + 5, chi2 * (1 + 0.1 * std::sin(t)), q + 0.01 * std::cos(t)});
  }
  const std::vector<std::string> names = {"H1_PX", "IP chi2/ndf", "Charge"};
  return {{ndarray::from_doubles(x, {rows, 3}, dtype::f64), names},
          {ndarray::from_doubles(y, {rows, 3}, dtype::f64), names}};
}

std::pair<dataset, dataset> small_field(std::vector<std::size_t> shape) {
  std::vector<double> x(shape_elements(shape, "test")), y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = std::sin(0.1 * static_cast<double>(i)) + 2;
    y[i] = x[i] + 0.01 * std::cos(1.7 * static_cast<double>(i));
  }
  return {{ndarray::from_doubles(x, shape, dtype::f32), {}}, {ndarray::from_doubles(y, shape, dtype::f32), {}}};
}

}  // namespace

TEST_CASE("fill_histogram: bins, the upper edge, under/overflow, log bins") {
  plot::histogram h = plot::fill_histogram({-1, 0, 0.5, 0.99, 1, 2, 2.5, 4, 5}, 0, 4, 4);
  CHECK(h.counts == std::vector<double>{3, 1, 2, 1});  // 4 == hi goes into the last bin
  CHECK(h.underflow == 1);
  CHECK(h.overflow == 1);
  CHECK(h.edge(1) == 1);
  CHECK(h.center(3) == 3.5);

  h = plot::fill_histogram({1, 5, 10, 50, 100, 1000}, 1, 1000, 3, true);
  CHECK(h.counts == std::vector<double>{2, 2, 2});
  CHECK(h.edge(1) == doctest::Approx(10));
  CHECK(h.center(0) == doctest::Approx(std::sqrt(10.0)));
  CHECK_THROWS_AS(plot::fill_histogram({1}, 0, 10, 3, true), error);
  CHECK_THROWS_AS(plot::fill_histogram({1}, 1, 1, 3), error);
}

TEST_CASE("distribution_binning: one bin per integer, quantile range, log bins for wide positive columns") {
  plot::binning b = plot::distribution_binning({-1, 1, 1, -1}, 100);
  CHECK(b.lo == -1.5);
  CHECK(b.hi == 1.5);
  CHECK(b.bins == 3);
  CHECK_FALSE(b.log_x);

  std::vector<double> wide;
  for (int i = 0; i <= 1000; ++i) wide.push_back(std::pow(10.0, i / 200.0) + 0.5);  // 1.5 .. 1e5
  b = plot::distribution_binning(wide, 50);
  CHECK(b.log_x);
  CHECK(b.bins == 50);
  CHECK(b.lo > 1.5);   // the 0.1 % quantile, not the minimum
  CHECK(b.hi < 1e5);

  b = plot::distribution_binning({2.5, 2.5}, 10);
  CHECK(b.lo == 2);
  CHECK(b.hi == 3);
}

TEST_CASE("nice_ceil and describe") {
  CHECK(plot::nice_ceil(0.7) == doctest::Approx(0.8));
  CHECK(plot::nice_ceil(2000) == doctest::Approx(2000));
  CHECK(plot::nice_ceil(2001) == doctest::Approx(2500));
  CHECK(plot::nice_ceil(9.1) == doctest::Approx(10));
  const plot::sample_stats s = plot::describe({1, -1, 3, 5});
  CHECK(s.mean == 2);
  CHECK(s.rms == doctest::Approx(3));
  CHECK(s.q50 == 2);
}

TEST_CASE("file names: sanitized and unique") {
  CHECK(plot::safe_file_stem("H1_PX") == "H1_PX");
  CHECK(plot::safe_file_stem("../etc/passwd") == "_etc_passwd");
  CHECK(plot::safe_file_stem("IP chi2/ndf") == "IP_chi2_ndf");
  CHECK(plot::safe_file_stem("p\xC2\xB2") == "p_");
  CHECK(plot::safe_file_stem("///") == "unnamed");
  std::vector<metrics::column_error> e(3);
  e[0].name = "p t";
  e[1].name = "p/t";
  e[2].name = "P_T";
  CHECK(plot::detail::column_stems(e) == std::vector<std::string>{"p_t", "p_t_1", "P_T_2"});
}

TEST_CASE("frames_of: frames of H x W, middle slices of 3-d grids") {
  plot::frame_view v = plot::frames_of({6, 4, 5});
  CHECK(v.count == 6);
  CHECK(v.height == 4);
  CHECK(v.width == 5);
  CHECK(v.stride == 20);
  CHECK(v.offset == 0);
  CHECK(v.slice.empty());

  v = plot::frames_of({2, 7, 3, 4});  // 2 samples of 7 x 3 x 4 grids: slice 3 of axis 1
  CHECK(v.count == 2);
  CHECK(v.height == 3);
  CHECK(v.width == 4);
  CHECK(v.stride == 84);
  CHECK(v.offset == 36);
  CHECK(v.slice == "middle slice axis 1 = 3");

  v = plot::frames_of({8, 9});
  CHECK(v.count == 1);
  CHECK_THROWS_AS(plot::frames_of({5}), error);
  CHECK(plot::default_frames(1) == std::vector<std::size_t>{0});
  CHECK(plot::default_frames(60) == std::vector<std::size_t>{0, 30, 59});
}

TEST_CASE("write_report: a table gives PNGs, a multi-page PDF and CSVs matching metrics::compare") {
  if (skip_without_gnuplot()) return;
  io_test::scratch_dir dir;
  const auto [x, y] = small_table();
  plot::report_options o;
  o.train_loss = {1.0, 0.5, 0.3, 0.2};
  o.val_loss = {1.1, 0.6, 0.4, 0.35};
  o.learning_rate = {1e-3, 1e-3, 1e-4, 1e-4};
  const std::vector<fs::path> files = plot::write_report(dir.path(), x, y, o);

  for (const char* png : {"column_H1_PX.png", "column_IP_chi2_ndf.png", "column_Charge.png", "summary.png", "loss.png"}) {
    INFO(png);
    CHECK(is_png(dir / png));
    CHECK(std::find(files.begin(), files.end(), dir / png) != files.end());
  }
  CHECK(is_pdf(dir / "comparison.pdf"));
  // One page per figure: 3 columns, the summary and the loss curves.
  const std::string pdf = slurp(dir / "comparison.pdf");
  std::size_t pages = 0;
  for (std::size_t at = 0; (at = pdf.find("/Type /Page %", at)) != std::string::npos; ++at) ++pages;
  CHECK(pages == 5);

  const std::vector<metrics::column_error> errors = metrics::compare(x, y);
  CHECK(slurp(dir / "errors.csv") == metrics::to_csv(errors));
  // The full-precision numbers read back to what compare computed: row 1, rms_residual.
  const std::string csv = slurp(dir / "errors.csv");
  const std::size_t row = csv.find("\nH1_PX,") + 1;
  std::size_t cell = row;
  for (int i = 0; i < 6; ++i) cell = csv.find(',', cell) + 1;
  CHECK(std::strtod(csv.c_str() + cell, nullptr) == errors[0].rms_residual);

  const std::string hist = slurp(dir / "hist_Charge.csv");
  CHECK(hist.rfind("histogram,bin_low,bin_high,count\n", 0) == 0);
  INFO(hist);
  CHECK(hist.find("original,-0.5,0.5,0\n") != std::string::npos);  // one bin per charge value
  CHECK(slurp(dir / "loss.csv").rfind("epoch,train_loss,val_loss,learning_rate\n1,1,1.1", 0) == 0);
}

TEST_CASE("write_report: a field gives frame images, a per-frame summary and the field row") {
  if (skip_without_gnuplot()) return;
  io_test::scratch_dir dir;
  const auto [x, y] = small_field({5, 8, 10});
  plot::write_report(dir.path(), x, y);
  for (const char* png : {"frame_0.png", "frame_2.png", "frame_4.png", "summary.png"}) {
    INFO(png);
    CHECK(is_png(dir / png));
  }
  CHECK_FALSE(fs::exists(dir / "frame_1.png"));
  CHECK(is_pdf(dir / "comparison.pdf"));
  const std::vector<metrics::column_error> errors = metrics::compare(x, y);
  REQUIRE(errors.size() == 1);
  CHECK(slurp(dir / "errors.csv") == metrics::to_csv(errors));
  CHECK(slurp(dir / "frames.csv").find("\nframe_4,80,") != std::string::npos);

  // Chosen frames of a 3-d grid, and a frame that does not exist.
  io_test::scratch_dir grid;
  const auto [gx, gy] = small_field({3, 4, 6, 7});
  plot::report_options o;
  o.frames = {1};
  plot::write_report(grid.path(), gx, gy, o);
  CHECK(is_png(grid / "frame_1.png"));
  o.frames = {3};
  CHECK_THROWS_WITH_AS(plot::write_report(grid.path(), gx, gy, o),
                       "plot::write_report(): frame 3 requested, the field has 3", error);
}

TEST_CASE("write_report: a 2-d array drawn as one field") {
  if (skip_without_gnuplot()) return;
  io_test::scratch_dir dir;
  const auto [x, y] = small_field({12, 9});
  plot::report_options o;
  o.field = true;
  plot::write_report(dir.path(), x, y, o);
  CHECK(is_png(dir / "frame_0.png"));
  CHECK(slurp(dir / "errors.csv").find("\nfield,108,") != std::string::npos);
}

TEST_CASE("plot_loss: PNG or PDF by extension") {
  if (skip_without_gnuplot()) return;
  io_test::scratch_dir dir;
  plot::plot_loss({3, 2, 1}, {}, {}, dir / "loss.png");
  CHECK(is_png(dir / "loss.png"));
  plot::plot_loss({3, 2, 1}, {4, 3, 2}, {0.1, 0.1, 0.01}, dir / "loss.pdf");
  CHECK(is_pdf(dir / "loss.pdf"));
  CHECK_THROWS_AS(plot::plot_loss({3, 2, 1}, {1}, {}, dir / "bad.png"), error);
  CHECK_THROWS_AS(plot::plot_loss({3, 2, 1}, {}, {}, dir / "loss.svg"), error);
}

TEST_CASE("run_gnuplot: a failing script is an error quoting gnuplot") {
  if (skip_without_gnuplot()) return;
  try {
    plot::run_gnuplot("set terminal dumb\nplot sin(x) with nonsense\n");
    FAIL("no error");
  } catch (const error& e) {
    const std::string what = e.what();
    CHECK(what.find("plot::run_gnuplot(): gnuplot") != std::string::npos);
    CHECK(what.find("nonsense") != std::string::npos);
    const std::size_t at = what.find("script kept at '") + 16;
    const fs::path script = what.substr(at, what.find('\'', at) - at);
    CHECK(fs::exists(script));
    fs::remove(script);
  }
}

TEST_CASE("write_report without gnuplot: the CSV files are written and the error says so") {
  const scoped_env env("BALER_GNUPLOT", "/nonexistent/gnuplot");
  CHECK_FALSE(plot::gnuplot_available());
  io_test::scratch_dir dir;
  const auto [x, y] = small_table();
  try {
    plot::write_report(dir.path(), x, y);
    FAIL("no error");
  } catch (const error& e) {
    const std::string what = e.what();
    CHECK(what.find("gnuplot was not found (BALER_GNUPLOT='/nonexistent/gnuplot' is not an executable file)") !=
          std::string::npos);
    CHECK(what.find("errors.csv") != std::string::npos);
  }
  CHECK(slurp(dir / "errors.csv") == metrics::to_csv(metrics::compare(x, y)));
  CHECK(fs::exists(dir / "hist_H1_PX.csv"));
  CHECK_FALSE(fs::exists(dir / "column_H1_PX.png"));
  CHECK_FALSE(fs::exists(dir / "comparison.pdf"));
}
