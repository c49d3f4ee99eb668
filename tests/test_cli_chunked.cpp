// The command line on chunked files: compress --chunk-rows of a streamed .npy, info, full and
// --rows decompression, the bound checked by evaluate; --rows on a version-1 file too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "baler/codec/chunked.hpp"
#include "test_cli_support.hpp"

using namespace baler;
using namespace cli_test;

TEST_CASE("chunked command line: a streamed .npy field, info, decompress all or --rows, bound holds") {
  scratch s;
  const dataset field = load_dataset(cfd);
  npy::write_file("f.npy", field.data, false);
  auto r = baler_cli({"compress", "f.npy", "-o", "f.baler", "--chunk-rows", "7", "--threads", "2",
                      "--error-bound", "range:1e-3"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("9 chunks of 7 rows") != std::string::npos);

  r = baler_cli({"info", "f.baler"});
  CHECK(r.status == 0);
  CHECK(r.out.find("format version 2 (chunked)") != std::string::npos);
  CHECK(r.out.find("input: (60, 50, 50), float64") != std::string::npos);
  CHECK(r.out.find("every chunk's checksum holds") != std::string::npos);
  r = baler_cli({"info", "--header", "f.baler"});  // the shared part's header
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.out).at("kind") == "baler.chunked");

  REQUIRE(baler_cli({"decompress", "f.baler", "-o", "back.npy"}).status == 0);
  r = baler_cli({"evaluate", "f.npy", "back.npy", "--error-bound", "range:1e-3"});
  CHECK(r.status == 0);
  r = baler_cli({"decompress", "f.baler", "-o", "part.npy", "--rows", "10:25"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("rows 10:25") != std::string::npos);
  CHECK(npy::read_file("part.npy") == codec::row_slice(npy::read_file("back.npy"), 10, 15));
  r = baler_cli({"compress", "f.npy", "-o", "g.baler", "--chunk-rows", "7", "--error-bound", "range:1e-3",
                 "--save-model", "m.balermodel"});
  CHECK(r.status == 1);
  CHECK(r.err.find("trains no shared model") != std::string::npos);
  CHECK(!fs::exists("g.baler"));
  r = baler_cli({"decompress", "f.baler", "-o", "bad.npy", "--rows", "10:61"});
  CHECK(r.status == 1);
  CHECK(r.err.find("is not A:B with 0 <= A < B <= 60") != std::string::npos);
}

TEST_CASE("chunked command line: a table in plain mode with one shared model; --rows on a version-1 file") {
  scratch s;
  auto r = baler_cli({"compress", lhcb, "-o", "t.baler", "--chunk-rows", "1500", "--epochs", "3", "-q"});
  REQUIRE(r.status == 0);
  r = baler_cli({"info", "t.baler"});
  CHECK(r.out.find("chunks: 3 of up to 1500 rows") != std::string::npos);
  CHECK(r.out.find("shared model:") != std::string::npos);
  REQUIRE(baler_cli({"decompress", "t.baler", "-o", "t.npz"}).status == 0);
  CHECK(load_dataset("t.npz").names == load_dataset(lhcb).names);

  REQUIRE(baler_cli({"compress", lhcb, "-o", "one.baler", "--error-bound", "abs:0.01"}).status == 0);
  REQUIRE(baler_cli({"decompress", "one.baler", "-o", "all.npy"}).status == 0);
  REQUIRE(baler_cli({"decompress", "one.baler", "-o", "some.npy", "--rows", "5:9"}).status == 0);
  CHECK(npy::read_file("some.npy") == codec::row_slice(npy::read_file("all.npy"), 5, 4));
}

