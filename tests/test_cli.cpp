// The command line end to end, through cli::run with captured output: the workflow, safety of
// outputs, configs, Baler's project layout, and exit statuses.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "test_cli_support.hpp"

using namespace baler;
using namespace cli_test;

TEST_CASE("compress, info, decompress, evaluate: the whole workflow") {
  scratch s;
  auto r = baler_cli({"compress", lhcb, "-o", "l.baler", "--epochs", "5", "--latent-dtype", "bf16", "-q"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("whole file, against the input as stored") != std::string::npos);
  CHECK(r.out.find("latent only, against float32") != std::string::npos);
  CHECK(r.err.empty());  // --quiet

  r = baler_cli({"info", "l.baler"});
  CHECK(r.status == 0);
  CHECK(r.out.find("input: 4322 x 26, float64, 26 column names") != std::string::npos);
  CHECK(r.out.find("latent: 4322 x 10, bf16") != std::string::npos);
  CHECK(r.out.find("6 lossless 20 model") != std::string::npos);

  r = baler_cli({"decompress", "l.baler", "-o", "l.npz"});
  CHECK(r.status == 0);
  const dataset back = load_dataset("l.npz");
  CHECK(back.data.shape == std::vector<std::size_t>{4322, 26});
  CHECK(back.names.size() == 26);

  r = baler_cli({"evaluate", lhcb, "l.npz", "--csv", "errors.csv"});
  CHECK(r.status == 0);
  CHECK(r.out.find("H1_Charge") != std::string::npos);
  CHECK(fs::file_size("errors.csv") > 0);
}

TEST_CASE("train then compress with the model, kept in a separate file") {
  scratch s;
  REQUIRE(baler_cli({"train", lhcb, "-o", "m.balermodel", "--epochs", "3", "-q", "--history", "h.csv"}).status == 0);
  std::ifstream h("h.csv");
  std::string header;
  std::getline(h, header);
  CHECK(header == "epoch,train_loss,validation_loss,learning_rate,seconds");
  REQUIRE(baler_cli({"compress", lhcb, "-o", "l.baler", "--model", "m.balermodel", "--separate-model"}).status == 0);
  auto r = baler_cli({"decompress", "l.baler", "-o", "l.npz"});
  CHECK(r.status == 1);
  CHECK(r.err.find("separate model file") != std::string::npos);
  CHECK(baler_cli({"decompress", "l.baler", "-o", "l.npz", "--model", "m.balermodel"}).status == 0);
  r = baler_cli({"compress", lhcb, "-o", "x.baler", "--separate-model", "--epochs", "1"});
  CHECK(r.status == 1);
  CHECK(r.err.find("--separate-model needs --model or --save-model") != std::string::npos);
}

TEST_CASE("outputs: never an input, existing ones only with --force, no partial files") {
  scratch s;
  REQUIRE(baler_cli({"compress", lhcb, "-o", "l.baler", "--epochs", "1", "-q"}).status == 0);
  const auto size = fs::file_size("l.baler");
  auto r = baler_cli({"compress", lhcb, "-o", "l.baler", "--epochs", "1", "-q"});
  CHECK(r.status == 1);
  CHECK(r.err.find("exists; use --force") != std::string::npos);
  r = baler_cli({"decompress", "l.baler", "-o", "l.baler", "--force"});
  CHECK(r.status == 1);
  CHECK(r.err.find("it is an input of this command") != std::string::npos);
  CHECK(fs::file_size("l.baler") == size);
  CHECK(baler_cli({"compress", lhcb, "-o", "l.baler", "--epochs", "1", "-q", "--force"}).status == 0);
  CHECK(baler_cli({"--sync", "decompress", "l.baler", "-o", "l.npz"}).status == 0);  // flushed to disk
  CHECK(fs::exists("l.npz"));

  // A corrupt input fails cleanly and leaves no output behind.
  std::vector<char> bytes(size);
  std::ifstream("l.baler", std::ios::binary).read(bytes.data(), long(size));
  bytes[size / 2] ^= 0x40;
  std::ofstream("bad.baler", std::ios::binary).write(bytes.data(), long(size));
  r = baler_cli({"decompress", "bad.baler", "-o", "bad.npz"});
  CHECK(r.status == 1);
  CHECK(r.err.find("baler: error:") == 0);
  CHECK_FALSE(fs::exists("bad.npz"));
  std::ofstream("short.baler", std::ios::binary).write(bytes.data(), 100);
  CHECK(baler_cli({"info", "short.baler"}).status == 1);
}

TEST_CASE("config files, flags over config, bad values, usage errors") {
  scratch s;
  std::ofstream("cfg.json") << R"({"latent": 4, "latent_dtype": "f32", "epochs": 2})";
  REQUIRE(baler_cli({"compress", lhcb, "-o", "a.baler", "--config", "cfg.json", "-q"}).status == 0);
  CHECK(baler_cli({"info", "a.baler"}).out.find("latent: 4322 x 4, f32") != std::string::npos);
  REQUIRE(baler_cli({"compress", lhcb, "-o", "b.baler", "--config", "cfg.json", "--latent", "6", "-q"}).status == 0);
  CHECK(baler_cli({"info", "b.baler"}).out.find("latent: 4322 x 6, f32") != std::string::npos);

  std::ofstream("bad.json") << R"({"latent": 4, "epoch": 2})";
  auto r = baler_cli({"compress", lhcb, "-o", "c.baler", "--config", "bad.json"});
  CHECK(r.status == 1);
  CHECK(r.err.find("unknown option 'epoch'") != std::string::npos);
  std::ofstream("broken.json") << "{latent: 4";
  CHECK(baler_cli({"compress", lhcb, "-o", "c.baler", "--config", "broken.json"}).err.find("not valid JSON") !=
        std::string::npos);

  CHECK(baler_cli({"compress", lhcb, "-o", "c.baler", "--epochs", "0"}).status == 2);
  CHECK(baler_cli({"compress", lhcb, "-o", "c.baler", "--latent-dtype", "f8"}).status == 2);
  CHECK(baler_cli({"frobnicate"}).status == 2);
  CHECK(baler_cli({"--help"}).status == 0);
  CHECK(baler_cli({"compress", "--help"}).out.find("--latent-dtype") != std::string::npos);
  r = baler_cli({"compress", lhcb, "-o", "c.baler", "--device", "cuda"});
  CHECK(r.status == 1);
  CHECK(r.err.find("this build has no CUDA backend") != std::string::npos);
  r = baler_cli({"info", lhcb, "--device", "cuda"});
  CHECK(r.status == 1);
  CHECK(r.err.find("--device applies to train, compress, decompress and diagnose") != std::string::npos);
  r = baler_cli({"compress", lhcb, "-o", "c.baler", "--device", "cuda", "--threads", "2"});
  CHECK(r.status == 1);
  CHECK(r.err.find("--threads sets CPU threads") != std::string::npos);
  r = baler_cli({"compress", "missing.npz", "-o", "c.baler"});
  CHECK(r.status == 1);
  CHECK(r.err.find("missing.npz") != std::string::npos);
}

TEST_CASE("Baler's project layout: new-project, train, compress, decompress") {
  scratch s;
  REQUIRE(baler_cli({"new-project", "ws", "demo"}).status == 0);
  CHECK(fs::exists("workspaces/ws/demo/config/demo_config.json"));
  fs::copy_file(lhcb, "workspaces/ws/data/demo_data.npz");
  REQUIRE(baler_cli({"train", "--project", "ws", "demo", "--epochs", "2", "-q"}).status == 0);
  CHECK(fs::exists("workspaces/ws/demo/output/training/model.balermodel"));
  REQUIRE(baler_cli({"compress", "--project", "ws", "demo", "-q"}).status == 0);
  CHECK(fs::exists("workspaces/ws/demo/output/compressed_output/compressed.baler"));
  REQUIRE(baler_cli({"decompress", "--project", "ws", "demo"}).status == 0);
  CHECK(load_dataset("workspaces/ws/demo/output/decompressed_output/decompressed.npz").data.shape[1] == 26);
  CHECK(baler_cli({"new-project", "ws", "demo"}).status == 1);  // exists
}

TEST_CASE("--error-bound: every column of the restored table within its bound") {
  scratch s;
  auto r = baler_cli({"compress", lhcb, "-o", "b.baler", "--epochs", "2", "-q", "--error-bound",
                      "range:1e-3,H1_PX=abs:0.5"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("error-bounded residuals") != std::string::npos);
  REQUIRE(baler_cli({"decompress", "b.baler", "-o", "b.npz"}).status == 0);
  const dataset a = load_dataset(lhcb), b = load_dataset("b.npz");
  const auto errors = metrics::compare(a, b);
  for (const auto& e : errors) {
    INFO(e.name);
    CHECK(e.max_abs_error <= (e.name == "H1_PX" ? 0.5 : 1e-3 * e.range));
  }
  // info says what each column's bound resolved to and which predictor coded it.
  r = baler_cli({"info", "b.baler"});
  CHECK(r.out.find("error bound, per column (code; predictor):") != std::string::npos);
  CHECK(r.out.find("  H1_PX: abs 0.5 (step ") != std::string::npos);
  CHECK(r.out.find("  H1_Charge: exact; ") != std::string::npos);
  // --header: the JSON header itself, each column's whole description.
  r = baler_cli({"info", "--header", "b.baler"});
  REQUIRE(r.status == 0);
  const nlohmann::json header = nlohmann::json::parse(r.out);
  CHECK(header.at("kind") == "baler.compressed");
  const nlohmann::json& columns = header.at("columns");
  const auto& names = header.at("input").at("names");  // each column's (its entry repeats none)
  const auto at = std::find(names.begin(), names.end(), "H1_PX");
  REQUIRE(at != names.end());
  const nlohmann::json& h1_px = columns.at(std::size_t(at - names.begin()));
  CHECK(!h1_px.contains("name"));
  CHECK(h1_px.at("code").at("bound") == 0.5);
  CHECK(!h1_px.at("code").contains("step"));  // the one its bound gives, as info printed it
  CHECK(h1_px.at("predictor").contains("kind"));
  CHECK(baler_cli({"compress", lhcb, "-o", "c.baler", "--error-bound", "range:-1"}).status != 0);

  // A field under a PSNR target: the bound it resolved to, the predictor, the refinement.
  REQUIRE(baler_cli({"compress", cfd, "-o", "f.baler", "-q", "--error-bound", "psnr:70"}).status == 0);
  r = baler_cli({"info", "f.baler"});
  CHECK(r.out.find("error bound: psnr:70, resolved to abs ") != std::string::npos);
  CHECK(r.out.find("; refined by a 26-neighbour filter") != std::string::npos);
  CHECK(r.out.find("columns:") == std::string::npos);
  // Tighter, the causal walk with weights per region alone codes it smaller; looser, its
  // wavelet; info names them.
  REQUIRE(baler_cli({"compress", cfd, "-o", "g.baler", "-q", "--error-bound", "psnr:80"}).status == 0);
  r = baler_cli({"info", "g.baler"});
  CHECK(r.out.find("predictor causal_regional in 3x3 regions") != std::string::npos);
  CHECK(r.out.find("refined by") == std::string::npos);
  REQUIRE(baler_cli({"compress", cfd, "-o", "w.baler", "-q", "--error-bound", "psnr:45"}).status == 0);
  r = baler_cli({"info", "w.baler"});
  CHECK(r.out.find("predictor wavelet (the lattice the transform works on: the target bounds the rms error") !=
        std::string::npos);
}

TEST_CASE("--layout: a short table without names is a table by its values, or as asked; evaluate reads it alike") {
  scratch s;
  npy::write_file("t.npy", codec::row_slice(load_dataset(lhcb).data, 0, 300), false);  // 300 x 26, no names
  REQUIRE(baler_cli({"compress", "t.npy", "-o", "t.baler", "-q", "--error-bound", "range:1e-3"}).status == 0);
  auto r = baler_cli({"info", "t.baler"});
  CHECK(r.out.find("columns: 26 bounded") != std::string::npos);
  REQUIRE(baler_cli({"decompress", "t.baler", "-o", "t_back.npy"}).status == 0);
  CHECK(baler_cli({"evaluate", "t.npy", "t_back.npy", "--error-bound", "range:1e-3"}).status == 0);

  // As one field, in one blob or in chunks: one range, the whole array's, which the narrow
  // columns' own ranges do not meet.
  for (const std::string chunks : {"0", "100"}) {
    CAPTURE(chunks);
    REQUIRE(baler_cli({"compress", "t.npy", "-o", "f.baler", "-q", "-f", "--layout", "field", "--chunk-rows", chunks,
                       "--error-bound", "range:1e-3"})
                .status == 0);
    REQUIRE(baler_cli({"decompress", "f.baler", "-o", "f_back.npy", "-f"}).status == 0);
    CHECK(baler_cli({"evaluate", "t.npy", "f_back.npy", "--layout", "field", "--error-bound", "range:1e-3"}).status == 0);
    CHECK(baler_cli({"evaluate", "t.npy", "f_back.npy", "--error-bound", "range:1e-3"}).status == 1);
  }

  // An image as a table: each column on its own range.
  ndarray frame = codec::row_slice(load_dataset(cfd).data, 30, 1);
  frame.shape = {50, 50};
  npy::write_file("i.npy", frame, false);
  REQUIRE(baler_cli({"compress", "i.npy", "-o", "i.baler", "-q", "--layout", "table", "--error-bound", "range:1e-3"}).status == 0);
  r = baler_cli({"info", "i.baler"});
  CHECK(r.out.find("columns: ") != std::string::npos);
  CHECK(r.out.find("  col1: abs ") != std::string::npos);

  // Column names make a table, and one axis is no field; a layout is one of three.
  r = baler_cli({"compress", lhcb, "-o", "n.baler", "--layout", "field", "--error-bound", "range:1e-3"});
  CHECK(r.status != 0);
  CHECK(r.err.find("this input names its columns") != std::string::npos);
  CHECK(baler_cli({"compress", "t.npy", "-o", "x.baler", "--layout", "grid"}).status != 0);
}

TEST_CASE("evaluate --error-bound: a violated bound is reported and exits 1") {
  scratch s;
  REQUIRE(baler_cli({"compress", lhcb, "-o", "l.baler", "--epochs", "3", "-q"}).status == 0);
  REQUIRE(baler_cli({"decompress", "l.baler", "-o", "l.npz"}).status == 0);
  // A plain reconstruction does not meet a tight bound.
  auto r = baler_cli({"evaluate", lhcb, "l.npz", "--error-bound", "range:1e-6"});
  CHECK(r.status == 1);
  CHECK(r.out.find("VIOLATED") != std::string::npos);
  CHECK(baler_cli({"evaluate", lhcb, lhcb, "--error-bound", "rel:1e-9"}).status == 0);
}

TEST_CASE("NaN and Inf in a table: restored as themselves, evaluate counts them apart") {
  scratch s;
  dataset t = load_dataset(lhcb);
  const std::size_t cols = t.data.shape[1];
  std::vector<double> v = t.data.to_doubles();
  for (std::size_t r = 0; r < 40; ++r) v[(r * 97) * cols + 2] = std::numeric_limits<double>::quiet_NaN();
  v[5 * cols + 3] = -std::numeric_limits<double>::infinity();
  t.data = ndarray::from_doubles(v, t.data.shape, dtype::f64);
  save_dataset("nan.npz", t, false);
  REQUIRE(baler_cli({"compress", "nan.npz", "-o", "n.baler", "-q", "--error-bound", "range:1e-3"}).status == 0);
  REQUIRE(baler_cli({"decompress", "n.baler", "-o", "back.npz"}).status == 0);
  const auto r = baler_cli({"evaluate", "nan.npz", "back.npz", "--error-bound", "range:1e-3"});
  CHECK(r.status == 0);
  CHECK(r.out.find("NaN/Inf") != std::string::npos);
  // Plots draw the finite values (gnuplot, where installed, draws them; the CSV files come first).
  baler_cli({"evaluate", "nan.npz", "back.npz", "--plots", "plots"});
  CHECK(fs::exists("plots/errors.csv"));
  CHECK(fs::exists("plots/hist_H1_PX.csv"));
  const auto errors = metrics::compare(t, load_dataset("back.npz"));
  CHECK(errors[2].non_finite == 40);
  CHECK(errors[3].non_finite == 1);
  CHECK(errors[0].non_finite == 0);
}

TEST_CASE("outputs are checked before training; no output replaces any input; ignored flags refused") {
  scratch s;
  REQUIRE(baler_cli({"train", lhcb, "-o", "m.balermodel", "--epochs", "1", "-q"}).status == 0);
  std::ofstream("exists.baler") << "x";
  // Refused up front: nothing else is written, no training happens.
  auto r = baler_cli({"compress", lhcb, "-o", "exists.baler", "--epochs", "1", "--save-model", "s.balermodel",
                      "--history", "h.csv"});
  CHECK(r.status == 1);
  CHECK(r.err.find("exists; use --force") != std::string::npos);
  CHECK(r.out.empty());
  CHECK_FALSE(fs::exists("s.balermodel"));
  CHECK_FALSE(fs::exists("h.csv"));
  // The model, the config and the history target are inputs or outputs like any other.
  const auto model_size = fs::file_size("m.balermodel");
  r = baler_cli({"compress", lhcb, "--model", "m.balermodel", "-o", "m.balermodel", "--force"});
  CHECK(r.err.find("it is an input of this command") != std::string::npos);
  CHECK(fs::file_size("m.balermodel") == model_size);
  std::ofstream("cfg.json") << R"({"epochs": 1})";
  r = baler_cli({"compress", lhcb, "--config", "cfg.json", "-o", "x.baler", "--history", "cfg.json", "--force"});
  CHECK(r.err.find("it is an input of this command") != std::string::npos);
  // Flags that would be ignored are errors.
  r = baler_cli({"compress", lhcb, "--model", "m.balermodel", "-o", "y.baler", "--epochs", "5"});
  CHECK(r.err.find("--epochs has no effect with --model") != std::string::npos);
  r = baler_cli({"train", lhcb, "-o", "n.balermodel", "--latent-dtype", "bf16"});
  CHECK(r.err.find("--latent-dtype has no effect on a model file") != std::string::npos);
  r = baler_cli({"compress", lhcb, "-o", "e.baler", "--epochs", "1", "--effort", "fast"});
  CHECK(r.err.find("--effort decides how compress --error-bound searches;") != std::string::npos);
  CHECK_FALSE(fs::exists("e.baler"));
  CHECK(baler_cli({"compress", lhcb, "-o", "e.baler", "--error-bound", "range:1e-2", "--effort", "quick"}).status == 2);
  std::ofstream("effort.json") << R"({"effort": "quick"})";
  r = baler_cli({"compress", lhcb, "-o", "e.baler", "--error-bound", "range:1e-2", "--config", "effort.json"});
  CHECK(r.err.find("'quick' is not thorough or fast") != std::string::npos);
  r = baler_cli({"compress", lhcb, "-o", "z.baler", "--epochs", "1", "--error-bound", "range:1e-2,nosuch=abs:1"});
  CHECK(r.err.find("names the column 'nosuch'") != std::string::npos);
  CHECK(baler_cli({"decompress", "x.baler", "-o", "x.npz", "--config", "cfg.json"}).status == 2);
  // A report folder holding an input is refused; a non-empty one needs --force.
  REQUIRE(baler_cli({"compress", lhcb, "--model", "m.balermodel", "-o", "l.baler"}).status == 0);
  REQUIRE(baler_cli({"decompress", "l.baler", "-o", "l.npz"}).status == 0);
  r = baler_cli({"evaluate", lhcb, "l.npz", "--plots", "."});
  CHECK(r.err.find("holds an input of this command") != std::string::npos);
}

TEST_CASE("a CSV with columns of text: its labels come back exactly, with or without a bound, to .csv and .npz") {
  scratch s;
  // 2000 rows: two columns of numbers, a particle type of three labels and a trigger name of
  // 300 (past the 256 distinct integers the plain mode keeps exact by itself).
  std::mt19937 rng(7);
  std::ostringstream text;
  text << "pt,type,eta,trigger\n";
  for (int r = 0; r < 2000; ++r) {
    const double pt = 20 + double(rng() % 100000) / 1000, eta = double(int(rng() % 5000) - 2500) / 1000;
    text << pt << ',' << (r % 7 == 0 ? "GG" : r % 3 ? "GT" : "\"T, T\"") << ',' << eta << ",HLT_" << rng() % 300 << '\n';
  }
  std::ofstream("t.csv") << text.str();
  const csv::table original = csv::read_file("t.csv");
  REQUIRE(original.labels.size() == 4);
  CHECK(original.labels[1] == std::vector<std::string>{"GG", "GT", "T, T"});
  CHECK(original.labels[3].size() == 300);

  for (const std::vector<std::string>& mode : {std::vector<std::string>{"--epochs", "2"},
                                               std::vector<std::string>{"--error-bound", "range:1e-2"}}) {
    CAPTURE(mode[0]);
    std::vector<std::string> args = {"compress", "t.csv", "-o", "t.baler", "--force", "-q"};
    args.insert(args.end(), mode.begin(), mode.end());
    REQUIRE(baler_cli(args).status == 0);
    auto r = baler_cli({"info", "t.baler"});
    CHECK(r.out.find("4 column names, 2 column(s) of text (303 labels)") != std::string::npos);
    r = baler_cli({"decompress", "t.baler", "-o", "back.csv", "--force"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("(shape (2000, 4), columns of float64 text float64 text)") != std::string::npos);
    const csv::table back = csv::read_file("back.csv");
    CHECK(back.names == original.names);
    CHECK(back.labels == original.labels);
    const std::vector<double> a = original.data.to_doubles(), b = back.data.to_doubles();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 1; i < a.size(); i += 2) CHECK(a[i] == b[i]);  // type and trigger: every code
    if (mode[0] == "--error-bound") {
      for (std::size_t i = 0; i < a.size(); i += 4) CHECK(std::abs(a[i] - b[i]) <= 1e-2 * 100);  // pt's range < 100
      r = baler_cli({"evaluate", "t.csv", "back.csv", "--error-bound", "range:1e-2"});
      CHECK(r.status == 0);
    }
    // An .npz holds the text as unicode members, a .npy as unicode fields of a structured array.
    for (const char* name : {"back.npz", "back.npy"}) {
      REQUIRE(baler_cli({"decompress", "t.baler", "-o", name, "--force"}).status == 0);
      CHECK(load_dataset(name).labels == original.labels);
    }
  }
  // Chunks hold no text; a table with text is one blob.
  auto r = baler_cli({"compress", "t.csv", "-o", "c.baler", "--error-bound", "range:1e-2", "--chunk-rows", "500"});
  CHECK(r.status == 1);
  CHECK(r.err.find("chunks take no column of text ('type', 'trigger'): compress without --chunk-rows") != std::string::npos);
  // A field is numbers only: a table with text cannot be made one (the command line says so of
  // any table with column names; a library caller is told by the codec).
  dataset d = load_dataset("t.csv");
  d.field = true;
  std::string message;
  try {
    codec::as_table(d, "test");
  } catch (const error& e) {
    message = e.what();
  }
  CHECK(message.find("the column(s) 'type', 'trigger' hold text: compress it as a table") != std::string::npos);
}

TEST_CASE("a CSV with a column of timestamps: times, exact in both modes, the same text back, next to nothing in the bounded mode") {
  scratch s;
  // 3000 readings a minute apart across the end of February 2024 (a leap day), ISO 8601 with
  // seconds, and one of temperature.
  std::mt19937 rng(3);
  std::ostringstream text;
  text << "time,temperature\n";
  for (int r = 0; r < 3000; ++r)
    text << format_time(std::int64_t(1709164800) + 60 * r, time_layout{' ', true, 0, false}) << ','
         << 15 + double(int(rng() % 1000)) / 100 << '\n';
  std::ofstream("t.csv") << text.str();
  const dataset original = load_dataset("t.csv");
  CHECK(original.times == std::vector<std::string>{"YYYY-MM-DD HH:MM:SS", ""});
  CHECK(original.data.to_doubles()[2] == 1709164860);
  for (const std::vector<std::string>& mode : {std::vector<std::string>{"--epochs", "2"},
                                               std::vector<std::string>{"--error-bound", "range:1e-3"}}) {
    CAPTURE(mode[0]);
    std::vector<std::string> args = {"compress", "t.csv", "-o", "t.baler", "--force"};
    args.insert(args.end(), mode.begin(), mode.end());
    auto r = baler_cli(args);
    REQUIRE(r.status == 0);
    // The bounded mode codes a constant step: a few bytes for the 3000 times.
    if (mode[0] == "--error-bound") CHECK(r.out.find("time: linear, ") != std::string::npos);
    r = baler_cli({"info", "t.baler"});
    CHECK(r.out.find("2 column names, 1 column(s) of times (YYYY-MM-DD HH:MM:SS)") != std::string::npos);
    r = baler_cli({"decompress", "t.baler", "-o", "back.csv", "--force"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("(shape (3000, 2), columns of time float64)") != std::string::npos);
    const dataset back = load_dataset("back.csv");
    CHECK(back.times == original.times);
    const std::vector<double> a = original.data.to_doubles(), b = back.data.to_doubles();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); i += 2) CHECK(a[i] == b[i]);  // every time exactly
    // Each line's time as it was written.
    std::ifstream in("back.csv");
    std::string line;
    std::getline(in, line);
    std::getline(in, line);
    CHECK(line.rfind("2024-02-29 00:00:00,", 0) == 0);
    // Other formats hold the times as their text.
    REQUIRE(baler_cli({"decompress", "t.baler", "-o", "back.npz", "--force"}).status == 0);
    CHECK(npz::read_file("back.npz").at("time").strings().at(1440) == "2024-03-01 00:00:00");
  }
}
