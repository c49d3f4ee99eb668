// HDF5 datasets on the command line: FILE.h5:/group/dataset as input and output, column names
// in the "names" attribute, adding to an existing file, and the errors of a wrong path.
#include "baler/metrics/column_errors.hpp"
#include "test_cli_support.hpp"

using namespace baler;
using namespace cli_test;

TEST_CASE("format_of: FILE.h5:/dataset is HDF5, a bare .h5 names no dataset") {
  CHECK(format_of("a/b.h5:/g/x") == file_format::hdf5);
  CHECK(format_of("B.HDF5:/x") == file_format::hdf5);
  CHECK(hdf5_location_of("dir/f.h5:/g/x")->file == "dir/f.h5");
  CHECK(hdf5_location_of("dir/f.h5:/g/x")->object == "/g/x");
  CHECK_THROWS_WITH_AS(format_of("f.h5"), doctest::Contains("names no dataset"), error);
  CHECK_THROWS_WITH_AS(format_of("f.h5:/"), doctest::Contains("names no dataset"), error);
}

#ifdef BALER_HAS_HDF5

TEST_CASE("compress from and decompress into HDF5, names kept, bound held") {
  scratch s;
  const dataset table = load_dataset(lhcb);
  save_dataset("in.h5:/jets/lhcb", table, false);  // groups are created on the way
  const dataset back_in = load_dataset("in.h5:/jets/lhcb");
  CHECK(back_in.names == table.names);
  CHECK(back_in.data == table.data);

  REQUIRE(baler_cli({"compress", "in.h5:/jets/lhcb", "-o", "t.baler", "-q", "--error-bound",
                     "range:1e-3"}).status == 0);
  REQUIRE(baler_cli({"decompress", "t.baler", "-o", "out.h5:/restored"}).status == 0);
  const dataset restored = load_dataset("out.h5:/restored");
  CHECK(restored.names == table.names);
  for (const auto& e : metrics::compare(table, restored)) {
    INFO(e.name);
    CHECK(e.max_abs_error <= 1e-3 * e.range);
  }
  CHECK(baler_cli({"evaluate", "in.h5:/jets/lhcb", "out.h5:/restored"}).status == 0);

  // A second dataset joins the file without --force; the first stays.
  REQUIRE(baler_cli({"decompress", "t.baler", "-o", "out.h5:/copy/two"}).status == 0);
  CHECK(load_dataset("out.h5:/restored").data == restored.data);
  CHECK(load_dataset("out.h5:/copy/two").data == restored.data);
  // Replacing a dataset needs --force, and a refused write leaves no temporary file behind.
  const auto r = baler_cli({"decompress", "t.baler", "-o", "out.h5:/restored"});
  CHECK(r.status != 0);
  CHECK(r.err.find("use --force") != std::string::npos);
  CHECK(baler_cli({"decompress", "t.baler", "-o", "out.h5:/restored", "--force"}).status == 0);
  std::string files;
  for (const auto& f : fs::directory_iterator(".")) files += f.path().filename().string() + " ";
  CHECK(files.size() == std::string("in.h5 t.baler out.h5 ").size());  // no temporary file,
  CHECK(files.find("out.h5:") == std::string::npos);                   // no folder "out.h5:"
}

TEST_CASE("a compound's string members, fixed and variable length, are columns of text") {
  scratch s;
  // tests/data/make_fixtures.py: trig 'S4', x float64, name h5py's str (variable length).
  const std::string fixture = std::string(BALER_TEST_DIR) + "/data/records_text.h5:/jets";
  const dataset jets = load_dataset(fixture);
  CHECK(jets.names == std::vector<std::string>{"trig", "x", "name"});
  REQUIRE(jets.labels.size() == 3);
  CHECK(jets.labels[0] == std::vector<std::string>{"HLT1", "HLT2", "L1"});
  CHECK(jets.labels[2] == std::vector<std::string>{"", "e", "mu"});
  CHECK(jets.data.to_doubles() == std::vector<double>{0, 1.5, 2, 2, -2, 1, 0, 0.25, 2, 1, 4, 0});
  // Through the error-bounded mode to a CSV and to a compound (its text members fixed-length
  // UTF-8 strings): the text as it was, x within its bound.
  REQUIRE(baler_cli({"compress", fixture, "-o", "t.baler", "-q", "--error-bound", "range:1e-3"}).status == 0);
  for (const char* out : {"t.csv", "t.h5:/jets"}) {
    INFO(out);
    REQUIRE(baler_cli({"decompress", "t.baler", "-o", out, "-q"}).status == 0);
    const dataset back = load_dataset(out);
    CHECK(back.labels == jets.labels);
    const std::vector<double> x = jets.data.to_doubles(), y = back.data.to_doubles();
    REQUIRE(y.size() == x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO(i);
      if (i % 3 == 1) CHECK(std::abs(y[i] - x[i]) <= 1e-3 * 6.0);  // x spans -2 to 4
      else CHECK(y[i] == x[i]);
    }
  }
  // A value that indexes no label is refused and leaves no file.
  dataset crafted = jets;
  crafted.data.data_as<double>()[0] = 7;
  CHECK_THROWS_WITH_AS(save_dataset("c.h5:/jets", crafted, false),
                       doctest::Contains("holds 7.000000, not the index of one of its 3 labels"), error);
  CHECK_FALSE(fs::exists("c.h5"));
}