TEST_CASE("a table comes back in its layout, whole or chunked: one .npz array per column, or records") {
  scratch s;
  // LHCb's table as np.savez(f, H1_PX=..., H1_PY=..., ...) writes it: one member per column.
  const dataset lhcb_table = load_dataset(lhcb);
  dataset columns = lhcb_table;
  columns.layout = table_layout::members;
  save_dataset("cols.npz", columns, false);
  REQUIRE(npz::read_file("cols.npz").count("H1_PX") == 1);
  for (const std::vector<std::string> chunks : {std::vector<std::string>{}, {"--chunk-rows", "1500"}}) {
    std::vector<std::string> args = {"compress", "cols.npz", "-o", "c.baler", "--force", "--error-bound", "range:1e-3"};
    args.insert(args.end(), chunks.begin(), chunks.end());
    REQUIRE(baler_cli(args).status == 0);
    REQUIRE(baler_cli({"decompress", "c.baler", "-o", "back.npz", "--force"}).status == 0);
    CHECK(baler_cli({"info", "c.baler"}).out.find("26 column names, members layout\n") != std::string::npos);
    const npz::archive back = npz::read_file("back.npz");
    CHECK(back.count("data") == 0);
    REQUIRE(back.size() == lhcb_table.names.size());
    for (std::size_t c = 0; c < lhcb_table.names.size(); ++c) CHECK(back.at(lhcb_table.names[c]).position == c);
    const dataset restored = load_dataset("back.npz");
    CHECK(restored.names == lhcb_table.names);
    for (const auto& e : metrics::compare(lhcb_table, restored)) CHECK(e.max_abs_error <= 1e-3 * e.range);
  }
  // Columns of different dtypes are held as float64; the ratio counts the input as its file held it.
  const auto mixed = baler_cli({"compress", std::string(BALER_TEST_DIR) + "/data/records_mixed.npy", "-o", "m.baler",
                                "--error-bound", "range:1e-3"});
  REQUIRE(mixed.status == 0);
  CHECK(mixed.out.find("input as stored                          68 bytes") != std::string::npos);  // 4 x (4 + 8 + 4 + 1)
  CHECK(baler_cli({"info", "m.baler"}).out.find("4 column names, records layout, columns of float32 float64 int32 bool, "
                                                "68 bytes as stored\n") != std::string::npos);
  CHECK(baler_cli({"-f", "decompress", "m.baler", "-o", "m.npy"}).out.find(
            "(shape (4, 4), columns of float32 float64 int32 bool)") != std::string::npos);
  // And they come back each in its dtype, whole or chunked, every value within its bound as
  // stored: LHCb's momenta and PID probabilities as float32, charges and muon flags as int8. At
  // range:1e-6 a float32 column's rounding breaks a bound checked on float64 values only.
  std::vector<ndarray> typed = split_columns(lhcb_table.data);
  std::uint64_t typed_bytes = 0;
  for (std::size_t c = 0; c < typed.size(); ++c) {
    const std::string& name = lhcb_table.names[c];
    const dtype t = name.find("Charge") != std::string::npos || name.find("isMuon") != std::string::npos ? dtype::i8
                    : name.find("_P") != std::string::npos                                               ? dtype::f32
                                                                                                         : dtype::f64;
    typed[c] = ndarray::from_doubles(typed[c].to_doubles(), typed[c].shape, t);
    typed_bytes += typed[c].nbytes();
  }
  write_file_atomically("typed.npz", npz::write_columns(typed, lhcb_table.names, npz::compression::stored), false);
  for (const std::vector<std::string> chunks : {std::vector<std::string>{}, {"--chunk-rows", "1500"}}) {
    std::vector<std::string> args = {"compress", "typed.npz", "-o", "t.baler", "--force", "--error-bound", "range:1e-6"};
    args.insert(args.end(), chunks.begin(), chunks.end());
    const auto r = baler_cli(args);
    REQUIRE(r.status == 0);
    CHECK(r.out.find(" " + std::to_string(typed_bytes) + " ") != std::string::npos);  // the input as stored
    CHECK(baler_cli({"info", "t.baler"}).out.find("members layout, columns of float64 float64 float32 float32") !=
          std::string::npos);
    REQUIRE(baler_cli({"decompress", "t.baler", "-o", "typed_back.npz", "--force"}).status == 0);
    const npz::archive back = npz::read_file("typed_back.npz");
    for (std::size_t c = 0; c < typed.size(); ++c) {
      const ndarray b = back.at(lhcb_table.names[c]).array();
      REQUIRE(b.type == typed[c].type);
      const std::vector<double> x = typed[c].to_doubles(), y = b.to_doubles();
      const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
      double worst = 0;
      for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
      INFO(lhcb_table.names[c]);
      CHECK(worst <= (is_integral(b.type) ? 0 : 1e-6 * (*hi - *lo)));
    }
  }
  // The same table as a structured .npy (np.save of a record array): back as records, .npy or .npz.
  dataset records = lhcb_table;
  records.layout = table_layout::records;
  save_dataset("rec.npy", records, false);
  for (const std::vector<std::string> chunks : {std::vector<std::string>{}, {"--chunk-rows", "1500"}}) {
    std::vector<std::string> args = {"compress", "rec.npy", "-o", "r.baler", "--force", "--error-bound", "range:1e-3"};
    args.insert(args.end(), chunks.begin(), chunks.end());
    REQUIRE(baler_cli(args).status == 0);
    for (const std::string out : {"back.npy", "back2.npz"}) {
      REQUIRE(baler_cli({"decompress", "r.baler", "-o", out, "--force"}).status == 0);
      const dataset restored = load_dataset(out);
      CHECK(restored.layout == table_layout::records);
      CHECK(restored.names == lhcb_table.names);
      for (const auto& e : metrics::compare(lhcb_table, restored)) CHECK(e.max_abs_error <= 1e-3 * e.range);
    }
  }
}

