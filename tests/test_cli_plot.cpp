// `baler plot`, `baler diagnose` and `evaluate --plots` end to end through cli::run: the files of
// the report and their numbers, the options reaching it, and what happens without gnuplot. The
// image checks are skipped with a message where gnuplot is not installed.
#include "test_cli_support.hpp"

#include <cmath>
#include <cstdlib>
#include <optional>

using namespace cli_test;
using namespace baler;

namespace {

bool have_gnuplot() {
  if (plot::gnuplot_available()) return true;
  MESSAGE("gnuplot not found: the image checks are skipped");
  return false;
}

// Points BALER_GNUPLOT at a file that does not exist for its lifetime: gnuplot is "missing"
// whether or not it is installed.
struct without_gnuplot {
  std::optional<std::string> previous;
  without_gnuplot() {
    if (const char* v = std::getenv("BALER_GNUPLOT")) previous = v;
    ::setenv("BALER_GNUPLOT", (fs::current_path() / "no_such_gnuplot").c_str(), 1);
  }
  ~without_gnuplot() {
    if (previous)
      ::setenv("BALER_GNUPLOT", previous->c_str(), 1);
    else
      ::unsetenv("BALER_GNUPLOT");
  }
};

std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

// Column c of a CSV (no quoted fields) below its header.
std::vector<double> csv_column(const std::string& csv, std::size_t c) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::size_t begin = 0;
    for (std::size_t k = 0; k < c; ++k) begin = line.find(',', begin) + 1;
    out.push_back(std::stod(line.substr(begin)));
  }
  return out;
}

}  // namespace

TEST_CASE("plot: a table report with the loss curves, from a model file or a history CSV") {
  scratch s;
  REQUIRE(baler_cli({"train", lhcb, "-o", "m.balermodel", "--history", "h.csv", "--epochs", "4", "-q"}).status == 0);
  REQUIRE(baler_cli({"compress", lhcb, "-o", "l.baler", "--model", "m.balermodel"}).status == 0);
  REQUIRE(baler_cli({"decompress", "l.baler", "-o", "l.npz"}).status == 0);
  REQUIRE(baler_cli({"evaluate", lhcb, "l.npz", "--csv", "errors.csv"}).status == 0);
  if (!have_gnuplot()) return;

  auto r = baler_cli({"plot", lhcb, "l.npz", "-o", "from_history", "--history", "h.csv"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("files to from_history") != std::string::npos);
  REQUIRE(baler_cli({"plot", lhcb, "l.npz", "-o", "from_model", "--model", "m.balermodel"}).status == 0);

  // The report's numbers are evaluate's, and the two sources of the losses agree (the history
  // CSV holds them to 6 decimals).
  CHECK(slurp("from_history/errors.csv") == slurp("errors.csv"));
  const std::string hist_loss = slurp("from_history/loss.csv"), model_loss = slurp("from_model/loss.csv");
  CHECK(hist_loss.rfind("epoch,train_loss,val_loss,learning_rate\n", 0) == 0);
  CHECK(lines(hist_loss) == 1 + 4);
  for (std::size_t c = 1; c <= 3; ++c) {
    const auto a = csv_column(hist_loss, c), b = csv_column(model_loss, c);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
  }
  for (const char* png : {"loss.png", "summary.png", "column_H1_PX.png", "column_B_FlightDistance.png"}) {
    INFO(png);
    CHECK(is_image(fs::path("from_history") / png, png_magic));
  }
  CHECK(is_image("from_history/comparison.pdf", pdf_magic));

  // evaluate --plots writes the same report, without loss curves.
  r = baler_cli({"evaluate", lhcb, "l.npz", "--plots", "evaluated"});
  CHECK(r.status == 0);
  CHECK(slurp("evaluated/errors.csv") == slurp("errors.csv"));
  CHECK(is_image("evaluated/column_H1_PX.png", png_magic));
  CHECK_FALSE(fs::exists("evaluated/loss.png"));

  std::ofstream("bad.csv") << "a,b\n1,2\n";
  r = baler_cli({"plot", lhcb, "l.npz", "-o", "bad", "--history", "bad.csv"});
  CHECK(r.status == 1);
  CHECK(r.err.find("bad.csv is not a history written by `baler train --history`") != std::string::npos);
}

TEST_CASE("plot: a field report; --frames picks the frames, --field draws a 2-d array as one") {
  scratch s;
  REQUIRE(baler_cli({"compress", cfd, "-o", "f.baler", "--latent", "8", "--hidden", "64,32,16", "--epochs", "5",
                     "-q"}).status == 0);
  REQUIRE(baler_cli({"decompress", "f.baler", "-o", "f.npz"}).status == 0);
  REQUIRE(baler_cli({"evaluate", cfd, "f.npz", "--csv", "errors.csv"}).status == 0);

  // A 2-d array (12 x 9) and a slightly different copy: a table unless --field is given.
  std::vector<double> a(12 * 9), b(12 * 9);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = std::sin(0.3 * double(i));
    b[i] = a[i] + 0.01 * std::cos(double(i));
  }
  save_dataset("a.npy", {ndarray::from_doubles(a, {12, 9}, dtype::f64), {}}, false);
  save_dataset("b.npy", {ndarray::from_doubles(b, {12, 9}, dtype::f64), {}}, false);
  if (!have_gnuplot()) return;

  auto r = baler_cli({"plot", cfd, "f.npz", "-o", "frames", "--frames", "0,59"});
  REQUIRE(r.status == 0);
  CHECK(slurp("frames/errors.csv") == slurp("errors.csv"));
  CHECK(lines(slurp("frames/frames.csv")) == 1 + 60);
  CHECK(is_image("frames/frame_0.png", png_magic));
  CHECK(is_image("frames/frame_59.png", png_magic));
  CHECK(is_image("frames/summary.png", png_magic));
  CHECK(is_image("frames/comparison.pdf", pdf_magic));
  CHECK_FALSE(fs::exists("frames/frame_30.png"));  // the default middle frame was not asked for

  r = baler_cli({"plot", cfd, "f.npz", "-o", "frames", "--frames", "60", "--force"});  // folder not empty
  CHECK(r.status == 1);
  CHECK(r.err.find("frame 60 requested, the field has 60") != std::string::npos);

  REQUIRE(baler_cli({"plot", "a.npy", "b.npy", "-o", "field", "--field"}).status == 0);
  CHECK(is_image("field/frame_0.png", png_magic));
  CHECK(slurp("field/errors.csv").find("\nfield,108,") != std::string::npos);
  // Without --field too: a 2-d array without column names is a field (codec::is_field).
  REQUIRE(baler_cli({"plot", "a.npy", "b.npy", "-o", "unnamed"}).status == 0);
  CHECK(is_image("unnamed/frame_0.png", png_magic));
  CHECK_FALSE(fs::exists("unnamed/column_col8.png"));
}