TEST_CASE("a compound dataset (h5py's structured array) is a table of its members, restored as one") {
  scratch s;
  // Written by h5py (tests/data/make_fixtures.py): pt big-endian float32, eta float64, n int32,
  // ok bool (h5py's enum); mixed, so a float64 table.
  const std::string fixture = std::string(BALER_TEST_DIR) + "/data/records.h5:/jets";
  const dataset jets = load_dataset(fixture);
  CHECK(jets.layout == table_layout::records);
  CHECK(jets.names == std::vector<std::string>{"pt", "eta", "n", "ok"});
  REQUIRE(jets.data.shape == std::vector<std::size_t>{4, 4});
  CHECK(jets.data.to_doubles() == load_dataset(std::string(BALER_TEST_DIR) + "/data/records_mixed.npy").data.to_doubles());
  CHECK(jets.column_types == std::vector<dtype>{dtype::f32, dtype::f64, dtype::i32, dtype::bool_});
  // Back as a compound of the same member types (little-endian), every value within its bound.
  REQUIRE(baler_cli({"compress", fixture, "-o", "j.baler", "-q", "--error-bound", "range:1e-2"}).status == 0);
  REQUIRE(baler_cli({"decompress", "j.baler", "-o", "j.h5:/jets"}).status == 0);
  const dataset jets_back = load_dataset("j.h5:/jets");
  CHECK(jets_back.column_types == jets.column_types);
  for (const auto& e : metrics::compare(jets, jets_back)) CHECK(e.max_abs_error <= 1e-2 * e.range);

  // LHCb as a compound dataset, through compress and decompress: back as one, within the bound.
  dataset table = load_dataset(lhcb);
  table.layout = table_layout::records;
  save_dataset("in.h5:/lhcb", table, false);
  CHECK(load_dataset("in.h5:/lhcb").data == table.data);
  REQUIRE(baler_cli({"compress", "in.h5:/lhcb", "-o", "t.baler", "-q", "--error-bound", "range:1e-3"}).status == 0);
  REQUIRE(baler_cli({"decompress", "t.baler", "-o", "out.h5:/lhcb"}).status == 0);
  const dataset restored = load_dataset("out.h5:/lhcb");
  CHECK(restored.layout == table_layout::records);
  CHECK(restored.names == table.names);
  for (const auto& e : metrics::compare(table, restored)) CHECK(e.max_abs_error <= 1e-3 * e.range);
  // Two columns of one name cannot be members of one compound.
  dataset twice = table;
  twice.names[1] = twice.names[0];
  CHECK_THROWS_WITH_AS(save_dataset("twice.h5:/x", twice, false), doctest::Contains("cannot make member"), error);
  CHECK_FALSE(fs::exists("twice.h5"));
}

TEST_CASE("a float16 field through HDF5: stored as an IEEE half, coded and restored as float16") {
  scratch s;
  const dataset cfd = load_dataset(cli_test::cfd);
  const dataset half{ndarray::from_doubles(cfd.data.to_doubles(), cfd.data.shape, dtype::f16), {}};
  save_dataset("half.h5:/field", half, false);
  CHECK(load_dataset("half.h5:/field").data == half.data);
  REQUIRE(baler_cli({"compress", "half.h5:/field", "-o", "h.baler", "-q", "--error-bound", "range:1e-3"}).status == 0);
  REQUIRE(baler_cli({"decompress", "h.baler", "-o", "back.h5:/field"}).status == 0);
  const dataset back = load_dataset("back.h5:/field");
  CHECK(back.data.type == dtype::f16);
  CHECK(baler_cli({"evaluate", "half.h5:/field", "back.h5:/field", "--error-bound", "range:1e-3"}).status == 0);
}

TEST_CASE("bool through HDF5: written as h5py's enum, read back as bool") {
  scratch s;
  const dataset flags{ndarray::from_doubles({0, 1, 1, 0, 1, 0}, {3, 2}, dtype::bool_), {}};
  save_dataset("b.h5:/flags", flags, false);
  CHECK(load_dataset("b.h5:/flags").data == flags.data);
}

TEST_CASE("HDF5 errors name the file and the dataset") {
  scratch s;
  save_dataset("f.h5:/x", dataset{ndarray::zeros(dtype::f32, {4, 3}), {}}, false);
  CHECK_THROWS_WITH_AS(load_dataset("f.h5:/y"), doctest::Contains("f.h5:/y"), error);
  CHECK_THROWS_WITH_AS(load_dataset("f.h5:/y"), doctest::Contains("no such dataset"), error);
  CHECK_THROWS_WITH_AS(load_dataset("missing.h5:/x"), doctest::Contains("not an HDF5 file"), error);
  { std::ofstream("text.h5") << "not hdf5"; }
  CHECK_THROWS_WITH_AS(save_dataset("text.h5:/x", load_dataset("f.h5:/x"), true),
                       doctest::Contains("not HDF5"), error);
  const dataset f = load_dataset("f.h5:/x");
  CHECK(f.data.type == dtype::f32);
  CHECK(f.data.shape == std::vector<std::size_t>{4, 3});
}

#else

TEST_CASE("without HDF5 support an HDF5 path is a clear error") {
  CHECK_THROWS_WITH_AS(load_dataset("f.h5:/x"), doctest::Contains("without HDF5"), error);
}

#endif