TEST_CASE("compress takes an input past 256 MB in chunks by itself; --chunk-rows 0 keeps one blob") {
  scratch s;
  // 65 frames of 1024 x 1024 float32 (260 MB): a smooth pattern drifting frame by frame.
  const std::size_t frames = 65, side = 1024, frame_bytes = side * side * sizeof(float);
  std::vector<double> pattern(side * side);
  for (std::size_t i = 0; i < side; ++i)
    for (std::size_t j = 0; j < side; ++j) pattern[i * side + j] = std::sin(0.01 * double(i)) * std::cos(0.02 * double(j));
  ndarray big = ndarray::zeros(dtype::f32, {frames, side, side});
  std::vector<float> frame(side * side);
  for (std::size_t f = 0; f < frames; ++f) {
    for (std::size_t k = 0; k < frame.size(); ++k) frame[k] = float(pattern[k] + 1e-3 * double(f));
    std::memcpy(big.bytes.data() + f * frame_bytes, frame.data(), frame_bytes);
  }
  npy::write_file("big.npy", big, false);
  auto r = baler_cli({"compress", "big.npy", "-o", "big.baler", "--error-bound", "abs:1e-3"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("the input is 260 MB as stored, past 256 MB: compressing it in chunks of about 32 MB") !=
        std::string::npos);
  CHECK(r.out.find("9 chunks of 8 rows") != std::string::npos);  // 8 frames of 4 MB
  REQUIRE(baler_cli({"decompress", "big.baler", "-o", "part.npy", "--rows", "60:65"}).status == 0);
  const std::vector<double> x = codec::row_slice(big, 60, 5).to_doubles(), y = npy::read_file("part.npy").to_doubles();
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
  CHECK(worst <= 1e-3);

  // Below the size one blob, and --chunk-rows 0 asks for one (on big.npy too, at ten times its
  // 260 MB in memory and 16 s: not run here).
  npy::write_file("small.npy", codec::row_slice(big, 0, 2), false);
  for (const std::vector<std::string>& flags : {std::vector<std::string>{}, {"--chunk-rows", "0"}}) {
    std::vector<std::string> args = {"compress", "small.npy", "-o", "one.baler", "--force", "--error-bound", "abs:1e-3"};
    args.insert(args.end(), flags.begin(), flags.end());
    r = baler_cli(args);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("chunked") == std::string::npos);
    CHECK(baler_cli({"info", "one.baler"}).out.find("format version 2") == std::string::npos);
  }
}