TEST_CASE("diagnose: a table per layer, a CSV per neuron and the heat map") {
  scratch s;
  REQUIRE(baler_cli({"train", lhcb, "-o", "m.balermodel", "--epochs", "2", "-q"}).status == 0);
  auto r = baler_cli({"diagnose", lhcb, "m.balermodel", "-o", "diag"});
  if (have_gnuplot()) {
    REQUIRE(r.status == 0);
    CHECK(is_image("diag/activations.png", png_magic));
  }
  // The 6 columns stored exactly leave 20 modelled: 20 -> 200 -> 100 -> 50 -> 10 and back.
  CHECK(r.out.rfind("layer ", 0) == 0);
  CHECK(r.out.find("dead %") != std::string::npos);
  CHECK(r.out.find("encoder 1: Dense(20->200, leaky_relu)") != std::string::npos);
  CHECK(r.out.find("decoder 4: Dense(200->20, identity)") != std::string::npos);
  CHECK(lines(r.out.substr(0, r.out.find("wrote"))) == 1 + 8);
  const std::string csv = slurp("diag/activations.csv");
  CHECK(csv.rfind("layer,neuron,mean,active_fraction\nencoder 1,0,", 0) == 0);
  CHECK(lines(csv) == 1 + 200 + 100 + 50 + 10 + 50 + 100 + 200 + 20);
  for (double f : csv_column(csv, 3)) {
    CHECK(f >= 0.0);
    CHECK(f <= 1.0);
  }

  // Without -o only the table; data of another shape is refused.
  r = baler_cli({"diagnose", lhcb, "m.balermodel"});
  CHECK(r.status == 0);
  CHECK(r.out.find("wrote") == std::string::npos);
  r = baler_cli({"diagnose", cfd, "m.balermodel"});
  CHECK(r.status == 1);
  CHECK(r.err.find("the data has 2500 columns, the model 26") != std::string::npos);
}

TEST_CASE("without gnuplot: the CSV files are written, then a clear error and status 1") {
  scratch s;
  without_gnuplot missing;
  auto r = baler_cli({"plot", lhcb, lhcb, "-o", "report"});
  CHECK(r.status == 1);
  CHECK(r.err.find("gnuplot was not found") != std::string::npos);
  CHECK(r.err.find("errors.csv and the other CSV files") != std::string::npos);
  CHECK(fs::exists("report/errors.csv"));
  CHECK(fs::exists("report/hist_H1_PX.csv"));
  CHECK_FALSE(fs::exists("report/column_H1_PX.png"));

  REQUIRE(baler_cli({"train", lhcb, "-o", "m.balermodel", "--epochs", "1", "-q"}).status == 0);
  r = baler_cli({"diagnose", lhcb, "m.balermodel", "-o", "diag"});
  CHECK(r.status == 1);
  CHECK(r.err.find("gnuplot not found") != std::string::npos);
  CHECK(fs::exists("diag/activations.csv"));
  CHECK(r.out.find("encoder 1:") != std::string::npos);  // the table came first
}