TEST_CASE("compress --chunk-rows reads a Fortran-order .npy whole") {
  scratch s;
  const std::string fortran = std::string(BALER_TEST_DIR) + "/data/fortran_f8.npy";
  auto r = baler_cli({"compress", fortran, "-o", "f.baler", "--chunk-rows", "2", "--error-bound", "abs:1e-6"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("2 chunks of 2 rows") != std::string::npos);
  REQUIRE(baler_cli({"decompress", "f.baler", "-o", "back.npy"}).status == 0);
  const std::vector<double> x = npy::read_file(fortran).to_doubles(), y = npy::read_file("back.npy").to_doubles();
  REQUIRE(x.size() == y.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(std::abs(y[i] - x[i]) <= 1e-6);
}

TEST_CASE("a field's fill value, chunked or not: stored exactly, left out of a range bound") {
  scratch s;
  // The CFD field (60 x 50 x 50) with a band of its first 28 frames missing, a few points of
  // the next (under 1 % of a chunk of 7 frames: too few to tell a fill value there) and the
  // last four frames wholly: marked 1e20, or -9999, which has codes of its own.
  const ndarray field = load_dataset(cfd).data;
  const std::vector<double> original = field.to_doubles();
  double lo = INFINITY, hi = -INFINITY;
  for (double v : original) lo = std::min(lo, v), hi = std::max(hi, v);
  const std::size_t frame = 50 * 50;
  auto missing = [&](std::size_t i) {
    return (i < 28 * frame && i % 50 >= 40) || (i >= 28 * frame && i % 997 == 0) || i >= 56 * frame;
  };
  for (const double fill : {1e20, -9999.0}) {
    std::vector<double> x = original;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (missing(i)) x[i] = fill;
    npy::write_file("f.npy", ndarray::from_doubles(x, field.shape, dtype::f64), true);
    // Under an abs bound of the same size too: the chunks take the file's fill value as well.
    char abs[64];
    std::snprintf(abs, sizeof abs, "abs:%.17g", 1e-3 * (hi - lo));
    for (const auto& [chunk_rows, bound] : {std::pair{"7", "range:1e-3"}, std::pair{"0", "range:1e-3"},
                                            std::pair{"7", static_cast<const char*>(abs)}}) {
      INFO(fill << ", --chunk-rows " << chunk_rows << ", " << bound);
      auto r = baler_cli({"-f", "compress", "f.npy", "-o", "f.baler", "--chunk-rows", chunk_rows, "--error-bound", bound});
      REQUIRE(r.status == 0);
      if (std::string(chunk_rows) == "0") CHECK(r.out.find("is stored exactly and left out of the range") != std::string::npos);
      REQUIRE(baler_cli({"-f", "decompress", "f.baler", "-o", "back.npy"}).status == 0);
      const std::vector<double> y = npy::read_file("back.npy").to_doubles();
      REQUIRE(y.size() == x.size());
      std::size_t exact = 0, within = 0, holes = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        holes += missing(i);
        if (missing(i)) exact += y[i] == x[i];
        else within += std::abs(y[i] - x[i]) <= 1e-3 * (hi - lo) * (1 + 1e-9);  // the whole range's: 1e17 or 10
      }
      CHECK(exact == holes);
      CHECK(within == x.size() - holes);
      CHECK(baler_cli({"evaluate", "f.npy", "back.npy", "--error-bound", bound}).status == 0);
    }
  }
  // A per-column bound on a field is refused, chunked as in one blob (the chunks had dropped it).
  for (const char* chunk_rows : {"7", "0"}) {
    auto r = baler_cli({"-f", "compress", "f.npy", "-o", "f.baler", "--chunk-rows", chunk_rows, "--error-bound", "range:1e-3,x=abs:1"});
    CHECK(r.status != 0);
    CHECK(r.err.find("per-column bounds") != std::string::npos);
  }
}
